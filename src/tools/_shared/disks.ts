/**
 * Reading a guest's disks from its config, as the provisioning tools need them: which keys are
 * disks (not CD-ROMs, not the cloud-init drive), their volumes, storages and sizes, and the
 * config's cloud-init drive. Pure functions over a `GET …/config` answer.
 *
 * @module
 */

import { PveValidationError } from "../../pve/errors.ts";
import type { GuestRef } from "../../pve/mod.ts";
import type { ToolContext } from "../types.ts";
import { formatBytes } from "./format.ts";
import { guestPath } from "./guest.ts";

const QEMU_DISK_RE =
  /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0)$/;
const LXC_DISK_RE = /^(rootfs|mp\d+)$/;
const CLOUDINIT_RE = /(^|[:/])vm-\d+-cloudinit(\.[a-z0-9]+)?$/;

/** One disk of a config. */
export interface DiskInfo {
  key: string;
  volid: string;
  storage: string;
  /** Size from the config's `size=`, bytes (0 when absent). */
  bytes: number;
}

/** A config as `GET …/config` answers it. */
export type GuestConfig = Record<string, unknown>;

/** Whether a config key names a disk slot of this guest type. */
export function isDiskKey(type: "qemu" | "lxc", key: string): boolean {
  return type === "qemu" ? QEMU_DISK_RE.test(key) : LXC_DISK_RE.test(key);
}

/** The volume id of a drive value (`local-lvm:vm-100-disk-0,size=32G` → `local-lvm:vm-100-disk-0`). */
export function driveVolid(value: string): string {
  const first = value.split(",")[0] ?? "";
  return first.startsWith("volume=") || first.startsWith("file=")
    ? first.slice(first.indexOf("=") + 1)
    : first;
}

/** Bytes of a PVE size (`32G`, `512M`, `1.5T`, `4096` bytes). */
export function sizeBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(text.trim());
  if (m === null) return undefined;
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[
    (m[2] ?? "").toUpperCase() as "" | "K" | "M" | "G" | "T"
  ];
  return Math.round(Number(m[1]) * unit);
}

/** The `size=` of a drive value, bytes (0 when absent). */
function driveBytes(value: string): number {
  const size = /(?:^|,)size=([^,]+)/.exec(value)?.[1];
  return size === undefined ? 0 : sizeBytes(size) ?? 0;
}

/** Whether a drive value is a CD-ROM (or `none`). */
export function isCdrom(value: string): boolean {
  const volid = driveVolid(value);
  return volid === "none" || volid === "cdrom" || /(?:^|,)media=cdrom(?:,|$)/.test(value);
}

/** Whether a drive value is a cloud-init drive. */
export function isCloudinitDrive(value: string): boolean {
  return CLOUDINIT_RE.test(driveVolid(value));
}

/** The disks of a config (volume-backed, not CD-ROMs, not the cloud-init drive), by key. */
export function configDisks(type: "qemu" | "lxc", config: GuestConfig): DiskInfo[] {
  const out: DiskInfo[] = [];
  for (const [key, raw] of Object.entries(config)) {
    if (!isDiskKey(type, key) || typeof raw !== "string") continue;
    if (isCdrom(raw) || isCloudinitDrive(raw)) continue;
    const volid = driveVolid(raw);
    if (!volid.includes(":")) continue;
    out.push({ key, volid, storage: volid.slice(0, volid.indexOf(":")), bytes: driveBytes(raw) });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** The key of the config's cloud-init drive, if any. */
export function cloudinitKey(config: GuestConfig): string | undefined {
  return Object.entries(config).find(([key, raw]) =>
    /^(ide|sata|scsi|virtio)\d+$/.test(key) && typeof raw === "string" && isCloudinitDrive(raw)
  )?.[0];
}

/** The first free slot for a cloud-init drive (`ide2`, then other IDE/SATA slots). */
export function freeCloudinitSlot(config: GuestConfig): string {
  for (const key of ["ide2", "ide0", "ide1", "ide3", "sata0", "sata1", "sata2", "sata3"]) {
    if (config[key] === undefined) return key;
  }
  throw new PveValidationError(
    "The VM has no free IDE or SATA slot for a cloud-init drive: remove a CD-ROM first.",
  );
}

/** `GET …/config` of a guest. */
export async function readConfig(
  ctx: ToolContext,
  guest: GuestRef,
  options: { current?: boolean } = {},
): Promise<GuestConfig> {
  const data = await ctx.client.get(
    `${guestPath(guest)}/config`,
    options.current ? { current: 1 } : undefined,
    { signal: ctx.signal },
  );
  return (typeof data === "object" && data !== null ? data : {}) as GuestConfig;
}

/**
 * The size a disk grows to for `size` (`40G` absolute, `+10G` growth), in bytes. PVE cannot
 * shrink a disk; asking for the size it already has is refused too unless `allowSame` (a
 * workflow that finds the disk already grown).
 *
 * @throws {PveValidationError} for a smaller size, or the same one without `allowSame`.
 */
export function growTarget(
  disk: DiskInfo,
  size: string,
  options: { title: string; allowSame?: boolean },
): number {
  const grow = size.startsWith("+");
  const amount = sizeBytes(grow ? size.slice(1) : size) ?? 0;
  const after = grow ? disk.bytes + amount : amount;
  if (after > disk.bytes || (after === disk.bytes && options.allowSame === true)) return after;
  throw new PveValidationError(
    after === disk.bytes
      ? `${disk.key} of ${options.title} is already ${
        formatBytes(disk.bytes)
      }: give a larger size or +N.`
      : `PVE cannot shrink disks: ${disk.key} of ${options.title} is ${
        formatBytes(disk.bytes)
      } now, so give a size above that (or +N to grow it).`,
    { errors: { size: "shrinking disks is not supported" } },
  );
}
