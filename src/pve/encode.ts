/**
 * Parameter encoding as PVE's HTTP server expects it (FACTS §3.1): GET/DELETE parameters
 * in the query string, POST/PUT as `application/x-www-form-urlencoded`, booleans as `1`/`0`,
 * arrays as repeated keys, `undefined`/`null` omitted.
 *
 * @module
 */

import { PveValidationError } from "./errors.ts";

/** Parameters of one request. */
export type PveParams = Record<string, unknown>;

/**
 * Encodes parameters to `URLSearchParams` (used for both the query string and the form body).
 *
 * @throws {PveValidationError} for values PVE cannot receive (objects, non-finite numbers).
 */
export function encodeParams(params: PveParams | undefined): URLSearchParams {
  const out = new URLSearchParams();
  if (params === undefined) return out;
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      out.append(key, encodeValue(key, item));
    }
  }
  return out;
}

function encodeValue(key: string, value: unknown): string {
  switch (typeof value) {
    case "boolean":
      return value ? "1" : "0";
    case "number":
      if (!Number.isFinite(value)) {
        throw new PveValidationError(
          `Cannot send parameter "${key}": ${value} is not a finite number`,
          { errors: { [key]: "not a finite number" } },
        );
      }
      return String(value);
    case "bigint":
      return value.toString();
    case "string":
      return value;
    default:
      throw new PveValidationError(
        `Cannot send parameter "${key}": PVE takes strings, numbers, booleans or arrays of ` +
          `them, got ${value === null ? "null" : typeof value}`,
        { errors: { [key]: "unsupported value type" } },
      );
  }
}
