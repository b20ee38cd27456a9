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
import { quoted } from "../_shared/format.ts";

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

/** The form of path the API tools accept, for refusals. */
export const PATH_FORM = 'a plain path below /api2/json on this cluster, starting with "/", ' +
  'e.g. "/nodes/pve1/qemu/100/config" (no scheme or host, no other /api2 format, no query ' +
  "string, no spaces or empty segments)";

function refusePath(path: string, why: string): ApiRequestError {
  return { ok: false, message: `Path ${quoted(path)} is refused: ${why}. Give ${PATH_FORM}.` };
}

/**
 * Splits a user-given path into decoded segments. Only a plain path is accepted, exactly as
 * given: nothing is stripped, added or rewritten (an absolute URL would otherwise be sent to
 * the configured cluster, `/api2/extjs` silently become `/api2/json`, a trailing newline
 * vanish). A leading `/api2/json` is the same path, and is accepted.
 */
function splitUserPath(path: string): string[] | ApiRequestError {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path) || path.startsWith("//")) {
    return refusePath(path, "it is a URL, and only paths on the configured cluster are sent");
  }
  // deno-lint-ignore no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(path)) {
    return refusePath(path, "it contains whitespace or control characters");
  }
  if (!path.startsWith("/")) return refusePath(path, 'it does not start with "/"');
  if (path.includes("?") || path.includes("#")) {
    return refusePath(path, "it contains a query string; pass query values in params");
  }
  let rest = path;
  if (rest === "/api2/json" || rest.startsWith("/api2/json/")) {
    rest = rest.slice("/api2/json".length);
  } else if (rest === "/api2" || rest.startsWith("/api2/")) {
    return refusePath(path, "only the /api2/json format is used");
  }
  if (rest === "" || rest === "/") return [];
  const segments: string[] = [];
  for (const raw of rest.slice(1).split("/")) {
    if (raw === "") return refusePath(path, 'it has an empty segment ("//" or a trailing "/")');
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return refusePath(path, "it has a malformed %-escape");
    }
    if (segment === "." || segment === "..") {
      return refusePath(path, `it contains a "${segment}" segment`);
    }
    if (!segment.isWellFormed()) {
      // It could not be percent-encoded for the request (encodeURIComponent throws).
      return refusePath(path, "it holds a broken UTF-16 character (a lone surrogate)");
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

/** Characters of one parameter's error kept in a message (PVE's texts echo the value). */
const ERROR_MAX = 200;

/** `text` without the trailing characters in `chars` (a loop: `/[…]+$/` is quadratic). */
function trimEnd(text: string, chars: string): string {
  let end = text.length;
  while (end > 0 && chars.includes(text[end - 1]!)) end--;
  return text.slice(0, end);
}

/** Cuts an error text that echoes a long value, saying how long it was. */
function bounded(text: string): string {
  return text.length <= ERROR_MAX
    ? text
    : `${text.slice(0, ERROR_MAX)}… (${text.length} characters)`;
}

/**
 * One error on one line: PVE's newlines (and `\n` joins) become commas, no trailing stop, at
 * most {@linkcode ERROR_MAX} characters.
 */
function oneLine(message: string): string {
  return bounded(
    trimEnd(message, ".! \t\r\n").split(/\n|\\n/).map((part) => part.trim())
      .filter((part) => part !== "").join(", "),
  );
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
      ? `; below "${prefix}" the API has: ${next.slice(0, 30).join(", ")}`
      : "";
    return {
      ok: false,
      message: `No API path matches ${
        quoted(path)
      }: check the spelling against the PVE API${options}.`,
    };
  }
  const { template, pathParams } = match;
  const endpoint = endpointSchema(method, template);
  if (endpoint === undefined) {
    const methods = [...match.methods].sort();
    const next = method !== "GET" && methods.includes("GET")
      ? methods.length === 1
        ? "read it with pve_api_get"
        : `use GET (pve_api_get) or ${methods.filter((m) => m !== "GET").join(", ")} instead`
      : method === "GET"
      ? `call it with pve_api_call and method ${methods.join(" or ")}`
      : `call it with method ${methods.join(" or ")}`;
    return {
      ok: false,
      message: `Method '${method} ${template}' not implemented: this path supports ${
        methods.join(", ")
      }, so ${next}.`,
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
    for (const key of failed) errors[key] = bounded(trimEnd(found[key] ?? "", "\n"));
    const details = failed.map((key) => `${key}: ${oneLine(errors[key] ?? "")}`).join("; ");
    const known = Object.keys(properties).filter((k) => pathParams[k] === undefined).sort();
    const hint = known.length > 0
      ? `Fix them and call again; ${method} ${template} takes: ${known.slice(0, 40).join(", ")}.`
      : `Leave params out: ${method} ${template} takes no parameters besides the path.`;
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
