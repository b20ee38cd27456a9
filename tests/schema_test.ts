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

Deno.test({
  name: "schema facts match a fresh derivation from the official schema",
  // The official schema lives beside the repository (../shared), as in CI.
  ignore: !existsSync(SOURCE),
  fn: async () => {
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
