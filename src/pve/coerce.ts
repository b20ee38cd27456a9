/**
 * Zod building blocks that normalize Perl's JSON quirks at the edge (FACTS §3.4):
 * numbers that arrive as strings (`"101"`, `"1.5"`), booleans as `0`/`1`/`"1"`/`true`,
 * `;`-separated tag lists, and QEMU `memory` as a property string (`"2048"`,
 * `"current=2048"`). Objects built from these are loose: unknown fields pass through, so a
 * newer PVE adding keys never breaks the client.
 *
 * @module
 */

import { z } from "zod";

const NUMERIC_RE = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/** Converts a PVE number (number or numeric string) to a number; `undefined` if it is not one. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && NUMERIC_RE.test(value)) return Number(value);
  return undefined;
}

/** Converts a PVE boolean (`1`, `"1"`, `true`, `0`, `"0"`, `false`) to a boolean. */
export function toBool(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === "1") return true;
  if (value === false || value === 0 || value === "0" || value === "") return false;
  return undefined;
}

/** Splits a PVE tag list (`"prod;web"`, also `,` or space separated) into tags. */
export function toTags(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).filter((t) => t !== "");
  if (typeof value !== "string") return [];
  return value.split(/[;,\s]+/).filter((t) => t !== "");
}

/**
 * Reads a QEMU `memory` value in MiB: `2048`, `"2048"` or `"current=2048"` (PVE ≥ 8.1
 * made it a property string). `undefined` when absent or unparsable.
 */
export function qemuMemoryMiB(value: unknown): number | undefined {
  const direct = toNumber(value);
  if (direct !== undefined) return direct;
  if (typeof value !== "string") return undefined;
  for (const part of value.split(",")) {
    const [key, val] = part.split("=", 2);
    if (val === undefined) continue;
    if (key?.trim() === "current") return toNumber(val);
  }
  return undefined;
}

/** A number that PVE may send as a numeric string. */
export const pveNumber: z.ZodType<number, unknown> = z.unknown().transform((value, ctx) => {
  const n = toNumber(value);
  if (n === undefined) {
    ctx.addIssue({ code: "custom", message: `expected a number, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return n;
});

/** An integer that PVE may send as a string (`"101"`). */
export const pveInt: z.ZodType<number, unknown> = pveNumber.refine(
  (n) => Number.isInteger(n),
  { message: "expected an integer" },
);

/** A boolean that PVE sends as `0`/`1` (numbers or strings) or, rarely, `true`/`false`. */
export const pveBool: z.ZodType<boolean, unknown> = z.unknown().transform((value, ctx) => {
  const b = toBool(value);
  if (b === undefined) {
    ctx.addIssue({ code: "custom", message: `expected 0 or 1, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return b;
});

/** A string that PVE may send as a number (config values, ids). */
export const pveString: z.ZodType<string, unknown> = z.union([z.string(), z.number()])
  .transform(String);

/** A `;`-separated tag list, normalized to an array (missing ⇒ `[]`). */
export const pveTags: z.ZodType<string[], unknown> = z.unknown().transform(toTags);

/** `GET /version`. */
export const versionSchema = z.looseObject({
  version: pveString,
  release: pveString.optional(),
  repoid: pveString.optional(),
  console: z.string().optional(),
});

/**
 * One entry of `GET /cluster/resources`; only `type` is required, the rest is loose.
 * `readResources` (inventory.ts) reads the same fields by hand for speed: a field added
 * here must be added there too (a test tries every field here against both).
 */
export const resourceEntrySchema = z.looseObject({
  id: pveString.optional(),
  type: z.string(),
  node: z.string().optional(),
  status: z.string().optional(),
  vmid: pveInt.optional(),
  name: pveString.optional(),
  template: pveBool.optional(),
  pool: z.string().optional(),
  lock: z.string().optional(),
  tags: z.string().optional(),
  hastate: z.string().optional(),
  uptime: pveNumber.optional(),
  cpu: pveNumber.optional(),
  maxcpu: pveNumber.optional(),
  mem: pveNumber.optional(),
  maxmem: pveNumber.optional(),
  memhost: pveNumber.optional(),
  disk: pveNumber.optional(),
  maxdisk: pveNumber.optional(),
  netin: pveNumber.optional(),
  netout: pveNumber.optional(),
  diskread: pveNumber.optional(),
  diskwrite: pveNumber.optional(),
  storage: z.string().optional(),
  plugintype: z.string().optional(),
  shared: pveBool.optional(),
  content: z.string().optional(),
  level: z.string().optional(),
  sdn: z.string().optional(),
});

/** The raw shape of one `/cluster/resources` entry after coercion. */
export type ResourceEntry = z.infer<typeof resourceEntrySchema>;

/** `GET /nodes/{node}/tasks/{upid}/status`. */
export const taskStatusSchema = z.looseObject({
  upid: z.string().optional(),
  node: z.string().optional(),
  status: z.string(),
  exitstatus: z.string().optional(),
  type: z.string().optional(),
  id: pveString.optional(),
  user: z.string().optional(),
  tokenid: z.string().optional(),
  pid: pveInt.optional(),
  starttime: pveInt.optional(),
});

/** The coerced shape of a task status. */
export type TaskStatus = z.infer<typeof taskStatusSchema>;

/** One line of `GET /nodes/{node}/tasks/{upid}/log`. */
export const taskLogLineSchema = z.looseObject({ n: pveInt, t: pveString });

/** The coerced shape of a task log line. */
export type TaskLogLine = z.infer<typeof taskLogLineSchema>;
