/**
 * Checks an escape-hatch API request against the PVE API schema (`src/schema/`) before
 * anything is sent: the path must match a template, the method must exist on it, and the
 * parameters (path parameters included) must pass PVE's own checks, in PVE's order, with
 * PVE's messages — the very check the simulator answers with. What is the tools' own: reading
 * a user-given path, and turning the errors into one sentence that says what to fix.
 *
 * @module
 */

import { type ApiMethod, checkParams, endpointSchema, schemaTemplates } from "../../schema/mod.ts";

/** A parameter value as a tool receives it. */
export type ApiParamValue = string | number | boolean | string[];

/** A request that passed the checks. */
export interface ApiRequestOk {
  ok: true;
  method: ApiMethod;
  /** The schema template the path matched, e.g. `/nodes/{node}/qemu/{vmid}/config`. */
  template: string;
  /** The path to send, segments encoded, starting with `/`. */
  path: string;
  /** Path parameter values by name (decoded). */
  pathParams: Record<string, string>;
  /** The body/query parameters to send (path parameters removed). */
  params: Record<string, ApiParamValue>;
  /** What the endpoint returns per the schema (`string` for task-starting writes). */
  returns?: string;
}

/** A request that failed a check, with a message that says what to fix. */
export interface ApiRequestError {
  ok: false;
  /** One or two sentences, PVE-like, ending with what to do next. */
  message: string;
  /** Per-parameter errors, PVE's exact wording, when the parameters failed. */
  errors?: Record<string, string>;
}

/** Splits a user-given path into decoded segments, rejecting what PVE paths never contain. */
function splitUserPath(path: string): string[] | ApiRequestError {
  let rest = path.trim();
  if (rest.includes("?") || rest.includes("#")) {
    return {
      ok: false,
      message:
        `Path "${path}" contains a query string: pass query values in params instead of the path.`,
    };
  }
  rest = rest.replace(/^https?:\/\/[^/]+/i, "");
  rest = rest.replace(/^\/?api2\/(json|extjs)(?=\/|$)/, "");
  const segments: string[] = [];
  for (const raw of rest.split("/")) {
    if (raw === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, message: `Path "${path}" has a malformed %-escape: encode it again.` };
    }
    if (segment === "." || segment === "..") {
      return { ok: false, message: `Path "${path}" contains "${segment}": give an absolute path.` };
    }
    segments.push(segment);
  }
  return segments;
}

/** Encodes decoded path segments into a request path. */
function encodePath(segments: readonly string[]): string {
  return "/" + segments.map((s) => encodeURIComponent(s)).join("/");
}

/** A value as the client puts it on the wire (booleans as `1`/`0`, arrays as repeated keys). */
function wireValue(value: ApiParamValue): string | string[] {
  if (Array.isArray(value)) return value;
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}

/** One error on one line: PVE's newlines (and `\n` joins) become commas, no trailing stop. */
function oneLine(message: string): string {
  return message.replace(/[.!\s]+$/, "").replace(/\s*(?:\n|\\n)\s*/g, ", ");
}

/**
 * Checks `method path params` against the schema facts. On success returns the encoded
 * path and the parameters to send; on failure a message that names the problem and the fix.
 */
export function checkApiRequest(
  method: ApiMethod,
  path: string,
  params: Readonly<Record<string, ApiParamValue>> = {},
): ApiRequestOk | ApiRequestError {
  const segments = splitUserPath(path);
  if (!Array.isArray(segments)) return segments;
  const templates = schemaTemplates();
  const match = templates.match(segments);
  if (match === undefined) {
    const { prefix, next } = templates.continuations(segments);
    const options = next.length > 0
      ? ` Below "${prefix}" the API has: ${next.slice(0, 30).join(", ")}.`
      : "";
    return {
      ok: false,
      message: `No API path matches "${path}": check the spelling against the PVE API.${options}`,
    };
  }
  const { template, pathParams } = match;
  const endpoint = endpointSchema(method, template);
  if (endpoint === undefined) {
    return {
      ok: false,
      message: `Method '${method} ${template}' not implemented: this path supports ${
        match.methods.sort().join(", ")
      }.`,
    };
  }
  const properties = endpoint.parameters.properties ?? {};
  const merged: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(params)) merged[key] = wireValue(value);
  const conflicts: Record<string, string> = {};
  for (const [key, value] of Object.entries(pathParams)) {
    const given = merged[key];
    if (given !== undefined && [given].flat().join(",") !== value) {
      conflicts[key] = "duplicate parameter (already defined in URI) with conflicting values!";
    }
    merged[key] = value;
  }
  const found = Object.keys(conflicts).length > 0
    ? conflicts
    : checkParams(endpoint.parameters, merged).errors;
  const failed = Object.keys(found).sort();
  if (failed.length > 0) {
    const errors: Record<string, string> = {};
    for (const key of failed) errors[key] = (found[key] ?? "").replace(/\n+$/, "");
    const details = failed.map((key) => `${key}: ${oneLine(errors[key] ?? "")}`).join("; ");
    const known = Object.keys(properties).filter((k) => pathParams[k] === undefined).sort();
    const hint = known.length > 0
      ? `Parameters of ${method} ${template}: ${known.slice(0, 40).join(", ")}.`
      : `${method} ${template} takes no parameters besides the path.`;
    return {
      ok: false,
      message: `Parameter verification failed: ${details}. ${hint}`,
      errors,
    };
  }
  const send: Record<string, ApiParamValue> = {};
  for (const [key, value] of Object.entries(params)) {
    if (pathParams[key] === undefined) send[key] = value;
  }
  const result: ApiRequestOk = {
    ok: true,
    method,
    template,
    path: encodePath(segments),
    pathParams,
    params: send,
  };
  if (typeof endpoint.returns === "string") result.returns = endpoint.returns;
  return result;
}
