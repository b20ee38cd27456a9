/**
 * The hostile values a model sends: boundary numbers, control characters, path tricks, values
 * of the wrong type, and the megabyte strings whose handling must stay linear.
 *
 * @module
 */

/** One megabyte: the size of the huge strings. */
export const HUGE_BYTES = 1024 * 1024;

/** Strings a path or identifier argument must never be rewritten from, nor sent as. */
export const PATH_TRICKS: readonly string[] = [
  "..",
  "../..",
  "/../../etc/passwd",
  "%2e%2e",
  "%2e%2e%2f%2e%2e",
  "..%2f..%2f",
  "%252e%252e",
  "https://evil.example/api2/json/nodes",
  "http://127.0.0.1:1/api2/json/version",
  "//evil.example/nodes",
  "/api2/extjs/nodes",
  "/api2/json/nodes",
  "nodes",
  "/nodes\n",
  "/nodes\r\nX-Injected: 1",
  "/nodes?x=1",
  "/nodes#frag",
  "/nodes/pve1/../../access/users",
  "\\..\\..\\windows",
  "/nodes/%00",
  "/nodes//pve1",
  " /nodes",
  "file:///etc/passwd",
  "$(id)",
  "`id`",
  "; rm -rf /",
  "' OR 1=1 --",
  "<script>alert(1)</script>",
  "{{7*7}}",
  "%s%s%n",
];

/** Strings with control characters, separators and odd code points. */
export const CONTROL_STRINGS: readonly string[] = [
  "\u0000",
  "a\u0000b",
  "line1\nline2",
  "\r\n",
  "\t",
  "\u001b[31mred\u001b[0m",
  "\u2028\u2029",
  "\ud800",
  "\uffff",
  "\u202eevil",
  "\u200b",
  "x\u0008y",
  "\u{1f642}",
  "e\u0301",
];

/** Numbers at and past the edges of any range, and the ones JSON parsers disagree on. */
export function boundaryNumbers(schema: { minimum?: number; maximum?: number }): number[] {
  const out = [0, -1, 1, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, -1e308, 5e-324];
  if (schema.minimum !== undefined) out.push(schema.minimum, schema.minimum - 1);
  if (schema.maximum !== undefined) out.push(schema.maximum, schema.maximum + 1);
  if (schema.minimum !== undefined && schema.maximum !== undefined) {
    out.push(schema.minimum + 0.5);
  }
  return [...new Set(out)];
}

/**
 * Numerals only raw JSON text can carry: `JSON.parse` turns them into `Infinity`, `-0`, a
 * rounded huge integer or `0`.
 */
export const RAW_NUMERALS: readonly string[] = [
  "1e999",
  "-1e999",
  "-0",
  "123456789012345678901234567890",
  "1e-400",
  "100.0000000000000000001",
];

/** Values of every JSON type, for "wrong type" cases (the matching ones are skipped). */
export const ANY_TYPE_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  "",
  "text",
  "100",
  "true",
  [],
  [1, 2],
  ["a"],
  {},
  { a: 1 },
];

/** The JSON type of a value, as JSON Schema names it. */
export function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Patterns repeated to a megabyte: plain, credential-shaped, encoded, newlines, multi-byte. */
const HUGE_UNITS: readonly string[] = [
  "a",
  "user@pam!id=",
  "%2e%2e/",
  "\n",
  "0",
  "\u00e9",
  "x@y.z ",
  "PVEAPIToken=root@pam!t=",
  "aaaaaaaaaa!",
];

/** A string of about `bytes` characters built from one of the repeating units. */
export function hugeString(index: number, bytes = HUGE_BYTES): string {
  const unit = HUGE_UNITS[index % HUGE_UNITS.length] as string;
  return unit.repeat(Math.ceil(bytes / unit.length));
}

/** How many distinct huge-string shapes there are. */
export const HUGE_SHAPES: number = HUGE_UNITS.length;
