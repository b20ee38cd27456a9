import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import schema from "../src/schema/pve_schema.json" with { type: "json" };

type Facts = Record<string, { parameters: { properties?: Record<string, unknown> } }>;
const facts = schema as unknown as Facts;
const SOURCE = new URL("../../shared/pve-api/pve-api-9.1.json", import.meta.url);

function walk(
  value: unknown,
  visit: (key: string, inner: unknown, parent: string) => void,
  parent = "",
) {
  if (Array.isArray(value)) {
    for (const inner of value) walk(inner, visit, parent);
  } else if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      visit(key, inner, parent);
      walk(inner, visit, key);
    }
  }
}

Deno.test("schema facts keep parameters named like annotations, such as description", () => {
  const snapshot = facts["POST /nodes/{node}/qemu/{vmid}/snapshot"];
  assert.ok(snapshot?.parameters.properties?.["description"], "snapshot create takes description");
  const config = facts["PUT /nodes/{node}/lxc/{vmid}/config"];
  assert.ok(config?.parameters.properties?.["description"], "lxc config takes description");
});

Deno.test("schema facts carry no description texts, only facts", () => {
  const texts: string[] = [];
  walk(facts, (key, inner, parent) => {
    const isName = parent === "properties" || parent === "format";
    if (!isName && ["description", "verbose_description", "typetext"].includes(key)) {
      texts.push(`${key}: ${JSON.stringify(inner).slice(0, 40)}`);
    }
  });
  assert.deepEqual(texts, []);
});

/** Whether this run is CI (`CI=true`), where the staleness check must run or fail. */
function inCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false; // no --allow-env: a developer's partial run
  }
}

Deno.test({
  name: "schema facts match a fresh derivation from the official schema",
  // The official schema lives beside the repository (../shared). A developer without it skips
  // this check; in CI it runs, and a missing schema fails it instead of silently skipping.
  ignore: !existsSync(SOURCE) && !inCi(),
  fn: async () => {
    assert.ok(
      existsSync(SOURCE),
      `The official PVE API schema is missing at ${SOURCE.pathname}: CI must check the schema ` +
        "facts against it, so provide ../shared/pve-api beside the repository",
    );
    const out = await Deno.makeTempFile({ suffix: ".json" });
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          `--allow-write=${out}`,
          new URL("../scripts/gen_schema.ts", import.meta.url).pathname,
          SOURCE.pathname,
          out,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      assert.deepEqual(
        JSON.parse(await Deno.readTextFile(out)),
        facts,
        "src/schema/pve_schema.json is stale: run `deno task schema`",
      );
    } finally {
      await Deno.remove(out);
    }
  },
});

Deno.test("in CI the staleness check fails, rather than skips, when the official schema is absent", async () => {
  // A copy of this test beside no ../shared, run as CI runs it.
  const root = await Deno.makeTempDir({ prefix: "schema-ci-" });
  try {
    const repo = `${root}/repo`;
    await Deno.mkdir(`${repo}/tests`, { recursive: true });
    await Deno.mkdir(`${repo}/src/schema`, { recursive: true });
    await Deno.copyFile(new URL(import.meta.url).pathname, `${repo}/tests/schema_test.ts`);
    await Deno.copyFile(
      new URL("../src/schema/pve_schema.json", import.meta.url).pathname,
      `${repo}/src/schema/pve_schema.json`,
    );
    await Deno.copyFile(new URL("../deno.json", import.meta.url).pathname, `${repo}/deno.json`);
    await Deno.copyFile(new URL("../deno.lock", import.meta.url).pathname, `${repo}/deno.lock`);
    const run = (ci: boolean) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "test",
          "--allow-read",
          "--allow-env",
          "--filter",
          "fresh derivation",
          `${repo}/tests/schema_test.ts`,
        ],
        cwd: repo,
        env: { CI: ci ? "true" : "false", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const ci = await run(true);
    const ciText = new TextDecoder().decode(ci.stdout) + new TextDecoder().decode(ci.stderr);
    assert.notEqual(ci.code, 0, ciText);
    assert.match(ciText, /official PVE API schema is missing/);
    const local = await run(false);
    const localText = new TextDecoder().decode(local.stdout);
    assert.equal(local.code, 0, localText);
    assert.match(localText, /1 ignored/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
