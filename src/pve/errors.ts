/**
 * Typed errors of the Proxmox VE client.
 *
 * Every error the client throws is a {@linkcode PveError}; the subclass says what went
 * wrong (authentication, permission, missing object, bad parameters, connection, TLS,
 * timeout, failed task) and the message says what to do next. Errors carry the HTTP
 * status, the method and the request path (without query string), never a secret, a ticket,
 * a CSRF token or a credential-bearing URL.
 *
 * A note on reason phrases: PVE puts its error text into the HTTP reason phrase
 * (`401 No ticket`, `401 permission denied - invalid csrf token`), but Deno's `fetch`
 * replaces `statusText` with the canonical phrase (`Unauthorized`). The client therefore
 * relies on the JSON body's `message` (PVE ≥ 8.3) and `errors`, and on context (which
 * credential was sent, whether a CSRF token went with it) to explain a failure.
 *
 * @module
 */

/** What every client error carries besides its message. */
export interface PveErrorDetails {
  /** HTTP status (or PVE's 595–599 pseudo status); absent for errors without a response. */
  status?: number;
  /** HTTP method of the request. */
  method?: string;
  /** Request path below `/api2/json`, without query string. */
  path?: string;
  /** The error text PVE sent (`message` of the body), trimmed. */
  pveMessage?: string;
  /** Node the error concerns (unreachable node, task node). */
  node?: string;
  /** The underlying error. */
  cause?: unknown;
}

/** Base class of all errors thrown by the Proxmox VE client. */
export class PveError extends Error {
  /** HTTP status, when a response was received. */
  readonly status: number | undefined;
  /** HTTP method of the failed request. */
  readonly method: string | undefined;
  /** Request path below `/api2/json` (no query string, no credentials). */
  readonly path: string | undefined;
  /** PVE's own error text, when it sent one. */
  readonly pveMessage: string | undefined;
  /** Node the error concerns, when known. */
  readonly node: string | undefined;

  /** Creates an error; `details.cause` becomes the standard `cause`. */
  constructor(message: string, details: PveErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "PveError";
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.pveMessage = details.pveMessage;
    this.node = details.node;
  }
}

/** Credentials were missing, wrong, expired, or need two-factor authentication. */
export class PveAuthError extends PveError {
  /** Creates an authentication error. */
  constructor(message: string, details: PveErrorDetails = {}) {
    super(message, details);
    this.name = "PveAuthError";
  }
}

/** The caller lacks a privilege (HTTP 403). */
export class PvePermissionError extends PveError {
  /** ACL path PVE checked, e.g. `/vms/100`, when PVE named it. */
  readonly aclPath: string | undefined;
  /** Privilege PVE checked, e.g. `VM.PowerMgmt`, when PVE named it. */
  readonly privilege: string | undefined;

  /** Creates a permission error. */
  constructor(
    message: string,
    details: PveErrorDetails & { aclPath?: string; privilege?: string } = {},
  ) {
    super(message, details);
    this.name = "PvePermissionError";
    this.aclPath = details.aclPath;
    this.privilege = details.privilege;
  }
}

/** The guest, node, storage, task or endpoint does not exist. */
export class PveNotFoundError extends PveError {
  /** Creates a not-found error. */
  constructor(message: string, details: PveErrorDetails = {}) {
    super(message, details);
    this.name = "PveNotFoundError";
  }
}

/** PVE rejected parameters (HTTP 400); `errors` maps each parameter to PVE's complaint. */
export class PveValidationError extends PveError {
  /** Per-parameter messages, e.g. `{ vmid: "value does not look like a valid VM ID" }`. */
  readonly errors: Readonly<Record<string, string>>;

  /** Creates a validation error. */
  constructor(
    message: string,
    details: PveErrorDetails & { errors?: Record<string, string> } = {},
  ) {
    super(message, details);
    this.name = "PveValidationError";
    this.errors = details.errors ?? {};
  }
}

/**
 * PVE does not know the task a UPID names (400 `{"upid":"no such task"}` from the task
 * endpoints): the UPID is wrong, belongs to another node, or the task has left the node's task
 * log. A {@linkcode PveValidationError} because PVE answers 400 with an `errors` map (and
 * callers already treat it as one); check for this class to tell "unknown task" apart.
 */
export class PveUnknownTaskError extends PveValidationError {
  /** The UPID from the request path. */
  readonly upid: string;

  /** Creates an unknown-task error. */
  constructor(
    message: string,
    details: PveErrorDetails & { upid: string; errors?: Record<string, string> },
  ) {
    super(message, details);
    this.name = "PveUnknownTaskError";
    this.upid = details.upid;
  }
}

/**
 * The guest is locked (PVE's `VM is locked (<lock>)` / `CT is locked (<lock>)`, a 500 from a
 * check before any task starts): a backup, migration, snapshot, clone … holds the guest's
 * config lock. A failed task with that exit status is a {@linkcode PveTaskError} whose `lock`
 * is set instead.
 */
export class PveLockedError extends PveError {
  /** The lock, e.g. `backup`, `migrate`, `snapshot`, `suspended` (FACTS §6.1). */
  readonly lock: string;
  /** `qemu` for a VM, `lxc` for a container. */
  readonly guestType: "qemu" | "lxc";
  /** The guest's vmid, when the request path names it. */
  readonly vmid: number | undefined;

  /** Creates a lock error. */
  constructor(
    message: string,
    details: PveErrorDetails & { lock: string; guestType: "qemu" | "lxc"; vmid?: number },
  ) {
    super(message, details);
    this.name = "PveLockedError";
    this.lock = details.lock;
    this.guestType = details.guestType;
    this.vmid = details.vmid;
  }
}

const GUEST_LOCK_RE = /\b(VM|CT) is locked \(([^()\s]+)\)/;

/**
 * The guest lock named in a PVE error text or task exit status (`VM is locked (backup)`,
 * also inside longer texts such as vzdump's `Backup of VM 100 failed - VM is locked
 * (snapshot)`), or `undefined`.
 */
export function guestLockOf(
  text: string | undefined,
): { lock: string; guestType: "qemu" | "lxc" } | undefined {
  const m = text === undefined ? null : GUEST_LOCK_RE.exec(text);
  if (m?.[2] === undefined) return undefined;
  return { lock: m[2], guestType: m[1] === "CT" ? "lxc" : "qemu" };
}

const LOCK_HOLDERS: Readonly<Record<string, string>> = {
  backup: "a backup is running",
  migrate: "a migration is running",
  clone: "a clone is running",
  create: "the guest is still being created",
  destroyed: "the guest is being destroyed",
  rollback: "a snapshot rollback is running",
  snapshot: "a snapshot is being taken",
  "snapshot-delete": "a snapshot is being deleted",
  suspending: "the VM is being suspended to disk",
  suspended: "the VM is hibernated (suspended to disk); starting it resumes it",
  disk: "a disk operation is running",
  fstrim: "an fstrim is running",
  mounted: "its volumes are mounted on the node (pct mount); unmount them with pct unmount",
};

/** What a lock means and what to do, for messages. */
export function describeGuestLock(lock: string, guestType: "qemu" | "lxc", vmid?: number): string {
  const holder = LOCK_HOLDERS[lock] ?? "a task holds it";
  const tool = guestType === "lxc" ? "pct" : "qm";
  const unlock = `${tool} unlock ${vmid ?? "<vmid>"}`;
  return `${holder}. Retry when the task holding the lock has finished (see the node's ` +
    `running tasks); a lock a failed task left behind is removed on the node with "${unlock}"`;
}

/**
 * How a connection failed before any answer: `refused`, `dns` and `unreachable` mean nothing
 * reached Proxmox VE; after `reset` and `other` a sent request may have been acted on.
 */
export type ConnectionFailure = "refused" | "dns" | "reset" | "unreachable" | "other";

/** The server or a cluster node could not be reached (network error, 502–504, 595–599). */
export class PveConnectionError extends PveError {
  /** How the connection failed, for errors without an HTTP response. */
  readonly failure: ConnectionFailure | undefined;

  /** Creates a connection error. */
  constructor(message: string, details: PveErrorDetails & { failure?: ConnectionFailure } = {}) {
    super(message, details);
    this.name = "PveConnectionError";
    this.failure = details.failure;
  }
}

/** The TLS handshake failed: the certificate is not trusted or does not match. */
export class PveTlsError extends PveConnectionError {
  /** Creates a TLS error. */
  constructor(message: string, details: PveErrorDetails = {}) {
    super(message, details);
    this.name = "PveTlsError";
  }
}

/** A request did not complete within its timeout. */
export class PveTimeoutError extends PveError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeoutMs: number | undefined;

  /** Creates a timeout error. */
  constructor(message: string, details: PveErrorDetails & { timeoutMs?: number } = {}) {
    super(message, details);
    this.name = "PveTimeoutError";
    this.timeoutMs = details.timeoutMs;
  }
}

/**
 * A write (POST, PUT, DELETE) got no definite answer — it timed out, the connection broke
 * after it was sent, a proxy answered 502–504 or a 500 page that is not Proxmox VE's, or a node
 * could not be reached (595–599) — so Proxmox VE may or may not have carried it out. Repeating
 * it blindly could start, snapshot or delete twice: the message says how to check instead.
 * The underlying error (timeout, connection, status) is the `cause`.
 */
export class PveOutcomeUnknownError extends PveError {
  /** What happened instead of an answer, e.g. `no answer within 30000 ms`. */
  readonly happened: string;
  /** The guest the request names (`…/qemu/100/…`), when it names one. */
  readonly vmid: number | undefined;
  /** The type of the task the write would start (`qmstart`, `vzsnapshot`, …), when known. */
  readonly taskType: string | undefined;

  /** Creates the error. */
  constructor(
    message: string,
    details: PveErrorDetails & { happened: string; vmid?: number; taskType?: string },
  ) {
    super(message, details);
    this.name = "PveOutcomeUnknownError";
    this.happened = details.happened;
    this.vmid = details.vmid;
    this.taskType = details.taskType;
  }
}

const GUEST_PATH_RE = /^\/nodes\/[^/]+\/(qemu|lxc)\/(\d+)(\/.*)?$/;

/**
 * The type of the task a write starts, by method and path (`POST …/qemu/100/status/start` ⇒
 * `qmstart`), for the task-list filter in {@linkcode PveOutcomeUnknownError}; `undefined` for
 * writes this table does not know.
 */
function writeTaskType(method: string, path: string): string | undefined {
  const m = GUEST_PATH_RE.exec(path);
  if (m === null) {
    if (method === "POST" && /^\/nodes\/[^/]+\/vzdump$/.test(path)) return "vzdump";
    const create = /^\/nodes\/[^/]+\/(qemu|lxc)$/.exec(path);
    if (method === "POST" && create !== null) return create[1] === "lxc" ? "vzcreate" : "qmcreate";
    return undefined;
  }
  const qemu = m[1] === "qemu";
  const rest = m[3] ?? "";
  const status = /^\/status\/(start|stop|shutdown|reboot|reset|suspend|resume)$/.exec(rest);
  if (method === "POST" && status !== null) return `${qemu ? "qm" : "vz"}${status[1]}`;
  if (method === "POST" && rest === "/snapshot") return qemu ? "qmsnapshot" : "vzsnapshot";
  if (method === "POST" && /^\/snapshot\/[^/]+\/rollback$/.test(rest)) {
    return qemu ? "qmrollback" : "vzrollback";
  }
  if (method === "DELETE" && /^\/snapshot\/[^/]+$/.test(rest)) {
    return qemu ? "qmdelsnapshot" : "vzdelsnapshot";
  }
  if (method === "DELETE" && rest === "") return qemu ? "qmdestroy" : "vzdestroy";
  if (method === "POST" && rest === "/clone") return qemu ? "qmclone" : "vzclone";
  if (method === "POST" && rest === "/migrate") return qemu ? "qmigrate" : "vzmigrate";
  if (method === "POST" && rest === "/template") return qemu ? "qmtemplate" : "vztemplate";
  return undefined;
}

/**
 * The error for a write that got no definite answer (see {@linkcode PveOutcomeUnknownError}):
 * says the outcome is unknown and what to read before repeating it — the guest's state and the
 * node's task list filtered by vmid and task type — never to simply try again.
 */
export function outcomeUnknown(cause: PveError, happened: string): PveOutcomeUnknownError {
  const method = cause.method ?? "POST";
  const path = cause.path ?? "/";
  const node = nodeFromPath(path);
  const m = GUEST_PATH_RE.exec(path);
  const vmid = m?.[2] === undefined ? undefined : Number(m[2]);
  const taskType = writeTaskType(method, path);
  const filters = [
    ...(vmid === undefined ? [] : [`vmid ${vmid}`]),
    ...(taskType === undefined ? [] : [`type "${taskType}"`]),
  ];
  const tasks = `the task list of ${node === undefined ? "the cluster" : `node "${node}"`}` +
    (filters.length === 0 ? "" : ` (${filters.join(", ")})`);
  const check = vmid === undefined
    ? `read ${tasks} and the state of what the request changes`
    : `read the guest's current state and ${tasks}`;
  return new PveOutcomeUnknownError(
    `It is unknown whether Proxmox VE carried out ${method} ${readablePath(path)} ` +
      `(${happened}): do not repeat it before checking whether it happened: ${check}`,
    {
      method,
      path,
      happened,
      cause,
      ...(cause.status === undefined ? {} : { status: cause.status }),
      ...(cause.pveMessage === undefined ? {} : { pveMessage: cause.pveMessage }),
      ...(node === undefined ? {} : { node }),
      ...(vmid === undefined ? {} : { vmid }),
      ...(taskType === undefined ? {} : { taskType }),
    },
  );
}

/** A PVE task (UPID) ended with an error exit status. */
export class PveTaskError extends PveError {
  /** The task's UPID. */
  readonly upid: string;
  /** The task's exit status (the error text). */
  readonly exitstatus: string;
  /** The last lines of the task log. */
  readonly logTail: readonly string[];
  /** The guest lock that made the task fail (`VM is locked (backup)` ⇒ `backup`), if any. */
  readonly lock: string | undefined;

  /** Creates a task error; `lock` defaults to the lock named in `exitstatus`. */
  constructor(
    message: string,
    details: PveErrorDetails & {
      upid: string;
      exitstatus: string;
      logTail?: readonly string[];
      lock?: string;
    },
  ) {
    super(message, details);
    this.name = "PveTaskError";
    this.upid = details.upid;
    this.exitstatus = details.exitstatus;
    this.logTail = details.logTail ?? [];
    this.lock = details.lock ?? guestLockOf(details.exitstatus)?.lock;
  }
}

/**
 * Replaces every occurrence of each secret in `text` by `***`. Secrets shorter than four
 * characters are ignored (they would mangle ordinary words).
 */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 4) continue;
    out = out.split(secret).join("***");
  }
  return out;
}

/** What {@linkcode errorFromResponse} needs to know about the failed request. */
export interface ResponseErrorContext {
  /** HTTP status. */
  status: number;
  /** HTTP method. */
  method: string;
  /** Request path below `/api2/json`, without query. */
  path: string;
  /** The parsed JSON body, if the body was JSON. */
  body?: unknown;
  /** How the request authenticated. */
  auth: "token" | "ticket" | "none";
  /** The user or token id that was used (not secret), for messages. */
  principal?: string;
  /** Whether a CSRF token was sent with the request. */
  csrfSent?: boolean;
  /** Cluster name or base URL for messages. */
  cluster?: string;
  /**
   * The HTTP reason phrase, when the transport preserved PVE's own (Deno's `fetch` replaces
   * it with the canonical phrase, which is ignored here). Used when the body has no `message`
   * (PVE before libpve-http-server 5.2).
   */
  reason?: string;
}

const CANONICAL_REASONS = new Set([
  "",
  "OK",
  "Bad Request",
  "Unauthorized",
  "Forbidden",
  "Not Found",
  "Method Not Allowed",
  "Too Many Requests",
  "Internal Server Error",
  "Not Implemented",
  "Bad Gateway",
  "Service Unavailable",
  "Gateway Timeout",
]);

function bodyMessage(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const message = (body as Record<string, unknown>).message;
  if (typeof message !== "string") return undefined;
  const trimmed = message.trim();
  return trimmed === "" ? undefined : trimmed;
}

function bodyErrors(body: unknown): Record<string, string> | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const errors = (body as Record<string, unknown>).errors;
  if (typeof errors !== "object" || errors === null) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(errors as Record<string, unknown>)) {
    out[key] = String(value).trim();
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Extracts the node name from a path like `/nodes/pve2/qemu/100`. */
export function nodeFromPath(path: string): string | undefined {
  const m = /^\/nodes\/([^/]+)/.exec(path);
  if (m?.[1] === undefined) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

const PERM_RE = /^Permission check failed \(([^,()]+),\s*([^()]+)\)/;
const NOT_FOUND_RE =
  /(does not exist|no such (?:vm|ct|guest|task|storage|node|user|pool|snapshot|file|volume|resource|token)|not found|hostname lookup '[^']*' failed)/i;

/**
 * A request path as a person reads it in a message: each segment percent-decoded, so a UPID or
 * a volume id shows as `UPID:pve1:…` rather than `UPID%3Apve1%3A…`. The error's `path` field
 * keeps the path as sent.
 */
export function readablePath(path: string): string {
  return path.split("/").map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  }).join("/");
}

const TASK_PATH_RE = /^\/nodes\/([^/]+)\/tasks\/([^/]+)(?:\/|$)/;

/**
 * The 400s of the task endpoints (`/nodes/{node}/tasks/{upid}/…`) whose only complaint is the
 * UPID: `no such task` and `unable to parse worker upid` (FACTS §4.3), with what to do next.
 */
function taskLookupError(
  ctx: ResponseErrorContext,
  errors: Record<string, string>,
  base: PveErrorDetails,
): PveError | undefined {
  const m = TASK_PATH_RE.exec(ctx.path);
  const complaint = errors.upid;
  if (m === null || complaint === undefined || Object.keys(errors).length !== 1) return undefined;
  const node = nodeFromPath(ctx.path) ?? "";
  const upid = readablePath(m[2] ?? "");
  const where = `${ctx.method} ${readablePath(ctx.path)}`;
  const listIt = `list the tasks of node "${node}" (GET /nodes/${node}/tasks, or /cluster/tasks ` +
    "for the whole cluster) to find the right UPID";
  if (/no such task/i.test(complaint)) {
    return new PveUnknownTaskError(
      `No such task ${upid} on node "${node}" (${where}): the UPID is wrong, belongs to ` +
        `another node, or the task has left the node's task log. Check it, or ${listIt}`,
      { ...base, node, upid, errors },
    );
  }
  if (/unable to parse/i.test(complaint)) {
    return new PveValidationError(
      `Proxmox VE cannot parse the UPID "${upid}" (${where}): a UPID is ` +
        "UPID:node:pid:pstart:starttime:type:id:user: including the trailing colon. Copy it " +
        `whole from the answer that started the task, or ${listIt}`,
      { ...base, node, errors },
    );
  }
  return undefined;
}

/**
 * Builds the typed error for a non-2xx PVE response, from the status, the body's
 * `message` and `errors`, and the request context (see the module note on reason phrases).
 */
export function errorFromResponse(ctx: ResponseErrorContext): PveError {
  const { status, method, path } = ctx;
  const reason = ctx.reason?.trim();
  const pveMessage = bodyMessage(ctx.body) ??
    (reason !== undefined && !CANONICAL_REASONS.has(reason) ? reason : undefined);
  const errors = bodyErrors(ctx.body);
  const where = `${method} ${readablePath(path)}`;
  const base = { status, method, path, ...(pveMessage === undefined ? {} : { pveMessage }) };
  const said = pveMessage === undefined ? "" : `: ${pveMessage}`;

  if (status === 400) {
    const taskError = errors === undefined ? undefined : taskLookupError(ctx, errors, base);
    if (taskError !== undefined) return taskError;
    const list = errors === undefined
      ? ""
      : `: ${Object.entries(errors).map(([k, v]) => `${k}: ${v}`).join("; ")}`;
    const detail = list !== "" ? list : said;
    return new PveValidationError(
      `Proxmox VE rejected the parameters of ${where}${detail}. Fix the named parameters and retry`,
      { ...base, ...(errors === undefined ? {} : { errors }) },
    );
  }
  if (status === 401 && path === "/access/ticket") {
    // A login request itself (e.g. through the API tools): its own parameters were rejected,
    // not the credentials this client authenticates with.
    return new PveAuthError(
      `Proxmox VE rejected the login of ${where}${said}: the username, realm or password in ` +
        "its parameters is wrong, or the user is disabled or expired (this client's own " +
        "credentials are not involved). Check the user id (user@realm) and the password",
      base,
    );
  }
  if (status === 401) {
    let hint: string;
    if (ctx.auth === "token") {
      hint = `the API token "${ctx.principal ?? "?"}" was rejected. Check the token id ` +
        `(user@realm!name) and secret, that the token and its user are enabled and not expired`;
    } else if (ctx.auth === "ticket") {
      hint = ctx.csrfSent
        ? `the login ticket or its CSRF token for "${
          ctx.principal ?? "?"
        }" was rejected even after logging in again. Check the user's password, that the ` +
          `user is enabled and not expired`
        : `the login ticket for "${ctx.principal ?? "?"}" was rejected even after logging in ` +
          `again. Check the user's password, that the user is enabled and not expired`;
    } else {
      hint = "no credentials were sent. Configure an API token (tokenId + tokenSecret) " +
        "or a username and password";
    }
    return new PveAuthError(`Authentication failed for ${where}${said}: ${hint}`, base);
  }
  if (
    status === 403 && pveMessage !== undefined && /not available with API token/i.test(pveMessage)
  ) {
    return new PvePermissionError(
      `Proxmox VE does not accept ${where} with an API token${said}: this endpoint only works ` +
        "with a login ticket (a user and password session), and no privilege granted to the " +
        "token changes that. Do it in the Proxmox VE web interface or with pveum/pvesh instead",
      base,
    );
  }
  if (status === 403) {
    const m = pveMessage === undefined ? null : PERM_RE.exec(pveMessage);
    const aclPath = m?.[1]?.trim();
    const privilege = m?.[2]?.trim();
    const who = ctx.principal === undefined ? "the user" : `"${ctx.principal}"`;
    const tokenNote = ctx.auth === "token"
      ? " (with privilege separation the token needs it too, not only its user)"
      : "";
    const hint = aclPath !== undefined && privilege !== undefined &&
        !aclPath.startsWith("pool ") && !privilege.includes("!=")
      ? `grant ${who} a role with ${privilege} on ${aclPath}${tokenNote}`
      : `ask an administrator to grant ${who} the needed privilege${tokenNote}`;
    return new PvePermissionError(
      `Permission denied for ${where}${said || ": Permission check failed"}: ${hint}`,
      {
        ...base,
        ...(aclPath === undefined ? {} : { aclPath }),
        ...(privilege === undefined ? {} : { privilege }),
      },
    );
  }
  if (status === 404) {
    return new PveNotFoundError(`Not found: ${where}${said}. Check the name or id`, base);
  }
  if (status === 501) {
    return new PveNotFoundError(
      `Proxmox VE does not implement ${where}${said}. ` +
        "Check the path against the API of this PVE version",
      base,
    );
  }
  if (status >= 595 && status <= 599) {
    const node = nodeFromPath(path);
    const nodeText = node === undefined ? "a cluster node" : `node "${node}"`;
    return new PveConnectionError(
      `Proxmox VE could not reach ${nodeText} for ${where} (${status}${said}): ` +
        `the node is probably offline or its pveproxy is down. Check the node, or act on a guest of another node`,
      { ...base, ...(node === undefined ? {} : { node }) },
    );
  }
  if (status === 502 || status === 503 || status === 504) {
    return new PveConnectionError(
      `Proxmox VE answered ${status} for ${where}${said}: the API proxy or a node is ` +
        "unavailable. Try again in a moment",
      base,
    );
  }
  if (status === 429) {
    return new PveError(
      `Proxmox VE is rate limiting ${where} (429)${said}: slow down and try again later`,
      base,
    );
  }
  const locked = status === 500 ? guestLockOf(pveMessage) : undefined;
  if (locked !== undefined) {
    const m = /^\/nodes\/[^/]+\/(?:qemu|lxc)\/(\d+)(?:\/|$)/.exec(path);
    const vmid = m?.[1] === undefined ? undefined : Number(m[1]);
    return new PveLockedError(
      `Proxmox VE refused ${where}${said}: ` +
        describeGuestLock(locked.lock, locked.guestType, vmid),
      { ...base, ...locked, ...(vmid === undefined ? {} : { vmid }) },
    );
  }
  if (status === 500 && pveMessage !== undefined && NOT_FOUND_RE.test(pveMessage)) {
    return new PveNotFoundError(
      `Not found: ${where}: ${pveMessage}. Check the vmid, node or name (list guests to find it)`,
      base,
    );
  }
  return new PveError(
    `Proxmox VE failed ${where} (${status})${
      said || ": no error text was sent"
    }; fix the cause it names, then call again`,
    base,
  );
}
