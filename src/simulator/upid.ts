/**
 * The simulator's UPIDs (`PVE::UPID`): the fields, formatting and parsing, in one place.
 * (The client has its own `src/pve/upid.ts` on purpose: the simulator never imports the
 * client.)
 *
 * @module
 */

/** The fields of a UPID. */
export interface UpidFields {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  /** `user@realm` or a token id `user@realm!name`. */
  user: string;
}

const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

function hex8(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, "0");
}

/** Formats a UPID like `PVE::UPID::encode` (`UPID:%s:%08X:%08X:%08X:%s:%s:%s:`). */
export function formatUpid(fields: UpidFields): string {
  return `UPID:${fields.node}:${hex8(fields.pid)}:${hex8(fields.pstart)}:${
    hex8(fields.starttime)
  }:${fields.type}:${fields.id}:${fields.user}:`;
}

/** Parses a UPID like `PVE::UPID::decode`; `undefined` when it does not parse. */
export function parseUpid(upid: string): UpidFields | undefined {
  const m = UPID_RE.exec(upid);
  if (m === null) return undefined;
  return {
    node: m[1] ?? "",
    pid: parseInt(m[3] ?? "0", 16),
    pstart: parseInt(m[4] ?? "0", 16),
    starttime: parseInt(m[5] ?? "0", 16),
    type: m[6] ?? "",
    id: m[7] ?? "",
    user: m[8] ?? "",
  };
}
