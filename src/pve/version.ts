/**
 * What the cluster's PVE version means for callers (FACTS §1.2, §3.4, §5.15):
 * 9.x adds `memhost` and `pressure*` fields to guest status and `/cluster/resources`,
 * and guest-agent endpoints check `VM.GuestAgent.Audit` / `VM.GuestAgent.Unrestricted`
 * instead of 8.x's `VM.Monitor`; since 8.1 QEMU `memory` is a property string.
 *
 * @module
 */

import { toNumber } from "./coerce.ts";

/** `GET /version`, parsed. */
export interface PveVersion {
  /** Full pve-manager version, e.g. `9.1.1` (older: `7.4-3`). */
  version: string;
  /** Release, e.g. `9.1`. */
  release: string;
  /** Repository commit id. */
  repoid: string | undefined;
  /** Major version number (e.g. 9). */
  major: number;
  /** Minor version number (e.g. 1). */
  minor: number;
  /** Whether this is PVE 9 or newer. */
  isPve9: boolean;
  /** Differences that matter to callers. */
  features: PveFeatures;
}

/** Version-dependent behaviour callers need to know. */
export interface PveFeatures {
  /** Privileges the guest-agent read endpoints check (`VM.Monitor` on 8.x). */
  agentAuditPrivilege: string;
  /** Privilege agent `exec`/`file-write` check (`VM.Monitor` on 8.x). */
  agentExecPrivilege: string;
  /** Guest status and `/cluster/resources` carry `memhost` (9.x). */
  memhost: boolean;
  /** Guest status carries `pressure{cpu,io,memory}{some,full}` (9.x). */
  pressure: boolean;
  /** QEMU `memory` config is a property string such as `"2048"` or `"current=2048"` (≥ 8.1). */
  qemuMemoryPropertyString: boolean;
  /** Error bodies carry `message` (libpve-http-server ≥ 5.2, i.e. current 8.3+/9.x); a guess by version. */
  errorMessageInBody: boolean;
}

/** Parses the `data` of `GET /version`. */
export function parseVersion(
  data: { version: string; release?: string | undefined; repoid?: string | undefined },
): PveVersion {
  const m = /^(\d+)(?:\.(\d+))?/.exec(data.release ?? data.version) ??
    /^(\d+)(?:\.(\d+))?/.exec(data.version);
  const major = toNumber(m?.[1]) ?? 0;
  const minor = toNumber(m?.[2]) ?? 0;
  const release = data.release ?? `${major}.${minor}`;
  const version = { major, minor };
  return {
    version: data.version,
    release,
    repoid: data.repoid,
    major,
    minor,
    isPve9: isPve9(version),
    features: featuresOf(version),
  };
}

/** Whether a version is PVE 9 or newer. */
export function isPve9(version: { major: number }): boolean {
  return version.major >= 9;
}

/** The feature differences for a version. */
export function featuresOf(version: { major: number; minor: number }): PveFeatures {
  const nine = version.major >= 9;
  const atLeast = (major: number, minor: number) =>
    version.major > major || (version.major === major && version.minor >= minor);
  return {
    agentAuditPrivilege: nine ? "VM.GuestAgent.Audit" : "VM.Monitor",
    agentExecPrivilege: nine ? "VM.GuestAgent.Unrestricted" : "VM.Monitor",
    memhost: nine,
    pressure: nine,
    qemuMemoryPropertyString: atLeast(8, 1),
    errorMessageInBody: atLeast(8, 3),
  };
}
