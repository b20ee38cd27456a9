/**
 * Drive values of a guest config: disk keys, parsing and printing `volid,opt=v`, CD-ROMs,
 * sizes, and the list of a config's disks.
 *
 * @module
 */

import type { GuestConfig } from "../../state.ts";
import type { Kind } from "./kind.ts";
import { parseSize } from "./sizes.ts";

const QEMU_DISK_RE =
  /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0)$/;

const LXC_DISK_RE = /^(rootfs|mp\d+)$/;

/** Whether a config key is a disk of this guest type (not `unusedN`). */
export function isDiskKey(kind: Kind, key: string): boolean {
  return kind.type === "qemu" ? QEMU_DISK_RE.test(key) : LXC_DISK_RE.test(key);
}

/** Parses `volid,opt=v,…` (or `volume=…` for LXC) into the volume id and options. */
export function parseDrive(value: string): { volid: string; opts: [string, string][] } {
  const parts = value.split(",");
  let volid = "";
  const opts: [string, string][] = [];
  for (const [i, part] of parts.entries()) {
    const eq = part.indexOf("=");
    if (i === 0 && (eq < 0 || part.startsWith("volume=") || part.startsWith("file="))) {
      volid = eq < 0 ? part : part.slice(eq + 1);
      continue;
    }
    if (eq < 0) continue;
    const k = part.slice(0, eq);
    const v = part.slice(eq + 1);
    if (k === "volume" || k === "file") volid = v;
    else opts.push([k, v]);
  }
  return { volid, opts };
}

/** Builds `volid,opt=v,…`. */
export function printDrive(volid: string, opts: [string, string][]): string {
  return [volid, ...opts.map(([k, v]) => `${k}=${v}`)].join(",");
}

/** Whether a drive value is a CD-ROM or otherwise not a volume. */
export function isCdrom(value: string): boolean {
  const { volid, opts } = parseDrive(value);
  return volid === "none" || volid === "cdrom" ||
    opts.some(([k, v]) => k === "media" && v === "cdrom");
}

/** The `size=` of a drive value in bytes (0 if absent). */
export function driveSize(value: string): number {
  const size = parseDrive(value).opts.find(([k]) => k === "size")?.[1];
  return size === undefined ? 0 : parseSize(size) ?? 0;
}

/** Disks of a config: `[key, volid, value]` for every volume-backed disk (incl. `unusedN`). */
export function guestDisks(kind: Kind, config: GuestConfig): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const [key, raw] of Object.entries(config)) {
    const value = String(raw);
    if (!isDiskKey(kind, key) && !/^unused\d+$/.test(key)) continue;
    if (isDiskKey(kind, key) && isCdrom(value)) continue;
    const { volid } = parseDrive(value);
    if (volid.includes(":")) out.push([key, volid, value]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** Whether a drive value is a cloud-init drive (`…:vm-<vmid>-cloudinit…`, a generated CD-ROM). */
export function isCloudinitDrive(value: string): boolean {
  return /(^|[:/])vm-\d+-cloudinit(\.[a-z0-9]+)?$/.test(parseDrive(value).volid);
}

/** The cloud-init drives of a config: `[key, volid]` (PVE allows one). */
export function cloudinitVolumes(config: GuestConfig): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(config)) {
    if (/^(ide|sata|scsi|virtio)\d+$/.test(key) && isCloudinitDrive(String(value))) {
      out.push([key, parseDrive(String(value)).volid]);
    }
  }
  return out;
}
