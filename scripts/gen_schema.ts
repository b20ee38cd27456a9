/**
 * Derives the machine-readable parameter facts that the simulator and the `pve_api`
 * tool validate against from the official PVE API schema in `../shared/pve-api/`.
 *
 * Only facts are kept (method, path, parameter types, formats, patterns, ranges, enums,
 * permissions, `allowtoken`, `proxyto`, the return type); description texts are dropped.
 *
 * Usage: deno run --allow-read --allow-write scripts/gen_schema.ts [schema.json] [out.json]
 */

const DROP = new Set([
  "description",
  "verbose_description",
  "typetext",
  "format_description",
  "title",
  "text",
  "renderer",
]);

/** Keys whose value maps names (parameters, property-string keys) to schemas. */
const NAME_MAPS = new Set(["properties", "format"]);

/**
 * Drops description texts from a schema object. Inside a name map (`properties`, an object
 * `format`) keys are parameter names — a parameter may well be called `description` — so
 * they are kept and only their schemas are stripped.
 */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (DROP.has(key)) continue;
    out[key] = NAME_MAPS.has(key) && isObject(inner) ? stripNameMap(inner) : strip(inner);
  }
  return out;
}

function stripNameMap(map: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(map)) out[name] = strip(schema);
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function returnType(returns: unknown): string | undefined {
  if (returns && typeof returns === "object" && "type" in returns) {
    const type = (returns as { type: unknown }).type;
    return typeof type === "string" ? type : undefined;
  }
  return undefined;
}

const input = Deno.args[0] ?? "../shared/pve-api/pve-api-9.1.json";
const output = Deno.args[1] ?? "src/schema/pve_schema.json";
const schema = JSON.parse(await Deno.readTextFile(input)) as Record<
  string,
  Record<string, unknown>
>;
const facts: Record<string, unknown> = {};
for (const key of Object.keys(schema).sort()) {
  const info = schema[key]!;
  const params = info.parameters as { properties?: Record<string, unknown> } | undefined;
  const entry: Record<string, unknown> = {
    name: info.name,
    allowtoken: info.allowtoken ?? 1,
    parameters: strip(params ?? {}),
  };
  if (info.protected) entry.protected = info.protected;
  if (info.proxyto) entry.proxyto = info.proxyto;
  if (info.permissions) entry.permissions = strip(info.permissions);
  const rt = returnType(info.returns);
  if (rt) entry.returns = rt;
  facts[key] = entry;
}
await Deno.writeTextFile(output, JSON.stringify(facts) + "\n");
