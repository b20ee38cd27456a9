/**
 * Shared helpers for simulator tests: start a simulator on a free loopback port with
 * instant tasks, log in, call the API over real `fetch`, and send raw HTTP/1.1 requests
 * when the exact status line matters (`fetch` normalizes reason phrases).
 *
 * @module
 */

import {
  type SimulatorHandle,
  type SimulatorOptions,
  startSimulator,
} from "../../src/simulator/mod.ts";

/** Starts a simulator on 127.0.0.1, port 0, speed `"instant"` (override with `options`). */
export function startTestSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  return startSimulator({ port: 0, speed: "instant", ...options });
}

/** A logged-in session: ticket and CSRF token. */
export interface Session {
  username: string;
  ticket: string;
  csrf: string;
}

/** Logs in with a password (default: `root@pam` and the handle's root password). */
export async function login(
  handle: SimulatorHandle,
  username = handle.credentials.user,
  password = handle.credentials.password,
): Promise<Session> {
  const response = await api(handle, "POST", "/access/ticket", { params: { username, password } });
  if (response.status !== 200) {
    throw new Error(`Login as "${username}" failed: ${response.status} ${response.text}`);
  }
  const data = response.body.data as Record<string, string>;
  return { username, ticket: data["ticket"] ?? "", csrf: data["CSRFPreventionToken"] ?? "" };
}

/** The value of an `Authorization: PVEAPIToken=` header for the handle's root token. */
export function rootToken(handle: SimulatorHandle): string {
  return `${handle.credentials.tokenId}=${handle.credentials.tokenSecret}`;
}

/** Options of {@linkcode api}. */
export interface ApiOptions {
  /** Query (GET/DELETE) or form body (POST/PUT) parameters. */
  params?: Record<string, string | number | readonly string[]>;
  /** Parameters that always go into the query string. */
  query?: Record<string, string | number | readonly string[]>;
  /** A JSON body instead of a form body. */
  json?: unknown;
  /** Send a raw body with this content type. */
  raw?: { contentType: string; body: string };
  /** Authenticate with this session (cookie + CSRF token for non-GET). */
  session?: Session;
  /** Authenticate with `Authorization: PVEAPIToken=<token>`; `true` = the root token. */
  token?: string | true;
  /** Extra headers. */
  headers?: Record<string, string>;
}

/** A parsed API answer. */
export interface ApiResult {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or `{}` when the body is empty. */
  // deno-lint-ignore no-explicit-any
  body: any;
}

function appendAll(
  target: URLSearchParams,
  params: Record<string, string | number | readonly string[]> | undefined,
): void {
  for (const [key, value] of Object.entries(params ?? {})) {
    if (Array.isArray(value)) { for (const item of value) target.append(key, String(item)); }
    else target.append(key, String(value));
  }
}

/** Calls `METHOD <api><path>` over real HTTP. */
export async function api(
  handle: SimulatorHandle,
  method: string,
  path: string,
  options: ApiOptions = {},
): Promise<ApiResult> {
  const query = new URLSearchParams();
  appendAll(query, options.query);
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) {
    headers["Content-Type"] = options.raw.contentType;
    body = options.raw.body;
  } else if (method === "POST" || method === "PUT") {
    const form = new URLSearchParams();
    appendAll(form, options.params);
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = form.toString();
  } else {
    appendAll(query, options.params);
  }
  if (options.session !== undefined) {
    headers["Cookie"] = `PVEAuthCookie=${encodeURIComponent(options.session.ticket)}`;
    if (method !== "GET") headers["CSRFPreventionToken"] = options.session.csrf;
  }
  if (options.token !== undefined) {
    headers["Authorization"] = `PVEAPIToken=${
      options.token === true ? rootToken(handle) : options.token
    }`;
  }
  const search = query.toString();
  const response = await fetch(`${handle.api}${path}${search === "" ? "" : `?${search}`}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: text === "" ? {} : JSON.parse(text),
  };
}

/** A raw HTTP/1.1 answer. */
export interface RawResponse {
  /** e.g. `HTTP/1.1 401 No ticket` */
  statusLine: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends one raw HTTP/1.1 request (`Connection: close`) and reads the whole answer, so
 * tests can see the exact reason phrase. `path` is the full request target.
 */
export async function rawRequest(
  handle: SimulatorHandle,
  request: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  const url = new URL(handle.url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(url.port) });
  try {
    const body = request.body ?? "";
    const lines = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${url.host}`];
    for (const [key, value] of Object.entries(request.headers ?? {})) {
      lines.push(`${key}: ${value}`);
    }
    if (body !== "") lines.push(`Content-Length: ${new TextEncoder().encode(body).length}`);
    lines.push("Connection: close", "", body);
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(16_384);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const text = new TextDecoder().decode(
      chunks.reduce((all, chunk) => {
        const merged = new Uint8Array(all.length + chunk.length);
        merged.set(all);
        merged.set(chunk, all.length);
        return merged;
      }, new Uint8Array()),
    );
    const split = text.indexOf("\r\n\r\n");
    const head = split < 0 ? text : text.slice(0, split);
    const [statusLine = "", ...headerLines] = head.split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { statusLine, headers, body: split < 0 ? "" : text.slice(split + 4) };
  } finally {
    conn.close();
  }
}
