/**
 * The audit log: one JSON line per write attempt, appended and written through to the file
 * before the tool returns. Arguments are copied with secrets redacted (`redactSecrets`), error
 * texts are scrubbed (`redactText`), so the file never holds a token secret, password or ticket.
 *
 * Line shape (keys in this order):
 * `{"time","profile"?,"cluster","tool","step"?,"target","arguments","dry_run","outcome","upid"?,"error"?}`;
 * `profile` names the caller in remote mode (never its token); `step` marks the line of one step
 * of a multi-step tool (a workflow writes one per step it takes, then the call's own line).
 *
 * @module
 */

import { redactSecrets, redactText } from "../redact.ts";

/** How a write attempt ended. */
export const AUDIT_OUTCOMES = [
  "ok",
  "warnings",
  "error",
  "denied",
  "timeout",
  "cancelled",
  "dry-run",
] as const;

/** One of {@link AUDIT_OUTCOMES}. */
export type AuditOutcome = typeof AUDIT_OUTCOMES[number];

/** What the caller reports about one write attempt. */
export interface AuditEntry {
  /** The caller's profile (remote mode), set by {@linkcode AuditLog.forProfile}. */
  profile?: string | undefined;
  /** The cluster name the call went (or would go) to. */
  cluster: string;
  /** The tool name. */
  tool: string;
  /** One step of a multi-step tool (`migrate VM 101 to pve3`); absent on the call's own line. */
  step?: string | undefined;
  /** What the call acts on (e.g. `{ vmid, node, type }`), or a short description. */
  target?: Readonly<Record<string, unknown>> | string | undefined;
  /** The tool arguments as received; secrets are redacted before writing. */
  arguments: unknown;
  /** Whether the call was a dry run (nothing sent to Proxmox VE). */
  dry_run: boolean;
  /** How the attempt ended. */
  outcome: AuditOutcome;
  /** The task's UPID, when one was started. */
  upid?: string | undefined;
  /** The error text, when the outcome is not `ok`; scrubbed of credentials before writing. */
  error?: string | undefined;
}

/** The line written to the file. */
export interface AuditRecord extends AuditEntry {
  /** ISO 8601 time of the record. */
  time: string;
}

/** The audit log cannot be written. */
export class AuditError extends Error {
  /** The audit log path. */
  readonly path: string;

  /** An audit error about `path`. */
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuditError";
    this.path = path;
  }
}

/** Options for {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** The clock (tests inject a fixed one). */
  now?: () => Date;
  /**
   * Appends text to the file (default: `Deno.writeTextFile` with `append`). Tests inject a slow
   * writer that appends in pieces, to prove concurrent records still land as whole lines.
   */
  append?: (path: string, text: string) => Promise<void>;
}

function appendFile(path: string, text: string): Promise<void> {
  return Deno.writeTextFile(path, text, { append: true, create: true, mode: 0o600 });
}

function dirname(path: string): string {
  const index = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (index < 0) return ".";
  return index === 0 ? path.slice(0, 1) : path.slice(0, index);
}

function explain(path: string, error: unknown): AuditError {
  const fix = 'set audit.path (or PROXMOX_MCP_AUDIT_PATH) to a writable file, or "off"';
  if (error instanceof Deno.errors.NotFound) {
    return new AuditError(
      path,
      `Cannot write audit log "${path}": directory "${dirname(path)}" does not exist: ` +
        `create it, or ${fix}`,
      { cause: error },
    );
  }
  if (error instanceof Deno.errors.NotCapable) {
    return new AuditError(
      path,
      `Cannot write audit log "${path}": no write permission: run with --allow-write=${path}, ` +
        `or ${fix}`,
      { cause: error },
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new AuditError(
      path,
      `Cannot write audit log "${path}": permission denied by the file system: ` +
        `make it writable for this user, or ${fix}`,
      { cause: error },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new AuditError(path, `Cannot write audit log "${path}": ${detail}: ${fix}`, {
    cause: error,
  });
}

/** Appends audit records to a JSON Lines file (or discards them when disabled). */
export class AuditLog {
  /** The file path, or `undefined` when disabled. */
  readonly path: string | undefined;
  readonly #now: () => Date;
  readonly #write: (path: string, text: string) => Promise<void>;
  /** Shared by the views {@linkcode forProfile} makes, so their lines never interleave. */
  readonly #writer: { queue: Promise<void> };
  readonly #profile: string | undefined;

  private constructor(
    path: string | undefined,
    options: AuditLogOptions,
    writer: { queue: Promise<void> } = { queue: Promise.resolve() },
    profile?: string,
  ) {
    this.path = path;
    this.#now = options.now ?? (() => new Date());
    this.#write = options.append ?? appendFile;
    this.#writer = writer;
    this.#profile = profile;
  }

  /**
   * The same log, writing `profile` (a caller's profile name) into every line it records; lines
   * of all views go through one queue to one file.
   */
  forProfile(profile: string): AuditLog {
    return new AuditLog(this.path, { now: this.#now, append: this.#write }, this.#writer, profile);
  }

  /** An audit log appending to `path` (created with mode 0600 on first write). */
  static open(path: string, options: AuditLogOptions = {}): AuditLog {
    return new AuditLog(path, options);
  }

  /** An audit log that records nothing (`audit.enabled: false` or `PROXMOX_MCP_AUDIT_PATH=off`). */
  static disabled(): AuditLog {
    return new AuditLog(undefined, {});
  }

  /** Whether records are written. */
  get enabled(): boolean {
    return this.path !== undefined;
  }

  /**
   * Check at start-up that the file can be appended to (creates it if missing), so a bad path
   * fails before the first write tool runs.
   *
   * @throws {AuditError} naming the path and the fix.
   */
  async check(): Promise<void> {
    await this.#append("");
  }

  /**
   * Append one record and return once it is written to the file.
   *
   * @throws {AuditError} naming the path and the fix.
   */
  async record(entry: AuditEntry): Promise<AuditRecord> {
    const record = this.#toRecord(entry);
    await this.#append(`${JSON.stringify(record)}\n`);
    return record;
  }

  #toRecord(entry: AuditEntry): AuditRecord {
    const profile = entry.profile ?? this.#profile;
    const record: AuditRecord = {
      time: this.#now().toISOString(),
      ...(profile === undefined ? {} : { profile }),
      cluster: entry.cluster,
      tool: entry.tool,
      ...(entry.step === undefined ? {} : { step: redactText(entry.step) }),
      target: typeof entry.target === "string"
        ? redactText(entry.target)
        : redactSecrets(entry.target) as AuditRecord["target"],
      arguments: redactSecrets(entry.arguments),
      dry_run: entry.dry_run,
      outcome: entry.outcome,
    };
    if (entry.upid !== undefined) record.upid = entry.upid;
    if (entry.error !== undefined) record.error = redactText(entry.error);
    return record;
  }

  /** Serialise appends so concurrent records never interleave. */
  #append(text: string): Promise<void> {
    const path = this.path;
    if (path === undefined) return Promise.resolve();
    const run = this.#writer.queue.then(async () => {
      try {
        await this.#write(path, text);
      } catch (error) {
        throw explain(path, error);
      }
    });
    this.#writer.queue = run.catch(() => {});
    return run;
  }
}
