/**
 * Start-up and idle memory, whole processes, side by side with the zero-dependency floor:
 * the time from spawning a server to its first `tools/list` response over stdio
 * (`initialize` → `notifications/initialized` → `tools/list`, as an MCP client opens), and its
 * memory once it has settled (1 s later).
 *
 * - baseline: `bench/_baseline_server.ts`, a trivial Deno script answering JSON-RPC lines;
 * - `serve` without the run flags of `src/cli/_run_flags.ts`;
 * - `serve` with lazy dynamic imports only;
 * - `serve` as the README and `init` run it (lazy imports, V8 flags, read access to its own
 *   files only);
 * - `serve --demo` as `demo` prints it;
 * - the compiled binary, when `dist/` holds one for this machine (`deno task compile:<target>`).
 *
 * Every variant runs once to warm Deno's caches (not counted), then `--runs` times (default 9),
 * interleaved so that noise spreads evenly, each with a Deno cache directory of its own so that
 * their V8 flags do not invalidate each other's compiled code. It makes no Proxmox request (the cluster URL points
 * nowhere; the first answers never call it).
 *
 * Run: `deno task bench:start [--runs 9]`
 *
 * @module
 */

import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { printLine, table } from "./_scale.ts";
import {
  BASELINE_TS,
  LineProcess,
  MAIN_TS,
  type Memory,
  memoryOf,
  mib,
  ON_LINUX,
  ownDenoDir,
  percentile,
  sleep,
  V8_FLAGS,
} from "./_process.ts";
import { LAZY_IMPORTS } from "../src/cli/_run_flags.ts";

interface Variant {
  name: string;
  command?: string;
  args: string[];
  env: Record<string, string>;
}

interface Sample {
  startMs: number;
  idle: Memory | undefined;
}

async function runOnce(variant: Variant): Promise<Sample> {
  const started = performance.now();
  const child = new LineProcess(variant.args, variant.env, variant.command);
  try {
    await child.handshake();
    const startMs = performance.now() - started;
    await sleep(1000);
    return { startMs, idle: await memoryOf(child.pid) };
  } finally {
    await child.close();
  }
}

async function timeToExit(args: string[]): Promise<number> {
  const started = performance.now();
  const status = await new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "null" })
    .output();
  if (!status.success) throw new Error(`"deno ${args.join(" ")}" exited with ${status.code}`);
  return performance.now() - started;
}

function compiledBinary(): string | undefined {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const os = Deno.build.os === "darwin" ? "macos" : Deno.build.os;
  const path = new URL(
    `../dist/proxmox-mcp-${os}-${arch}${os === "windows" ? ".exe" : ""}`,
    import.meta.url,
  ).pathname;
  try {
    return Deno.statSync(path).isFile ? path : undefined;
  } catch {
    return undefined;
  }
}

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string" } } });
const runs = Math.max(1, Math.min(50, Number(values.runs ?? 9) || 9));

const cluster = {
  PROXMOX_URL: "https://127.0.0.1:9",
  PROXMOX_TOKEN_ID: "root@pam!mcp",
  PROXMOX_TOKEN_SECRET: "bench-token-secret",
  PROXMOX_MCP_AUDIT_PATH: "off",
  PROXMOX_MCP_LOG_LEVEL: "warning",
};
const base = ["run", "--quiet", "--no-prompt"];
const programDir = dirname(MAIN_TS);
const variants: Variant[] = [
  { name: "baseline: trivial Deno JSON-RPC script", args: [...base, BASELINE_TS], env: {} },
  {
    name: "serve, no run flags",
    args: [...base, "--allow-net=127.0.0.1:9", "--allow-env", MAIN_TS, "serve"],
    env: cluster,
  },
  {
    name: "serve, lazy imports only",
    args: [
      ...base,
      LAZY_IMPORTS,
      "--allow-net=127.0.0.1:9",
      "--allow-env",
      "--allow-read",
      MAIN_TS,
      "serve",
    ],
    env: cluster,
  },
  {
    name: "serve as the README and init run it",
    args: [
      ...base,
      LAZY_IMPORTS,
      V8_FLAGS,
      "--allow-net=127.0.0.1:9",
      "--allow-env",
      `--allow-read=${programDir}`,
      MAIN_TS,
      "serve",
    ],
    env: cluster,
  },
  {
    name: "serve --demo as demo prints it",
    args: [
      ...base,
      LAZY_IMPORTS,
      V8_FLAGS,
      "--allow-net=127.0.0.1",
      `--allow-read=${programDir}`,
      MAIN_TS,
      "serve",
      "--demo",
    ],
    env: { PROXMOX_MCP_LOG_LEVEL: "warning" },
  },
];
const binary = compiledBinary();
if (binary !== undefined) {
  variants.push({ name: "compiled binary", command: binary, args: ["serve"], env: cluster });
}
const versionArgs = [...base, LAZY_IMPORTS, `--allow-read=${programDir}`, MAIN_TS, "--version"];

// Each variant gets a Deno cache directory of its own (see ownDenoDir): interleaved runs with
// and without V8 flags would otherwise time V8 recompiling the code the other one cached.
const denoDirs = await Promise.all(variants.map(() => ownDenoDir()));
for (const [index, variant] of variants.entries()) {
  if (variant.command === undefined) {
    variant.env = { ...variant.env, DENO_DIR: denoDirs[index]!.path };
  }
}
for (const variant of variants) await runOnce(variant);
await timeToExit(versionArgs);
const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
const versionMs: number[] = [];
for (let i = 0; i < runs; i++) {
  for (const variant of variants) samples.get(variant)?.push(await runOnce(variant));
  versionMs.push(await timeToExit(versionArgs));
}

await Promise.all(denoDirs.map((dir) => dir.dispose()));

const baseStart = percentile((samples.get(variants[0]!) ?? []).map((s) => s.startMs), 50);
const medianOf = (list: Sample[], pick: (m: Memory) => number) => {
  const picked = list.map((s) => s.idle).filter((m) => m !== undefined).map(pick);
  return picked.length === 0 ? undefined : percentile(picked, 50);
};
printLine(`Cold start to the first tools/list response (${runs} runs, warm caches)`);
printLine();
printLine(table(
  ["program", "median ms", "p90 ms", "min ms", "÷ baseline", "idle RSS MiB", "idle peak MiB"],
  variants.map((variant) => {
    const list = samples.get(variant) ?? [];
    const starts = list.map((s) => s.startMs);
    const median = percentile(starts, 50);
    return [
      variant.name,
      median.toFixed(0),
      percentile(starts, 90).toFixed(0),
      percentile(starts, 0).toFixed(0),
      `${(median / baseStart).toFixed(2)}×`,
      mib(medianOf(list, (m) => m.rss)),
      mib(medianOf(list, (m) => m.hwm)),
    ];
  }),
));
const versionMedian = percentile(versionMs, 50);
printLine(
  `(main.ts --version, spawn to exit: median ${versionMedian.toFixed(0)} ms, ` +
    `${(versionMedian / baseStart).toFixed(2)}× baseline; idle memory read 1 s after tools/list` +
    `${ON_LINUX ? "" : " — not measured off Linux"}${
      binary === undefined ? "; no compiled binary in dist/ for this machine" : ""
    })`,
);
