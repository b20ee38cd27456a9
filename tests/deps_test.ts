import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const read = (name: string) => JSON.parse(Deno.readTextFileSync(new URL(name, root)));

Deno.test("the development configuration is the server's plus test-only packages, in step", () => {
  const runtime = read("deno.json");
  const dev = read("deno.dev.json");
  for (const [name, specifier] of Object.entries(runtime.imports as Record<string, string>)) {
    assert.equal(dev.imports[name], specifier, `deno.dev.json must map "${name}" as deno.json`);
  }
  assert.deepEqual(dev.compilerOptions, runtime.compilerOptions);
  assert.equal(dev.nodeModulesDir, runtime.nodeModulesDir);
  assert.deepEqual(dev.unstable, runtime.unstable);
  assert.equal(dev.lock.path, "deno.dev.lock");
});

Deno.test("the server's lock holds only what the server loads: no test-only package is fetched by a first run", () => {
  const lock = read("deno.lock") as { npm?: Record<string, unknown> };
  const packages = Object.keys(lock.npm ?? {}).map((key) => key.replace(/@[^@]+$/, ""));
  const dev = Object.keys(read("deno.dev.json").imports).filter((name) =>
    !(name in read("deno.json").imports)
  ).map((name) => name.replace(/\/$/, ""));
  for (const name of dev) assert.ok(!packages.includes(name), `deno.lock holds "${name}"`);
  // The server's whole npm tree (the MCP SDK, zod, LogTape, jose, the Redis client).
  assert.ok(packages.length <= 20, `deno.lock holds ${packages.length} packages: ${packages}`);
});
