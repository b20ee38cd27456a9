/**
 * Checks an escape-hatch API request against the PVE API schema facts
 * (`src/schema/pve_schema.json`) before anything is sent: the path must match a template,
 * the method must exist on it, and the parameters (path parameters included) must pass
 * PVE's own checks — required, unknown, type, format, pattern, length, range, enum,
 * `requires` — in PVE's order, with PVE's messages.
 *
 * Deliberately focused: property-string sub-schemas (`net0`, `scsi0` …) are checked as
 * strings only; PVE itself does the deep check when the request arrives.
 *
 * @module
 */

import schemaJson from "../../schema/pve_schema.json" with { type: "json" };

/** An HTTP method of the PVE API. */
export type ApiMethod = "GET" | "POST" | "PUT" | "DELETE";

/** A parameter value as a tool receives it. */
export type ApiParamValue = string | number | boolean | string[];

/** One parameter's facts in PVE's JSON-schema dialect (the subset checked here). */
interface ParamFacts {
  type?: string;
  optional?: number;
  default?: unknown;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  format?: string | Record<string, unknown>;
  requires?: string;
  items?: ParamFacts;
}

interface EndpointFacts {
  parameters?: {
    additionalProperties?: number;
    properties?: Record<string, ParamFacts>;
  };
  returns?: string;
  protected?: number;
}

const facts = schemaJson as unknown as Record<string, EndpointFacts>;

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

interface TemplateNode {
  literal: Map<string, TemplateNode>;
  param?: { name: string; node: TemplateNode };
  template?: string;
}

let root: TemplateNode | undefined;
const methodsByTemplate = new Map<string, ApiMethod[]>();

function index(): TemplateNode {
  if (root !== undefined) return root;
  const top: TemplateNode = { literal: new Map() };
  for (const key of Object.keys(facts)) {
    const space = key.indexOf(" ");
    const method = key.slice(0, space) as ApiMethod;
    const template = key.slice(space + 1);
    let node = top;
    for (const segment of template.split("/").filter((s) => s !== "")) {
      const param = /^\{(.+)\}$/.exec(segment);
      if (param) {
        node.param ??= { name: param[1] ?? "", node: { literal: new Map() } };
        node = node.param.node;
      } else {
        let next = node.literal.get(segment);
        if (next === undefined) {
          next = { literal: new Map() };
          node.literal.set(segment, next);
        }
        node = next;
      }
    }
    node.template = template;
    const list = methodsByTemplate.get(template) ?? [];
    list.push(method);
    methodsByTemplate.set(template, list);
  }
  root = top;
  return top;
}

function walk(
  node: TemplateNode,
  segments: readonly string[],
  at: number,
  params: Record<string, string>,
): string | undefined {
  if (at === segments.length) return node.template;
  const segment = segments[at] ?? "";
  const literal = node.literal.get(segment);
  if (literal !== undefined) {
    const found = walk(literal, segments, at + 1, params);
    if (found !== undefined) return found;
  }
  if (node.param !== undefined) {
    const found = walk(node.param.node, segments, at + 1, params);
    if (found !== undefined) {
      params[node.param.name] = segment;
      return found;
    }
  }
  return undefined;
}

/** The children a path prefix could continue with, for a helpful "no such path" message. */
function childrenOf(segments: readonly string[]): { prefix: string; next: string[] } {
  let node = index();
  const matched: string[] = [];
  for (const segment of segments) {
    const literal = node.literal.get(segment);
    if (literal !== undefined) {
      node = literal;
      matched.push(segment);
    } else if (node.param !== undefined) {
      matched.push(`{${node.param.name}}`);
      node = node.param.node;
    } else {
      break;
    }
  }
  const next = [...node.literal.keys()].sort();
  if (node.param !== undefined) next.push(`{${node.param.name}}`);
  return { prefix: "/" + matched.join("/"), next };
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

const FORMAT_CHECKS: Record<string, (value: string) => string | undefined> = {
  "pve-vmid": (v) =>
    /^[1-9][0-9]{2,8}$/.test(v) ? undefined : "value does not look like a valid VM ID",
  "pve-node": (v) =>
    /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v)
      ? undefined
      : "value does not look like a valid node name",
  "pve-configid": (v) =>
    /^[a-z][a-z0-9_-]+$/i.test(v) ? undefined : `invalid configuration ID '${v}'`,
  "pve-storage-id": (v) => {
    if (v.length < 2) return `storage ID '${v}' cannot be shorter than 2 characters`;
    return /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v)
      ? undefined
      : `storage ID '${v}' contains illegal characters`;
  },
  "pve-poolid": (v) =>
    /^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/.test(v) ? undefined : `invalid pool ID '${v}'`,
  "pve-tag": (v) => /^[a-z0-9_][a-z0-9_\-+.]*$/i.test(v) ? undefined : `invalid tag '${v}'`,
  "dns-name": (v) =>
    /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v)
      ? undefined
      : `value does not look like a valid DNS name`,
  "pve-userid": (v) =>
    /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(v) && v.length >= 3 && v.length <= 64
      ? undefined
      : `value does not look like a valid user name`,
  "pve-realm": (v) =>
    /^[A-Za-z][A-Za-z0-9.\-_]+$/.test(v) ? undefined : `value does not look like a valid realm`,
  "ipv4": (v) => isIpv4(v) ? undefined : `value does not look like a valid IPv4 address`,
  "ipv6": (v) => isIpv6(v) ? undefined : `value does not look like a valid IPv6 address`,
  "ip": (v) => isIpv4(v) || isIpv6(v) ? undefined : `value does not look like a valid IP address`,
  "mac-addr": (v) =>
    /^[a-f0-9]{2}(:[a-f0-9]{2}){5}$/i.test(v)
      ? undefined
      : `value does not look like a valid MAC address`,
};

const LIST_FORMATS: Record<string, string> = {
  "pve-vmid-list": "pve-vmid",
  "pve-node-list": "pve-node",
  "pve-configid-list": "pve-configid",
  "pve-storage-id-list": "pve-storage-id",
  "pve-tag-list": "pve-tag",
};

function isIpv4(v: string): boolean {
  const parts = v.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIpv6(v: string): boolean {
  return v.includes(":") && /^[0-9a-f:.]+$/i.test(v) && v.split("::").length <= 2;
}

const patternCache = new Map<string, RegExp | null>();

/** PVE anchors every pattern (`m/^$pattern$/`); Perl's `(?^:` groups become plain groups. */
function compilePattern(pattern: string): RegExp | null {
  const cached = patternCache.get(pattern);
  if (cached !== undefined) return cached;
  let compiled: RegExp | null;
  try {
    compiled = new RegExp(`^(?:${pattern.replaceAll("(?^:", "(?:")})$`);
  } catch {
    compiled = null;
  }
  patternCache.set(pattern, compiled);
  return compiled;
}

function display(value: unknown): string {
  return Array.isArray(value) ? value.join(",") : String(value);
}

/** Checks one value against one parameter's facts; returns PVE's message on failure. */
function checkValue(value: ApiParamValue, schema: ParamFacts): string | undefined {
  const type = schema.type ?? "string";
  if (type === "array") {
    const items = Array.isArray(value) ? value : [String(value)];
    for (const item of items) {
      const problem = checkValue(item, schema.items ?? { type: "string" });
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    if (type === "string" && typeof schema.format === "string" && schema.format.endsWith("-list")) {
      return checkValue(value.join(","), schema);
    }
    return `type check ('${type}') failed - got ARRAY`;
  }
  if (type === "boolean") {
    if (typeof value === "boolean" || value === 0 || value === 1) return undefined;
    if (value === "0" || value === "1") return undefined;
    return `type check ('boolean') failed - got '${display(value)}'`;
  }
  if (typeof value === "boolean") return `type check ('${type}') failed - got '${value}'`;
  const text = String(value);
  if (type === "integer") {
    if (!/^[+-]?\d+$/.test(text)) return `type check ('integer') failed - got '${text}'`;
  } else if (type === "number") {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
      return `type check ('number') failed - got '${text}'`;
    }
  }
  if (typeof schema.format === "string") {
    const single = FORMAT_CHECKS[schema.format];
    const itemFormat = LIST_FORMATS[schema.format];
    if (single !== undefined) {
      const problem = single(text);
      if (problem !== undefined) return `invalid format - ${problem}`;
    } else if (itemFormat !== undefined) {
      const check = FORMAT_CHECKS[itemFormat];
      for (const item of text.split(/[,;\s]+/).filter((s) => s !== "")) {
        const problem = check?.(item);
        if (problem !== undefined) return `invalid format - ${problem}`;
      }
    }
  }
  if (schema.pattern !== undefined) {
    const regex = compilePattern(schema.pattern);
    if (regex !== null && !regex.test(text)) return "value does not match the regex pattern";
  }
  if (type === "string") {
    if (schema.maxLength !== undefined && text.length > schema.maxLength) {
      return `value may only be ${schema.maxLength} characters long`;
    }
    if (schema.minLength !== undefined && text.length < schema.minLength) {
      return `value must be at least ${schema.minLength} characters long`;
    }
  }
  if (type === "integer" || type === "number") {
    const number = Number(text);
    if (schema.minimum !== undefined && number < schema.minimum) {
      return `value must have a minimum value of ${schema.minimum}`;
    }
    if (schema.maximum !== undefined && number > schema.maximum) {
      return `value must have a maximum value of ${schema.maximum}`;
    }
  }
  if (schema.enum !== undefined && !schema.enum.includes(text)) {
    return `value '${text}' does not have a value in the enumeration '${schema.enum.join(", ")}'`;
  }
  return undefined;
}

/** Encodes decoded path segments into a request path. */
function encodePath(segments: readonly string[]): string {
  return "/" + segments.map((s) => encodeURIComponent(s)).join("/");
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
  const pathParams: Record<string, string> = {};
  const template = walk(index(), segments, 0, pathParams);
  if (template === undefined) {
    const { prefix, next } = childrenOf(segments);
    const options = next.length > 0
      ? ` Below "${prefix}" the API has: ${next.slice(0, 30).join(", ")}.`
      : "";
    return {
      ok: false,
      message: `No API path matches "${path}": check the spelling against the PVE API.${options}`,
    };
  }
  const methods = methodsByTemplate.get(template) ?? [];
  const endpoint = facts[`${method} ${template}`];
  if (endpoint === undefined) {
    return {
      ok: false,
      message: `Method '${method} ${template}' not implemented: this path supports ${
        methods.sort().join(", ")
      }.`,
    };
  }
  const properties = endpoint.parameters?.properties ?? {};
  const errors: Record<string, string> = {};
  const merged: Record<string, ApiParamValue> = { ...pathParams };
  for (const [key, value] of Object.entries(params)) {
    const fromPath = pathParams[key];
    if (fromPath !== undefined && display(value) !== fromPath) {
      errors[key] = "duplicate parameter (already defined in URI) with conflicting values!";
      continue;
    }
    merged[key] = value;
  }
  for (const [key, value] of Object.entries(merged)) {
    if (errors[key] !== undefined) continue;
    const schema = properties[key];
    if (schema === undefined) {
      if (endpoint.parameters?.additionalProperties) continue;
      errors[key] =
        "property is not defined in schema and the schema does not allow additional properties";
      continue;
    }
    const problem = checkValue(value, schema);
    if (problem !== undefined) errors[key] = problem;
  }
  for (const [key, schema] of Object.entries(properties)) {
    if (errors[key] !== undefined) continue;
    if (merged[key] === undefined && !schema.optional) {
      errors[key] = "property is missing and it is not optional";
    } else if (merged[key] !== undefined && schema.requires !== undefined) {
      if (merged[schema.requires] === undefined) {
        errors[schema.requires] ??= `missing property required by '${key}'`;
      }
    }
  }
  const failed = Object.keys(errors).sort();
  if (failed.length > 0) {
    const details = failed.map((key) => `${key}: ${errors[key]?.replace(/[.!\s]+$/, "")}`)
      .join("; ");
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
  if (endpoint.returns !== undefined) result.returns = endpoint.returns;
  return result;
}
