import assert from "node:assert/strict";
import { configJsonSchema } from "./json_schema.ts";
import { configErrorFromIssues } from "./issues.ts";
import { clusterNames } from "./load.ts";
import { configSchema } from "./schema.ts";

const REGENERATE = "deno run --allow-read --allow-write scripts/gen_config_schema.ts";

async function readRepoJson(name: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(new URL(`../../${name}`, import.meta.url)));
}

Deno.test("config.schema.json matches the zod schema", async () => {
  const committed = await readRepoJson("config.schema.json");
  assert.deepEqual(
    committed,
    configJsonSchema(),
    `config.schema.json is out of date: regenerate it with \`${REGENERATE}\``,
  );
});

Deno.test("config.example.json parses and shows two clusters, policy, audit and logging", async () => {
  const example = await readRepoJson("config.example.json");
  const result = configSchema.safeParse(example, { reportInput: true });
  assert.ok(
    result.success,
    result.success ? "" : configErrorFromIssues(result.error.issues).message,
  );
  const config = result.data;
  assert.deepEqual(clusterNames(config), ["homelab", "office"]);
  assert.ok(config.clusters.homelab?.tokenId !== undefined);
  assert.ok(config.clusters.office?.passwordFile !== undefined);
  assert.ok(config.policy.allow.length > 1);
  assert.equal(config.audit.enabled, true);
  assert.equal((example as Record<string, unknown>).$schema, "./config.schema.json");
});

Deno.test("the JSON schema describes the file as written, unknown keys included", () => {
  const schema = configJsonSchema() as {
    additionalProperties?: unknown;
    properties?: Record<string, unknown>;
  };
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(Object.keys(schema.properties ?? {}), [
    "$schema",
    "clusters",
    "policy",
    "audit",
    "logging",
    "http",
    "profiles",
  ]);
});
