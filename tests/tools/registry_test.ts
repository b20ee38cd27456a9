import assert from "node:assert/strict";
import { configSchema } from "../../src/config/mod.ts";
import { annotationsFor, CAPABILITIES, needsConfirmation } from "../../src/policy/capability.ts";
import { allTools } from "../../src/tools/mod.ts";
import type { PolicyRules } from "../../src/policy/policy.ts";
import { defaultToolsetIds, TOOLSETS } from "../../src/tools/toolsets.ts";
import {
  buildRegistry,
  buildToolEntry,
  DRY_RUN_RESULT_SCHEMA,
  isWriteTool,
  listedTool,
  RESERVED_ARGUMENTS,
  toolInventory,
  visibleTools,
} from "../../src/tools/registry.ts";

const DESCRIPTION_BUDGET = 600;
/** Every tool of every toolset, every class allowed. */
const ALL_TOOLS_BUDGET = 96 * 1024;
/** The default configuration (read only, the default toolsets): about 4k tokens. */
const DEFAULT_BUDGET = 16 * 1024;
/** One tool's input schema. */
const INPUT_SCHEMA_BUDGET = 3 * 1024;

const everything = { policy: { allow: [...CAPABILITIES] }, clusters: ["lab"] };
const readOnly = { policy: { allow: ["read" as const] }, clusters: ["lab"] };
const defaults = {
  policy: { allow: ["read" as const], toolsets: defaultToolsetIds() },
  clusters: ["lab"],
};

function listJson(options: { policy: PolicyRules; clusters: string[] }): string {
  const tools = [...buildRegistry(allTools, options).values()].map(listedTool);
  return JSON.stringify({ tools });
}

Deno.test("every tool has a unique snake_case name", () => {
  const names = allTools.map((tool) => tool.name);
  assert.equal(new Set(names).size, names.length, `duplicate names in ${names.join(", ")}`);
  for (const name of names) assert.match(name, /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/, name);
});

Deno.test("every tool sets all four annotations, consistent with its capability class", () => {
  for (const tool of allTools) {
    const keys = Object.keys(tool.annotations).sort();
    assert.deepEqual(
      keys,
      ["destructiveHint", "idempotentHint", "openWorldHint", "readOnlyHint"],
      tool.name,
    );
    for (const value of Object.values(tool.annotations)) {
      assert.equal(typeof value, "boolean", tool.name);
    }
    const expected = annotationsFor(tool.capability);
    assert.equal(tool.annotations.readOnlyHint, expected.readOnlyHint, tool.name);
    assert.equal(tool.annotations.destructiveHint, expected.destructiveHint, tool.name);
    assert.equal(tool.annotations.openWorldHint, expected.openWorldHint, tool.name);
    if (tool.annotations.destructiveHint) assert.equal(tool.annotations.readOnlyHint, false);
  }
});

Deno.test("every tool has a title, an output schema and a description within budget", () => {
  for (const tool of allTools) {
    assert.ok(tool.title.length > 0, tool.name);
    assert.ok(tool.description.length > 0, tool.name);
    assert.ok(
      tool.description.length <= DESCRIPTION_BUDGET,
      `${tool.name}: description is ${tool.description.length} chars`,
    );
    assert.ok(tool.outputSchema !== undefined, tool.name);
    assert.ok(tool.toolset.length > 0, tool.name);
  }
});

Deno.test("write tools have a plan and get dry_run; read tools get neither", () => {
  for (const tool of allTools) {
    const entry = buildToolEntry(tool, { clusters: ["lab"] });
    const json = entry.inputJsonSchema as { properties?: Record<string, unknown> };
    if (isWriteTool(tool)) {
      assert.equal(typeof tool.plan, "function", `${tool.name} needs plan()`);
      assert.ok(json.properties?.dry_run !== undefined, tool.name);
      assert.ok(entry.output.safeParse({ dry_run: true, summary: "x", calls: [] }).success);
    } else {
      assert.equal(json.properties?.dry_run, undefined, tool.name);
    }
  }
});

Deno.test("no tool defines dry_run, cluster or a confirm argument itself", () => {
  for (const tool of allTools) {
    const shape = tool.inputSchema.shape as Record<string, unknown>;
    for (const name of [...RESERVED_ARGUMENTS, "confirm", "confirmed"]) {
      assert.ok(!(name in shape), `${tool.name} defines "${name}"`);
    }
  }
});

Deno.test("the cluster argument appears only with more than one cluster", () => {
  for (const tool of allTools) {
    const one = buildToolEntry(tool, { clusters: ["lab"] }).inputJsonSchema as {
      properties?: Record<string, unknown>;
    };
    assert.equal(one.properties?.cluster, undefined);
    const two = buildToolEntry(tool, { clusters: ["a", "b"] }).inputJsonSchema as {
      properties?: Record<string, { enum?: string[] }>;
      required?: string[];
    };
    assert.deepEqual(two.properties?.cluster?.enum, ["a", "b"]);
    assert.ok(two.required?.includes("cluster"));
  }
});

Deno.test("the dry-run result schema accepts a plan with a diff", () => {
  assert.ok(
    DRY_RUN_RESULT_SCHEMA.safeParse({
      dry_run: true,
      summary: "Set memory",
      calls: [{ method: "PUT", path: "/nodes/pve1/qemu/100/config", params: { memory: 2048 } }],
      diff: [{ key: "memory", before: 1024, after: 2048 }],
    }).success,
  );
});

Deno.test("the inventory of a parsed config lists every tool and says why a hidden one is hidden", () => {
  const config = configSchema.parse({});
  const rows = toolInventory(allTools, config);
  assert.equal(rows.length, allTools.length);
  for (const row of rows) {
    assert.equal(row.visible, row.capability === "read", row.name);
    const tool = allTools.find((t) => t.name === row.name);
    assert.equal(row.confirmation, tool !== undefined && needsConfirmation(tool));
    if (!row.visible) assert.match(row.hiddenBecause ?? "", /policy\.allow/);
  }
  assert.deepEqual(
    visibleTools(allTools, readOnly).map((tool) => tool.name),
    allTools.filter((tool) => tool.capability === "read").map((tool) => tool.name),
  );
});

const allSize = new TextEncoder().encode(listJson(everything)).length;
const defaultSize = new TextEncoder().encode(listJson(defaults)).length;
const defaultCount = buildRegistry(allTools, defaults).size;

Deno.test(`tools/list of all ${allTools.length} tools is ${allSize} bytes (budget ${ALL_TOOLS_BUDGET})`, () => {
  assert.ok(allSize <= ALL_TOOLS_BUDGET, `${allSize} bytes`);
});

Deno.test(`tools/list of the default configuration (${defaultCount} tools) is ${defaultSize} bytes (budget ${DEFAULT_BUDGET})`, () => {
  assert.ok(defaultSize <= DEFAULT_BUDGET, `${defaultSize} bytes`);
});

const largestInput = allTools.map((tool) => ({
  name: tool.name,
  bytes: JSON.stringify(buildToolEntry(tool, { clusters: ["lab"] }).inputJsonSchema).length,
})).sort((a, b) => b.bytes - a.bytes)[0];

Deno.test(`no input schema is over ${INPUT_SCHEMA_BUDGET} bytes (largest: ${largestInput?.name}, ${largestInput?.bytes})`, () => {
  for (const tool of allTools) {
    const bytes = JSON.stringify(buildToolEntry(tool, { clusters: ["a", "b"] }).inputJsonSchema)
      .length;
    assert.ok(bytes <= INPUT_SCHEMA_BUDGET, `${tool.name}: ${bytes} bytes`);
  }
});

Deno.test("input schemas are portable: an object with properties, no top-level anyOf/oneOf/allOf, snake_case names", () => {
  for (const tool of allTools) {
    const schema = buildToolEntry(tool, { clusters: ["a", "b"] }).inputJsonSchema;
    assert.equal(schema.type, "object", tool.name);
    assert.equal(typeof schema.properties, "object", `${tool.name}: properties is always present`);
    for (const key of ["anyOf", "oneOf", "allOf", "not", "if"]) {
      assert.equal(schema[key], undefined, `${tool.name}: top-level ${key}`);
    }
    for (const name of Object.keys(schema.properties as Record<string, unknown>)) {
      assert.match(name, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, `${tool.name}.${name}`);
    }
  }
});

Deno.test("every tool belongs to a declared toolset, and every toolset is described", () => {
  const ids = TOOLSETS.map((toolset) => toolset.id);
  assert.equal(new Set(ids).size, ids.length, "toolset ids are unique");
  for (const tool of allTools) {
    assert.ok(ids.includes(tool.toolset), `${tool.name}: unknown toolset "${tool.toolset}"`);
  }
  for (const toolset of TOOLSETS) {
    assert.match(toolset.id, /^[a-z][a-z0-9_]*$/);
    assert.ok(toolset.description.length > 0 && toolset.description.length <= 100, toolset.id);
  }
});

/** Paths of unbounded values in a JSON Schema: strings without maxLength, arrays without maxItems, numbers without both bounds, open records without maxProperties. */
function unbounded(schema: Record<string, unknown>, path: string): string[] {
  const found: string[] = [];
  const type = schema.type;
  const types = Array.isArray(type) ? type : [type];
  if (schema.enum !== undefined || schema.const !== undefined) return found;
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    for (const branch of (schema[key] as Record<string, unknown>[] | undefined) ?? []) {
      found.push(...unbounded(branch, path));
    }
  }
  if (types.includes("string") && schema.maxLength === undefined) found.push(`${path} (string)`);
  if (
    (types.includes("number") || types.includes("integer")) &&
    (schema.maximum === undefined && schema.exclusiveMaximum === undefined)
  ) {
    found.push(`${path} (number without a maximum)`);
  }
  if (types.includes("array")) {
    if (schema.maxItems === undefined) found.push(`${path} (array)`);
    const items = schema.items as Record<string, unknown> | undefined;
    if (items !== undefined) found.push(...unbounded(items, `${path}[]`));
  }
  if (types.includes("object")) {
    const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [name, property] of Object.entries(properties)) {
      found.push(...unbounded(property, path === "" ? name : `${path}.${name}`));
    }
    const extra = schema.additionalProperties;
    if (typeof extra === "object" && extra !== null) {
      if (schema.maxProperties === undefined) found.push(`${path} (open object)`);
      found.push(...unbounded(extra as Record<string, unknown>, `${path}.*`));
    }
  }
  return found;
}

Deno.test("every argument of every tool is bounded: strings by length, arrays by items, numbers by value", () => {
  const problems = allTools.flatMap((tool) =>
    unbounded(buildToolEntry(tool, { clusters: ["a", "b"] }).inputJsonSchema, "").map((path) =>
      `${tool.name}: ${path}`
    )
  );
  assert.deepEqual(problems, []);
});
