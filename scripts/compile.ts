/**
 * Builds the single binary for one release target with `deno compile`, and refuses to leave a
 * broken file behind. The `compile:*` tasks run it.
 *
 * `deno compile` joins our code to `denort`, a runtime it downloads from dl.deno.land (cached in
 * `DENO_DIR/dl`), or takes from `DENORT_BIN`. Pointing `DENORT_BIN` at the `deno` executable
 * silently yields a copy of the Deno CLI that cannot run proxmox-mcp; this script refuses that
 * before building, says in one sentence when the runtime cannot be downloaded, and runs the
 * result with `--version` when the target is this machine's.
 *
 * What the binary embeds is `main.ts`'s module graph (static imports and dynamic imports with
 * literal specifiers) plus {@link INCLUDES}; `tests/compile_test.ts` checks that everything the
 * code loads at run time is one or the other.
 *
 * Run: `deno run --allow-read --allow-write=dist --allow-run --allow-env=DENORT_BIN
 * scripts/compile.ts <target> [--out-dir DIR]`
 *
 * @module
 */

import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Output, stdio } from "../src/cli/_output.ts";
import { V8_FLAGS } from "../src/cli/_run_flags.ts";
import { checkVersion, SmokeError } from "./smoke.ts";

/** The release targets: task suffix → Rust target triple and file name. */
export const TARGETS = {
  "linux-x64": { triple: "x86_64-unknown-linux-gnu", file: "proxmox-mcp-linux-x64" },
  "linux-arm64": { triple: "aarch64-unknown-linux-gnu", file: "proxmox-mcp-linux-arm64" },
  "macos-x64": { triple: "x86_64-apple-darwin", file: "proxmox-mcp-macos-x64" },
  "macos-arm64": { triple: "aarch64-apple-darwin", file: "proxmox-mcp-macos-arm64" },
  "windows-x64": { triple: "x86_64-pc-windows-msvc", file: "proxmox-mcp-windows-x64.exe" },
} as const;

/** A release target name (the suffix of its `compile:*` task). */
export type TargetName = keyof typeof TARGETS;

/** The repository root: `deno compile` runs there, so the paths below are relative to it. */
const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The entry point of the binary. */
export const ENTRY = "main.ts";

/** The permissions the binary carries (it runs confined by its caller). */
export const PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];

/**
 * Files embedded besides the module graph, relative to the repository root. The schema data is
 * in the graph (a static JSON import) and listed again so that it stays embedded however it is
 * loaded.
 */
export const INCLUDES: readonly string[] = ["src/schema/pve_schema.json"];

/** The `deno compile` arguments that build `target` into `outDir`. */
export function compileArgs(target: TargetName, outDir = "dist"): string[] {
  const { triple, file } = TARGETS[target];
  return [
    "compile",
    "--target",
    triple,
    ...PERMISSIONS,
    V8_FLAGS,
    ...INCLUDES.flatMap((path) => ["--include", path]),
    "--output",
    `${outDir}/${file}`,
    ENTRY,
  ];
}

/** A build that must not be used: its message is the one sentence printed. */
export class CompileError extends Error {
  /** A failed or refused build, described in one sentence. */
  constructor(message: string) {
    super(message);
    this.name = "CompileError";
  }
}

/** Where the runtime for `triple` is downloaded from. */
function denortUrl(triple: string): string {
  return `https://dl.deno.land/release/v${Deno.version.deno}/denort-${triple}.zip`;
}

/**
 * Refuses a `DENORT_BIN` that is missing or is the Deno CLI: the CLI answers `--version` with
 * `deno <version>`, while denort without an embedded program prints nothing.
 *
 * @throws {CompileError}
 */
export async function checkDenortBin(path: string, triple: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch {
    throw new CompileError(
      `DENORT_BIN names "${path}", which does not exist: point it at the denort runtime for ${triple} (${
        denortUrl(triple)
      }), or unset it to let deno compile download that runtime.`,
    );
  }
  let answer = "";
  try {
    const output = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).output();
    answer = new TextDecoder().decode(output.stdout).trim();
  } catch {
    // Not runnable here (another architecture): nothing to learn before building.
    return;
  }
  if (/^deno \d/.test(answer)) {
    throw new CompileError(
      `DENORT_BIN ("${path}") is the Deno CLI, not the denort runtime, and deno compile would turn it into a copy of the Deno CLI that cannot run proxmox-mcp: point DENORT_BIN at denort for ${triple} (${
        denortUrl(triple)
      }), or unset it to let deno compile download that runtime.`,
    );
  }
}

/**
 * The one sentence for a failed `deno compile`, from its exit code and stderr: a runtime that
 * could not be downloaded is named as such.
 */
export function explainFailure(code: number, stderr: string, triple: string): string {
  if (/dl\.deno\.land|denort/i.test(stderr)) {
    const reason =
      /(dns error[^\n]*|Connection refused[^\n]*|timed out[^\n]*|status code \d+[^\n]*|Download could not be found[^\n]*)/i
        .exec(stderr)?.[1]?.trim();
    return `deno compile could not download the Deno runtime for ${triple} from ${
      denortUrl(triple)
    }${
      reason === undefined ? "" : ` (${reason.replace(/\.$/, "")})`
    }: build on a machine that can reach dl.deno.land, or set DENORT_BIN to that runtime (the denort file from the zip, not the deno executable).`;
  }
  const error = stderr.split("\n").map((line) => line.trim()).find((line) =>
    line.startsWith("error:")
  );
  return `deno compile failed with exit code ${code}${
    error === undefined ? "" : `: ${error.replace(/^error:\s*/, "").replace(/\.$/, "")}`
  }.`;
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Options of {@link compile}. */
export interface CompileOptions {
  /** Output folder (default `dist` in the repository root; relative to the working directory). */
  outDir?: string;
  /** `DENORT_BIN` of the environment, if set. */
  denortBin?: string;
  /** Where progress goes. */
  out?: Output;
}

/**
 * Builds `target`; resolves with the output path once the file exists and, for this machine's
 * target, answered `--version` as proxmox-mcp.
 *
 * @throws {CompileError} in one sentence; no output file is left behind.
 */
export async function compile(target: TargetName, options: CompileOptions = {}): Promise<string> {
  const out = options.out ?? stdio;
  const outDir = resolve(options.outDir ?? resolve(ROOT, "dist"));
  const { triple, file } = TARGETS[target];
  const output = `${outDir}/${file}`;
  const near = relative(Deno.cwd(), output);
  const shown = near === "" || near.startsWith("..") ? output : near;
  if (options.denortBin !== undefined && options.denortBin !== "") {
    await checkDenortBin(options.denortBin, triple);
  }
  await Deno.mkdir(outDir, { recursive: true });
  const result = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(target, outDir),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  if (!result.success) {
    await removeQuietly(output);
    throw new CompileError(explainFailure(result.code, stderr, triple));
  }
  const info = await Deno.stat(output).catch(() => undefined);
  if (info === undefined || info.size === 0) {
    throw new CompileError(`deno compile reported success but wrote no "${shown}".`);
  }
  const size = `${(info.size / 1_000_000).toFixed(1)} MB`;
  for (const line of stderr.trimEnd().split("\n")) out.error(line);
  if (triple !== Deno.build.target) {
    out.line(
      `Built ${shown} (${size}); not run, because ${triple} is not this machine (${Deno.build.target}): run scripts/smoke.ts on a ${triple} machine.`,
    );
    return output;
  }
  try {
    const version = await checkVersion({ command: output, args: [] });
    out.line(`Built ${shown} (${size}); it answers "${version}".`);
  } catch (error) {
    await removeQuietly(output);
    if (error instanceof SmokeError) throw new CompileError(`Removed ${shown}: ${error.message}`);
    throw error;
  }
  return output;
}

if (import.meta.main) {
  const usage = `Usage: scripts/compile.ts <${Object.keys(TARGETS).join("|")}> [--out-dir DIR]`;
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: { "out-dir": { type: "string" } },
      allowPositionals: true,
    });
  } catch (error) {
    stdio.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    Deno.exit(2);
  }
  const [target] = parsed.positionals;
  if (target === undefined || !(target in TARGETS) || parsed.positionals.length > 1) {
    stdio.error(usage);
    Deno.exit(2);
  }
  const outDir = parsed.values["out-dir"];
  const denortBin = Deno.env.get("DENORT_BIN");
  try {
    await compile(target as TargetName, {
      ...(outDir === undefined ? {} : { outDir }),
      ...(denortBin === undefined ? {} : { denortBin }),
    });
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    stdio.error(error.message);
    Deno.exit(1);
  }
}
