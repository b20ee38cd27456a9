/**
 * Checking one inbound JSON-RPC line before anything else sees it, so every malformed request
 * that carries an id gets the error JSON-RPC 2.0 gives it instead of silence:
 *
 * - not JSON → `-32700 Parse error` (id `null`);
 * - a batch, not an object, a wrong `jsonrpc`, an id that is not a string or an integer, a
 *   missing or empty `method`, a member JSON-RPC does not define → `-32600 Invalid Request`
 *   (with the id when it is a valid one, else `null`);
 * - `params` that is not an object → `-32602 Invalid params`;
 * - the parameters of the methods this server serves, where the SDK would answer with a raw
 *   schema dump (or `-32603`): `initialize`, `tools/call`, `tools/list`, `logging/setLevel`
 *   → `-32602` with one sentence naming the argument and the valid values.
 *
 * A malformed notification cannot be answered (it has no id); it is reported to the caller for
 * the log. Values from the input are quoted by a bounded prefix only.
 *
 * @module
 */

/** A JSON-RPC id as MCP allows it. */
export type RequestId = string | number;

/** A JSON-RPC message, as parsed. */
export type Message = Record<string, unknown>;

/** An error reply. */
export interface ErrorReply {
  jsonrpc: "2.0";
  id: RequestId | null;
  error: { code: number; message: string; data?: unknown };
}

/** What one line is. */
export type Inbound =
  | { kind: "request"; id: RequestId; method: string; message: Message }
  | { kind: "notification"; method: string; message: Message }
  | { kind: "response"; id: RequestId; message: Message }
  | { kind: "invalid"; reply?: ErrorReply; problem: string };

/** JSON-RPC error codes. */
export const PARSE_ERROR = -32700;
/** The message is not a valid JSON-RPC request. */
export const INVALID_REQUEST = -32600;
/** The method's parameters are invalid. */
export const INVALID_PARAMS = -32602;

/** The logging levels of MCP (`logging/setLevel`), not those of our own log (`src/log_levels.ts`). */
export const MCP_LOG_LEVELS = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
] as const;

const REQUEST_KEYS = new Set(["jsonrpc", "id", "method", "params"]);
const RESPONSE_KEYS = new Set(["jsonrpc", "id", "result", "error"]);
const MAX_METHOD_LENGTH = 128;
const MAX_TOOL_NAME_LENGTH = 128;

/** A value quoted for a message, at most `max` characters of it. */
export function quote(value: unknown, max = 60): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value !== "string") {
    let text: string;
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
    return text.length > max ? `${text.slice(0, max)}…` : text;
  }
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function validId(value: unknown): value is RequestId {
  return (typeof value === "string" && value.length <= 256) || Number.isSafeInteger(value);
}

function reply(id: RequestId | null, code: number, message: string): ErrorReply {
  return { jsonrpc: "2.0", id, error: { code, message } };
}

/** The longest error message sent (a bounded prefix of anything longer). */
const MAX_ERROR_MESSAGE = 500;

interface SchemaIssue {
  path?: unknown[];
  message?: unknown;
}

/** The issues of a schema error dumped into a message as a JSON list, if it holds one. */
function dumpedIssues(message: string): SchemaIssue[] | undefined {
  const start = message.indexOf("[");
  if (start < 0) return undefined;
  try {
    const issues: unknown = JSON.parse(message.slice(start));
    return Array.isArray(issues) && issues.every(isObject) ? issues as SchemaIssue[] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An error reply as one bounded line. The SDK answers some malformed requests with a schema
 * dump over many lines (and, for `initialize`, as -32603): such a dump of the request's
 * `params` becomes -32602 with one clause per issue; any other line break is flattened.
 */
export function oneLineError(reply: ErrorReply): ErrorReply {
  const { message } = reply.error;
  if (!/[\r\n\u2028\u2029]/.test(message) && message.length <= MAX_ERROR_MESSAGE) return reply;
  const issues = dumpedIssues(message);
  let text: string;
  let code = reply.error.code;
  if (issues !== undefined && issues.length > 0) {
    const clauses = issues.slice(0, 3).map((issue) => {
      const path = (issue.path ?? []).map(String).join(".") || "the request";
      return `${path}: ${String(issue.message ?? "is invalid").split("\n")[0]}`;
    });
    text = `Invalid params: ${clauses.join("; ")}`;
    if (issues.every((issue) => issue.path?.[0] === "params")) code = INVALID_PARAMS;
  } else {
    text = message.replace(/\s*[\r\n\u2028\u2029]+\s*/g, " ");
  }
  if (text.length > MAX_ERROR_MESSAGE) text = `${text.slice(0, MAX_ERROR_MESSAGE)}…`;
  return { ...reply, error: { ...reply.error, code, message: text } };
}

/** An error reply for a line longer than the transport accepts. */
export function tooLongReply(bytes: number, limit: number, head: string): ErrorReply {
  const id = /"id"\s*:\s*("(?:[^"\\]{0,200})"|-?\d{1,15})\s*[,}]/.exec(head)?.[1];
  let parsed: RequestId | null = null;
  if (id !== undefined) {
    try {
      const value = JSON.parse(id);
      if (validId(value)) parsed = value;
    } catch {
      parsed = null;
    }
  }
  return reply(
    parsed,
    INVALID_REQUEST,
    `Invalid Request: the message is ${bytes} bytes, more than this server accepts (${limit}); ` +
      "send smaller arguments",
  );
}

/** Classifies one line (already stripped of its newline). */
export function classify(line: string): Inbound {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0]?.slice(0, 120) : "";
    return invalid(null, PARSE_ERROR, `Parse error: the line is not valid JSON (${reason})`);
  }
  if (Array.isArray(value)) {
    return invalid(
      null,
      INVALID_REQUEST,
      "Invalid Request: batches are not supported; send one JSON-RPC message per line",
    );
  }
  if (!isObject(value)) {
    return invalid(
      null,
      INVALID_REQUEST,
      `Invalid Request: expected a JSON-RPC object, got ${quote(value)}`,
    );
  }
  const message = value;
  const hasId = "id" in message;
  if (hasId && !validId(message.id)) {
    return invalid(
      null,
      INVALID_REQUEST,
      `Invalid Request: "id" must be a string or an integer, got ${quote(message.id)}`,
    );
  }
  const id = hasId ? message.id as RequestId : null;
  if (message.jsonrpc !== "2.0") {
    return invalid(
      id,
      INVALID_REQUEST,
      `Invalid Request: "jsonrpc" must be "2.0", got ${quote(message.jsonrpc)}`,
      hasId,
    );
  }
  if (!("method" in message) && hasId && ("result" in message || "error" in message)) {
    return classifyResponse(message, id as RequestId);
  }
  if (typeof message.method !== "string" || message.method === "") {
    return invalid(
      id,
      INVALID_REQUEST,
      `Invalid Request: "method" must be a non-empty string, got ${quote(message.method)}`,
      hasId,
    );
  }
  const method = message.method;
  if (method.length > MAX_METHOD_LENGTH) {
    return invalid(
      id,
      INVALID_REQUEST,
      `Invalid Request: method ${quote(method)} is longer than ${MAX_METHOD_LENGTH} characters`,
      hasId,
    );
  }
  const extra = Object.keys(message).find((key) => !REQUEST_KEYS.has(key));
  if (extra !== undefined) {
    return invalid(
      id,
      INVALID_REQUEST,
      `Invalid Request: unexpected member ${quote(extra)}; a request has only jsonrpc, id, ` +
        "method and params",
      hasId,
    );
  }
  if ("params" in message && !isObject(message.params)) {
    return invalid(
      id,
      INVALID_PARAMS,
      `Invalid params: "params" of ${quote(method)} must be an object (or left out), got ${
        quote(message.params)
      }`,
      hasId,
    );
  }
  if (!hasId) return { kind: "notification", method, message };
  const params = isObject(message.params) ? message.params : {};
  const problem = metaProblem(params) ?? paramsProblem(method, params);
  if (problem !== undefined) return invalid(id, INVALID_PARAMS, `Invalid params: ${problem}`);
  return { kind: "request", id: id as RequestId, method, message };
}

function classifyResponse(message: Message, id: RequestId): Inbound {
  const extra = Object.keys(message).find((key) => !RESPONSE_KEYS.has(key));
  const error = message.error;
  const badError = "error" in message &&
    (!isObject(error) || !Number.isSafeInteger(error.code) || typeof error.message !== "string");
  if (extra !== undefined || ("result" in message && "error" in message) || badError) {
    // A malformed response cannot be answered; report it for the log.
    return { kind: "invalid", problem: `malformed response to request ${quote(id)}` };
  }
  return { kind: "response", id, message };
}

function invalid(
  id: RequestId | null,
  code: number,
  message: string,
  answerable = true,
): Inbound {
  // Without an id the message is a notification (or unreadable): it gets no reply unless the
  // fault is that no id could be read at all (parse errors, batches, non-objects, bad ids).
  if (!answerable) return { kind: "invalid", problem: message };
  return { kind: "invalid", reply: reply(id, code, message), problem: message };
}

/** Whether a value is a progress token as MCP defines it (a string or an integer). */
function progressToken(value: unknown): boolean {
  return typeof value === "string" || Number.isSafeInteger(value);
}

/**
 * A one-sentence problem with `params._meta`, which every request may carry, if any. The SDK
 * drops a request whose `_meta` it cannot read without any reply, so it is checked here.
 */
function metaProblem(params: Record<string, unknown>): string | undefined {
  if (!("_meta" in params)) return undefined;
  const meta = params._meta;
  if (!isObject(meta)) return `params._meta must be an object (or left out), got ${quote(meta)}`;
  if ("progressToken" in meta && !progressToken(meta.progressToken)) {
    return `params._meta.progressToken must be a string or an integer, got ${
      quote(meta.progressToken)
    }`;
  }
  const related = meta["io.modelcontextprotocol/related-task"];
  if (related !== undefined && !(isObject(related) && typeof related.taskId === "string")) {
    return 'params._meta["io.modelcontextprotocol/related-task"] must be an object with a ' +
      `taskId string, got ${quote(related)}`;
  }
  return undefined;
}

/** The client capabilities MCP defines, each an object when given. */
const CLIENT_CAPABILITIES = [
  "experimental",
  "sampling",
  "elicitation",
  "roots",
  "tasks",
  "extensions",
] as const;

/** A one-sentence problem with the parameters of a method this server serves, if any. */
function paramsProblem(method: string, params: Record<string, unknown>): string | undefined {
  switch (method) {
    case "initialize": {
      if (typeof params.protocolVersion !== "string") {
        return 'initialize needs params.protocolVersion, a protocol version string like "2025-11-25"';
      }
      if (!isObject(params.capabilities)) {
        return "initialize needs params.capabilities, an object (may be empty)";
      }
      const capabilities = params.capabilities;
      const bad = CLIENT_CAPABILITIES.find((key) =>
        key in capabilities && !isObject(capabilities[key])
      );
      if (bad !== undefined) {
        return `params.capabilities.${bad} of initialize must be an object, got ${
          quote(capabilities[bad])
        }`;
      }
      const info = params.clientInfo;
      if (!isObject(info) || typeof info.name !== "string" || typeof info.version !== "string") {
        return "initialize needs params.clientInfo with a name and a version (strings)";
      }
      return undefined;
    }
    case "tools/call": {
      const name = params.name;
      if (typeof name !== "string" || name === "") {
        return `tools/call needs params.name, the name of a tool from tools/list, got ${
          quote(name)
        }`;
      }
      if (name.length > MAX_TOOL_NAME_LENGTH) {
        return `no tool is named ${quote(name)}: call tools/list for the tools this server offers`;
      }
      if ("arguments" in params && !isObject(params.arguments)) {
        return `params.arguments of tools/call must be an object of the tool's arguments, got ${
          quote(params.arguments)
        }`;
      }
      if (
        "task" in params &&
        !(isObject(params.task) && (!("ttl" in params.task) || Number.isFinite(params.task.ttl)))
      ) {
        return `params.task of tools/call must be an object with an optional ttl number, got ${
          quote(params.task)
        }`;
      }
      return undefined;
    }
    case "tools/list":
      if ("cursor" in params && typeof params.cursor !== "string") {
        return `params.cursor of tools/list must be a string, got ${quote(params.cursor)}`;
      }
      return undefined;
    case "logging/setLevel":
      if (!(MCP_LOG_LEVELS as readonly unknown[]).includes(params.level)) {
        return `unknown log level ${quote(params.level)}: use one of ${MCP_LOG_LEVELS.join(", ")}`;
      }
      return undefined;
    default:
      return undefined;
  }
}
