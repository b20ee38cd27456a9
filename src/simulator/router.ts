/**
 * The contract between the simulator's HTTP layer and its route modules.
 *
 * A route module exports `routes: Route[]`. The HTTP layer (`http.ts`) authenticates,
 * resolves `proxyto` nodes, validates and coerces parameters against the schema facts for
 * `"<METHOD> <path template>"`, evaluates the schema's permission check, and only then calls
 * the handler. A handler returns the value of `data` (or {@linkcode withTotal}), or throws
 * an `HttpError` (see `errors.ts`). Work that PVE forks into a worker goes through
 * {@linkcode Sim.startTask}, which returns the UPID at once.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { SimState } from "./state.ts";

/** Who is calling. */
export interface AuthInfo {
  /** How the request authenticated. */
  kind: "ticket" | "token" | "none";
  /** `user@realm` (for a token: the token's user). */
  userid: string;
  /** Full token id `user@realm!name` when `kind` is `token`. */
  tokenid?: string;
}

/**
 * Request parameters after validation: path, query and body merged (query wins), typed by
 * the schema: `integer`/`number` → number, `boolean` → 0 | 1, `array` → string[],
 * everything else (including `*-list` formats) → string. `_dc` is dropped.
 */
export type Params = Record<string, string | number | string[]>;

/** The task API a task body sees. */
export interface TaskRunner {
  /** The task's UPID. */
  readonly upid: string;
  /** Aborted when the task is stopped (`DELETE .../tasks/{upid}`) or the cluster shuts down. */
  readonly signal: AbortSignal;
  /** Appends one line to the task log. */
  log(line: string): void;
  /** Appends `WARN: <line>` and counts a warning (the task ends `WARNINGS: n`). */
  warn(line: string): void;
  /** Sleeps `seconds` of simulated task work; throws if the task is stopped meanwhile. */
  sleep(seconds: number): Promise<void>;
}

/**
 * A task body. Returning ends the task `OK` (or `WARNINGS: n`); throwing ends it with
 * `TASK ERROR: <message>` (newlines replaced by spaces).
 */
export type TaskBody = (task: TaskRunner) => Promise<void>;

/** What identifies a new task. */
export interface TaskSpec {
  node: string;
  /** Worker type, e.g. `qmstart`. */
  type: string;
  /** Worker id, e.g. the vmid (may be empty). */
  id: string;
}

/** The cluster services a handler may use. */
export interface Sim {
  readonly state: SimState;
  readonly clock: Clock;
  /** Whether `auth` has `priv` on `path` (ACL inheritance, roles, token privilege separation). */
  can(auth: AuthInfo, path: string, priv: string): boolean;
  /** Throws 403 `Permission check failed (<path>, <priv>)` unless {@linkcode can}. */
  require(auth: AuthInfo, path: string, priv: string): void;
  /** Forks a task and returns its UPID at once; the body runs on the cluster clock. */
  startTask(auth: AuthInfo, spec: TaskSpec, body: TaskBody): string;
}

/** Everything a handler gets. */
export interface RouteContext {
  sim: Sim;
  auth: AuthInfo;
  params: Params;
  method: Method;
  /** Request path below `/api2/json`, as sent (decoded). */
  path: string;
}

/** An HTTP method PVE's API uses. */
export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** A response with PVE's extra `total` key next to `data`. */
export interface WithTotal {
  readonly [TOTAL]: true;
  data: unknown;
  total: number;
}

const TOTAL: unique symbol = Symbol("withTotal");

/** Wraps `data` so the envelope also carries `total` (task lists, task logs). */
export function withTotal(data: unknown, total: number): WithTotal {
  return { [TOTAL]: true, data, total };
}

/** Whether a handler result carries a `total`. */
export function isWithTotal(value: unknown): value is WithTotal {
  return typeof value === "object" && value !== null && TOTAL in value;
}

/** A response with PVE's extra `changes` key next to `data` (pending network edits). */
export interface WithChanges {
  readonly [CHANGES]: true;
  data: unknown;
  /** The diff of the pending configuration against the running one. */
  changes: string;
}

const CHANGES: unique symbol = Symbol("withChanges");

/** Wraps `data` so the envelope also carries `changes` (`set_result_attrib('changes', …)`). */
export function withChanges(data: unknown, changes: string): WithChanges {
  return { [CHANGES]: true, data, changes };
}

/** Whether a handler result carries `changes`. */
export function isWithChanges(value: unknown): value is WithChanges {
  return typeof value === "object" && value !== null && CHANGES in value;
}

/** A raw (non-JSON) answer, as PVE sends for `download=1` (e.g. a task log file). */
export interface Download {
  readonly [DOWNLOAD]: true;
  /** The file's content. */
  body: string;
  /** Its `Content-Type`, e.g. `text/plain`. */
  contentType: string;
}

const DOWNLOAD: unique symbol = Symbol("download");

/** Answers `body` as a raw file instead of the JSON envelope. */
export function download(body: string, contentType: string): Download {
  return { [DOWNLOAD]: true, body, contentType };
}

/** Whether a handler result is a raw file. */
export function isDownload(value: unknown): value is Download {
  return typeof value === "object" && value !== null && DOWNLOAD in value;
}

/** A handler. Return the `data` value (undefined becomes `null`). */
export type Handler = (ctx: RouteContext) => unknown | Promise<unknown>;

/** One implemented endpoint. `path` is the schema's template, e.g. `/nodes/{node}/qemu/{vmid}/status/start`. */
export interface Route {
  method: Method;
  path: string;
  handler: Handler;
}

/** Convenience for building route tables. */
export function route(method: Method, path: string, handler: Handler): Route {
  return { method, path, handler };
}
