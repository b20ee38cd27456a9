/**
 * MCP over Streamable HTTP on `Deno.serve`, both protocol eras at `/mcp`, with the SDK doing the
 * protocol:
 *
 * - 2026-07-28 era (stateless; version and capabilities in each request's envelope): the SDK's
 *   `createMcpHandler` with `legacy: "reject"`, a fresh server instance per request.
 * - 2025-11-25 era (initialize handshake, `Mcp-Session-Id`, SSE): the SDK's
 *   `WebStandardStreamableHTTPServerTransport`, one per session (`sessions.ts`); the SDK's
 *   `isLegacyRequest` decides which era a request belongs to.
 *
 * In front, in this order: Host/Origin allow-list (403) → shutdown (503) → caller
 * authentication (401/403, `auth.ts`) → body checks (415/413/400, `body.ts`) → rate limits
 * (429, `rate_gate.ts`). Each caller (profile) gets server instances built from its own policy
 * and Proxmox VE clients, confirmation states bound to it, and its name in every audit line.
 * Beside `/mcp`: `/healthz`, `/readyz` and, with OAuth, the RFC 9728 metadata.
 *
 * @module
 */

import {
  type AuthInfo,
  createMcpHandler,
  isLegacyRequest,
  type McpServer,
} from "@modelcontextprotocol/server";
import type { Config } from "../../config/mod.ts";
import { getLog } from "../../log.ts";
import type { AuditLog } from "../../policy/audit.ts";
import type { Profile } from "../../policy/profile.ts";
import { RateLimiter } from "../../policy/rate_limit.ts";
import type { PveClient } from "../../pve/mod.ts";
import { allTools } from "../../tools/mod.ts";
import type { AnyTool } from "../../tools/types.ts";
import { bindConfirmation } from "../confirm.ts";
import { createServer } from "../mod.ts";
import { Authenticator, type Caller } from "./auth.ts";
import { type ReadBody, readBody } from "./body.ts";
import { Drain } from "./drain.ts";
import { guardResponse, hostGuard } from "./guard.ts";
import { Health } from "./health.ts";
import type { ListenAddress } from "./listen.ts";
import {
  JwtVerifier,
  metadataUrl,
  type OAuthSettings,
  protectedResourceMetadata,
} from "./oauth.ts";
import { rateGate } from "./rate_gate.ts";
import { bugResponse, json, RPC_ERROR, rpcError } from "./responses.ts";
import { LegacySessions } from "./sessions.ts";
import type { SharedState } from "./shared_state.ts";

export {
  assertNotOpen,
  DEFAULT_HTTP_HOST,
  isLoopback,
  type ListenAddress,
  parseListen,
} from "./listen.ts";
export { type OAuthSettings, oauthSettings } from "./oauth.ts";
export { memoryState, type SharedState } from "./shared_state.ts";

/** The path MCP is served at. */
export const MCP_PATH = "/mcp";

/** What an HTTP server is built from. */
export interface ServeHttpOptions {
  /** The top-level configuration (`http` section; the server-wide defaults). */
  config: Config;
  /** The callers; empty means one anonymous `local` caller (loopback only, checked by the CLI). */
  profiles: readonly Profile[];
  /** The caller when `profiles` is empty. */
  anonymous?: Profile;
  /** The Proxmox VE clients of a caller (its own credentials, or the shared clients). */
  clientsFor: (profile: Profile) => ReadonlyMap<string, PveClient>;
  /** The server's own clients (for `/readyz`). */
  clients: ReadonlyMap<string, PveClient>;
  audit: AuditLog;
  /** The tools to offer (default: every tool). */
  tools?: readonly AnyTool[];
  address: ListenAddress;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string };
  shared: SharedState;
  oauth?: OAuthSettings;
}

/** What came of a shutdown. */
export interface ShutdownReport {
  /** Calls still running when the deadline passed (their Proxmox VE tasks go on). */
  unfinished: number;
}

/** A running HTTP server. */
export interface HttpServerHandle {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8080/mcp`. */
  url: string;
  /** 2025-era sessions open now. */
  readonly sessions: number;
  /**
   * Stops taking calls, lets calls in flight finish for up to `deadlineMs`, then closes every
   * session and the listener.
   */
  shutdown(deadlineMs: number): Promise<ShutdownReport>;
  /** Resolves when the listener has closed. */
  finished: Promise<void>;
}

const log = getLog("server.http");

/** Serves MCP over HTTP until {@linkcode HttpServerHandle.shutdown}. */
export function serveHttp(options: ServeHttpOptions): Promise<HttpServerHandle> {
  const http = options.config.http;
  const tools = options.tools ?? allTools;
  const toolsByName = new Map(tools.map((tool) => [tool.name, tool]));
  const shared = options.shared;
  const profilesByName = new Map(options.profiles.map((profile) => [profile.name, profile]));
  if (options.anonymous !== undefined) {
    profilesByName.set(options.anonymous.name, options.anonymous);
  }

  const factory = (profile: Profile): McpServer => {
    const mcp = createServer({
      config: profile.config,
      clients: options.clientsFor(profile),
      tools,
      audit: options.audit.forProfile(profile.name),
    });
    bindConfirmation(mcp.server, { store: shared.confirmations, subject: profile.name });
    return mcp;
  };
  // Build each caller's server once now: a configuration mistake fails before the first call.
  for (const profile of profilesByName.values()) void factory(profile).close();

  const profileOf = (authInfo: AuthInfo | undefined): Profile => {
    const name = authInfo?.extra?.profile;
    const profile = typeof name === "string" ? profilesByName.get(name) : undefined;
    if (profile === undefined) {
      throw new Error("A request reached the MCP handler without a caller");
    }
    return profile;
  };

  const onerror = (error: Error) => log.debug("MCP HTTP: {message}", { message: error.message });
  const modern = createMcpHandler((ctx) => factory(profileOf(ctx.authInfo)), {
    legacy: "reject",
    maxRequestBodySize: http.maxBodyBytes,
    onerror,
  });
  const sessions = new LegacySessions({
    factory,
    maxSessions: http.maxSessions,
    idleMs: http.sessionIdleSeconds * 1000,
    maxBodyBytes: http.maxBodyBytes,
    shared,
    replicaUrl: http.replicaUrl,
  });
  const oauth = options.oauth;
  const authenticator = new Authenticator({
    profiles: options.profiles,
    ...(options.anonymous === undefined ? {} : { anonymous: options.anonymous }),
    ...(oauth === undefined
      ? {}
      : { oauth: { settings: oauth, verifier: new JwtVerifier(oauth) } }),
  });
  const guard = hostGuard({
    allowedHosts: http.allowedHosts,
    allowedOrigins: http.allowedOrigins,
    urls: [http.publicUrl, http.replicaUrl],
  });
  const limiter = new RateLimiter(shared.buckets);
  const health = new Health(options.clients, () => shared.ping());
  const drain = new Drain();
  const metadataPaths = oauth === undefined ? new Set<string>() : new Set([
    "/.well-known/oauth-protected-resource",
    new URL(metadataUrl(oauth.resource)).pathname,
  ]);

  async function serveMcp(request: Request): Promise<Response> {
    const refused = guardResponse(request, guard);
    if (refused !== undefined) return refused;
    const caller = await authenticator.authenticate(request);
    if (caller instanceof Response) return caller;
    if (request.method === "POST") return await servePost(request, caller);
    if (request.method === "GET" || request.method === "DELETE") {
      return await sessions.handle(request, caller, undefined);
    }
    return rpcError(405, RPC_ERROR.invalidRequest, "Method Not Allowed: use POST, GET or DELETE", {
      headers: { allow: "GET, POST, DELETE" },
    });
  }

  async function servePost(request: Request, caller: Caller): Promise<Response> {
    const body = await readBody(request, http.maxBodyBytes);
    if (body instanceof Response) return body;
    const calls = body.messages.filter((message) =>
      typeof message.method === "string" && message.id !== undefined
    );
    if (drain.draining && calls.length > 0) {
      return rpcError(
        503,
        RPC_ERROR.unavailable,
        "The server is shutting down: try again shortly",
        {
          id: calls[0]?.id ?? null,
          headers: { "retry-after": "5" },
        },
      );
    }
    // Counted from here, in the same turn as the check above: a shutdown that begins while
    // the rate limit or the handler is still to answer waits for it.
    const answer = answerPost(body, caller);
    return await (calls.length > 0 ? drain.track(answer) : answer);
  }

  async function answerPost(body: ReadBody, caller: Caller): Promise<Response> {
    const limited = await rateGate(
      { limiter, tools: toolsByName, audit: options.audit },
      caller.profile,
      body.messages,
    );
    if (limited !== undefined) return limited;
    const legacy = await isLegacyRequest(body.request, body.parsed, {
      maxRequestBodySize: http.maxBodyBytes,
    });
    return await (legacy
      ? sessions.handle(body.request, caller, body)
      : modern.fetch(body.request, { authInfo: caller.authInfo }));
  }

  async function route(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    try {
      if (path === MCP_PATH) return await serveMcp(request);
      if (request.method === "GET" && path === "/healthz") return health.live();
      if (request.method === "GET" && path === "/readyz") return await health.ready();
      if (oauth !== undefined && metadataPaths.has(path)) {
        if (request.method !== "GET") {
          return json(405, { error: "method_not_allowed" }, { allow: "GET" });
        }
        return json(200, protectedResourceMetadata(oauth), { "cache-control": "max-age=300" });
      }
      return json(404, { error: `Not found: MCP is served at ${MCP_PATH}` });
    } catch (error) {
      log.error("HTTP request failed with a bug: {error}", { error });
      return bugResponse();
    }
  }

  const { promise: listening, resolve: onListen } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: options.address.hostname,
    port: options.address.port,
    ...(options.tls === undefined ? {} : { cert: options.tls.cert, key: options.tls.key }),
    onListen: (addr) => onListen(addr as Deno.NetAddr),
    onError: (error) => {
      log.error("HTTP request failed with a bug: {error}", { error });
      return bugResponse();
    },
  }, route);

  return listening.then((addr) => {
    const scheme = options.tls === undefined ? "http" : "https";
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    let stopping: Promise<ShutdownReport> | undefined;
    return {
      url: `${scheme}://${host}:${addr.port}${MCP_PATH}`,
      get sessions() {
        return sessions.size;
      },
      finished: server.finished,
      shutdown(deadlineMs: number) {
        stopping ??= (async () => {
          drain.begin();
          const unfinished = await drain.settle(deadlineMs);
          await sessions.close();
          await modern.close();
          // Streams still open after the sessions closed must not hold the process.
          await Promise.race([
            server.shutdown(),
            new Promise((resolve) => setTimeout(resolve, 2000)),
          ]);
          await shared.close();
          return { unfinished };
        })();
        return stopping;
      },
    };
  });
}
