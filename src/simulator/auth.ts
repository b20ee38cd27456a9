/**
 * Authentication as PVE does it: signed tickets (`PVE::Ticket`), CSRF prevention tokens,
 * API tokens (`PVE::AccessControl::verify_token`) and the credential lookup order of the
 * HTTP server (`pve-http-server AnyEvent.pm`).
 *
 * Tickets are signed with an HMAC key instead of PVE's RSA key; their shape is PVE's:
 * `PVE:<data with ':' escaped>:<8 HEX time>::<base64 signature>`. All times are the
 * simulated clock's.
 *
 * @module
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "./clock.ts";
import { HttpError } from "./errors.ts";
import type { AuthInfo } from "./router.ts";
import type { SimState, User } from "./state.ts";

/** Ticket lifetime in seconds (`$ticket_lifetime`). */
export const TICKET_LIFETIME = 7200;
/** Accepted clock skew for tickets and CSRF tokens (`$auth_graceperiod`). */
export const AUTH_GRACE = 300;

const TOKEN_ID_RE = /^(([^\s:/]+)@([A-Za-z][A-Za-z0-9.\-_]+))!([A-Za-z][A-Za-z0-9.\-_]+)$/;
const USERID_RE = /^([^\s:/]+)@([A-Za-z][A-Za-z0-9.\-_]+)$/;

function hex8(seconds: number): string {
  return (seconds >>> 0).toString(16).toUpperCase().padStart(8, "0");
}

function safeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** What a verified ticket carried. */
export interface TicketData {
  /** The ticket data: a userid, or `!tfa!<challenge json>` for a TFA half ticket. */
  data: string;
  /** Seconds since the ticket was issued. */
  age: number;
}

/** Issues and verifies tickets and CSRF tokens against the simulated clock. */
export class TicketAuthority {
  #key: Uint8Array = randomBytes(32);
  readonly #csrfSecret: Uint8Array = randomBytes(32);
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  #sign(plain: string, aad: string | undefined): string {
    const hmac = createHmac("sha256", this.#key).update(plain);
    if (aad !== undefined) hmac.update(`\0${aad}`);
    return hmac.digest("base64");
  }

  /**
   * Issues a ticket for `data` (a userid, or `!tfa!…`). `aad` is signed but not carried
   * (PVE binds a TFA half ticket to its user that way).
   */
  issue(data: string, aad?: string): string {
    const plain = `PVE:${data.replaceAll(":", "%3A")}:${hex8(this.#clock.now())}`;
    return `${plain}::${this.#sign(plain, aad)}`;
  }

  /**
   * Verifies signature (with the same `aad` it was issued with) and age; `undefined` for
   * anything not a currently valid ticket.
   */
  verify(ticket: string, aad?: string): TicketData | undefined {
    const split = ticket.lastIndexOf("::");
    if (split < 0) return undefined;
    const plain = ticket.slice(0, split);
    const signature = ticket.slice(split + 2);
    const match = /^PVE:([^:]+):([0-9A-F]{8})$/.exec(plain);
    if (!match) return undefined;
    if (!safeEqual(signature, this.#sign(plain, aad))) return undefined;
    const age = this.#clock.now() - parseInt(match[2] ?? "0", 16);
    if (age < -AUTH_GRACE || age > TICKET_LIFETIME) return undefined;
    return { data: (match[1] ?? "").replaceAll("%3A", ":"), age };
  }

  /** Invalidates every ticket issued so far (new signing key, the old one forgotten). */
  expireAll(): void {
    this.#key = randomBytes(32);
  }

  /** A CSRF prevention token for `userid`: `<8 HEX>:<43 base64 chars>`. */
  csrfToken(userid: string): string {
    const stamp = hex8(this.#clock.now());
    return `${stamp}:${this.#csrfSignature(stamp, userid)}`;
  }

  #csrfSignature(stamp: string, userid: string): string {
    return createHmac("sha256", this.#csrfSecret).update(`${stamp}:${userid}`).digest("base64")
      .replace(/=+$/, "");
  }

  /** Whether `token` is a valid CSRF prevention token of `userid` right now. */
  verifyCsrf(userid: string, token: string | undefined): boolean {
    if (token === undefined) return false;
    const match = /^([A-Z0-9]{8}):(\S+)$/.exec(token);
    if (!match) return false;
    const stamp = match[1] ?? "";
    if (!safeEqual(match[2] ?? "", this.#csrfSignature(stamp, userid))) return false;
    const age = this.#clock.now() - parseInt(stamp, 16);
    return age >= -AUTH_GRACE && age <= TICKET_LIFETIME;
  }
}

/** Credentials found on a request. */
export type Credentials =
  | { kind: "ticket"; value: string }
  | { kind: "token"; value: string };

/** PVE's `uri_unescape`: `%XX` sequences only, malformed ones kept. */
export function uriUnescape(value: string): string {
  return value.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function extractAuthValue(header: string | undefined, key: string): string | undefined {
  if (header === undefined) return undefined;
  const match = new RegExp(`(?:^|\\s)${key}(?:=| )([^;]*)`).exec(header);
  return match ? uriUnescape(match[1] ?? "") : undefined;
}

/**
 * Finds credentials in PVE's order: cookie `PVEAuthCookie`, then `Authorization:
 * PVEAuthCookie=…`, then `Authorization: PVEAPIToken=…` (or with a space).
 */
export function extractCredentials(
  cookie: string | undefined,
  authorization: string | undefined,
): Credentials | undefined {
  const fromCookie = extractAuthValue(cookie, "PVEAuthCookie");
  if (fromCookie) return { kind: "ticket", value: fromCookie };
  const fromHeader = extractAuthValue(authorization, "PVEAuthCookie");
  if (fromHeader) return { kind: "ticket", value: fromHeader };
  const token = extractAuthValue(authorization, "PVEAPIToken");
  if (token) return { kind: "token", value: token };
  return undefined;
}

/** Whether a user exists, is enabled and has not expired at `now`. */
export function userActive(user: User | undefined, now: number): user is User {
  return user !== undefined && user.enable === 1 && !(user.expire > 0 && user.expire < now);
}

function authFailed(): HttpError {
  return new HttpError(401, "Authentication failed!", { emptyBody: true });
}

/** Verifies an API token value `user@realm!name=secret` (split at the last `=`). */
function verifyApiToken(state: SimState, now: number, value: string): AuthInfo {
  const split = value.lastIndexOf("=");
  if (split < 0) throw authFailed();
  const tokenid = value.slice(0, split);
  const secret = value.slice(split + 1);
  const match = TOKEN_ID_RE.exec(tokenid);
  if (!match) throw authFailed();
  const userid = match[1] ?? "";
  const user = state.users.get(userid);
  if (!userActive(user, now)) throw authFailed();
  const token = user.tokens.get(match[4] ?? "");
  if (token === undefined) throw authFailed();
  if (token.expire > 0 && token.expire < now) throw authFailed();
  if (!safeEqual(token.secret, secret)) throw authFailed();
  return { kind: "token", userid, tokenid };
}

/** Verifies a session ticket (TFA half tickets are not session tickets). */
function verifySessionTicket(
  state: SimState,
  tickets: TicketAuthority,
  now: number,
  ticket: string,
): AuthInfo {
  const verified = tickets.verify(ticket);
  if (verified === undefined || verified.data.startsWith("!tfa!")) throw authFailed();
  if (!USERID_RE.test(verified.data)) throw authFailed();
  if (!userActive(state.users.get(verified.data), now)) throw authFailed();
  return { kind: "ticket", userid: verified.data };
}

/**
 * Authenticates a request that needs auth, as `PVE/HTTPServer.pm auth_handler` does:
 * 401 `No ticket`, 401 `Authentication failed!`, or (non-GET with a ticket) 401
 * `Permission denied - invalid csrf token`, all without a body.
 */
export function authenticate(
  options: {
    state: SimState;
    tickets: TicketAuthority;
    now: number;
    method: string;
    credentials: Credentials | undefined;
    csrfToken: string | undefined;
  },
): AuthInfo {
  const { credentials } = options;
  if (credentials === undefined) throw new HttpError(401, "No ticket", { emptyBody: true });
  if (credentials.kind === "token") {
    return verifyApiToken(options.state, options.now, credentials.value);
  }
  const auth = verifySessionTicket(options.state, options.tickets, options.now, credentials.value);
  if (options.method !== "GET" && !options.tickets.verifyCsrf(auth.userid, options.csrfToken)) {
    throw new HttpError(401, "Permission denied - invalid csrf token", { emptyBody: true });
  }
  return auth;
}

const authorities = new WeakMap<object, TicketAuthority>();

/** Associates a cluster with its ticket authority (route handlers only see the `Sim`). */
export function bindTicketAuthority(sim: object, tickets: TicketAuthority): void {
  authorities.set(sim, tickets);
}

/** The ticket authority of a cluster; throws if the cluster was not started by `mod.ts`. */
export function ticketAuthorityOf(sim: object): TicketAuthority {
  const tickets = authorities.get(sim);
  if (tickets === undefined) {
    throw new Error("No ticket authority bound to this cluster: start it with startSimulator()");
  }
  return tickets;
}
