/**
 * The simulator's control API under `/_sim/` (never under `/api2`): fault injection,
 * ticket expiry, the clock, node and guest state, planted problems (node usage, failed
 * services, subscriptions, full storage, finished tasks, HA states, guests that fail to start),
 * and the request log. Only loopback
 * peers may use it. Responses are plain JSON (no PVE envelope).
 *
 * @module
 */

import type { TicketAuthority } from "./auth.ts";
import type { AuthInfo, Sim } from "./router.ts";
import { storageHeld } from "./routes/storage.ts";
import type { TwinIdentity } from "./seeds/twin.ts";
import type { NodeState, Quirks, ServiceState, Subscription } from "./state.ts";

/** A fault as the control API accepts it. */
export interface FaultSpec {
  /** HTTP method, or `*` for any. */
  method: string;
  /** Path below `/api2/json`; `*` matches one segment, `**` any suffix. */
  path: string;
  /** Answer with this status (PVE-style body) instead of the real response. */
  status?: number;
  /** Reason phrase and message for `status`. */
  reason?: string;
  /**
   * Answer `status` with this text as an HTML page instead of PVE's JSON body: what a reverse
   * proxy or load balancer in front of PVE sends (its own 500/502/503 page).
   */
  body?: string;
  /** Wait this long first (then continue normally unless `status` or `reset`). */
  delay_ms?: number;
  /** Destroy the connection without a response. */
  reset?: boolean;
  /** Fire this many times (omitted: until cleared). */
  count?: number;
}

/** An installed fault. */
export interface Fault extends FaultSpec {
  id: number;
  /** How many more times it fires (`null`: until cleared). */
  remaining: number | null;
  /** How many times it has fired. */
  hits: number;
}

function matchSegments(pattern: readonly string[], path: readonly string[]): boolean {
  const [head, ...rest] = pattern;
  if (head === undefined) return path.length === 0;
  if (head === "**") return true;
  const [segment, ...tail] = path;
  if (segment === undefined) return false;
  if (head !== "*" && head !== segment) return false;
  return matchSegments(rest, tail);
}

function segments(path: string): string[] {
  return path.split("/").filter((part) => part !== "");
}

/** The installed faults, in installation order. */
export class FaultRegistry {
  #faults: Fault[] = [];
  #nextId = 1;

  /** Installs a fault and returns its id. */
  add(spec: FaultSpec): number {
    const id = this.#nextId++;
    this.#faults.push({ ...spec, id, remaining: spec.count ?? null, hits: 0 });
    return id;
  }

  /** All installed faults. */
  list(): Fault[] {
    return this.#faults.map((fault) => ({ ...fault }));
  }

  /** Removes one fault; returns whether it existed. */
  remove(id: number): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((fault) => fault.id !== id);
    return this.#faults.length !== before;
  }

  /** Removes every fault. */
  clear(): void {
    this.#faults = [];
  }

  /** Takes the first fault matching the request (counting it down), if any. */
  take(method: string, path: string): Fault | undefined {
    const requested = segments(path);
    const fault = this.#faults.find((candidate) =>
      (candidate.method === "*" || candidate.method.toUpperCase() === method) &&
      matchSegments(segments(candidate.path), requested)
    );
    if (fault === undefined) return undefined;
    fault.hits++;
    if (fault.remaining !== null) {
      fault.remaining--;
      if (fault.remaining <= 0) this.remove(fault.id);
    }
    return { ...fault };
  }
}

/** One request to `/api2`, as the request log keeps it. */
export interface RequestLogEntry {
  seq: number;
  /** Simulated epoch seconds. */
  time: number;
  method: string;
  /** Path below `/api2/json` (or the full path when outside it). */
  path: string;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  auth: "ticket" | "token" | "none";
  userid: string | null;
  status: number;
  /** The per-parameter errors of a 400 answer (PVE's `errors` map), when it had them. */
  errors?: Record<string, string>;
}

const SECRET_KEY = /password|secret|ticket|challenge|^otp$/i;

/** Replaces the values of secret-bearing parameters by `[redacted]`. */
export function redactParams(params: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    result[key] = SECRET_KEY.test(key) ? "[redacted]" : value;
  }
  return result;
}

/** The request log, capped to the most recent entries. */
export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #seq = 0;
  readonly #cap: number;

  constructor(cap = 10_000) {
    this.#cap = cap;
  }

  /** Appends an entry (secrets redacted) and returns its sequence number. */
  append(entry: Omit<RequestLogEntry, "seq">): number {
    const seq = ++this.#seq;
    this.#entries.push({
      ...entry,
      seq,
      query: redactParams(entry.query),
      body: redactParams(entry.body),
    });
    if (this.#entries.length > this.#cap) {
      this.#entries.splice(0, this.#entries.length - this.#cap);
    }
    return seq;
  }

  /** Entries with a sequence number greater than `since`. */
  since(since = 0): RequestLogEntry[] {
    return this.#entries.filter((entry) => entry.seq > since);
  }

  /** Forgets every entry (sequence numbers keep counting). */
  clear(): void {
    this.#entries = [];
  }
}

/** What the control API acts on. */
export interface ControlContext {
  sim: Sim;
  tickets: TicketAuthority;
  faults: FaultRegistry;
  requests: RequestLog;
  /** The twin file the cluster was booted from, if any. */
  twin?: TwinIdentity;
}

/** A control API answer. */
export interface ControlResponse {
  status: number;
  body: unknown;
}

/** The control endpoints, with one-line docs (`GET /_sim/`). */
export const CONTROL_ENDPOINTS: readonly { method: string; path: string; doc: string }[] = [
  { method: "GET", path: "/_sim/", doc: "This list." },
  {
    method: "POST",
    path: "/_sim/faults",
    doc:
      'Install a fault: {"method","path" (* one segment, ** any suffix),"status","reason","body" (a proxy\'s HTML page instead of PVE\'s JSON),"delay_ms","reset","count"} -> {"id"}.',
  },
  { method: "GET", path: "/_sim/faults", doc: "List installed faults." },
  {
    method: "GET",
    path: "/_sim/twin",
    doc:
      'The twin file this cluster was booted from: {"id","cluster","captured_at"} (404 when it was not).',
  },
  {
    method: "POST",
    path: "/_sim/quirks",
    doc:
      'Serve odd but real variants: {"sparse_task_rows": bool (task rows without type, starttime, status, user), "json_booleans": bool (true/false where PVE sends 0/1)} -> the quirks now on.',
  },
  { method: "GET", path: "/_sim/quirks", doc: "The quirks now on." },
  {
    method: "POST",
    path: "/_sim/tasks/warnings",
    doc:
      'The next successful tasks of a type end with warnings: {"type":"qmstart" or "*","lines":["…"],"count"} -> {"type","warnings"}.',
  },
  { method: "DELETE", path: "/_sim/tasks/warnings", doc: "Remove injected task warnings." },
  { method: "DELETE", path: "/_sim/faults", doc: "Remove every fault." },
  { method: "DELETE", path: "/_sim/faults/{id}", doc: "Remove one fault." },
  { method: "POST", path: "/_sim/tickets/expire", doc: "Invalidate every issued ticket." },
  {
    method: "POST",
    path: "/_sim/clock/advance",
    doc: 'Move simulated time forward: {"seconds"} -> {"now"}.',
  },
  { method: "POST", path: "/_sim/nodes/{node}/offline", doc: "Take a node offline." },
  { method: "POST", path: "/_sim/nodes/{node}/online", doc: "Bring a node back online." },
  {
    method: "POST",
    path: "/_sim/storage/{storage}/offline",
    doc: "Make a storage unreachable (NFS export or backup server down): inactive everywhere.",
  },
  {
    method: "POST",
    path: "/_sim/storage/{storage}/online",
    doc: "Make a storage reachable again.",
  },
  {
    method: "POST",
    path: "/_sim/guests/{vmid}/lock",
    doc: 'Set a guest config lock: {"lock":"backup"}.',
  },
  { method: "DELETE", path: "/_sim/guests/{vmid}/lock", doc: "Remove a guest config lock." },
  {
    method: "POST",
    path: "/_sim/guests/{vmid}/start-failure",
    doc:
      'Make the guest\'s next starts fail: {"message","count"} (default: QEMU\'s or LXC\'s own message, once).',
  },
  {
    method: "DELETE",
    path: "/_sim/guests/{vmid}/start-failure",
    doc: "Let the guest start again.",
  },
  {
    method: "POST",
    path: "/_sim/nodes/{node}/usage",
    doc: 'Set a node\'s memory and/or root disk usage: {"mem_fraction","disk_fraction"}.',
  },
  {
    method: "POST",
    path: "/_sim/nodes/{node}/services/{service}",
    doc: 'Set a service\'s state: {"state":"failed"|"dead"|"running"}.',
  },
  {
    method: "POST",
    path: "/_sim/nodes/{node}/subscription",
    doc: 'Set the subscription: {"status":"active"|"expired"|"invalid"|"suspended"|"new","level"}.',
  },
  { method: "DELETE", path: "/_sim/nodes/{node}/subscription", doc: "Remove the key." },
  {
    method: "POST",
    path: "/_sim/storage/{storage}/usage",
    doc: 'Shrink a storage so it is this full on a node: {"node","used_fraction"}.',
  },
  {
    method: "POST",
    path: "/_sim/tasks",
    doc:
      'Run a task that ends with "status" (OK, "WARNINGS: n" or an error): {"node","type","id","user","status","log"} -> {"upid"}.',
  },
  {
    method: "POST",
    path: "/_sim/ha/{sid}/state",
    doc: 'Plant the CRM state of an HA resource: {"state":"error"|"fence"|"recovery"|…}.',
  },
  { method: "DELETE", path: "/_sim/ha/{sid}/state", doc: "Let the CRM state follow again." },
  {
    method: "GET",
    path: "/_sim/requests",
    doc: "The request log (?since=SEQ for entries after SEQ).",
  },
  { method: "DELETE", path: "/_sim/requests", doc: "Clear the request log." },
];

function bad(message: string, status = 400): ControlResponse {
  return { status, body: { error: message } };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/** The quirks `POST /_sim/quirks` switches, by body key. */
const QUIRK_KEYS: ReadonlyMap<string, keyof Quirks> = new Map([
  ["sparse_task_rows", "sparseTaskRows"],
  ["json_booleans", "jsonBooleans"],
]);

function parseFault(body: Record<string, unknown>): FaultSpec | string {
  const { method, path, status, reason, delay_ms: delay, reset, count, body: page } = body;
  if (typeof method !== "string" || !/^(\*|GET|POST|PUT|DELETE)$/i.test(method)) {
    return 'Invalid fault "method": expected GET, POST, PUT, DELETE or *';
  }
  if (typeof path !== "string" || !path.startsWith("/")) {
    return 'Invalid fault "path": expected a path below /api2/json starting with "/"';
  }
  const spec: FaultSpec = { method: method.toUpperCase(), path };
  if (status !== undefined) {
    if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 999) {
      return 'Invalid fault "status": expected an HTTP status code';
    }
    spec.status = status;
  }
  if (reason !== undefined) {
    if (typeof reason !== "string") return 'Invalid fault "reason": expected a string';
    spec.reason = reason;
  }
  if (page !== undefined) {
    if (typeof page !== "string") return 'Invalid fault "body": expected a string';
    if (spec.status === undefined) return 'Invalid fault "body": it needs a "status"';
    spec.body = page;
  }
  if (delay !== undefined) {
    if (typeof delay !== "number" || delay < 0) {
      return 'Invalid fault "delay_ms": expected a number >= 0';
    }
    spec.delay_ms = delay;
  }
  if (reset !== undefined) {
    if (typeof reset !== "boolean") return 'Invalid fault "reset": expected a boolean';
    spec.reset = reset;
  }
  if (count !== undefined && count !== null) {
    if (typeof count !== "number" || !Number.isInteger(count) || count < 1) {
      return 'Invalid fault "count": expected an integer >= 1';
    }
    spec.count = count;
  }
  if (spec.status === undefined && !spec.reset && spec.delay_ms === undefined) {
    return "Invalid fault: give at least one of status, reset or delay_ms";
  }
  return spec;
}

function fraction(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 1
    ? value
    : undefined;
}

const SERVICE_STATES: Readonly<Record<string, ServiceState>> = {
  failed: { state: "failed", "active-state": "failed", "unit-state": "enabled" },
  dead: { state: "dead", "active-state": "inactive", "unit-state": "enabled" },
};

const SUBSCRIPTION_STATUSES = new Set(["new", "active", "invalid", "expired", "suspended"]);
const LEVELS: Readonly<Record<string, string>> = {
  c: "Community",
  b: "Basic",
  s: "Standard",
  p: "Premium",
};

/** `/_sim/nodes/{node}/usage|services/{service}|subscription`; undefined when none matches. */
function nodeControl(
  node: NodeState,
  method: string,
  rest: readonly string[],
  body: Record<string, unknown>,
): ControlResponse | undefined {
  const [what, name] = rest;
  if (what === "usage" && rest.length === 1 && method === "POST") {
    const mem = body["mem_fraction"];
    const disk = body["disk_fraction"];
    if (
      (mem !== undefined && fraction(mem) === undefined) ||
      (disk !== undefined && fraction(disk) === undefined)
    ) {
      return bad('Invalid usage: "mem_fraction" and "disk_fraction" are numbers from 0 to 1');
    }
    if (mem === undefined && disk === undefined) {
      return bad('Invalid usage: give "mem_fraction" and/or "disk_fraction"');
    }
    if (typeof mem === "number") node.mem = Math.round(node.maxmem * mem);
    if (typeof disk === "number") node.disk = Math.round(node.maxdisk * disk);
    return { status: 200, body: { node: node.name, mem: node.mem, disk: node.disk } };
  }
  if (what === "services" && name !== undefined && rest.length === 2 && method === "POST") {
    const state = body["state"];
    if (state === "running") {
      if (node.services !== undefined) delete node.services[name];
      return { status: 200, body: { node: node.name, service: name, state } };
    }
    const set = typeof state === "string" ? SERVICE_STATES[state] : undefined;
    if (set === undefined) return bad('Invalid "state": expected "failed", "dead" or "running"');
    node.services = { ...node.services, [name]: { ...set } };
    return { status: 200, body: { node: node.name, service: name, state } };
  }
  if (what === "subscription" && rest.length === 1) {
    if (method === "DELETE") {
      delete node.subscription;
      node.level = "";
      return { status: 200, body: { node: node.name, subscription: null } };
    }
    if (method === "POST") {
      const status = body["status"];
      const level = body["level"] ?? "c";
      if (typeof status !== "string" || !SUBSCRIPTION_STATUSES.has(status)) {
        return bad('Invalid "status": expected new, active, invalid, expired or suspended');
      }
      if (typeof level !== "string" || LEVELS[level] === undefined) {
        return bad('Invalid "level": expected c, b, s or p');
      }
      node.subscription = {
        status: status as Subscription["status"],
        key: `pve${node.sockets}${level}-${
          node.name.padEnd(10, "0").slice(0, 10).replace(/[^0-9a-f]/g, "0")
        }`,
        level,
        productname: `Proxmox VE ${LEVELS[level]} Subscription ${node.sockets} CPU/year`,
        regdate: "2025-01-15 00:00:00",
        nextduedate: status === "expired" ? "2025-12-31" : "2027-01-15",
        checktime: 1_767_225_600,
      };
      if (status !== "active") node.subscription.message = `subscription is ${status}`;
      node.level = status === "active" ? level : "";
      return { status: 200, body: { node: node.name, status, level } };
    }
  }
  return undefined;
}

function storageUsageControl(
  ctx: ControlContext,
  id: string,
  body: Record<string, unknown>,
): ControlResponse {
  const storage = ctx.sim.state.storages.get(id);
  if (storage === undefined) return bad(`No storage "${id}" in the simulated cluster`, 404);
  const nodeName = body["node"];
  const wanted = fraction(body["used_fraction"]);
  if (typeof nodeName !== "string" || !ctx.sim.state.nodes.has(nodeName)) {
    return bad('Invalid "node": expected a node of the simulated cluster');
  }
  if (wanted === undefined || wanted <= 0) {
    return bad('Invalid "used_fraction": expected a number above 0 and at most 1');
  }
  const used = storageHeld(ctx.sim.state, storage, nodeName);
  if (used === 0) {
    return bad(`Storage "${id}" holds nothing on "${nodeName}": pick a storage with volumes`);
  }
  const total = Math.ceil(used / wanted);
  if (storage.nodeTotals?.[nodeName] !== undefined) storage.nodeTotals[nodeName] = total;
  else storage.total = total;
  return { status: 200, body: { storage: id, node: nodeName, total, used } };
}

function plantTask(ctx: ControlContext, body: Record<string, unknown>): ControlResponse {
  const { node, type, id, user, status, log } = body;
  if (typeof node !== "string" || !ctx.sim.state.nodes.has(node)) {
    return bad('Invalid "node": expected a node of the simulated cluster');
  }
  if (typeof type !== "string" || !/^[a-z][a-z0-9]*$/.test(type)) {
    return bad('Invalid "type": expected a task type such as "vzdump"');
  }
  if (id !== undefined && (typeof id !== "string" || /[:\s/]/.test(id))) {
    return bad('Invalid "id": expected a task id without ":", "/" or spaces');
  }
  if (user !== undefined && (typeof user !== "string" || !/^[^\s:]+@[^\s:]+$/.test(user))) {
    return bad('Invalid "user": expected user@realm or user@realm!token');
  }
  if (typeof status !== "string" || status === "") {
    return bad('Invalid "status": expected "OK", "WARNINGS: n" or an error message');
  }
  if (log !== undefined && (!Array.isArray(log) || log.some((line) => typeof line !== "string"))) {
    return bad('Invalid "log": expected an array of lines');
  }
  const who = typeof user === "string" ? user : "root@pam";
  const bang = who.indexOf("!");
  const auth: AuthInfo = bang < 0
    ? { kind: "ticket", userid: who }
    : { kind: "token", userid: who.slice(0, bang), tokenid: who };
  const warnings = /^WARNINGS: (\d+)$/.exec(status);
  const upid = ctx.sim.startTask(
    auth,
    { node, type, id: typeof id === "string" ? id : "" },
    (task) => {
      for (const line of (log as string[] | undefined) ?? []) task.log(line);
      if (warnings !== null) {
        for (let i = 0; i < Number(warnings[1]); i++) task.warn("planted warning");
      } else if (status !== "OK") {
        throw new Error(status);
      }
      return Promise.resolve();
    },
  );
  return { status: 200, body: { upid } };
}

/** Answers one control API request. `path` is the full path (starting `/_sim`). */
export function handleControl(
  ctx: ControlContext,
  request: { method: string; path: string; query: URLSearchParams; body: string },
): ControlResponse {
  const { method } = request;
  const parts = segments(request.path).slice(1);
  const body = parseJsonObject(request.body);
  if (body === undefined) return bad("Invalid request body: expected a JSON object");
  const [first, second, third] = parts;
  if (parts.length === 0 && method === "GET") {
    return { status: 200, body: { endpoints: CONTROL_ENDPOINTS } };
  }
  if (first === "faults" && parts.length === 1) {
    if (method === "GET") return { status: 200, body: ctx.faults.list() };
    if (method === "DELETE") {
      ctx.faults.clear();
      return { status: 200, body: { cleared: true } };
    }
    if (method === "POST") {
      const spec = parseFault(body);
      if (typeof spec === "string") return bad(spec);
      return { status: 200, body: { id: ctx.faults.add(spec) } };
    }
  }
  if (first === "twin" && parts.length === 1 && method === "GET") {
    if (ctx.twin === undefined) return bad("This simulator was not booted from a twin file", 404);
    return { status: 200, body: { ...ctx.twin } };
  }
  if (first === "faults" && parts.length === 2 && method === "DELETE") {
    const id = Number(second);
    if (!ctx.faults.remove(id)) {
      return bad(`No fault with id "${second}": list them with GET /_sim/faults`, 404);
    }
    return { status: 200, body: { removed: id } };
  }
  if (first === "tickets" && second === "expire" && parts.length === 2 && method === "POST") {
    ctx.tickets.expireAll();
    return { status: 200, body: { expired: true } };
  }
  if (first === "clock" && second === "advance" && parts.length === 2 && method === "POST") {
    const seconds = body["seconds"];
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      return bad('Invalid "seconds": expected a number >= 0');
    }
    ctx.sim.clock.advance(seconds);
    return { status: 200, body: { now: ctx.sim.clock.now() } };
  }
  if (
    first === "nodes" && second !== undefined && (third === "offline" || third === "online") &&
    parts.length === 3 && method === "POST"
  ) {
    const node = ctx.sim.state.nodes.get(second);
    if (node === undefined) return bad(`No node "${second}" in the simulated cluster`, 404);
    node.online = third === "online";
    return { status: 200, body: { node: second, online: node.online } };
  }
  if (
    first === "storage" && second !== undefined && (third === "offline" || third === "online") &&
    parts.length === 3 && method === "POST"
  ) {
    const storage = ctx.sim.state.storages.get(second);
    if (storage === undefined) return bad(`No storage "${second}" in the simulated cluster`, 404);
    storage.offline = third === "offline";
    return { status: 200, body: { storage: second, online: !storage.offline } };
  }
  if (first === "guests" && third === "start-failure" && parts.length === 3) {
    const guest = ctx.sim.state.guests.get(Number(second));
    if (guest === undefined) return bad(`No guest "${second}" in the simulated cluster`, 404);
    if (method === "DELETE") {
      delete guest.startFailure;
      return { status: 200, body: { vmid: guest.vmid, start_failure: null } };
    }
    if (method === "POST") {
      const { message, count } = body;
      if (message !== undefined && (typeof message !== "string" || message.trim() === "")) {
        return bad('Invalid "message": expected the error text the start task ends with');
      }
      if (
        count !== undefined && (typeof count !== "number" || !Number.isInteger(count) || count < 1)
      ) {
        return bad('Invalid "count": expected an integer >= 1');
      }
      const text = typeof message === "string"
        ? message.trim()
        : guest.type === "qemu"
        ? "start failed: QEMU exited with code 1"
        : `startup for container '${guest.vmid}' failed`;
      guest.startFailure = { message: text, remaining: typeof count === "number" ? count : 1 };
      return {
        status: 200,
        body: { vmid: guest.vmid, message: text, remaining: guest.startFailure.remaining },
      };
    }
  }
  if (first === "guests" && third === "lock" && parts.length === 3) {
    const guest = ctx.sim.state.guests.get(Number(second));
    if (guest === undefined) return bad(`No guest "${second}" in the simulated cluster`, 404);
    if (method === "POST") {
      const lock = body["lock"];
      // "" is the empty-lock quirk: the key present but empty, which means unlocked.
      if (typeof lock !== "string" || !/^[a-z-]*$/.test(lock)) {
        return bad('Invalid "lock": expected a lock name such as "backup", or ""');
      }
      guest.config["lock"] = lock;
      return { status: 200, body: { vmid: guest.vmid, lock } };
    }
    if (method === "DELETE") {
      delete guest.config["lock"];
      return { status: 200, body: { vmid: guest.vmid, lock: null } };
    }
  }
  if (first === "nodes" && second !== undefined && third !== undefined && parts.length >= 3) {
    const node = ctx.sim.state.nodes.get(second);
    if (node === undefined) return bad(`No node "${second}" in the simulated cluster`, 404);
    const answer = nodeControl(node, method, parts.slice(2), body);
    if (answer !== undefined) return answer;
  }
  if (first === "storage" && third === "usage" && parts.length === 3 && method === "POST") {
    return storageUsageControl(ctx, second ?? "", body);
  }
  if (first === "tasks" && parts.length === 1 && method === "POST") {
    return plantTask(ctx, body);
  }
  if (first === "ha" && third === "state" && parts.length === 3) {
    const res = ctx.sim.state.ha.get((second ?? "").replace(/%3A/gi, ":"));
    if (res === undefined) return bad(`No HA resource "${second}" in the simulated cluster`, 404);
    if (method === "DELETE") {
      delete res.crmState;
      return { status: 200, body: { sid: res.sid, state: null } };
    }
    if (method === "POST") {
      const state = body["state"];
      if (typeof state !== "string" || !/^[a-z_ ]+$/.test(state)) {
        return bad('Invalid "state": expected a CRM state such as "error" or "fence"');
      }
      res.crmState = state;
      return { status: 200, body: { sid: res.sid, state } };
    }
  }
  if (first === "tasks" && second === "warnings" && parts.length === 2) {
    const injected = ctx.sim.state.taskWarnings;
    if (method === "DELETE") {
      injected.length = 0;
      return { status: 200, body: { cleared: true } };
    }
    if (method === "POST") {
      const { type, lines, count } = body;
      if (typeof type !== "string" || !/^(\*|[a-z0-9]+)$/.test(type)) {
        return bad('Invalid "type": expected a task type such as "qmstart", or "*"');
      }
      if (
        !Array.isArray(lines) || lines.length === 0 || !lines.every((l) => typeof l === "string")
      ) {
        return bad('Invalid "lines": expected a non-empty array of warning texts');
      }
      if (
        count !== undefined && (typeof count !== "number" || !Number.isInteger(count) || count < 1)
      ) {
        return bad('Invalid "count": expected an integer >= 1');
      }
      injected.push({
        type,
        lines: lines as string[],
        remaining: (count as number | undefined) ?? null,
      });
      return { status: 200, body: { type, warnings: lines.length } };
    }
  }
  if (first === "quirks" && parts.length === 1) {
    const quirks = ctx.sim.state.quirks;
    if (method === "POST") {
      for (const [key, field] of QUIRK_KEYS) {
        const value = body[key];
        if (value === undefined) continue;
        if (typeof value !== "boolean") return bad(`Invalid "${key}": expected a boolean`);
        quirks[field] = value;
      }
      const unknown = Object.keys(body).filter((key) => !QUIRK_KEYS.has(key));
      if (unknown.length > 0) {
        return bad(`Unknown quirk "${unknown[0]}": use ${[...QUIRK_KEYS.keys()].join(", ")}`);
      }
    }
    if (method === "GET" || method === "POST") {
      return {
        status: 200,
        body: { sparse_task_rows: quirks.sparseTaskRows, json_booleans: quirks.jsonBooleans },
      };
    }
  }
  if (first === "requests" && parts.length === 1) {
    if (method === "GET") {
      const since = Number(request.query.get("since") ?? "0");
      if (!Number.isFinite(since)) return bad('Invalid "since": expected a sequence number');
      return { status: 200, body: ctx.requests.since(since) };
    }
    if (method === "DELETE") {
      ctx.requests.clear();
      return { status: 200, body: { cleared: true } };
    }
  }
  return bad(`No control endpoint ${method} ${request.path}: see GET /_sim/`, 404);
}
