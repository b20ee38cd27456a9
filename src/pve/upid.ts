/**
 * PVE task identifiers (UPIDs), as `PVE::UPID` encodes and decodes them:
 * `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:` with upper-case hex fields
 * zero-padded to 8 digits (`pstart` may have 9 after ~497 days of uptime), an `id` that
 * may be empty and a `user` that may be an API token id (`root@pam!mcp`).
 *
 * @module
 */

import { PveValidationError } from "./errors.ts";

/** The fields of a UPID. */
export interface Upid {
  /** Node the task runs on. */
  node: string;
  /** Worker process id. */
  pid: number;
  /** Process start time in clock ticks since boot. */
  pstart: number;
  /** Task start, unix seconds. */
  starttime: number;
  /** Worker type, e.g. `qmstart`, `vzdump`. */
  type: string;
  /** Worker id, usually the vmid; may be empty. */
  id: string;
  /** `user@realm`, or a token id `user@realm!name`. */
  user: string;
}

const UPID_RE =
  /^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

/** Whether `value` is a syntactically valid UPID. */
export function isUpid(value: unknown): value is string {
  return typeof value === "string" && UPID_RE.test(value);
}

/**
 * Parses a UPID.
 *
 * @throws {PveValidationError} when the text is not a UPID.
 */
export function parseUpid(upid: string): Upid {
  const m = typeof upid === "string" ? UPID_RE.exec(upid) : null;
  if (m === null) {
    const shown = String(upid).length > 120 ? `${String(upid).slice(0, 120)}…` : String(upid);
    throw new PveValidationError(
      `Cannot parse UPID "${shown}": expected UPID:node:pid:pstart:starttime:type:id:user:, ` +
        "so copy it whole from the task list or from the answer that started the task",
      { errors: { upid: "unable to parse worker upid" } },
    );
  }
  return {
    node: m[1] ?? "",
    pid: parseInt(m[2] ?? "0", 16),
    pstart: parseInt(m[3] ?? "0", 16),
    starttime: parseInt(m[4] ?? "0", 16),
    type: m[5] ?? "",
    id: m[6] ?? "",
    user: m[7] ?? "",
  };
}

function hex8(value: number): string {
  return Math.trunc(value).toString(16).toUpperCase().padStart(8, "0");
}

/** Formats a UPID exactly as PVE does (`UPID:%s:%08X:%08X:%08X:%s:%s:%s:`). */
export function formatUpid(u: Upid): string {
  return `UPID:${u.node}:${hex8(u.pid)}:${hex8(u.pstart)}:${
    hex8(u.starttime)
  }:${u.type}:${u.id}:${u.user}:`;
}

/** Splits a task user into the user and, for API tokens, the token name. */
export function splitTaskUser(user: string): { user: string; tokenName?: string } {
  const bang = user.indexOf("!");
  return bang < 0 ? { user } : { user: user.slice(0, bang), tokenName: user.slice(bang + 1) };
}
