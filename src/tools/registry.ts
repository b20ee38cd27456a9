/**
 * The registry: from the one list of tools (`mod.ts`) and the configured policy to what the
 * server offers. It filters tools by policy (class → toolset → excluded; a hidden tool is not
 * listed), fails at start-up on unknown tool or toolset names in the configuration, and builds
 * each tool's advertised schemas:
 *
 * - input: the tool's own schema plus `dry_run` (every non-read tool, optional, default
 *   `false`) and `cluster` (a required enum of the configured cluster names, only when more
 *   than one cluster is configured);
 * - output: read tools advertise their own schema; write tools advertise
 *   `anyOf [own schema, DryRunResult]`, so the `{dry_run: true, summary, calls, diff?}`
 *   result of a dry run validates against what `tools/list` announced.
 *
 * @module
 */

import { z } from "zod";
import { type Capability, needsConfirmation } from "../policy/capability.ts";
import { explainToolHidden, type PolicyRules } from "../policy/policy.ts";
import { viewForTool, viewMeta } from "../views/mod.ts";
import type { AnyTool, ToolAnnotations } from "./types.ts";

/**
 * The configuration facts the registry reads. A parsed `Config` fits as it is; tests and the
 * server may pass the cluster names as a list instead.
 */
export interface RegistryOptions {
  /** The policy rules (allowed classes, enabled toolsets, excluded tools). */
  policy: PolicyRules;
  /** The configured clusters (keyed by name, as in `Config`) or their names, in order. */
  clusters: Readonly<Record<string, unknown>> | readonly string[];
}

/** The configured cluster names, in configuration order. */
export function clusterNames(options: Pick<RegistryOptions, "clusters">): string[] {
  return Array.isArray(options.clusters)
    ? [...options.clusters as readonly string[]]
    : Object.keys(options.clusters);
}

/** Names the registry adds to input schemas; a tool must not define them itself. */
export const RESERVED_ARGUMENTS: readonly string[] = ["dry_run", "cluster"];

/** One Proxmox VE call of a plan (matches `PlannedCall`). */
export const PLANNED_CALL_SCHEMA = z.object({
  method: z.enum(["GET", "POST", "PUT", "DELETE"]),
  path: z.string(),
  params: z.record(
    z.string(),
    z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]),
  ).optional(),
});

/** The structured result of a dry run: what would be done, and nothing done. */
export const DRY_RUN_RESULT_SCHEMA = z.object({
  dry_run: z.literal(true),
  summary: z.string(),
  calls: z.array(PLANNED_CALL_SCHEMA),
  diff: z.array(z.object({
    key: z.string(),
    before: z.union([z.string(), z.number()]).optional(),
    after: z.union([z.string(), z.number()]).optional(),
  })).optional(),
});

/**
 * The dry-run branch as announced in `tools/list`: the same shape as
 * {@linkcode DRY_RUN_RESULT_SCHEMA}, stated loosely (calls and diff entries as plain objects) to
 * keep `tools/list` small; the server validates against the strict zod schema.
 */
export const DRY_RUN_RESULT_JSON_SCHEMA: Readonly<Record<string, unknown>> = {
  type: "object",
  properties: {
    dry_run: { const: true },
    summary: { type: "string" },
    calls: { type: "array", items: { type: "object" } },
    diff: { type: "array", items: { type: "object" } },
  },
  required: ["dry_run", "summary", "calls"],
};

/** A tool as the server offers it: the definition plus the advertised schemas. */
export interface ToolEntry {
  tool: AnyTool;
  /** Validates incoming arguments (the tool's schema plus `dry_run`/`cluster`). */
  input: z.ZodObject;
  /** Validates outgoing structured content (for write tools including the dry-run shape). */
  output: z.ZodType;
  /** The JSON Schema announced in `tools/list` for the input. */
  inputJsonSchema: Record<string, unknown>;
  /** The JSON Schema announced in `tools/list` for the output. */
  outputJsonSchema: Record<string, unknown>;
}

/** Whether a tool changes anything (every class but `read`). */
export function isWriteTool(tool: { capability: Capability }): boolean {
  return tool.capability !== "read";
}

/** The tools offered under the policy, in list order. */
export function visibleTools(tools: readonly AnyTool[], options: RegistryOptions): AnyTool[] {
  return tools.filter((tool) => explainToolHidden(tool, options.policy) === undefined);
}

/** One row of the tool inventory (`tools` command, README table). */
export interface ToolInventoryEntry {
  name: string;
  title: string;
  toolset: string;
  capability: Capability;
  annotations: ToolAnnotations;
  /** Whether a call needs the user's confirmation. */
  confirmation: boolean;
  /** Whether the tool takes `dry_run`. */
  dryRun: boolean;
  visible: boolean;
  /** Why the tool is hidden (the policy's sentence), when it is. */
  hiddenBecause?: string;
}

/** Every tool with its metadata and whether the policy offers it (and why not). */
export function toolInventory(
  tools: readonly AnyTool[],
  options: RegistryOptions,
): ToolInventoryEntry[] {
  return tools.map((tool) => {
    const hidden = explainToolHidden(tool, options.policy);
    const entry: ToolInventoryEntry = {
      name: tool.name,
      title: tool.title,
      toolset: tool.toolset,
      capability: tool.capability,
      annotations: { ...tool.annotations },
      confirmation: needsConfirmation(tool),
      dryRun: isWriteTool(tool),
      visible: hidden === undefined,
    };
    if (hidden !== undefined) entry.hiddenBecause = hidden.message;
    return entry;
  });
}

/**
 * Builds the entry of one tool: the advertised input schema (with `dry_run`/`cluster`) and
 * output schema (with the dry-run shape for write tools), and their JSON Schemas.
 *
 * @throws {Error} when the tool defines a reserved argument itself (a bug in the tool).
 */
export function buildToolEntry(
  tool: AnyTool,
  options: Pick<RegistryOptions, "clusters">,
): ToolEntry {
  const clusters = clusterNames(options);
  const own = tool.inputSchema as z.ZodObject;
  for (const name of RESERVED_ARGUMENTS) {
    if (name in own.shape) {
      throw new Error(
        `Tool "${tool.name}" defines the argument "${name}" itself: remove it, the registry adds it`,
      );
    }
  }
  const extra: Record<string, z.ZodType> = {};
  if (isWriteTool(tool)) {
    extra.dry_run = z.boolean().default(false).describe(
      "Only return the exact PVE calls (and config diff) it would make; change nothing",
    );
  }
  if (clusters.length > 1) {
    extra.cluster = z.enum(clusters as [string, ...string[]]).describe(
      "The configured cluster to act on",
    );
  }
  const input = Object.keys(extra).length === 0 ? own : own.extend(extra);
  const output: z.ZodType = isWriteTool(tool)
    ? z.union([tool.outputSchema as z.ZodObject, DRY_RUN_RESULT_SCHEMA])
    : tool.outputSchema as z.ZodObject;
  return {
    tool,
    input,
    output,
    inputJsonSchema: toJsonSchema(input, "input"),
    outputJsonSchema: isWriteTool(tool)
      ? {
        type: "object",
        anyOf: [
          leanOutputSchema(toJsonSchema(tool.outputSchema as z.ZodObject, "output")),
          DRY_RUN_RESULT_JSON_SCHEMA,
        ],
      }
      : leanOutputSchema(toJsonSchema(output, "output")),
  };
}

/** Builds the entries of every tool offered under the policy. */
export function buildRegistry(
  tools: readonly AnyTool[],
  options: RegistryOptions,
): Map<string, ToolEntry> {
  const entries = new Map<string, ToolEntry>();
  for (const tool of visibleTools(tools, options)) {
    if (entries.has(tool.name)) {
      throw new Error(`Two tools are named "${tool.name}": tool names must be unique`);
    }
    entries.set(tool.name, buildToolEntry(tool, options));
  }
  return entries;
}

/**
 * The `tools/list` entry of a tool. A tool with an MCP App view (`src/views/mod.ts`) carries the
 * view's `ui://` URI in `_meta`, so a host with Apps support renders its results there; other
 * clients ignore it and read the text and structured content as before.
 */
export function listedTool(entry: ToolEntry): Record<string, unknown> {
  const view = viewForTool(entry.tool.name);
  return {
    name: entry.tool.name,
    title: entry.tool.title,
    description: entry.tool.description,
    inputSchema: entry.inputJsonSchema,
    outputSchema: entry.outputJsonSchema,
    annotations: { title: entry.tool.title, ...entry.tool.annotations },
    ...(view === undefined ? {} : { _meta: viewMeta(view) }),
  };
}

function toJsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io }) as Record<string, unknown>;
  delete json.$schema;
  if (json.type === undefined) return { type: "object", ...json };
  return json;
}

type JsonSchema = Record<string, unknown>;

/** Only the type of a schema (the shape below the second level is left to the text). */
function typeOnly(schema: JsonSchema): JsonSchema {
  if (schema.const !== undefined) return { const: schema.const };
  if (schema.type !== undefined) return { type: schema.type };
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  const types = union?.map((branch) => branch.type).filter((type) => type !== undefined);
  return types !== undefined && types.length > 0 ? { type: [...new Set(types.flat())] } : {};
}

/** A field of the result: its type and short enums; nested rows and objects by type only. */
function leanField(schema: JsonSchema): JsonSchema {
  const lean = typeOnly(schema);
  if (Array.isArray(schema.enum) && schema.enum.length <= 8) lean.enum = schema.enum;
  if (typeof schema.description === "string") lean.description = schema.description;
  const items = schema.items as JsonSchema | undefined;
  if (schema.type === "array" && items !== undefined) lean.items = typeOnly(items);
  return lean;
}

function mapProperties(
  properties: Record<string, JsonSchema>,
  map: (schema: JsonSchema) => JsonSchema,
): Record<string, JsonSchema> {
  return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, map(value)]));
}

/**
 * The output schema as announced in `tools/list`: the result's fields with their types, short
 * enums and the required list; rows and nested objects by type only (their fields are named in
 * each result). Every result that fits the tool's full zod schema fits this one (it only leaves
 * constraints out), and the server still checks each result against the full schema;
 * `tools/list`, paid for on every turn, stays small.
 */
function leanOutputSchema(schema: JsonSchema): JsonSchema {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  const lean: JsonSchema = { type: "object" };
  if (properties !== undefined) lean.properties = mapProperties(properties, leanField);
  if (Array.isArray(schema.required) && schema.required.length > 0) {
    lean.required = schema.required;
  }
  return lean;
}
