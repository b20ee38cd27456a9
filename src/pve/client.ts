/**
 * {@linkcode PveClient}: the Proxmox VE API client (auth, TLS, encoding, envelope, typed
 * errors, retries, tasks, inventory, version).
 *
 * @module
 */

import type { z } from "zod";
import { type Auth, splitToken, TicketAuth, TokenAuth } from "./auth.ts";
import { taskLogLineSchema, taskStatusSchema, versionSchema } from "./coerce.ts";
import { encodeParams, type PveParams } from "./encode.ts";
import {
  errorFromResponse,
  outcomeUnknown,
  PveAuthError,
  PveConnectionError,
  PveError,
  PveTimeoutError,
  PveValidationError,
  readablePath,
  redactSecrets,
} from "./errors.ts";
import {
  type ClusterResources,
  clusterResourcesSchema,
  guestNotFound,
  type GuestRef,
  normalizeResources,
  readResources,
  resolveGuestIn,
} from "./inventory.ts";
import { apiBaseUrl, checkPvePath, pvePath } from "./path.ts";
import { backoffDelay, parseRetryAfter, shouldRetry } from "./retry.ts";
import { type TaskOutcome, waitForTask, type WaitForTaskOptions } from "./tasks.ts";
import { createTransport, type Transport, transportError } from "./transport.ts";
import { parseVersion, type PveVersion } from "./version.ts";
import { getLog } from "../log.ts";
import { collectAfterLargeAnswer, LARGE_ANSWER } from "./collect.ts";

/** HTTP methods of the PVE API. */
export type PveMethod = "GET" | "POST" | "PUT" | "DELETE";

/** Options of {@linkcode PveClient}. */
export interface PveClientOptions {
  /** `https://host:8006`, with or without `/api2/json`. */
  url: string;
  /** API token id `user@realm!name` (with `tokenSecret`). */
  tokenId?: string;
  /** API token secret (UUID). */
  tokenSecret?: string;
  /** API token as one string `user@realm!name=secret`. */
  token?: string;
  /** `user@realm` for ticket login (with `password`). */
  username?: string;
  /** Password for ticket login. */
  password?: string;
  /** PEM text of the CA to trust (e.g. the cluster's `/etc/pve/pve-root-ca.pem`). */
  caCert?: string;
  /** Skip TLS certificate verification for this cluster (logs a warning once). */
  insecure?: boolean;
  /** Default per-request timeout (default 30 000 ms). */
  timeoutMs?: number;
  /** Timeout for endpoints PVE is known to answer slowly (default 120 000 ms). */
  longTimeoutMs?: number;
  /** A fetch to use instead of the built-in one (tests). */
  fetch?: typeof fetch;
  /** GET retries: `attempts` after the first (default 2), `baseDelayMs` (default 250). */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Cluster name for messages (default: the URL's host). */
  name?: string;
  /** How long `/cluster/resources` answers are reused by `resolveGuest` (default 5000 ms). */
  inventoryTtlMs?: number;
  /** Renew login tickets older than this (default 3 600 000 ms; PVE tickets live 2 h). */
  ticketRenewAfterMs?: number;
  /** Clock in ms for ticket age and cache expiry (tests). */
  now?: () => number;
  /**
   * Waits between retries (default: a timer that the request's signal cancels). Tests inject one
   * that records the delays, to see `Retry-After` honoured without waiting for it.
   */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/** Per-request options. */
export interface PveRequestOptions<T = unknown> {
  /** Query (GET/DELETE) or form (POST/PUT) parameters. */
  params?: PveParams;
  /** Cancels the request (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Timeout for this request in ms (default: the client's, longer for slow endpoints). */
  timeoutMs?: number;
  /** Schema that validates and normalizes `data`. */
  schema?: z.ZodType<T>;
}

/** Options of the shorthands (`get`, `post`, …): everything but `params`. */
export type PveShorthandOptions<T = unknown> = Omit<PveRequestOptions<T>, "params">;

/** The `{data}` envelope, plus `total` or `changes` when PVE sends them. */
export interface PveEnvelope {
  /** The `data` value. */
  data: unknown;
  /** `total` (task lists, task logs), when present. */
  total?: number;
  /** `changes` (a node's pending network edits as a diff), when present. */
  changes?: string;
}

const SLOW_PATHS: RegExp[] = [
  /\/agent(\/|$)/,
  /^\/nodes\/[^/]+\/storage\/[^/]+\/content$/,
  /^\/nodes\/[^/]+\/scan(\/|$)/,
  /^\/nodes\/[^/]+\/(apt|aplinfo|query-url-metadata|disks)(\/|$)/,
  /^\/nodes\/[^/]+\/(qemu|lxc)\/\d+\/(migrate|config|resize)$/,
  /^\/nodes\/[^/]+\/(qemu|lxc)\/\d+\/status\/current$/,
  /^\/cluster\/resources$/,
];

/** PVE's `$limit_max_post` (pve-http-server ≥ 5.2.1); the form body is ASCII, one byte a char. */
const MAX_BODY_BYTES = 512 * 1024;

const SENSITIVE_PARAM_RE = /pass|secret|token|ticket|otp|tfa|key|value/i;

interface Attempt {
  envelope?: PveEnvelope;
  error?: PveError;
  /**
   * Set when the request got no definite answer (what happened instead): a write then ends in
   * `PveOutcomeUnknownError`, because Proxmox VE may have carried it out.
   */
  indefinite?: string;
  retryAfterMs?: number;
  authRejected?: { generation: number };
}

/**
 * A Proxmox VE API client.
 *
 * @example
 * ```ts
 * const pve = new PveClient({ url: "https://pve1:8006", token: "root@pam!mcp=…", caCert });
 * const { guests } = await pve.resources("vm");
 * const upid = await pve.post<string>(pvePath`/nodes/${"pve1"}/qemu/${100}/status/start`);
 * const outcome = await pve.waitForTask(upid, { onProgress: (p) => log(p.line) });
 * pve.close();
 * ```
 */
export class PveClient {
  /** Cluster name used in messages. */
  readonly name: string;
  /** `<origin>/api2/json`. */
  readonly baseUrl: string;
  readonly #origin: string;
  readonly #auth: Auth;
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  readonly #longTimeoutMs: number;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #insecure: boolean;
  readonly #caCert: boolean;
  readonly #inventoryTtlMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  readonly #log = getLog("pve.client");
  #version: Promise<PveVersion> | undefined;
  #inventory: { at: number; value: Promise<ClusterResources> } | undefined;
  #inventoryEpoch = 0;
  /** `/cluster/resources` reads under way, by type (`""` for all). */
  readonly #inFlight = new Map<string, { epoch: number; pending: Promise<ClusterResources> }>();
  #closed = false;

  /**
   * Creates a client. No request is made until the first call.
   *
   * @throws {PveValidationError} when the URL or credentials are malformed or missing.
   */
  constructor(options: PveClientOptions) {
    this.baseUrl = apiBaseUrl(options.url);
    this.#origin = new URL(this.baseUrl).origin;
    this.name = options.name ?? new URL(this.baseUrl).host;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#longTimeoutMs = options.longTimeoutMs ?? Math.max(120_000, this.#timeoutMs);
    this.#attempts = Math.max(0, Math.min(options.retry?.attempts ?? 2, 5));
    this.#baseDelayMs = options.retry?.baseDelayMs ?? 250;
    this.#maxDelayMs = options.retry?.maxDelayMs ?? 10_000;
    this.#insecure = options.insecure === true;
    this.#caCert = options.caCert !== undefined;
    this.#inventoryTtlMs = options.inventoryTtlMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#auth = this.#makeAuth(options);
    this.#transport = createTransport({
      origin: this.#origin,
      ...(options.caCert === undefined ? {} : { caCert: options.caCert }),
      ...(options.insecure === undefined ? {} : { insecure: options.insecure }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
  }

  #makeAuth(options: PveClientOptions): Auth {
    if (options.token !== undefined) {
      const { tokenId, tokenSecret } = splitToken(options.token);
      return new TokenAuth(tokenId, tokenSecret);
    }
    if (options.tokenId !== undefined || options.tokenSecret !== undefined) {
      if (options.tokenId === undefined || options.tokenSecret === undefined) {
        throw new PveValidationError(
          "Cannot use an API token without both tokenId and tokenSecret: give both, or token " +
            "as USER@REALM!TOKENID=SECRET",
          { errors: { token: "tokenId and tokenSecret go together" } },
        );
      }
      return new TokenAuth(options.tokenId, options.tokenSecret);
    }
    if (options.username !== undefined && options.password !== undefined) {
      return new TicketAuth({
        username: options.username,
        password: options.password,
        login: (params, signal) => this.#login(params, signal),
        ...(options.ticketRenewAfterMs === undefined
          ? {}
          : { renewAfterMs: options.ticketRenewAfterMs }),
        now: this.#now,
      });
    }
    throw new PveValidationError(
      `Cannot connect to ${this.name} without credentials: give an API token (token, or ` +
        "tokenId + tokenSecret) or username + password",
      { errors: { credentials: "missing" } },
    );
  }

  /** How this client authenticates (`token` or `ticket`) and as whom (never the secret). */
  get identity(): { kind: "token" | "ticket"; principal: string } {
    return { kind: this.#auth.kind, principal: this.#auth.principal };
  }

  /**
   * Sends one request and returns the unwrapped `data` (validated by `schema` if given).
   * The path is checked (see `checkPvePath`) before anything is sent. GETs are retried on
   * transient failures; other methods never are, and they invalidate the inventory cache.
   *
   * @throws {PveError} (a subclass saying why) on any failure; the signal's reason on abort.
   */
  async request<T = unknown>(
    method: PveMethod,
    path: string,
    options: PveRequestOptions<T> = {},
  ): Promise<T> {
    const envelope = await this.requestEnvelope(method, path, options);
    return this.#parse(method, path, envelope.data, options.schema);
  }

  /** Like {@linkcode request}, but returns the envelope (`data`, `total`, `changes`) unparsed. */
  async requestEnvelope(
    method: PveMethod,
    path: string,
    options: PveRequestOptions<unknown> = {},
  ): Promise<PveEnvelope> {
    if (this.#closed) {
      throw new PveError(`The Proxmox VE client for ${this.name} is closed: create a new one`);
    }
    const apiPath = checkPvePath(path);
    options.signal?.throwIfAborted();
    if (method !== "GET") this.invalidateInventory();
    const secrets = this.#requestSecrets(options.params);
    let retries = 0;
    let relogged = false;
    for (;;) {
      const attempt = await this.#once(method, apiPath, options, secrets);
      if (attempt.envelope !== undefined) return attempt.envelope;
      const error = attempt.error!;
      if (attempt.authRejected !== undefined && !relogged && this.#auth.kind === "ticket") {
        relogged = true;
        this.#auth.invalidate(attempt.authRejected.generation);
        this.#log.info("Ticket rejected for {method} {path}; logging in again", {
          method,
          path: apiPath,
        });
        continue;
      }
      if (retries < this.#attempts && shouldRetry(method, error)) {
        const delay = backoffDelay(retries, {
          baseDelayMs: this.#baseDelayMs,
          maxDelayMs: this.#maxDelayMs,
          ...(attempt.retryAfterMs === undefined ? {} : { retryAfterMs: attempt.retryAfterMs }),
        });
        retries++;
        this.#log.debug("Retrying {method} {path} in {delay} ms after: {error}", {
          method,
          path: apiPath,
          delay: Math.round(delay),
          error: error.message,
        });
        await this.#sleep(delay, options.signal);
        continue;
      }
      if (method !== "GET" && attempt.indefinite !== undefined) {
        throw outcomeUnknown(error, attempt.indefinite);
      }
      throw error;
    }
  }

  /** `GET` shorthand: parameters go into the query string. */
  get<T = unknown>(path: string, params?: PveParams, options?: PveShorthandOptions<T>): Promise<T> {
    return this.request<T>("GET", path, { ...options, ...(params ? { params } : {}) });
  }

  /** `POST` shorthand: parameters are form-encoded. Never retried. */
  post<T = unknown>(
    path: string,
    params?: PveParams,
    options?: PveShorthandOptions<T>,
  ): Promise<T> {
    return this.request<T>("POST", path, { ...options, ...(params ? { params } : {}) });
  }

  /** `PUT` shorthand: parameters are form-encoded. Never retried. */
  put<T = unknown>(path: string, params?: PveParams, options?: PveShorthandOptions<T>): Promise<T> {
    return this.request<T>("PUT", path, { ...options, ...(params ? { params } : {}) });
  }

  /** `DELETE` shorthand: parameters go into the query string. Never retried. */
  delete<T = unknown>(
    path: string,
    params?: PveParams,
    options?: PveShorthandOptions<T>,
  ): Promise<T> {
    return this.request<T>("DELETE", path, { ...options, ...(params ? { params } : {}) });
  }

  /** `GET /version`, read once and cached (a failure is not cached). */
  version(options: { signal?: AbortSignal } = {}): Promise<PveVersion> {
    if (this.#version === undefined) {
      const pending = this.get("/version", undefined, {
        schema: versionSchema,
        ...(options.signal ? { signal: options.signal } : {}),
      }).then(parseVersion);
      pending.catch(() => {
        if (this.#version === pending) this.#version = undefined;
      });
      this.#version = pending;
    }
    return this.#version;
  }

  /** Whether the cluster runs PVE 9 or newer (reads `/version` once). */
  async isPve9(): Promise<boolean> {
    return (await this.version()).isPve9;
  }

  /**
   * One `GET /cluster/resources` (optionally filtered by `type`), normalized: guests,
   * nodes, storage, pools and the offline nodes. An unfiltered answer refreshes the cache
   * {@linkcode inventory} and `resolveGuest` use.
   */
  async resources(
    type?: "vm" | "storage" | "node" | "sdn",
    options: { signal?: AbortSignal } = {},
  ): Promise<ClusterResources> {
    const epoch = this.#inventoryEpoch;
    const key = type ?? "";
    // Single flight: concurrent reads of the same inventory share one request and one parsed
    // copy, unless a write came in between (it bumps the epoch). The shared read does not use
    // a caller's signal; each caller stops waiting on its own.
    let flight = this.#inFlight.get(key);
    if (flight === undefined || flight.epoch !== epoch) {
      const pending = this.#fetchResources(type);
      flight = { epoch, pending };
      this.#inFlight.set(key, flight);
      const settled = () => {
        if (this.#inFlight.get(key)?.pending === pending) this.#inFlight.delete(key);
      };
      pending.then(settled, settled);
      if (type === undefined) {
        // A failure is never cached: the next call asks again instead of repeating the error.
        pending.catch(() => {
          if (this.#inventory?.value === pending) this.#inventory = undefined;
        });
        this.#inventory = { at: this.#now(), value: pending };
      }
    }
    return await abortable(flight.pending, options.signal);
  }

  async #fetchResources(type: string | undefined): Promise<ClusterResources> {
    const data = await this.get("/cluster/resources", type === undefined ? undefined : { type });
    // One pass coerces and normalizes (no validated copy of every entry). Only an answer it
    // rejects goes through the schema, so a malformed answer fails with the same message as
    // any other response schema.
    return readResources(data) ??
      normalizeResources(this.#parse("GET", "/cluster/resources", data, clusterResourcesSchema));
  }

  /**
   * The unfiltered inventory, reused for `inventoryTtlMs` (default 5 s): for lookups that may
   * be a few seconds old, such as resolving a guest or suggesting names while a user types.
   * Any non-GET request through this client drops it, a failed read is not kept, and reads
   * under way are shared (see {@linkcode resources}, which always reads afresh).
   */
  inventory(options: { signal?: AbortSignal } = {}): Promise<ClusterResources> {
    const cached = this.#inventory;
    if (cached !== undefined && this.#now() - cached.at < this.#inventoryTtlMs) {
      return abortable(cached.value, options.signal);
    }
    return this.resources(undefined, options);
  }

  /**
   * Resolves a vmid or a unique guest name to its node and type, using a short-lived
   * inventory cache (any non-GET request through this client invalidates it; a miss
   * refreshes it once).
   *
   * @throws {PveNotFoundError} when no guest matches.
   * @throws {PveValidationError} when a name matches several guests (their vmids are listed).
   */
  async resolveGuest(
    ref: number | string,
    options: { signal?: AbortSignal; fresh?: boolean } = {},
  ): Promise<GuestRef> {
    const signal = options.signal ? { signal: options.signal } : {};
    let inventory = options.fresh
      ? await this.resources(undefined, signal)
      : await this.inventory(signal);
    let found = resolveGuestIn(inventory.guests, ref);
    if (found === undefined && !options.fresh) {
      this.invalidateInventory();
      inventory = await this.resources(undefined, signal);
      found = resolveGuestIn(inventory.guests, ref);
    }
    if (found === undefined) throw guestNotFound(ref, this.name);
    return found;
  }

  /** Drops the cached inventory (called on every non-GET request). */
  invalidateInventory(): void {
    this.#inventory = undefined;
    this.#inventoryEpoch++;
  }

  /**
   * Waits for a task (UPID) to finish, reporting log lines and percentages through
   * `onProgress`. Returns an outcome and never throws for a failed task (see
   * `assertTaskSucceeded`); on timeout or abort it returns the UPID without stopping the task.
   */
  waitForTask(upid: string, options: WaitForTaskOptions = {}): Promise<TaskOutcome> {
    return waitForTask(
      {
        taskStatus: (node, id, signal) =>
          this.get(pvePath`/nodes/${node}/tasks/${id}/status`, undefined, {
            schema: taskStatusSchema,
            ...(signal ? { signal } : {}),
          }),
        taskLog: async (node, id, start, signal) => {
          const lines = await this.get(
            pvePath`/nodes/${node}/tasks/${id}/log`,
            { start, limit: 0 },
            { ...(signal ? { signal } : {}) },
          );
          return this.#parse("GET", "/nodes/{node}/tasks/{upid}/log", lines, taskLogSchema);
        },
      },
      upid,
      options,
    );
  }

  /** Releases pooled connections; the client cannot be used afterwards. */
  close(): void {
    this.#closed = true;
    this.#transport.close();
  }

  async #login(
    params: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const secrets = [params.password ?? "", ...this.#auth.secrets()];
    const attempt = await this.#send(
      "POST",
      "/access/ticket",
      { params, ...(signal ? { signal } : {}) },
      secrets,
      { headers: {}, generation: 0, csrf: false },
    );
    if (attempt.envelope !== undefined) return attempt.envelope.data;
    const error = attempt.error!;
    if (error.status === 401) {
      throw new PveAuthError(
        `Login to ${this.name} as "${this.#auth.principal}" failed` +
          (error.pveMessage ? `: ${error.pveMessage}` : "") +
          ". Check the user name (user@realm), the realm and the password, and that the user " +
          "is enabled and not expired",
        { status: 401, method: "POST", path: "/access/ticket" },
      );
    }
    throw error;
  }

  #requestSecrets(params: PveParams | undefined): string[] {
    const out = this.#auth.secrets();
    if (params !== undefined) {
      for (const [key, value] of Object.entries(params)) {
        if (SENSITIVE_PARAM_RE.test(key) && typeof value === "string") out.push(value);
      }
    }
    return out;
  }

  async #once(
    method: PveMethod,
    apiPath: string,
    options: PveRequestOptions<unknown>,
    secrets: string[],
  ): Promise<Attempt> {
    let auth;
    try {
      auth = await this.#auth.headersFor(method, options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (error instanceof PveError) return { error };
      throw error;
    }
    const attempt = await this.#send(method, apiPath, options, [
      ...secrets,
      ...this.#auth.secrets(),
    ], auth);
    // A 401 to a login request rejects its own parameters, not this client's ticket.
    if (
      attempt.error?.status === 401 && this.#auth.kind === "ticket" && apiPath !== "/access/ticket"
    ) {
      attempt.authRejected = { generation: auth.generation };
    }
    return attempt;
  }

  async #send(
    method: PveMethod,
    apiPath: string,
    options: PveRequestOptions<unknown>,
    secrets: string[],
    auth: { headers: Record<string, string>; generation: number; csrf: boolean },
  ): Promise<Attempt> {
    const encoded = encodeParams(options.params, { method, path: apiPath });
    const query = method === "GET" || method === "DELETE" ? encoded.toString() : "";
    const url = this.baseUrl + (apiPath === "/" ? "/" : apiPath) + (query ? `?${query}` : "");
    const headers: Record<string, string> = { accept: "application/json", ...auth.headers };
    let body: string | undefined;
    if (method === "POST" || method === "PUT") {
      body = encoded.toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
      if (body.length > MAX_BODY_BYTES) {
        return {
          error: new PveValidationError(
            `Cannot send ${method} ${readablePath(apiPath)}: the encoded parameters are ` +
              `${Math.ceil(body.length / 1024)} KiB and Proxmox VE accepts at most 512 KiB. ` +
              "Send less (e.g. a shorter description or snippet) or split the change",
            { method, path: apiPath, errors: { _root: "request body larger than 512 KiB" } },
          ),
        };
      }
    }
    const timeoutMs = options.timeoutMs ??
      (SLOW_PATHS.some((re) => re.test(apiPath)) ? this.#longTimeoutMs : this.#timeoutMs);
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException("timeout", "TimeoutError")),
      timeoutMs,
    );
    const signal = options.signal === undefined
      ? timeout.signal
      : AbortSignal.any([options.signal, timeout.signal]);
    const noAnswer = `no answer within ${timeoutMs} ms`;
    const timedOut = () =>
      new PveTimeoutError(
        `Proxmox VE at ${this.name} did not answer ${method} ${
          readablePath(apiPath)
        } within ${timeoutMs} ms: ` +
          "the cluster may be overloaded or a node slow; try again, or raise the timeout",
        { method, path: apiPath, timeoutMs },
      );
    try {
      let response: Response;
      try {
        response = await this.#transport.fetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal,
        });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (timeout.signal.aborted) return { error: timedOut(), indefinite: noAnswer };
        return brokenConnection(
          transportError(error, {
            method,
            path: apiPath,
            origin: this.#origin,
            insecure: this.#insecure,
            caCert: this.#caCert,
          }),
        );
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (timeout.signal.aborted) return { error: timedOut(), indefinite: noAnswer };
        // The answer started, so the request reached the server: its outcome is unknown.
        const failed = transportError(error, {
          method,
          path: apiPath,
          origin: this.#origin,
          insecure: this.#insecure,
          caCert: this.#caCert,
        });
        return { error: failed, indefinite: "the connection broke while the answer arrived" };
      }
      if (text.length >= LARGE_ANSWER) collectAfterLargeAnswer();
      let json: unknown;
      let isJson = false;
      if (text.trim() !== "") {
        try {
          json = JSON.parse(text);
          isJson = true;
        } catch {
          isJson = false;
        }
      }
      const serverDate = response.headers.get("date");
      if (serverDate !== null) this.#auth.observeServerTime?.(Date.parse(serverDate));
      this.#log.debug("{method} {path} → {status}", {
        method,
        path: apiPath,
        status: response.status,
      });
      if (response.ok) {
        if (!isJson || typeof json !== "object" || json === null || !("data" in json)) {
          return {
            error: new PveError(
              `Unexpected answer from ${this.name} for ${method} ${
                readablePath(apiPath)
              } (${response.status}): ` +
                "not a Proxmox VE JSON envelope. Check that the URL points at the PVE API " +
                "(https://host:8006)",
              { status: response.status, method, path: apiPath },
            ),
            indefinite: `HTTP ${response.status} without a Proxmox VE answer`,
          };
        }
        const record = json as Record<string, unknown>;
        const envelope: PveEnvelope = { data: record.data };
        const total = typeof record.total === "number"
          ? record.total
          : typeof record.total === "string" && /^\d+$/.test(record.total)
          ? Number(record.total)
          : undefined;
        if (total !== undefined) envelope.total = total;
        if (typeof record.changes === "string") envelope.changes = record.changes;
        return { envelope };
      }
      const error = errorFromResponse({
        status: response.status,
        method,
        path: apiPath,
        body: isJson ? redactBody(json, secrets) : undefined,
        auth: this.#auth.kind === "ticket" && apiPath === "/access/ticket"
          ? "none"
          : this.#auth.kind,
        principal: this.#auth.principal,
        csrfSent: auth.csrf,
        cluster: this.name,
        reason: redactSecrets(response.statusText, secrets),
      });
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      const pveAnswer = isJson && typeof json === "object" && json !== null && "data" in json;
      const indefinite = indefiniteStatus(response.status, pveAnswer);
      return {
        error,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(indefinite === undefined ? {} : { indefinite }),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  #parse<T>(method: string, path: string, data: unknown, schema: z.ZodType<T> | undefined): T {
    if (schema === undefined) return data as T;
    const result = schema.safeParse(data);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0
      ? ""
      : ` at ${issue.path.map(String).join(".")}`;
    throw new PveError(
      `Unexpected answer from ${this.name} for ${method} ${readablePath(path)}${where}: ` +
        `${issue?.message ?? "schema mismatch"}. This PVE version may differ from what the ` +
        "client expects; please report it",
      { method, path, cause: result.error },
    );
  }
}

const taskLogSchema = taskLogLineSchema.array();

/**
 * What a status means for a write's outcome: 502–504 and 595–599 come from a proxy or from
 * pveproxy failing to reach (or hear back from) a node, and a 500 without PVE's JSON body is a
 * proxy's page — the request may have been carried out. PVE's own errors (its 500 `die`, 4xx)
 * are definite: the handler refused before acting.
 */
function indefiniteStatus(status: number, pveAnswer: boolean): string | undefined {
  if (status === 502 || status === 503 || status === 504) {
    return `HTTP ${status} from a proxy or gateway`;
  }
  if (status >= 595 && status <= 599) return `HTTP ${status}: a node did not answer the API proxy`;
  if (status === 500 && !pveAnswer) {
    return "HTTP 500 without a Proxmox VE answer, e.g. a proxy's page";
  }
  return undefined;
}

/** A transport failure; after a reset (or an unclassified failure) a write's outcome is unknown. */
function brokenConnection(error: PveError): Attempt {
  const sent = error instanceof PveConnectionError &&
    (error.failure === "reset" || error.failure === "other");
  return sent ? { error, indefinite: "the connection broke before an answer" } : { error };
}

function redactBody(body: unknown, secrets: string[]): unknown {
  if (typeof body !== "object" || body === null) return body;
  const record = { ...(body as Record<string, unknown>) };
  if (typeof record.message === "string") record.message = redactSecrets(record.message, secrets);
  if (typeof record.errors === "object" && record.errors !== null) {
    const errors: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record.errors as Record<string, unknown>)) {
      errors[k] = redactSecrets(String(v), secrets);
    }
    record.errors = errors;
  }
  return record;
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `promise`, or the signal's reason as soon as it aborts (the promise itself goes on). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
