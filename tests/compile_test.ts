import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import deno from "../deno.json" with { type: "json" };
import {
  checkDenortBin,
  compileArgs,
  CompileError,
  ENTRY,
  explainFailure,
  INCLUDES,
  TARGETS,
} from "../scripts/compile.ts";
import { checkVersion, smoke, SmokeError } from "../scripts/smoke.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const COMPILE_SCRIPT = `${ROOT}scripts/compile.ts`;
const SMOKE_SCRIPT = `${ROOT}scripts/smoke.ts`;
const decoder = new TextDecoder();

/** A place in the source where code reaches for another file at run time. */
interface Reach {
  file: string;
  line: number;
  kind: "import()" | "import.meta.resolve()" | "new URL(…, import.meta.url)" | "import.meta path";
  /** The literal specifier, or `undefined` when it is computed. */
  specifier?: string;
}

function isImportMeta(node: Deno.lint.Node | null | undefined): boolean {
  return node?.type === "MetaProperty" && node.meta.name === "import" &&
    node.property.name === "meta";
}

function literal(node: Deno.lint.Node | undefined): string | undefined {
  if (node?.type === "Literal" && typeof node.value === "string") return node.value;
  if (node?.type === "TemplateLiteral" && node.expressions.length === 0) {
    return node.quasis.map((quasi) => quasi.cooked).join("");
  }
  return undefined;
}

/** Every run-time reach for a file in `source`, found by parsing it. */
function reachesOf(file: string, source: string): Reach[] {
  const found: { kind: Reach["kind"]; specifier?: string; start: number }[] = [];
  const note = (kind: Reach["kind"], node: Deno.lint.Node, arg?: Deno.lint.Node) => {
    const specifier = literal(arg);
    found.push({ kind, start: node.range[0], ...(specifier === undefined ? {} : { specifier }) });
  };
  const plugin: Deno.lint.Plugin = {
    name: "compile-reach",
    rules: {
      reach: {
        create() {
          return {
            ImportExpression(node) {
              note("import()", node, node.source);
            },
            CallExpression(node) {
              const callee = node.callee;
              if (
                callee.type === "MemberExpression" && isImportMeta(callee.object) &&
                callee.property.type === "Identifier" && callee.property.name === "resolve"
              ) {
                note("import.meta.resolve()", node, node.arguments[0]);
              }
            },
            NewExpression(node) {
              const base = node.arguments[1];
              if (
                node.callee.type === "Identifier" && node.callee.name === "URL" &&
                base?.type === "MemberExpression" && isImportMeta(base.object) &&
                base.property.type === "Identifier" && base.property.name === "url"
              ) {
                note("new URL(…, import.meta.url)", node, node.arguments[0]);
              }
            },
            MemberExpression(node) {
              if (
                isImportMeta(node.object) && node.property.type === "Identifier" &&
                (node.property.name === "dirname" || node.property.name === "filename")
              ) {
                note("import.meta path", node);
              }
            },
          };
        },
      },
    },
  };
  Deno.lint.runPlugin(plugin, file, source);
  return found.map(({ start, ...rest }) => ({
    file,
    line: source.slice(0, start).split("\n").length,
    ...rest,
  }));
}

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (/\.(ts|tsx|js|mjs)$/.test(entry.name) && !/_test\.\w+$/.test(entry.name)) yield path;
  }
}

/** What `deno compile` embeds: the module graph of the entry point (`deno info`). */
async function compiledGraph(): Promise<{
  files: Set<string>;
  dependencies: Map<string, { specifier: string; resolved?: string; isDynamic: boolean }[]>;
}> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", ENTRY],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, decoder.decode(output.stderr));
  const info = JSON.parse(decoder.decode(output.stdout)) as {
    modules: {
      specifier: string;
      local?: string;
      dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
  };
  const files = new Set<string>();
  const dependencies = new Map<
    string,
    { specifier: string; resolved?: string; isDynamic: boolean }[]
  >();
  for (const module of info.modules) {
    if (!module.specifier.startsWith("file:")) continue;
    const path = fileURLToPath(module.specifier);
    files.add(path);
    dependencies.set(
      path,
      (module.dependencies ?? []).map((dependency) => ({
        specifier: dependency.specifier,
        isDynamic: dependency.isDynamic === true,
        ...(dependency.code === undefined ? {} : { resolved: dependency.code.specifier }),
      })),
    );
  }
  return { files, dependencies };
}

function included(path: string): boolean {
  return INCLUDES.some((include) => {
    const full = `${ROOT}${include.replace(/\/$/, "")}`;
    return path === full || path.startsWith(`${full}/`);
  });
}

Deno.test("every dynamic import and import.meta-relative file in src/ and main.ts is literal and in the compiled build", async () => {
  const graph = await compiledGraph();
  const files = [`${ROOT}main.ts`];
  for await (const file of sourceFiles(`${ROOT}src`)) files.push(file);
  const problems: string[] = [];
  let checked = 0;
  for (const file of files) {
    const where = (reach: Reach) => `${reach.file.slice(ROOT.length)}:${reach.line}`;
    for (const reach of reachesOf(file, await Deno.readTextFile(file))) {
      checked++;
      if (reach.kind === "import.meta path") {
        problems.push(
          `${
            where(reach)
          }: import.meta.dirname/filename builds a path the test cannot follow; use new URL("<literal>", import.meta.url)`,
        );
        continue;
      }
      if (reach.specifier === undefined) {
        problems.push(
          `${
            where(reach)
          }: ${reach.kind} with a computed specifier; write it as a literal so deno compile embeds it`,
        );
        continue;
      }
      if (!graph.files.has(file)) continue; // not part of the binary
      if (reach.kind === "import()") {
        const dependency = graph.dependencies.get(file)?.find((d) =>
          d.specifier === reach.specifier && d.isDynamic
        );
        const resolved = dependency?.resolved;
        const embedded = resolved !== undefined &&
          (!resolved.startsWith("file:") || graph.files.has(fileURLToPath(resolved)) ||
            included(fileURLToPath(resolved)));
        if (!embedded) {
          problems.push(
            `${where(reach)}: import("${reach.specifier}") is not in the module graph of ${ENTRY}`,
          );
        }
        continue;
      }
      const target = new URL(reach.specifier, `file://${file}`);
      if (target.protocol !== "file:") continue;
      const path = fileURLToPath(target);
      if (!graph.files.has(path) && !included(path)) {
        problems.push(
          `${
            where(reach)
          }: ${reach.kind} names "${reach.specifier}", which the compile command neither imports nor includes; add it to INCLUDES in scripts/compile.ts`,
        );
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked >= 6, `found only ${checked} run-time reaches; is the walk working?`);
});

Deno.test("the walk flags a computed import specifier, and a literal one names its file", () => {
  const reaches = reachesOf(
    "x.ts",
    [
      'const name = "serve";',
      "// import(name) in a comment is not code",
      'await import("./a.ts");',
      "await import(`./cli/${name}.ts`);",
      "await import(name);",
      'const text = "import(name)";',
      'new URL("../data.json", import.meta.url);',
      "console.log(import.meta.dirname);",
    ].join("\n"),
  );
  assert.deepEqual(
    reaches.map((reach) => [reach.kind, reach.line, reach.specifier ?? null]),
    [
      ["import()", 3, "./a.ts"],
      ["import()", 4, null],
      ["import()", 5, null],
      ["new URL(…, import.meta.url)", 7, "../data.json"],
      ["import.meta path", 8, null],
    ],
  );
});

Deno.test("the compile command embeds files that exist, and every compile task runs it for its target", async () => {
  for (const include of INCLUDES) {
    assert.ok((await Deno.stat(`${ROOT}${include}`)).isFile, include);
  }
  const tasks = deno.tasks as Record<string, { command: string }>;
  for (const [name, { triple, file }] of Object.entries(TARGETS)) {
    assert.match(
      tasks[`compile:${name}`]?.command ?? "",
      new RegExp(`^deno run .*scripts/compile\\.ts ${name}$`),
    );
    const args = compileArgs(name as keyof typeof TARGETS);
    assert.deepEqual(args.slice(0, 3), ["compile", "--target", triple]);
    assert.equal(args.at(-1), ENTRY);
    assert.equal(args.at(-2), `dist/${file}`);
    for (const include of INCLUDES) assert.ok(args.includes(include), include);
  }
});

/** Runs the compile script into a temporary folder; `DENORT_BIN` only when `env` sets it. */
async function runCompile(target: string, env: Record<string, string>) {
  const outDir = await Deno.makeTempDir();
  const inherited = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => name !== "DENORT_BIN"),
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      `--allow-write=${outDir}`,
      "--allow-run",
      "--allow-env=DENORT_BIN",
      COMPILE_SCRIPT,
      target,
      "--out-dir",
      outDir,
    ],
    env: { ...inherited, NO_COLOR: "1", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const left = [...Deno.readDirSync(outDir)].map((entry) => entry.name);
  await Deno.remove(outDir, { recursive: true });
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    left,
  };
}

Deno.test("compile refuses DENORT_BIN pointing at the deno executable in one sentence and builds nothing", async () => {
  const run = await runCompile("linux-x64", { DENORT_BIN: Deno.execPath() });
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(
    run.stderr,
    /^DENORT_BIN \(".*"\) is the Deno CLI, not the denort runtime, .*copy of the Deno CLI that cannot run proxmox-mcp: point DENORT_BIN at denort for x86_64-unknown-linux-gnu \(https:\/\/dl\.deno\.land\/release\/v[\d.]+\/denort-x86_64-unknown-linux-gnu\.zip\)/,
  );
  assert.deepEqual(run.left, []);
});

Deno.test("compile names a DENORT_BIN that does not exist", async () => {
  await assert.rejects(
    checkDenortBin("/nonexistent/denort", "x86_64-unknown-linux-gnu"),
    (error: Error) =>
      error instanceof CompileError &&
      /DENORT_BIN names "\/nonexistent\/denort", which does not exist/
        .test(error.message),
  );
});

/** Whether deno compile would use a cached runtime for `triple` instead of downloading it. */
async function runtimeCached(triple: string): Promise<boolean> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const { denoDir } = JSON.parse(decoder.decode(output.stdout)) as { denoDir: string };
  const zip = `${denoDir}/dl/release/v${Deno.version.deno}/denort-${triple}.zip`;
  return await Deno.stat(zip).then(() => true, () => false);
}

Deno.test({
  name: "compile says in one sentence that the runtime could not be downloaded, and leaves no file",
  ignore: await runtimeCached(TARGETS["linux-arm64"].triple),
  async fn() {
    // A proxy that refuses every connection makes the download fail on any machine.
    const run = await runCompile("linux-arm64", {
      HTTPS_PROXY: "http://127.0.0.1:9",
      HTTP_PROXY: "http://127.0.0.1:9",
      NO_PROXY: "",
    });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(
      run.stderr,
      /^deno compile could not download the Deno runtime for aarch64-unknown-linux-gnu from https:\/\/dl\.deno\.land\/.*: build on a machine that can reach dl\.deno\.land, or set DENORT_BIN to that runtime/,
    );
    assert.deepEqual(run.left, []);
  },
});

Deno.test("a compile failure that is not about the runtime keeps deno's own error line", () => {
  assert.equal(
    explainFailure(1, 'Check main.ts\nerror: Module not found "file:///x/main.ts".\n', "t"),
    'deno compile failed with exit code 1: Module not found "file:///x/main.ts".',
  );
});

Deno.test({
  name: "the built file is rejected when it answers --version as the Deno CLI",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const fake = `${dir}/proxmox-mcp`;
      await Deno.writeTextFile(fake, '#!/bin/sh\necho "deno 2.9.6 (stable, release)"\n', {
        mode: 0o755,
      });
      await assert.rejects(
        checkVersion({ command: fake, args: [] }),
        (error: Error) =>
          error instanceof SmokeError &&
          /is a copy of the Deno CLI \(it answered "deno 2\.9\.6 \(stable, release\)" to --version\), not proxmox-mcp/
            .test(error.message),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the smoke test of a build passes on main.ts: --version, demo --fast, serve --demo tools/list", async () => {
  const lines: string[] = [];
  await smoke(
    {
      command: Deno.execPath(),
      args: ["run", "--quiet", "--allow-net=127.0.0.1,localhost", "--allow-read", `${ROOT}main.ts`],
    },
    { line: (text = "") => lines.push(text), error: (text) => lines.push(text) },
  );
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? "", /^ok {2}--version \(proxmox-mcp /);
  assert.match(lines[1] ?? "", /^ok {2}demo --fast \(\d+ steps\)$/);
  assert.match(lines[2] ?? "", /^ok {2}serve --demo: initialize, tools\/list \(\d+ tools\)$/);
});

Deno.test("the smoke script fails with one line on a program that is not proxmox-mcp", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-run", SMOKE_SCRIPT, Deno.execPath()],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 1);
  assert.match(decoder.decode(output.stderr), /^Smoke test failed: ".*" is a copy of the Deno CLI/);
});
