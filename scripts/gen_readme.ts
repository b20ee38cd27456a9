/**
 * Generates the README's tool table (from the registry) and configuration table (from the
 * config schema and the environment/flag names), between
 * `<!-- tools:start -->`/`<!-- tools:end -->` and `<!-- config:start -->`/`<!-- config:end -->`.
 *
 * Run: `deno run --allow-read --allow-write scripts/gen_readme.ts` (`tests/readme_test.ts` fails
 * when README.md drifts from this output).
 *
 * @module
 */

import { DEFAULT_CLUSTER_NAME, ENV_NAMES } from "../src/config/mod.ts";
import { configJsonSchema } from "../src/config/json_schema.ts";
import { allTools } from "../src/tools/mod.ts";
import { buildToolEntry, toolInventory } from "../src/tools/registry.ts";
import { TOOLSETS } from "../src/tools/toolsets.ts";

/** The command that regenerates the README sections. */
export const README_COMMAND = "deno task readme";

/** Where each configuration key can also be set: environment variable and flag. */
export const KEY_SOURCES: Readonly<Record<string, { env?: string; flag?: string }>> = {
  "(config file)": { env: "PROXMOX_MCP_CONFIG", flag: "--config" },
  "clusters.<name>.url": { env: "PROXMOX_URL", flag: "--url" },
  "clusters.<name>.token": { env: "PROXMOX_TOKEN" },
  "clusters.<name>.tokenFile": { env: "PROXMOX_TOKEN_FILE" },
  "clusters.<name>.tokenId": { env: "PROXMOX_TOKEN_ID" },
  "clusters.<name>.tokenSecret": { env: "PROXMOX_TOKEN_SECRET" },
  "clusters.<name>.tokenSecretFile": { env: "PROXMOX_TOKEN_SECRET_FILE" },
  "clusters.<name>.user": { env: "PROXMOX_USER" },
  "clusters.<name>.password": { env: "PROXMOX_PASSWORD" },
  "clusters.<name>.passwordFile": { env: "PROXMOX_PASSWORD_FILE" },
  "clusters.<name>.caFile": { env: "PROXMOX_CA_FILE", flag: "--ca-file" },
  "clusters.<name>.insecure": { env: "PROXMOX_INSECURE_TLS", flag: "--insecure" },
  "policy.allow": { env: "PROXMOX_MCP_ALLOW", flag: "--allow" },
  "policy.toolsets": { env: "PROXMOX_MCP_TOOLSETS", flag: "--toolsets" },
  "policy.exclude": { env: "PROXMOX_MCP_EXCLUDE", flag: "--exclude" },
  "policy.scope.nodes": { env: "PROXMOX_MCP_SCOPE_NODES" },
  "policy.scope.vmids": { env: "PROXMOX_MCP_SCOPE_VMIDS" },
  "policy.scope.pools": { env: "PROXMOX_MCP_SCOPE_POOLS" },
  "policy.scope.tags": { env: "PROXMOX_MCP_SCOPE_TAGS" },
  "policy.confirmation.fallback": {
    env: "PROXMOX_MCP_CONFIRM_FALLBACK",
    flag: "--confirm-fallback",
  },
  "policy.wait.defaultSeconds": { env: "PROXMOX_MCP_WAIT_SECONDS", flag: "--wait-seconds" },
  "audit.path": { env: "PROXMOX_MCP_AUDIT_PATH", flag: "--audit-path" },
  "logging.level": { env: "PROXMOX_MCP_LOG_LEVEL", flag: "--log-level" },
  "http.listen": { env: "PROXMOX_MCP_HTTP", flag: "--http" },
  "http.publicUrl": { env: "PROXMOX_MCP_PUBLIC_URL" },
  "http.tlsCertFile": { env: "PROXMOX_MCP_TLS_CERT_FILE" },
  "http.tlsKeyFile": { env: "PROXMOX_MCP_TLS_KEY_FILE" },
  "http.allowedHosts": { env: "PROXMOX_MCP_ALLOWED_HOSTS" },
  "http.allowedOrigins": { env: "PROXMOX_MCP_ALLOWED_ORIGINS" },
  "http.redisUrl": { env: "PROXMOX_MCP_REDIS_URL" },
  "http.redisUrlFile": { env: "PROXMOX_MCP_REDIS_URL_FILE" },
  "http.replicaUrl": { env: "PROXMOX_MCP_REPLICA_URL" },
};

type JsonSchema = {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
};

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** A markdown table aligned the way `deno fmt` aligns it. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, index) =>
    Math.max(3, header.length, ...rows.map((row) => (row[index] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((value, index) => value.padEnd(widths[index] ?? 0)).join(" | ")} |`;
  return [
    line(headers),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.map(line),
  ].join("\n");
}

function leaves(schema: JsonSchema, prefix: string): Array<[string, JsonSchema]> {
  if (schema.type === "object" && schema.properties !== undefined) {
    return Object.entries(schema.properties).flatMap(([key, child]) =>
      leaves(child, prefix === "" ? key : `${prefix}.${key}`)
    );
  }
  return [[prefix, schema]];
}

/** The configuration keys of the schema with description and default, in schema order. */
export function configKeys(): Array<{ key: string; description: string; default?: unknown }> {
  const root = configJsonSchema() as JsonSchema;
  const keys: Array<[string, JsonSchema]> = [];
  for (const [section, schema] of Object.entries(root.properties ?? {})) {
    if (section === "$schema") continue;
    if (section === "clusters") {
      const record = schema.anyOf?.find((branch) =>
        typeof branch.additionalProperties === "object"
      );
      const cluster = record?.additionalProperties as JsonSchema;
      keys.push(...leaves(cluster, "clusters.<name>"));
      continue;
    }
    if (section === "profiles") {
      keys.push(...leaves(schema.additionalProperties as JsonSchema, "profiles.<name>"));
      continue;
    }
    keys.push(...leaves(schema, section));
  }
  return keys.map(([key, schema]) => ({
    key,
    description: schema.description ?? "",
    ...(schema.default === undefined ? {} : { default: schema.default }),
  }));
}

/** The markdown configuration table. */
export function renderConfigTable(): string {
  const file = KEY_SOURCES["(config file)"];
  const rows: string[][] = [[
    "(config file)",
    `\`${file?.env}\``,
    `\`${file?.flag} FILE\``,
    "",
    "JSON file with the keys below",
  ]];
  for (const { key, description, default: fallback } of configKeys()) {
    const sources = KEY_SOURCES[key] ?? {};
    rows.push([
      `\`${key}\``,
      sources.env === undefined ? "" : `\`${sources.env}\``,
      sources.flag === undefined ? "" : `\`${sources.flag}\``,
      fallback === undefined ? "" : `\`${JSON.stringify(fallback)}\``,
      cell(description),
    ]);
  }
  return markdownTable(["key", "environment", "flag", "default", "meaning"], rows);
}

/** The markdown tool table (every tool, whatever the policy). */
export function renderToolTable(): string {
  const inventory = toolInventory(allTools, {
    policy: { allow: ["read"] },
    clusters: [DEFAULT_CLUSTER_NAME],
  });
  const yes = (value: boolean) => value ? "yes" : "no";
  const rows = inventory.map((tool) => [
    `\`${tool.name}\``,
    tool.capability,
    tool.toolset,
    yes(tool.annotations.readOnlyHint),
    yes(tool.annotations.destructiveHint),
    yes(tool.annotations.idempotentHint),
    yes(tool.confirmation),
    cell(tool.title),
  ]);
  return markdownTable(
    [
      "tool",
      "class",
      "toolset",
      "read-only",
      "destructive",
      "idempotent",
      "confirmation",
      "title",
    ],
    rows,
  );
}

/** The markdown toolset table: id, whether it is on by default, tools, what it is for. */
export function renderToolsetTable(): string {
  const rows = TOOLSETS.map((toolset) => {
    const tools = allTools.filter((tool) => tool.toolset === toolset.id);
    return [
      `[\`${toolset.id}\`](docs/tools.md#${toolset.id})`,
      toolset.default ? "on" : "off",
      String(tools.length),
      cell(toolset.description),
    ];
  });
  return markdownTable(["toolset", "default", "tools", "for"], rows);
}

interface ParamSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  items?: ParamSchema;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  default?: unknown;
}

function typeText(schema: ParamSchema): string {
  if (schema.enum !== undefined) {
    return schema.enum.map((value) => `\`${String(value)}\``).join(" | ");
  }
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : schema.type ?? "any";
  if (type === "array") return `list of ${typeText(schema.items ?? {})}`;
  if ((type === "integer" || type === "number") && schema.minimum !== undefined) {
    return `${type} ${schema.minimum}–${schema.maximum ?? "…"}`;
  }
  return type;
}

/**
 * `docs/tools.md`: per toolset, each tool with its class, confirmation, description and
 * parameters (as the tool's input schema announces them).
 */
export function renderToolDocs(): string {
  const parts = [
    "# Tools",
    "",
    "Generated from the registry by `deno task readme` (`tests/readme_test.ts` fails when it",
    "drifts). Every write tool also takes `dry_run`; with more than one configured cluster every",
    "tool takes `cluster`. Toolsets marked default are on unless `policy.toolsets` says otherwise.",
  ];
  for (const toolset of TOOLSETS) {
    const tools = allTools.filter((tool) => tool.toolset === toolset.id);
    parts.push(
      "",
      `## ${toolset.id}`,
      "",
      `${toolset.description}. ${toolset.default ? "On by default." : "Off by default."}`,
    );
    for (const tool of tools) {
      const schema = buildToolEntry(tool, { clusters: [DEFAULT_CLUSTER_NAME] })
        .inputJsonSchema as { properties?: Record<string, ParamSchema>; required?: string[] };
      const required = new Set(schema.required ?? []);
      const params = Object.entries(schema.properties ?? {}).filter(([name]) => name !== "dry_run");
      parts.push(
        "",
        `<details><summary><code>${tool.name}</code>: ${tool.title} (${tool.capability}` +
          `${
            tool.capability === "destroy" || tool.capability === "exec" ||
              tool.capability === "raw" || tool.confirm === true
              ? ", asks to confirm"
              : ""
          })</summary>`,
        "",
        tool.description,
        "",
      );
      if (params.length === 0) {
        parts.push("No parameters.");
      } else {
        parts.push(markdownTable(
          ["parameter", "type", "required", "meaning"],
          params.map(([name, param]) => [
            `\`${name}\``,
            cell(typeText(param)),
            required.has(name) ? "yes" : "",
            cell(param.description ?? ""),
          ]),
        ));
      }
      parts.push("", "</details>");
    }
  }
  return `${parts.join("\n")}\n`;
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    throw new Error(`README has no "${start}" … "${end}" markers: add them where the table goes`);
  }
  return `${text.slice(0, from + start.length)}\n\n${body}\n\n${text.slice(to)}`;
}

/** The README with its generated sections brought up to date. */
export function updateReadme(text: string): string {
  return replaceSection(
    replaceSection(
      replaceSection(text, "tools", renderToolTable()),
      "toolsets",
      renderToolsetTable(),
    ),
    "config",
    renderConfigTable(),
  );
}

/** The generated tool reference. */
export const TOOL_DOCS = new URL("../docs/tools.md", import.meta.url);

/** Every environment variable the configuration reads has a row in the table. */
export function unlistedEnvNames(): string[] {
  const listed = new Set(Object.values(KEY_SOURCES).map((sources) => sources.env));
  return ENV_NAMES.filter((name) => !listed.has(name));
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const before = await Deno.readTextFile(path);
  const after = updateReadme(before);
  if (after !== before) await Deno.writeTextFile(path, after);
  await Deno.mkdir(new URL("../docs/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(TOOL_DOCS, renderToolDocs());
}
