/**
 * Tool inputs generated from a tool's input JSON Schema (what `tools/list` announces): valid
 * ones, and the same with one argument made hostile — a value of the wrong type, a required
 * argument missing, an unknown argument, a boundary number, a raw numeral, a 1 MB string,
 * control characters, path tricks, a huge list or map, a deeply nested value. Nothing here
 * names a tool: every tool in `allTools`, including ones added later, gets cases from its
 * schema alone (plus values of the cluster chosen by argument name, see `_domain.ts`).
 *
 * @module
 */

import type { Domain } from "./_domain.ts";
import type { Rng } from "./_rng.ts";
import {
  ANY_TYPE_VALUES,
  boundaryNumbers,
  CONTROL_STRINGS,
  HUGE_SHAPES,
  hugeString,
  jsonType,
  PATH_TRICKS,
  RAW_NUMERALS,
} from "./_values.ts";

/** The part of JSON Schema the generator reads. */
export interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  allOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  description?: string;
}

/** What a case does to the tool's arguments. */
export type CaseKind =
  | "valid"
  | "dry_run"
  | "wrong_type"
  | "missing_required"
  | "extra_key"
  | "boundary"
  | "raw_numeral"
  | "huge_string"
  | "control_chars"
  | "path_trick"
  | "huge_collection"
  | "deep_value";

/** Every kind, in report order. */
export const CASE_KINDS: readonly CaseKind[] = [
  "valid",
  "dry_run",
  "wrong_type",
  "missing_required",
  "extra_key",
  "boundary",
  "raw_numeral",
  "huge_string",
  "control_chars",
  "path_trick",
  "huge_collection",
  "deep_value",
];

/** One generated call of one tool. */
export interface ToolCase {
  tool: string;
  kind: CaseKind;
  /** The `arguments` object as JSON text (raw numerals exist only as text). */
  argumentsJson: string;
  /** The argument made hostile, when one was. */
  target?: string;
}

/** A tool as the generator sees it. */
export interface ToolShape {
  name: string;
  /** The announced input schema. */
  schema: SchemaNode;
  /** Whether the tool takes `dry_run` (every write tool). */
  write: boolean;
}

const RAW_MARK = "\u0000fuzz-raw\u0000";

/** Values by argument name, for arguments that name something on the cluster. */
function byName(name: string, domain: Domain): readonly unknown[] {
  switch (name) {
    case "vmid":
    case "vmids":
      return domain.vmids;
    case "new_vmid":
    case "newid":
    case "target_vmid":
      return domain.freeVmids;
    case "name":
    case "names":
      return domain.names;
    case "new_name":
    case "hostname":
      return ["fuzz-guest", "fuzz-copy"];
    case "node":
    case "nodes":
    case "target":
    case "target_node":
      return domain.nodes;
    case "storage":
    case "target_storage":
      return domain.storages;
    case "pool":
      return domain.pools;
    case "tag":
    case "tags":
      return domain.tags;
    case "snapshot":
      return [...domain.snapshots, "fuzz_snap", "fz-2"];
    case "upid":
      return domain.upids;
    case "volid":
    case "ostemplate":
    case "iso":
      return domain.volids;
    case "path":
      return [...domain.getPaths, ...domain.writePaths];
    case "url":
      return ["https://example.invalid/images/debian.iso"];
    case "command":
      return ["uname", "-a", "hostname"];
    case "bridge":
      return ["vmbr0"];
    case "disk":
      return ["scsi0", "virtio0", "rootfs"];
    case "size":
      return ["+1G", "+512M", "40G"];
    case "ip":
      return ["dhcp", "10.0.0.77/24"];
    case "gateway":
      return ["10.0.0.1"];
    case "type":
      return ["qmstart", "qmstop", "vzdump"];
    case "description":
    case "notes":
      return ["fuzz run"];
    case "delete":
      return ["description", "onboot", "tags"];
    case "cores":
      return [1, 2];
    case "memory":
      return [512, 1024];
    case "onboot":
      return [0, 1];
    case "filename":
      return ["fuzz.iso"];
    case "stdin":
      return ["hello"];
    default:
      return [];
  }
}

/** Short strings tried against a `pattern` when nothing else fits it. */
const PATTERN_SAMPLES: readonly string[] = [
  "a1",
  "abc",
  "scsi0",
  "+1G",
  "1G",
  "10",
  "vmbr0",
  "10.0.0.5/24",
  "10.0.0.1",
  "local",
  "fz_1",
  "A-1",
  "x",
];

function typesOf(schema: SchemaNode): string[] {
  if (schema.const !== undefined) return [jsonType(schema.const)];
  if (schema.enum !== undefined) return [...new Set(schema.enum.map(jsonType))];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches !== undefined) return [...new Set(branches.flatMap(typesOf))];
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type !== undefined) return [schema.type];
  if (schema.properties !== undefined) return ["object"];
  return [];
}

function fits(value: unknown, schema: SchemaNode): boolean {
  const types = typesOf(schema);
  const type = jsonType(value);
  if (
    types.length > 0 && !types.includes(type) && !(type === "integer" && types.includes("number"))
  ) return false;
  if (schema.enum !== undefined && !schema.enum.includes(value)) return false;
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) return false;
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return false;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) return false;
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) return false;
    if (schema.maximum !== undefined && value > schema.maximum) return false;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return false;
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return false;
  }
  return true;
}

/** A value the schema accepts, preferring the cluster's own names for `name`. */
export function validValue(
  schema: SchemaNode,
  name: string,
  rng: Rng,
  domain: Domain,
  depth = 0,
): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum !== undefined && schema.enum.length > 0) return rng.pick(schema.enum);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches !== undefined && branches.length > 0) {
    return validValue(rng.pick(branches), name, rng, domain, depth + 1);
  }
  const types = typesOf(schema).filter((type) => type !== "null");
  const type = types.length === 0 ? "string" : rng.pick(types);
  const known = byName(name, domain).filter((value) =>
    type === "array" || type === "object" || fits(value, schema)
  );
  switch (type) {
    case "string":
      if (known.length > 0 && rng.chance(0.9)) return rng.pick(known);
      return stringFor(schema, rng);
    case "integer":
    case "number": {
      if (known.length > 0 && rng.chance(0.9)) return rng.pick(known);
      // A valid wait is short, so a run stays bounded (boundary cases still send the extremes).
      if (name.endsWith("_seconds")) {
        const short = [1, 2, 3].filter((value) => fits(value, schema));
        if (short.length > 0) return rng.pick(short);
      }
      return numberFor(schema, type === "integer", rng);
    }
    case "boolean":
      return rng.chance(0.5);
    case "array": {
      const items = schema.items ?? {};
      const min = schema.minItems ?? 0;
      const max = Math.min(schema.maxItems ?? 3, Math.max(min, 3));
      const count = rng.int(min, Math.max(min, max));
      const pool = byName(name, domain).filter((value) => fits(value, items));
      return Array.from(
        { length: count },
        () =>
          pool.length > 0 && rng.chance(0.9)
            ? rng.pick(pool)
            : validValue(items, name, rng, domain, depth + 1),
      );
    }
    case "object":
      return depth > 4 ? {} : objectFor(schema, rng, domain, depth + 1);
    default:
      return null;
  }
}

function stringFor(schema: SchemaNode, rng: Rng): string {
  if (schema.pattern !== undefined) {
    const matching = PATTERN_SAMPLES.filter((sample) => fits(sample, schema));
    if (matching.length > 0) return rng.pick(matching);
  }
  const min = schema.minLength ?? 1;
  const max = Math.max(min, Math.min(schema.maxLength ?? 12, 12));
  const length = rng.int(min, max);
  const letters = "abcdefghijklmnopqrstuvwxyz";
  let out = "";
  for (let i = 0; i < length; i++) {
    out += i === 0 ? rng.pick([...letters]) : rng.pick([...`${letters}0123456789-_`]);
  }
  return out;
}

function numberFor(schema: SchemaNode, integer: boolean, rng: Rng): number {
  let low = schema.minimum ??
    (schema.exclusiveMinimum === undefined ? 0 : schema.exclusiveMinimum + 1);
  let high = schema.maximum ??
    (schema.exclusiveMaximum === undefined ? low + 100 : schema.exclusiveMaximum - 1);
  if (high < low) [low, high] = [high, low];
  const near = Math.min(high, low + 100);
  const value = rng.chance(0.2) ? rng.pick([low, high]) : low + rng.next() * (near - low);
  return integer ? Math.round(value) : Math.round(value * 100) / 100;
}

const PARAM_KEYS: readonly string[] = [
  "description",
  "cores",
  "memory",
  "onboot",
  "tags",
  "full",
  "type",
  "limit",
  "name",
  "vmid",
  "node",
  "snapname",
  "format",
  "start",
];

function objectFor(schema: SchemaNode, rng: Rng, domain: Domain, depth: number): unknown {
  const out: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (required.has(key) || rng.chance(0.4)) {
      out[key] = validValue(property, key, rng, domain, depth);
    }
  }
  const extra = schema.additionalProperties;
  if (typeof extra === "object" && schema.properties === undefined) {
    const count = rng.int(0, 2);
    for (let i = 0; i < count; i++) {
      const key = rng.pick(PARAM_KEYS);
      out[key] = validValue(extra, key, rng, domain, depth);
    }
  }
  return out;
}

/** Valid arguments: every required one, each optional one at random. */
function validArguments(tool: ToolShape, rng: Rng, domain: Domain): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  const required = new Set(tool.schema.required ?? []);
  const properties = Object.entries(tool.schema.properties ?? {});
  // A guest is addressed by vmid or by name, not both: keep at most one such pair member.
  for (const [key, property] of properties) {
    if (key === "dry_run") continue;
    if (required.has(key) || rng.chance(0.4)) {
      args[key] = validValue(property, key, rng, domain);
    }
  }
  if ("vmid" in args && "name" in args && !required.has("name")) {
    delete args[rng.chance(0.5) ? "vmid" : "name"];
  }
  return args;
}

function stringy(schema: SchemaNode): boolean {
  const types = typesOf(schema);
  return types.includes("string") && schema.enum === undefined && schema.const === undefined;
}

function numeric(schema: SchemaNode): boolean {
  const types = typesOf(schema);
  return types.includes("integer") || types.includes("number");
}

/** Where a string can be put in an argument: itself, a list's item, a map's value. */
function stringSlots(schema: SchemaNode): Array<"self" | "item" | "value"> {
  const slots: Array<"self" | "item" | "value"> = [];
  if (stringy(schema)) slots.push("self");
  if (schema.items !== undefined && stringy(schema.items)) slots.push("item");
  const extra = schema.additionalProperties;
  if (typeof extra === "object" && typesOf(extra).includes("string")) slots.push("value");
  const branches = schema.anyOf ?? schema.oneOf ?? [];
  if (branches.some((branch) => branch.items !== undefined && stringy(branch.items))) {
    slots.push("item");
  }
  return [...new Set(slots)];
}

function placeString(
  args: Record<string, unknown>,
  key: string,
  slot: "self" | "item" | "value",
  text: string,
): void {
  if (slot === "self") args[key] = text;
  else if (slot === "item") args[key] = [text];
  else args[key] = { description: text };
}

function collection(schema: SchemaNode): "array" | "object" | undefined {
  const types = typesOf(schema);
  if (types.includes("array")) return "array";
  if (types.includes("object")) return "object";
  return undefined;
}

function nested(depth: number, kind: "array" | "object"): unknown {
  let value: unknown = "x";
  for (let i = 0; i < depth; i++) value = kind === "array" ? [value] : { a: value };
  return value;
}

/** The JSON text of the arguments, with raw numerals put in place of their marks. */
function argumentsText(args: Record<string, unknown>, raw?: string): string {
  const text = JSON.stringify(args);
  return raw === undefined ? text : text.replace(JSON.stringify(RAW_MARK), raw);
}

function hostile(
  tool: ToolShape,
  kind: CaseKind,
  rng: Rng,
  domain: Domain,
): ToolCase | undefined {
  const args = validArguments(tool, rng, domain);
  const properties = Object.entries(tool.schema.properties ?? {});
  const make = (target?: string, raw?: string): ToolCase => ({
    tool: tool.name,
    kind,
    argumentsJson: argumentsText(args, raw),
    ...(target === undefined ? {} : { target }),
  });
  switch (kind) {
    case "valid":
      if (tool.write) args.dry_run = false;
      return make();
    case "dry_run":
      if (!tool.write) return undefined;
      args.dry_run = true;
      return make();
    case "wrong_type": {
      if (properties.length === 0) {
        args[rng.pick(["vmid", "x"])] = rng.pick(ANY_TYPE_VALUES);
        return make();
      }
      const [key, schema] = rng.pick(properties);
      const types = typesOf(schema);
      const wrong = ANY_TYPE_VALUES.filter((value) => {
        const type = jsonType(value);
        return !types.includes(type) && !(type === "integer" && types.includes("number"));
      });
      if (wrong.length === 0) return undefined;
      args[key] = rng.pick(wrong);
      return make(key);
    }
    case "missing_required": {
      const required = tool.schema.required ?? [];
      if (required.length === 0) return undefined;
      const key = rng.pick(required);
      delete args[key];
      return make(key);
    }
    case "extra_key": {
      const key = rng.pick([
        "dry_runn",
        "vmId",
        "force_all",
        "__proto__",
        "constructor",
        "node_name",
        "k".repeat(300),
        "a\nb",
      ]);
      if (key in (tool.schema.properties ?? {})) return undefined;
      args[key] = rng.pick(ANY_TYPE_VALUES);
      return make(key);
    }
    case "boundary": {
      const numbers = properties.filter(([, schema]) => numeric(schema));
      if (numbers.length === 0) return undefined;
      const [key, schema] = rng.pick(numbers);
      args[key] = rng.pick(boundaryNumbers(schema));
      return make(key);
    }
    case "raw_numeral": {
      const numbers = properties.filter(([, schema]) => numeric(schema));
      if (numbers.length === 0) return undefined;
      const [key] = rng.pick(numbers);
      args[key] = RAW_MARK;
      return make(key, rng.pick(RAW_NUMERALS));
    }
    case "huge_string":
    case "control_chars":
    case "path_trick": {
      const slots = properties.flatMap(([key, schema]) =>
        stringSlots(schema).map((slot) => [key, slot] as const)
      );
      if (slots.length === 0) return undefined;
      const [key, slot] = rng.pick(slots);
      const text = kind === "huge_string"
        ? hugeString(rng.int(0, HUGE_SHAPES - 1))
        : kind === "control_chars"
        ? `${rng.pick(domain.names.length > 0 ? domain.names : ["x"])}${rng.pick(CONTROL_STRINGS)}`
        : rng.pick(PATH_TRICKS);
      placeString(args, key, slot, text);
      return make(slot === "self" ? key : `${key}.${slot}`);
    }
    case "huge_collection": {
      const collections = properties.filter(([, schema]) => collection(schema) !== undefined);
      if (collections.length === 0) return undefined;
      const [key, schema] = rng.pick(collections);
      if (collection(schema) === "array") {
        const item = validValue(schema.items ?? {}, key, rng, domain);
        args[key] = Array.from({ length: 10_000 }, () => item);
      } else {
        args[key] = Object.fromEntries(
          Array.from({ length: 10_000 }, (_, i) => [`k${i}`, "v"]),
        );
      }
      return make(key);
    }
    case "deep_value": {
      const [key] = properties.length === 0 ? ["x"] : rng.pick(properties);
      args[key] = nested(2_000, rng.chance(0.5) ? "array" : "object");
      return make(key);
    }
  }
}

/** One case of `kind` for the tool, or `undefined` when the schema gives the kind no target. */
export function generateCase(
  tool: ToolShape,
  kind: CaseKind,
  rng: Rng,
  domain: Domain,
): ToolCase | undefined {
  return hostile(tool, kind, rng, domain);
}

/**
 * The cases every tool gets whatever the budget: valid calls (and a dry run for write tools),
 * each argument once with a wrong type, once as a 1 MB string where it takes text, once at a
 * boundary where it takes a number, and one case of every other kind the schema allows.
 */
export function coverageCases(tool: ToolShape, rng: Rng, domain: Domain): ToolCase[] {
  const out: ToolCase[] = [];
  const push = (value: ToolCase | undefined) => {
    if (value !== undefined) out.push(value);
  };
  for (let i = 0; i < 3; i++) push(hostile(tool, "valid", rng, domain));
  push(hostile(tool, "dry_run", rng, domain));
  const properties = Object.entries(tool.schema.properties ?? {});
  for (const [key, schema] of properties) {
    const base = validArguments(tool, rng, domain);
    const types = typesOf(schema);
    const wrong = ANY_TYPE_VALUES.filter((value) => {
      const type = jsonType(value);
      return !types.includes(type) && !(type === "integer" && types.includes("number"));
    });
    if (wrong.length > 0) {
      out.push({
        tool: tool.name,
        kind: "wrong_type",
        argumentsJson: JSON.stringify({ ...base, [key]: rng.pick(wrong) }),
        target: key,
      });
    }
    for (const slot of stringSlots(schema)) {
      const args = { ...base };
      placeString(args, key, slot, hugeString(out.length));
      out.push({
        tool: tool.name,
        kind: "huge_string",
        argumentsJson: JSON.stringify(args),
        target: slot === "self" ? key : `${key}.${slot}`,
      });
    }
    if (numeric(schema)) {
      out.push({
        tool: tool.name,
        kind: "boundary",
        argumentsJson: JSON.stringify({ ...base, [key]: rng.pick(boundaryNumbers(schema)) }),
        target: key,
      });
    }
  }
  for (const required of tool.schema.required ?? []) {
    const args = validArguments(tool, rng, domain);
    delete args[required];
    out.push({
      tool: tool.name,
      kind: "missing_required",
      argumentsJson: JSON.stringify(args),
      target: required,
    });
  }
  for (
    const kind of [
      "extra_key",
      "raw_numeral",
      "control_chars",
      "path_trick",
      "huge_collection",
      "deep_value",
    ] as const
  ) {
    push(hostile(tool, kind, rng, domain));
  }
  return out;
}

/** Relative weights of the kinds drawn beyond coverage. */
const WEIGHTS: ReadonlyArray<readonly [CaseKind, number]> = [
  ["valid", 6],
  ["dry_run", 2],
  ["wrong_type", 3],
  ["missing_required", 1],
  ["extra_key", 1],
  ["boundary", 3],
  ["raw_numeral", 1],
  ["huge_string", 1],
  ["control_chars", 3],
  ["path_trick", 3],
  ["huge_collection", 1],
  ["deep_value", 1],
];

/** A case of a kind drawn by weight (falling back to a valid call). */
export function randomCase(tool: ToolShape, rng: Rng, domain: Domain): ToolCase {
  const total = WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
  let draw = rng.next() * total;
  let kind: CaseKind = "valid";
  for (const [candidate, weight] of WEIGHTS) {
    draw -= weight;
    if (draw < 0) {
      kind = candidate;
      break;
    }
  }
  return hostile(tool, kind, rng, domain) ?? hostile(tool, "valid", rng, domain) as ToolCase;
}

/**
 * The pathological call of a tool: up to three arguments that take text given 1 MB each (so the
 * message stays under the transport's 4 MiB limit and reaches the tool), every list 10,000
 * items. Used to measure how much it slows the calls running beside it.
 */
export function pathologicalCase(
  tool: ToolShape,
  rng: Rng,
  domain: Domain,
  shape: number,
): ToolCase {
  const args = validArguments(tool, rng, domain);
  const properties = Object.entries(tool.schema.properties ?? {});
  const texts = rng.shuffle(properties.filter(([, schema]) => stringSlots(schema).length > 0))
    .slice(0, 3);
  for (const [key, schema] of texts) {
    placeString(args, key, stringSlots(schema)[0] as "self", hugeString(shape));
  }
  for (const [key, schema] of properties) {
    if (collection(schema) === "array" && stringSlots(schema).length === 0) {
      args[key] = Array.from({ length: 10_000 }, () => 1);
    }
  }
  if (tool.write) args.dry_run = true;
  return {
    tool: tool.name,
    kind: "huge_string",
    argumentsJson: JSON.stringify(args),
    target: texts.map(([key]) => key).join(",") || "*",
  };
}

/** A case's arguments for a report: long strings cut, so a reproducing input fits a line. */
export function describeArguments(argumentsJson: string, max = 300): string {
  const shortened = argumentsJson.replace(
    /"((?:[^"\\]|\\.){80})(?:[^"\\]|\\.){200,}"/g,
    (_, head: string) => `"${head}…(${Math.round(argumentsJson.length / 1024)} KB)"`,
  );
  return shortened.length > max ? `${shortened.slice(0, max)}…` : shortened;
}
