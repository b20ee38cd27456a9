/**
 * Parameter validation as PVE does it (`pve-common JSONSchema.pm` `validate` →
 * `check_object` → `check_prop`), with PVE's exact messages. HTTP-free: the simulator turns
 * the errors into a 400 response, the API tools into an actionable sentence.
 *
 * Check order per value: type → format → pattern → maxLength → minLength →
 * maximum/minimum → enum; the first failure wins. Several errors for one key are joined
 * with a literal backslash-n (PVE joins them with Perl's `'\n'`).
 *
 * @module
 */

import type { EndpointSchema, ParamSchema } from "./facts.ts";
import { checkNamedFormat, parsePropertyString, PropertyStringError } from "./formats.ts";
import { compileLinear, type LinearPattern, UnsupportedPattern } from "./linear_regex.ts";

/** Highest index of each indexed parameter family (`net[n]` → `net0`…`net31`). */
const INDEX_MAX: Readonly<Record<string, number>> = {
  acmedomain: 4,
  dev: 255,
  hostpci: 15,
  ide: 3,
  ipconfig: 31,
  link: 7,
  mp: 255,
  net: 31,
  numa: 7,
  parallel: 2,
  sata: 5,
  scsi: 30,
  serial: 3,
  unused: 255,
  usb: 13,
  virtio: 15,
  virtiofs: 9,
};

const MISSING = "property is missing and it is not optional";
const UNKNOWN =
  "property is not defined in schema and the schema does not allow additional properties";

/** Adds an error like PVE's `add_error` (a second error for a key is joined with `\n`). */
export function addError(
  errors: Record<string, string>,
  entry: { path: string; message: string },
): void {
  add(errors, entry.path, entry.message);
}

function add(errors: Record<string, string>, path: string, message: string): void {
  const key = path === "" ? "_root" : path;
  const previous = errors[key];
  errors[key] = previous === undefined ? message : `${previous}\\n${message}`;
}

const patternCache = new Map<string, LinearPattern | null>();

/**
 * Compiles a Perl pattern from the schema into a matcher anchored as PVE anchors it
 * (`m/^$pattern$/`), including `(?^:…)`, `(?^i:…)` and `{,n}`. The matcher runs in time linear
 * in the value (`linear_regex.ts`): several schema patterns make a backtracking engine take
 * exponential time on a crafted value. Returns `null` for a pattern outside the supported
 * syntax (then it is not checked; a test proves every pattern of the schema compiles).
 */
export function perlPattern(pattern: string): LinearPattern | null {
  const cached = patternCache.get(pattern);
  if (cached !== undefined) return cached;
  let compiled: LinearPattern | null;
  try {
    compiled = compileLinear(pattern);
  } catch (error) {
    if (!(error instanceof UnsupportedPattern)) throw error;
    compiled = null;
  }
  patternCache.set(pattern, compiled);
  return compiled;
}

function isNumber(value: string): boolean {
  return /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(value);
}

function isInteger(value: string): boolean {
  return /^[+-]?\d+$/.test(value);
}

function perlRef(value: unknown): string | undefined {
  if (Array.isArray(value)) return "ARRAY";
  if (typeof value === "boolean") return "JSON::PP::Boolean";
  if (typeof value === "object" && value !== null) return "HASH";
  return undefined;
}

function scalarText(value: unknown): string {
  return typeof value === "string" ? value : String(value);
}

/** PVE's `check_type`. Returns whether the value has the type. */
function checkType(
  path: string,
  type: string | undefined,
  value: unknown,
  errors: Record<string, string>,
): boolean {
  if (type === undefined || type === "any") return true;
  const ref = perlRef(value);
  if (type === "array" || type === "object") {
    const ok = type === "array" ? ref === "ARRAY" : ref === "HASH";
    if (!ok) add(errors, path, `type check ('${type}') failed`);
    return ok;
  }
  if (ref !== undefined) {
    if (type === "boolean" && ref === "JSON::PP::Boolean") return true;
    add(errors, path, `type check ('${type}') failed - got ${ref}`);
    return false;
  }
  const text = scalarText(value);
  const ok = type === "boolean"
    ? text === "1" || text === "0"
    : type === "integer"
    ? isInteger(text)
    : type === "number"
    ? isNumber(text)
    : true;
  if (!ok) add(errors, path, `type check ('${type}') failed - got '${text}'`);
  return ok;
}

/** PVE's `check_prop` for one value (absent values are `undefined`). */
function checkProp(
  value: unknown,
  schema: ParamSchema,
  path: string,
  errors: Record<string, string>,
): void {
  if (value === undefined || value === null) {
    if (!schema.optional && schema.alias === undefined && schema.type !== "null") {
      add(errors, path, MISSING);
    }
    return;
  }
  if (!checkType(path, schema.type, value, errors)) return;
  if (Array.isArray(value)) {
    if (schema.items !== undefined) {
      value.forEach((item, index) => checkProp(item, schema.items!, `${path}[${index}]`, errors));
    }
    return;
  }
  if (typeof value === "object") return;
  const text = scalarText(value);
  if (schema.format !== undefined) {
    const error = formatError(schema.format, text, path);
    if (error !== undefined) {
      add(errors, path, `invalid format - ${error}`);
      return;
    }
  }
  if (schema.pattern !== undefined) {
    const regex = perlPattern(schema.pattern);
    if (regex !== null && !regex.test(text)) {
      add(errors, path, "value does not match the regex pattern");
      return;
    }
  }
  const length = [...text].length;
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    add(errors, path, `value may only be ${schema.maxLength} characters long`);
    return;
  }
  if (schema.minLength !== undefined && length < schema.minLength) {
    add(errors, path, `value must be at least ${schema.minLength} characters long`);
    return;
  }
  if (isNumber(text)) {
    if (schema.maximum !== undefined && Number(text) > schema.maximum) {
      add(errors, path, `value must have a maximum value of ${schema.maximum}`);
      return;
    }
    if (schema.minimum !== undefined && Number(text) < schema.minimum) {
      add(errors, path, `value must have a minimum value of ${schema.minimum}`);
      return;
    }
  }
  if (schema.enum !== undefined && !schema.enum.includes(text)) {
    add(
      errors,
      path,
      `value '${text}' does not have a value in the enumeration '${schema.enum.join(", ")}'`,
    );
  }
}

function formatError(
  format: string | Record<string, ParamSchema>,
  value: string,
  path: string,
): string | undefined {
  if (typeof format === "string") return checkNamedFormat(format, value);
  try {
    parsePropertyString(format, value, { path, checkObject });
    return undefined;
  } catch (error) {
    if (error instanceof PropertyStringError) return error.toString();
    throw error;
  }
}

/** PVE's `check_object` over a parsed property string or parameter set. */
function checkObject(
  path: string,
  schema: Record<string, ParamSchema>,
  value: Record<string, unknown>,
  errors: Record<string, string>,
  additionalProperties = false,
): void {
  const sub = (key: string) => path === "" ? key : `${path}.${key}`;
  for (const [key, propSchema] of Object.entries(schema)) {
    checkProp(value[key], propSchema, sub(key), errors);
  }
  for (const key of Object.keys(value)) {
    const propSchema = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (propSchema !== undefined) {
      const requires = propSchema.requires;
      if (requires !== undefined && (value[requires] === undefined || value[requires] === null)) {
        add(errors, sub(requires), `missing property - '${sub(key)}' requires this property`);
      }
      continue;
    }
    if (!additionalProperties) add(errors, sub(key), UNKNOWN);
  }
}

/**
 * The parameter schema with indexed families expanded for the keys present: `net[n]`
 * covers `net0`…`net31`.
 */
function effectiveSchema(
  properties: Record<string, ParamSchema>,
  keys: readonly string[],
): Record<string, ParamSchema> {
  const schema: Record<string, ParamSchema> = {};
  const indexed = new Map<string, ParamSchema>();
  for (const [name, prop] of Object.entries(properties)) {
    const family = /^(.+)\[n\]$/.exec(name);
    if (family) indexed.set(family[1] ?? "", prop);
    else schema[name] = prop;
  }
  if (indexed.size === 0) return schema;
  for (const key of keys) {
    if (Object.hasOwn(schema, key)) continue;
    const match = /^([a-z]+)(\d+)$/.exec(key);
    if (!match) continue;
    const prop = indexed.get(match[1] ?? "");
    const index = Number(match[2]);
    const max = INDEX_MAX[match[1] ?? ""] ?? 255;
    if (prop !== undefined && index <= max && String(index) === match[2]) schema[key] = prop;
  }
  return schema;
}

function isListFormat(schema: ParamSchema | undefined): boolean {
  return typeof schema?.format === "string" && schema.format.endsWith("-list");
}

/** The outcome of {@linkcode checkParams}. */
export interface ParamCheck {
  /**
   * The values as checked: absent (`undefined`/`null`) ones dropped, arrays of a `-list`
   * format joined with commas, a single value of an `array` parameter wrapped in an array.
   */
  values: Record<string, unknown>;
  /** The parameter schema the values were checked against (indexed families expanded). */
  schema: Record<string, ParamSchema>;
  /** Per-parameter errors, PVE's exact wording; empty when the values pass. */
  errors: Record<string, string>;
}

/**
 * Checks merged request parameters (path, query and body) against an endpoint's
 * `parameters` schema. `raw` holds strings (form, query, path) or JSON values (JSON body);
 * repeated form keys are arrays.
 */
export function checkParams(
  parameters: EndpointSchema["parameters"],
  raw: Readonly<Record<string, unknown>>,
): ParamCheck {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue;
    values[key] = value;
  }
  const schema = effectiveSchema(parameters.properties ?? {}, Object.keys(values));
  for (const [key, value] of Object.entries(values)) {
    const prop = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (Array.isArray(value) && isListFormat(prop)) values[key] = value.map(scalarText).join(",");
    else if (prop?.type === "array" && !Array.isArray(value)) values[key] = [value];
  }
  const errors: Record<string, string> = {};
  checkObject("", schema, values, errors, Boolean(parameters.additionalProperties));
  return { values, schema, errors };
}
