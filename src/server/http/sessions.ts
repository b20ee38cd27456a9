/**
 * The 2025-11-25 era over HTTP: sessions (`Mcp-Session-Id`), each one the SDK's
 * `WebStandardStreamableHTTPServerTransport` connected to a server instance built for the caller
 * who opened it. Progress, confirmations (elicitation) and log messages travel on the SSE
 * streams the transport opens; a client cancels with `notifications/cancelled`.
 *
 * A session answers only the profile that opened it (another caller's token gets the same 404 as
 * an unknown id). Limits: at most `http.maxSessions` open at once, and a session unused for
 * `http.sessionIdleSeconds` is closed. With Redis and `http.replicaUrl`, a request for a session
 * held by another replica is forwarded there.
 *
 * @module
 */

import {
  type AuthInfo,
  isInitializeRequest,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
import { getLog } from "../../log.ts";
import type { Profile } from "../../policy/profile.ts";
import type { ReadBody } from "./body.ts";
import { FORWARDED_HEADER, forwardToReplica } from "./forward.ts";
import { RPC_ERROR, rpcError } from "./responses.ts";
import type { SharedState } from "./shared_state.ts";

/** One open session. */
interface Session {
  id: string;
  profile: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  lastSeenMs: number;
  claimedMs: number;
}

/** What the session table needs. */
export interface SessionOptions {
  /** Builds the server instance of a new session for its caller. */
  factory: (profile: Profile) => McpServer;
  maxSessions: number;
  idleMs: number;
  maxBodyBytes: number;
  shared: SharedState;
  /** This replica's address for the others (enables forwarding). */
  replicaUrl?: string | undefined;
}

const log = getLog("server.http.sessions");

/** The open 2025-era sessions of this replica. */
export class LegacySessions {
  readonly #options: SessionOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closed = false;

  /** A session table; idle sessions are swept in the background. */
  constructor(options: SessionOptions) {
    this.#options = options;
    const every = Math.max(1000, Math.min(30_000, Math.floor(options.idleMs / 4)));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    Deno.unrefTimer(this.#sweeper);
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Serves one 2025-era request (`body` for POSTs). */
  async handle(
    request: Request,
    caller: { profile: Profile; authInfo: AuthInfo },
    body: ReadBody | undefined,
  ): Promise<Response> {
    const id = request.headers.get("mcp-session-id");
    if (id === null) {
      if (body !== undefined && body.messages.some((message) => isInitializeRequest(message))) {
        return await this.#open(caller, body);
      }
      return rpcError(
        400,
        RPC_ERROR.invalidRequest,
        "Bad Request: Mcp-Session-Id header is required (send initialize first to open a session)",
      );
    }
    const session = this.#sessions.get(id);
    if (session !== undefined && session.profile === caller.profile.name) {
      void this.#touch(session);
      return await session.transport.handleRequest(body?.request ?? request, {
        authInfo: caller.authInfo,
      });
    }
    if (session === undefined) {
      const owner = await this.#ownerElsewhere(id, request);
      if (owner !== undefined) return await forwardToReplica(owner, request, body);
    }
    return rpcError(404, -32001, "Session not found: initialize a new session");
  }

  async #ownerElsewhere(id: string, request: Request): Promise<string | undefined> {
    const self = this.#options.replicaUrl;
    if (self === undefined || request.headers.has(FORWARDED_HEADER)) return undefined;
    try {
      const owner = await this.#options.shared.sessionOwner(id);
      return owner !== undefined && owner !== self ? owner : undefined;
    } catch (error) {
      log.warning("Cannot look up the replica of a session: {error}", { error });
      return undefined;
    }
  }

  async #open(caller: { profile: Profile; authInfo: AuthInfo }, body: ReadBody): Promise<Response> {
    if (this.#closed) {
      return rpcError(
        503,
        RPC_ERROR.unavailable,
        "The server is shutting down: try again shortly",
        {
          headers: { "retry-after": "5" },
        },
      );
    }
    if (this.#sessions.size >= this.#options.maxSessions) {
      return rpcError(
        503,
        RPC_ERROR.unavailable,
        `Too many sessions: this server holds at most ${this.#options.maxSessions} ` +
          "(http.maxSessions); close an unused session or try again later",
        { headers: { "retry-after": "30" } },
      );
    }
    const server = this.#options.factory(caller.profile);
    let session: Session | undefined;
    let claimed: Promise<void> | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      maxRequestBodySize: this.#options.maxBodyBytes,
      onsessioninitialized: (id) => {
        const now = Date.now();
        session = {
          id,
          profile: caller.profile.name,
          transport,
          server,
          lastSeenMs: now,
          claimedMs: 0,
        };
        this.#sessions.set(id, session);
        claimed = this.#touch(session);
        log.debug("Session opened for profile {profile}", { profile: caller.profile.name });
      },
      onsessionclosed: (id) => {
        void this.#forget(id);
      },
    });
    transport.onclose = () => {
      if (session !== undefined) void this.#forget(session.id);
    };
    await server.connect(transport);
    const response = await transport.handleRequest(body.request, { authInfo: caller.authInfo });
    if (session === undefined) await server.close();
    // The other replicas must know where the session lives before the client can use its id.
    await claimed;
    return response;
  }

  /** Marks the session as seen and, now and then, renews where it lives (shared state). */
  #touch(session: Session): Promise<void> {
    const now = Date.now();
    session.lastSeenMs = now;
    const self = this.#options.replicaUrl;
    if (self === undefined || now - session.claimedMs < this.#options.idleMs / 4) {
      return Promise.resolve();
    }
    session.claimedMs = now;
    return this.#options.shared.claimSession(session.id, self, this.#options.idleMs).catch(
      (error: unknown) => log.warning("Cannot record the session's replica: {error}", { error }),
    );
  }

  async #forget(id: string): Promise<void> {
    const session = this.#sessions.get(id);
    if (session === undefined) return;
    this.#sessions.delete(id);
    if (this.#options.replicaUrl !== undefined) {
      await this.#options.shared.releaseSession(id).catch(() => {});
    }
    await session.server.close().catch(() => {});
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#options.idleMs;
    for (const session of [...this.#sessions.values()]) {
      if (session.lastSeenMs > cutoff) continue;
      log.info("Closing a session of profile {profile} idle for {seconds} s", {
        profile: session.profile,
        seconds: Math.round(this.#options.idleMs / 1000),
      });
      void this.#forget(session.id);
    }
  }

  /** Closes every session (shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.keys()].map((id) => this.#forget(id)));
  }
}
