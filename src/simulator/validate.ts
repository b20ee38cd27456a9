/**
 * Parameter validation on the simulator's wire: the shared schema check
 * (`src/schema/`), then PVE's 400 on failure and coercion into {@linkcode Params} as
 * `router.ts` documents.
 *
 * @module
 */

import { checkParams, type EndpointSchema, type ParamSchema } from "../schema/mod.ts";
import { paramError } from "./errors.ts";
import type { Params } from "./router.ts";

/**
 * Validates merged request parameters against an endpoint's schema and coerces them.
 * `raw` holds strings (form, query, path) or JSON values (JSON body); repeated form keys
 * are arrays; `_dc` (ExtJS's cache buster) is dropped. Throws `HttpError` 400
 * `Parameter verification failed.` with `errors`.
 */
export function validateParams(
  parameters: EndpointSchema["parameters"],
  raw: Readonly<Record<string, unknown>>,
): Params {
  const sent: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key !== "_dc") sent[key] = value;
  }
  const { values, schema, errors } = checkParams(parameters, sent);
  if (Object.keys(errors).length > 0) throw paramError(errors);
  return coerce(schema, values);
}

function coerce(schema: Record<string, ParamSchema>, input: Record<string, unknown>): Params {
  const params: Params = {};
  for (const [key, value] of Object.entries(input)) {
    const type = Object.hasOwn(schema, key) ? schema[key]?.type : undefined;
    if (Array.isArray(value)) {
      params[key] = value.map(String);
    } else if (type === "integer" || type === "number") {
      params[key] = Number(value);
    } else if (type === "boolean") {
      params[key] = value === true || String(value) === "1" ? 1 : 0;
    } else if (typeof value === "object" && value !== null) {
      params[key] = JSON.stringify(value);
    } else {
      params[key] = String(value);
    }
  }
  return params;
}
