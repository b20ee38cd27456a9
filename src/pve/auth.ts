/**
 * Authentication: API tokens, or user + password with tickets (FACTS §2).
 *
 * - Token: `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`, no CSRF, no login.
 * - Ticket: `POST /access/ticket` once (concurrent callers share the one login), then
 *   `Cookie: PVEAuthCookie=<ticket>` on every request and `CSRFPreventionToken` on every
 *   non-GET. The ticket is renewed after {@linkcode TicketAuthOptions.renewAfterMs} (PVE
 *   tickets live 2 h; the age is measured on the server's clock when the ticket's timestamp
 *   and a `Date` header are known) by posting the current ticket as the password; if renewal fails, the
 *   client logs in with the password again. A `NeedTFA` answer is refused with advice to
 *   use an API token.
 *
 * @module
 */

import { PveAuthError, type PveError, PveValidationError } from "./errors.ts";

/** The headers and identity of one authenticated request. */
export interface AuthHeaders {
  /** Headers to add. */
  headers: Record<string, string>;
  /** Session generation (ticket auth), to invalidate exactly this session on a 401. */
  generation: number;
  /** Whether a CSRF token is included. */
  csrf: boolean;
}

/** Sends the login request; returns the parsed `data` or throws a {@linkcode PveError}. */
export type LoginSender = (
  params: Record<string, string>,
  signal: AbortSignal | undefined,
) => Promise<unknown>;

/** Either kind of authentication. */
export interface Auth {
  /** `token` or `ticket`. */
  readonly kind: "token" | "ticket";
  /** The user or token id (not secret), for messages. */
  readonly principal: string;
  /** Headers for a request with `method`. */
  headersFor(method: string, signal?: AbortSignal): Promise<AuthHeaders>;
  /** Forgets the session of `generation` after a 401, so the next request logs in again. */
  invalidate(generation: number): void;
  /** Secrets to keep out of messages and logs. */
  secrets(): string[];
  /** Records the server's clock (a response's `Date` header, in ms) for ticket age. */
  observeServerTime?(serverMs: number): void;
}

const TOKEN_ID_RE = /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/;

/**
 * Splits a token given as one string (`user@realm!name=secret`, optionally prefixed with
 * `PVEAPIToken=`) at its last `=`, as PVE does.
 *
 * @throws {PveValidationError} when the text is not of that form (the secret is never quoted).
 */
export function splitToken(token: string): { tokenId: string; tokenSecret: string } {
  const text = token.trim().replace(/^PVEAPIToken[= ]/, "");
  const eq = text.lastIndexOf("=");
  const tokenId = eq < 0 ? text : text.slice(0, eq);
  const tokenSecret = eq < 0 ? "" : text.slice(eq + 1);
  if (eq < 0 || tokenSecret === "" || !TOKEN_ID_RE.test(tokenId)) {
    const shownId = TOKEN_ID_RE.test(tokenId) ? `"${tokenId}"` : "the token";
    throw new PveValidationError(
      `Cannot use ${shownId} as a Proxmox VE API token: expected USER@REALM!TOKENID=SECRET ` +
        '(note: PVE separates id and secret with "=", not ":")',
      { errors: { token: "expected USER@REALM!TOKENID=SECRET" } },
    );
  }
  return { tokenId, tokenSecret };
}

/** API token authentication. */
export class TokenAuth implements Auth {
  /** Always `token`. */
  readonly kind = "token" as const;
  /** The token id. */
  readonly principal: string;
  readonly #header: string;
  readonly #secret: string;

  /** Creates token auth; validates the token id. */
  constructor(tokenId: string, tokenSecret: string) {
    if (!TOKEN_ID_RE.test(tokenId)) {
      throw new PveValidationError(
        `Cannot use "${tokenId}" as an API token id: expected USER@REALM!TOKENID, e.g. root@pam!mcp`,
        { errors: { tokenId: "expected USER@REALM!TOKENID" } },
      );
    }
    if (tokenSecret === "") {
      throw new PveValidationError(
        `Cannot use API token "${tokenId}": the token secret is empty`,
        { errors: { tokenSecret: "empty" } },
      );
    }
    this.principal = tokenId;
    this.#secret = tokenSecret;
    this.#header = `PVEAPIToken=${tokenId}=${tokenSecret}`;
  }

  /** The `Authorization` header. */
  headersFor(): Promise<AuthHeaders> {
    return Promise.resolve({
      headers: { authorization: this.#header },
      generation: 0,
      csrf: false,
    });
  }

  /** Tokens have no session to forget. */
  invalidate(): void {}

  /** The token secret. */
  secrets(): string[] {
    return [this.#secret];
  }
}

/** Options of ticket authentication. */
export interface TicketAuthOptions {
  /** `user@realm`. */
  username: string;
  /** The password. */
  password: string;
  /** Sends `POST /access/ticket` without authentication. */
  login: LoginSender;
  /** Renew a ticket older than this (default 1 h; tickets live 2 h). */
  renewAfterMs?: number;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
}

interface Session {
  ticket: string;
  csrf: string;
  /** Client clock when the ticket arrived. */
  obtainedAt: number;
  /** Server clock when PVE signed the ticket (the ticket's hex timestamp), in ms. */
  issuedAt: number | undefined;
  generation: number;
}

const TICKET_TIME_RE = /^PVE:.*:([0-9A-Fa-f]{8})::[^:]*$/;

/**
 * The signing time inside a PVE ticket (`PVE:<data>:<8 hex unix time>::<signature>`), in ms,
 * or `undefined` when the ticket does not have that shape.
 */
export function ticketIssuedAt(ticket: string): number | undefined {
  const m = TICKET_TIME_RE.exec(ticket);
  return m?.[1] === undefined ? undefined : parseInt(m[1], 16) * 1000;
}

/** User + password authentication with tickets, CSRF tokens and renewal. */
export class TicketAuth implements Auth {
  /** Always `ticket`. */
  readonly kind = "ticket" as const;
  /** The user id. */
  readonly principal: string;
  readonly #password: string;
  readonly #login: LoginSender;
  readonly #renewAfterMs: number;
  readonly #now: () => number;
  #session: Session | undefined;
  #pending: Promise<Session> | undefined;
  #generation = 0;
  #oldTickets: string[] = [];
  /** Server clock minus client clock (ms), from the latest response's `Date` header. */
  #serverOffsetMs: number | undefined;

  /** Creates ticket auth; no request is made until the first call. */
  constructor(options: TicketAuthOptions) {
    if (!/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(options.username)) {
      throw new PveValidationError(
        `Cannot log in as "${options.username}": expected USER@REALM, e.g. root@pam or admin@pve`,
        { errors: { username: "expected USER@REALM" } },
      );
    }
    this.principal = options.username;
    this.#password = options.password;
    this.#login = options.login;
    this.#renewAfterMs = options.renewAfterMs ?? 3_600_000;
    this.#now = options.now ?? Date.now;
  }

  /** Cookie (and on non-GET the CSRF token) of a valid session, logging in if needed. */
  async headersFor(method: string, signal?: AbortSignal): Promise<AuthHeaders> {
    const session = await this.#current(signal);
    const headers: Record<string, string> = { cookie: `PVEAuthCookie=${session.ticket}` };
    const csrf = method !== "GET";
    if (csrf) headers["csrfpreventiontoken"] = session.csrf;
    return { headers, generation: session.generation, csrf };
  }

  /** Forgets the session of `generation` (a 401 showed it is no longer valid). */
  invalidate(generation: number): void {
    if (this.#session?.generation === generation) this.#session = undefined;
  }

  /** Records the server's clock from a response's `Date` header (ms since the epoch). */
  observeServerTime(serverMs: number): void {
    if (Number.isFinite(serverMs)) this.#serverOffsetMs = serverMs - this.#now();
  }

  /**
   * How old the session's ticket is. PVE checks a ticket's age against its signing time on the
   * server's clock, so when both are known the age is measured there (the ticket's timestamp
   * against the server time from the latest `Date` header, carried forward by the client's
   * clock): a skewed or jumping client clock then does not matter. Otherwise the client's own
   * clock since the ticket arrived.
   */
  #age(session: Session): number {
    if (session.issuedAt !== undefined && this.#serverOffsetMs !== undefined) {
      // Both the ticket's time and `Date` are whole seconds: count the second they may have
      // lost, so a ticket is renewed a second early rather than late.
      return this.#now() + this.#serverOffsetMs - session.issuedAt + 1000;
    }
    return this.#now() - session.obtainedAt;
  }

  /** Password, current and previous tickets and CSRF tokens. */
  secrets(): string[] {
    const out = [this.#password, ...this.#oldTickets];
    if (this.#session !== undefined) out.push(this.#session.ticket, this.#session.csrf);
    return out;
  }

  #current(signal: AbortSignal | undefined): Promise<Session> {
    if (this.#pending !== undefined) return this.#pending;
    const session = this.#session;
    if (session !== undefined && this.#age(session) < this.#renewAfterMs) {
      return Promise.resolve(session);
    }
    const pending = this.#obtain(session, signal).finally(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    this.#pending = pending;
    return pending;
  }

  async #obtain(previous: Session | undefined, signal: AbortSignal | undefined): Promise<Session> {
    if (previous !== undefined) {
      try {
        return this.#accept(
          await this.#login({ username: this.principal, password: previous.ticket }, signal),
        );
      } catch (error) {
        if (signal?.aborted) throw error;
        if (!(error instanceof PveAuthError) || isTfaError(error)) throw error;
        // The old ticket was no longer accepted: fall through to a password login.
      }
    }
    return this.#accept(
      await this.#login({ username: this.principal, password: this.#password }, signal),
    );
  }

  #accept(data: unknown): Session {
    const record = (typeof data === "object" && data !== null ? data : {}) as Record<
      string,
      unknown
    >;
    const ticket = record.ticket;
    const csrf = record.CSRFPreventionToken;
    const needTfa = record.NeedTFA === 1 || record.NeedTFA === "1" || record.NeedTFA === true ||
      (typeof ticket === "string" && ticket.startsWith("PVE:!tfa!"));
    if (needTfa) {
      const error = new PveAuthError(
        `Cannot log in as "${this.principal}": the user has two-factor authentication ` +
          "enabled, which this client cannot answer. Create an API token for the user " +
          "(Datacenter → Permissions → API Tokens, or pveum user token add) and configure " +
          "tokenId + tokenSecret instead of username/password",
        { status: 200, method: "POST", path: "/access/ticket" },
      );
      tfaErrors.add(error);
      throw error;
    }
    if (typeof ticket !== "string" || typeof csrf !== "string") {
      throw new PveAuthError(
        `Cannot log in as "${this.principal}": the login answer had no ticket or CSRF token. ` +
          "Check that the URL points at the Proxmox VE API (port 8006)",
        { status: 200, method: "POST", path: "/access/ticket" },
      );
    }
    if (this.#session !== undefined) {
      this.#oldTickets = [this.#session.ticket, this.#session.csrf, ...this.#oldTickets].slice(
        0,
        8,
      );
    }
    this.#generation += 1;
    const session = {
      ticket,
      csrf,
      obtainedAt: this.#now(),
      issuedAt: ticketIssuedAt(ticket),
      generation: this.#generation,
    };
    this.#session = session;
    return session;
  }
}

const tfaErrors = new WeakSet<PveError>();

function isTfaError(error: PveError): boolean {
  return tfaErrors.has(error);
}
