/**
 * The simulator's HTTP core: PVE's wire behaviour on `node:http` (which, unlike
 * `Deno.serve`, lets us put PVE's reason phrases on the status line and drop connections).
 *
 * Pipeline for `/api2/json/...`: faults → body → auth → route → allowtoken → parameters
 * (path/body/query merge) → `proxyto` node → validation → permissions → handler.
 * `/_sim/...` goes to the control API (loopback peers only).
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { Buffer } from "node:buffer";
import {
  type EndpointSchema,
  endpointSchema,
  pveSchema,
  splitPath,
  TemplateIndex,
} from "../schema/mod.ts";
import { authenticate, type Credentials, extractCredentials, uriUnescape } from "./auth.ts";
import { type ControlContext, handleControl } from "./control.ts";
import { hostnameLookupError, HttpError, type HttpErrorOptions } from "./errors.ts";
import { checkPermissions } from "./permissions.ts";
import {
  type AuthInfo,
  isDownload,
  isWithChanges,
  isWithTotal,
  type Method,
  type Params,
  type Route,
} from "./router.ts";
import { validateParams } from "./validate.ts";

/** Largest accepted request body (`$limit_max_post`). */
export const MAX_BODY_BYTES = 512 * 1024;

const METHODS: ReadonlySet<string> = new Set(["GET", "POST", "PUT", "DELETE"]);

/** Endpoints that need no authentication (`PVE/HTTPServer.pm auth_handler`). */
const UNAUTHENTICATED: ReadonlySet<string> = new Set([
  "GET /access/domains",
  "GET /access/ticket",
  "POST /access/ticket",
  "POST /access/vncticket",
  "POST /access/openid/login",
  "POST /access/openid/auth-url",
]);

/** An error whose wire form differs from the default rendering. */
class WireError extends HttpError {
  /** Reason phrase (defaults to the first line of the message). */
  readonly reason: string | undefined;
  /** Send the body message exactly as given (no trailing newline added). */
  readonly verbatim: boolean;

  constructor(
    status: number,
    message: string,
    options: HttpErrorOptions & { reason?: string; verbatim?: boolean } = {},
  ) {
    super(status, message, options);
    this.reason = options.reason;
    this.verbatim = options.verbatim ?? false;
  }
}

function notImplemented(method: string, path: string): WireError {
  return new WireError(501, `Method '${method} ${path}' not implemented`, { verbatim: true });
}

function noSuchUri(): WireError {
  return new WireError(501, "no such uri");
}

/** What the HTTP layer works with. */
export interface HttpContext extends ControlContext {
  /** The implemented routes. */
  routes: readonly Route[];
  /** Where unexpected handler failures are reported (stderr by default). */
  log: (message: string) => void;
  /** Closes idle keep-alive connections (set by the server owner). */
  closeIdleConnections?: () => void;
}

interface RouteTable {
  index: TemplateIndex;
  handlers: Map<string, Route>;
}

function buildRouteTable(routes: readonly Route[]): RouteTable {
  const index = new TemplateIndex();
  const handlers = new Map<string, Route>();
  for (const key of Object.keys(pveSchema)) {
    const space = key.indexOf(" ");
    index.add(key.slice(0, space) as Method, key.slice(space + 1));
  }
  for (const route of routes) {
    index.add(route.method, route.path);
    handlers.set(`${route.method} ${route.path}`, route);
  }
  return { index, handlers };
}

function sanitizeReason(text: string): string {
  const cleaned = text.replace(/[^\x20-\x7e]/g, "?").trim();
  return cleaned === "" ? "Error" : cleaned;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? "";
}

function baseHeaders(res: ServerResponse): void {
  res.setHeader("Server", "pve-api-daemon/3.0");
  res.setHeader("Cache-Control", "max-age=0");
  res.setHeader("Pragma", "no-cache");
}

/** Keys whose `0`/`1` values PVE means as booleans (turned into `true`/`false` by the quirk). */
const BOOLEAN_KEYS = new Set([
  "template",
  "shared",
  "protection",
  "onboot",
  "active",
  "enabled",
  "managed",
  "saved",
  "quorate",
  "online",
  "local",
]);

/** The JSON-booleans quirk: `0`/`1` under {@linkcode BOOLEAN_KEYS} become `false`/`true`. */
function jsonBooleans(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonBooleans);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = BOOLEAN_KEYS.has(key) && (item === 0 || item === 1)
      ? item === 1
      : jsonBooleans(item);
  }
  // Keep the `total` marker of list answers.
  for (const symbol of Object.getOwnPropertySymbols(value)) {
    (out as Record<symbol, unknown>)[symbol] = (value as Record<symbol, unknown>)[symbol];
  }
  return out;
}

function sendJson(res: ServerResponse, status: number, reason: string, payload: unknown): void {
  const body = Buffer.from(JSON.stringify(payload), "utf8");
  res.statusCode = status;
  res.statusMessage = sanitizeReason(reason);
  baseHeaders(res);
  res.setHeader("Content-Type", "application/json;charset=UTF-8");
  res.setHeader("Content-Length", body.length);
  res.end(body);
}

function sendEmpty(res: ServerResponse, status: number, reason: string): void {
  res.statusCode = status;
  res.statusMessage = sanitizeReason(reason);
  baseHeaders(res);
  res.setHeader("Content-Length", 0);
  res.end();
}

/** Writes an error exactly as PVE renders it. */
function sendError(res: ServerResponse, error: HttpError): void {
  const wire = error instanceof WireError ? error : undefined;
  const reason = wire?.reason ?? firstLine(error.message);
  if (error.emptyBody) {
    sendEmpty(res, error.status, reason);
    return;
  }
  const message = wire?.verbatim || error.message.endsWith("\n")
    ? error.message
    : `${error.message}\n`;
  const payload: Record<string, unknown> = { data: null, message };
  if (error.errors !== undefined) payload["errors"] = error.errors;
  sendJson(res, error.status, reason, payload);
}

function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? "too-large" : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function addParam(target: Record<string, unknown>, key: string, value: string): void {
  const previous = target[key];
  if (previous === undefined) target[key] = value;
  else if (Array.isArray(previous)) previous.push(value);
  else target[key] = [previous, value];
}

function formParams(text: string): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) addParam(params, key, value);
  return params;
}

function parseBody(
  method: string,
  contentType: string | undefined,
  body: Buffer,
): Record<string, unknown> {
  if (body.length === 0) return {};
  if (method !== "POST" && method !== "PUT") {
    throw new WireError(501, `Unexpected content for method '${method}'`);
  }
  const type = (contentType ?? "application/x-www-form-urlencoded").split(";")[0]?.trim()
    .toLowerCase();
  const text = body.toString("utf8");
  if (type === "application/x-www-form-urlencoded" || type === "") return formParams(text);
  if (type === "application/json") {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, `malformed JSON string: ${(error as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new HttpError(400, "malformed JSON body: expected an object of parameters");
    }
    return value as Record<string, unknown>;
  }
  throw new WireError(506, `Unsupported content type '${type}'`, {
    reason: "Unsupported content type",
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join("; ") : value;
}

function isLoopback(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1" ||
    (address?.startsWith("127.") ?? false);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sameValue(a: unknown, b: string): boolean {
  return Array.isArray(a) ? a.length === 1 && String(a[0]) === b : String(a) === b;
}

/** The outcome of one API request, for the request log. */
interface Outcome {
  auth: AuthInfo;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  /** The per-parameter errors of a 400 answer. */
  errors?: Record<string, string>;
}

/**
 * Creates the request listener for `node:http`/`node:https`. `routes` defaults to the
 * context's routes; tests pass their own.
 */
export function createHandler(
  ctx: HttpContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  const table = buildRouteTable(ctx.routes);
  return (req, res) => {
    handle(ctx, table, req, res).catch((error: unknown) => {
      ctx.log(`simulator: request failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) sendError(res, new HttpError(500, "internal simulator error"));
      else res.destroy();
    });
  };
}

async function handle(
  ctx: HttpContext,
  table: RouteTable,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const url = new URL(req.url ?? "/", "http://simulator.invalid");
  const rawPath = url.pathname;
  // PVE's Date and Expires come from the clock its tickets are stamped with: the simulated one.
  const now = new Date(ctx.sim.clock.nowMs()).toUTCString();
  res.setHeader("Date", now);
  res.setHeader("Expires", now);

  if (rawPath === "/_sim" || rawPath.startsWith("/_sim/")) {
    if (!isLoopback(req.socket.remoteAddress)) {
      sendJson(res, 403, "Forbidden", { error: "The control API only answers loopback peers" });
      return;
    }
    const body = await readBody(req);
    const response = handleControl(ctx, {
      method,
      path: rawPath,
      query: url.searchParams,
      body: body === "too-large" ? "" : body.toString("utf8"),
    });
    // Control answers close their connection, and installing a fault drops idle keep-alive
    // connections: a client's next API request then opens a fresh connection, which HTTP
    // clients do not silently retry when a reset fault drops it.
    res.setHeader("Connection", "close");
    sendJson(res, response.status, response.status < 300 ? "OK" : "Error", response.body);
    if (method === "POST" && rawPath.replace(/\/+$/, "") === "/_sim/faults") {
      ctx.closeIdleConnections?.();
    }
    return;
  }

  const api = /^\/api2\/([^/]*)(\/.*)?$/.exec(rawPath);
  const relRaw = api?.[2] ?? "/";
  const relPath = "/" + splitPath(relRaw).map(uriUnescape).join("/");
  const outcome: Outcome = {
    auth: { kind: "none", userid: "" },
    query: {},
    body: {},
  };
  // Every request is logged, those outside /api2/json with their full path, so a client that
  // strays from the API (another format, a path outside /api2) shows in the log.
  const logRequest = () => {
    ctx.requests.append({
      time: ctx.sim.clock.now(),
      method,
      path: api?.[1] === "json" ? relPath : rawPath,
      query: outcome.query,
      body: outcome.body,
      auth: outcome.auth.kind,
      userid: outcome.auth.kind === "none" ? null : outcome.auth.tokenid ?? outcome.auth.userid,
      status: res.statusCode,
      ...(outcome.errors === undefined ? {} : { errors: outcome.errors }),
    });
  };

  if (api && api[1] === "json") {
    const fault = ctx.faults.take(method, relPath);
    if (fault !== undefined) {
      if (fault.delay_ms !== undefined && fault.delay_ms > 0) await delay(fault.delay_ms);
      if (fault.reset) {
        res.statusCode = 0;
        logRequest();
        req.socket.destroy();
        return;
      }
      if (fault.status !== undefined && fault.body !== undefined) {
        // Not PVE's answer: a proxy's page (no JSON envelope, no PVE headers).
        const page = Buffer.from(fault.body, "utf8");
        res.writeHead(fault.status, fault.reason ?? "Simulated fault", {
          "content-type": "text/html",
          "content-length": page.length,
        });
        res.end(page);
        logRequest();
        return;
      }
      if (fault.status !== undefined) {
        const reason = fault.reason ?? "Simulated fault";
        sendError(res, new WireError(fault.status, reason));
        logRequest();
        return;
      }
    }
  }

  try {
    const data = await process(ctx, table, req, method, url, api, relPath, outcome);
    if (isDownload(data)) {
      const body = Buffer.from(data.body, "utf8");
      res.statusCode = 200;
      res.statusMessage = "OK";
      baseHeaders(res);
      res.setHeader("Content-Type", data.contentType);
      res.setHeader("Content-Length", body.length);
      res.end(body);
      return;
    }
    const body = ctx.sim.state.quirks.jsonBooleans ? jsonBooleans(data) : data;
    const payload: Record<string, unknown> = isWithTotal(body)
      ? { data: body.data ?? null, total: body.total }
      : isWithChanges(body)
      ? { data: body.data ?? null, changes: body.changes }
      : { data: body ?? null };
    sendJson(res, 200, "OK", payload);
  } catch (error) {
    if (error instanceof HttpError) {
      if (error.errors !== undefined) outcome.errors = error.errors;
      sendError(res, error);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      ctx.log(
        `simulator: handler for ${method} ${relPath} failed: ${
          error instanceof Error ? error.stack : message
        }`,
      );
      sendError(res, new HttpError(500, message));
    }
  }
  logRequest();
}

async function process(
  ctx: HttpContext,
  table: RouteTable,
  req: IncomingMessage,
  method: string,
  url: URL,
  api: RegExpExecArray | null,
  relPath: string,
  outcome: Outcome,
): Promise<unknown> {
  if (!api || !/^[a-z][a-z0-9]+$/.test(api[1] ?? "") || api[1] !== "json") {
    await readBody(req);
    throw noSuchUri();
  }
  const query: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) addParam(query, key, value);
  outcome.query = query;

  const raw = await readBody(req);
  if (raw === "too-large") throw new WireError(413, "request too large");
  const body = parseBody(method, headerValue(req.headers["content-type"]), raw);
  outcome.body = body;

  const key = `${method} ${relPath}`;
  const segments = splitPath(relPath);
  const credentials: Credentials | undefined = extractCredentials(
    headerValue(req.headers["cookie"]),
    headerValue(req.headers["authorization"]),
  );
  const state = ctx.sim.state;
  const now = ctx.sim.clock.now();
  let auth: AuthInfo = { kind: "none", userid: "" };
  if (!UNAUTHENTICATED.has(key)) {
    auth = authenticate({
      state,
      tickets: ctx.tickets,
      now,
      method,
      credentials,
      csrfToken: headerValue(req.headers["csrfpreventiontoken"]),
    });
    outcome.auth = auth;
  }

  if (!METHODS.has(method)) throw notImplemented(method, relPath);
  const match = table.index.match(segments);
  const route = match ? table.handlers.get(`${method} ${match.template}`) : undefined;
  if (!match || route === undefined) throw notImplemented(method, relPath);
  const schema: EndpointSchema | undefined = endpointSchema(method, match.template);

  if (credentials?.kind === "token" && schema !== undefined && !schema.allowtoken) {
    throw new HttpError(403, `URI '${relPath}' not available with API token, need proper ticket.`);
  }

  const merged: Record<string, unknown> = { ...body, ...query };
  const conflicts: Record<string, string> = {};
  for (const [name, value] of Object.entries(match.pathParams)) {
    const given = merged[name];
    if (given !== undefined && !sameValue(given, value)) {
      conflicts[name] = "duplicate parameter (already defined in URI) with conflicting values!";
    }
    merged[name] = value;
  }
  if (Object.keys(conflicts).length > 0) {
    throw new HttpError(400, "Parameter verification failed.", { errors: conflicts });
  }

  if (schema?.proxyto !== undefined) {
    const nodeName = String(merged[schema.proxyto] ?? "");
    const node = state.nodes.get(nodeName);
    if (node === undefined) {
      throw hostnameLookupError(nodeName);
    }
    if (!node.online) {
      throw new WireError(595, "595 Connection refused", { reason: "Connection refused" });
    }
  }

  let params: Params;
  if (schema !== undefined) {
    params = validateParams(schema.parameters, merged);
    checkPermissions(state, { auth, permissions: schema.permissions, params });
  } else {
    params = {};
    for (const [name, value] of Object.entries(merged)) {
      if (name === "_dc") continue;
      params[name] = Array.isArray(value) ? value.map(String) : String(value);
    }
  }

  return await route.handler({
    sim: ctx.sim,
    auth,
    params,
    method: method as Method,
    path: relPath,
  });
}
