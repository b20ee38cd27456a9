/**
 * Helpers shared by the QEMU and LXC route modules: finding guests, locks, config digests
 * and Perl-style config shaping, pending changes, volumes, snapshots, statistics and RRD
 * series. Private to `routes/`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { checkParams, endpointSchema } from "../../schema/mod.ts";
import { dieError, paramError, permError } from "../errors.ts";
import {
  type AuthInfo,
  type Params,
  type Route,
  route,
  type RouteContext,
  type Sim,
  type TaskRunner,
} from "../router.ts";
import {
  type ConfigValue,
  type Guest,
  type GuestConfig,
  poolOf,
  type SimState,
  type Snapshot,
  type StorageConfig,
  type Volume,
} from "../state.ts";
import { volumesOn } from "./storage.ts";

/** What differs between QEMU VMs and LXC containers in messages and task names. */
export interface Kind {
  type: "qemu" | "lxc";
  /** Directory of the config below `nodes/<node>/`. */
  confDir: "qemu-server" | "lxc";
  /** `VM` or `CT`, as PVE's messages name the guest. */
  label: "VM" | "CT";
  /** Task type prefix: `qm` or `vz`. */
  prefix: "qm" | "vz";
  /** HA resource type: `vm` or `ct`. */
  haType: "vm" | "ct";
}

/** QEMU VMs. */
export const QEMU: Kind = {
  type: "qemu",
  confDir: "qemu-server",
  label: "VM",
  prefix: "qm",
  haType: "vm",
};

/** LXC containers. */
export const LXC: Kind = { type: "lxc", confDir: "lxc", label: "CT", prefix: "vz", haType: "ct" };

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

// ---------------------------------------------------------------------------------------
// Parameters

/** A parameter as a string, if given. */
export function pstr(params: Params, key: string): string | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(",") : String(v);
}

/** A parameter as a number, if given. */
export function pnum(params: Params, key: string): number | undefined {
  const v = params[key];
  if (v === undefined || Array.isArray(v)) return undefined;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Whether a boolean parameter is set to 1. */
export function pbool(params: Params, key: string): boolean {
  const v = params[key];
  return v === 1 || v === "1";
}

/** Splits a `*-list` parameter (comma, space or semicolon separated). */
export function plist(params: Params, key: string): string[] {
  const v = params[key];
  if (v === undefined) return [];
  const raw = Array.isArray(v) ? v.join(",") : String(v);
  return raw.split(/[,;\s]+/).filter((s) => s !== "");
}

/** The user a task records for this caller. */
export function taskUser(auth: AuthInfo): string {
  return auth.kind === "token" && auth.tokenid !== undefined ? auth.tokenid : auth.userid;
}

/** `skiplock` is for root@pam only (400 otherwise); returns whether it is set. */
export function checkSkiplock(ctx: RouteContext): boolean {
  if (!pbool(ctx.params, "skiplock")) return false;
  if (ctx.auth.userid !== "root@pam" || ctx.auth.kind === "token") {
    throw paramError({ skiplock: "Only root may use this option." });
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Finding guests, locks

/** The cluster-relative config path PVE names in its errors. */
export function confPath(kind: Kind, node: string, vmid: number): string {
  return `nodes/${node}/${kind.confDir}/${vmid}.conf`;
}

/** The message PVE dies with when the config is not on that node. */
export function missingConfigMessage(kind: Kind, node: string, vmid: number): string {
  return `Configuration file '${confPath(kind, node, vmid)}' does not exist`;
}

/** The guest of that type on that node, or undefined. */
export function lookupGuest(
  state: SimState,
  kind: Kind,
  node: string,
  vmid: number,
): Guest | undefined {
  const guest = state.guests.get(vmid);
  if (guest === undefined || guest.type !== kind.type || guest.node !== node) return undefined;
  return guest;
}

/** The guest addressed by `{node}`/`{vmid}`; 500 `Configuration file … does not exist` otherwise. */
export function findGuest(ctx: RouteContext, kind: Kind): Guest {
  const node = String(ctx.params.node);
  const vmid = Number(ctx.params.vmid);
  const guest = lookupGuest(ctx.sim.state, kind, node, vmid);
  if (guest === undefined) throw dieError(missingConfigMessage(kind, node, vmid));
  return guest;
}

/** Re-reads the guest inside a task body (it may have been removed or moved meanwhile). */
export function guestInTask(state: SimState, kind: Kind, node: string, vmid: number): Guest {
  const guest = lookupGuest(state, kind, node, vmid);
  if (guest === undefined) throw new Error(missingConfigMessage(kind, node, vmid));
  return guest;
}

/** `VM is locked (<lock>)` / `CT is locked (<lock>)`, or undefined when unlocked. */
export function lockError(kind: Kind, guest: Guest): string | undefined {
  const lock = guest.config.lock;
  if (lock === undefined || lock === "") return undefined;
  return `${kind.label} is locked (${lock})`;
}

/** Throws a sync 500 when locked (unless skiplock). */
export function assertUnlockedSync(kind: Kind, guest: Guest, skiplock = false): void {
  const msg = skiplock ? undefined : lockError(kind, guest);
  if (msg !== undefined) throw dieError(msg);
}

/** Throws a task error when locked (unless skiplock). */
export function assertUnlockedTask(kind: Kind, guest: Guest, skiplock = false): void {
  const msg = skiplock ? undefined : lockError(kind, guest);
  if (msg !== undefined) throw new Error(msg);
}

/** Sets a lock for the duration of `fn`; clears it afterwards if still ours. */
export async function withLock<T>(guest: Guest, lock: string, fn: () => Promise<T>): Promise<T> {
  guest.config.lock = lock;
  try {
    return await fn();
  } finally {
    if (guest.config.lock === lock) delete guest.config.lock;
  }
}

/** The HA resource id of a guest (`vm:100` / `ct:101`). */
export function haSid(kind: Kind, vmid: number): string {
  return `${kind.haType}:${vmid}`;
}

/** Whether a vmid is in use anywhere; returns the owning guest. */
export function vmidOwner(state: SimState, vmid: number): Guest | undefined {
  return state.guests.get(vmid);
}

/** `unable to create VM 100 - VM 100 already exists on node 'pve1'` (existing guest's type). */
export function vmidInUseMessage(kind: Kind, existing: Guest): string {
  const label = existing.type === "qemu" ? "VM" : "CT";
  return `unable to create ${kind.label} ${existing.vmid} - ${label} ${existing.vmid} already exists on node '${existing.node}'`;
}

// ---------------------------------------------------------------------------------------
// Config values, digest, shaping

const NUMERIC_KEYS: Record<"qemu" | "lxc", Set<string>> = {
  qemu: new Set([
    "balloon",
    "cores",
    "cpuunits",
    "migrate_speed",
    "shares",
    "smp",
    "sockets",
    "vcpus",
    "acpi",
    "allow-ksm",
    "autostart",
    "ciupgrade",
    "freeze",
    "keephugepages",
    "kvm",
    "localtime",
    "numa",
    "onboot",
    "protection",
    "reboot",
    "tablet",
    "tdf",
    "template",
    "snaptime",
  ]),
  lxc: new Set([
    "cores",
    "cpuunits",
    "memory",
    "swap",
    "tty",
    "console",
    "debug",
    "onboot",
    "protection",
    "template",
    "unprivileged",
    "snaptime",
  ]),
};

/** A config value as Perl's JSON encoder emits it: integer/boolean keys as numbers, the rest as strings. */
export function shapeValue(kind: Kind, key: string, value: ConfigValue): ConfigValue {
  if (NUMERIC_KEYS[kind.type].has(key)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : String(value);
  }
  return String(value);
}

/** A config shaped for `GET …/config` (without digest). */
export function shapeConfig(kind: Kind, config: GuestConfig): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  for (const key of Object.keys(config).sort()) {
    const value = config[key];
    if (value === undefined) continue;
    out[key] = key === "cipassword" ? "**********" : shapeValue(kind, key, value);
  }
  return out;
}

function configLines(config: GuestConfig): string[] {
  const lines: string[] = [];
  const description = config.description;
  if (description !== undefined) {
    for (const line of String(description).split("\n")) lines.push(`#${line}`);
  }
  for (const key of Object.keys(config).sort()) {
    if (key === "description") continue;
    lines.push(`${key}: ${config[key]}`);
  }
  return lines;
}

/** The guest's config file text, as `write_vm_config` would lay it out. */
export function configText(guest: Guest): string {
  const lines = configLines(guest.config);
  if (Object.keys(guest.pending).length > 0 || guest.pendingDelete.length > 0) {
    lines.push("", "[PENDING]", ...configLines(guest.pending));
    if (guest.pendingDelete.length > 0) lines.push(`delete: ${guest.pendingDelete.join(",")}`);
  }
  for (const snap of [...guest.snapshots.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push("", `[${snap.name}]`);
    const snapConf: GuestConfig = { ...snap.config, snaptime: snap.snaptime };
    if (snap.description !== "") snapConf.description = snap.description;
    if (snap.parent !== undefined) snapConf.parent = snap.parent;
    if (snap.vmstate === 1) snapConf.vmstate = 1;
    lines.push(...configLines(snapConf));
  }
  return lines.join("\n") + "\n";
}

/** SHA1 hex of the config file text (the `digest`). */
export function configDigest(guest: Guest): string {
  return createHash("sha1").update(configText(guest)).digest("hex");
}

/** The config with pending changes applied (what `GET config` shows without `current`). */
export function effectiveConfig(guest: Guest): GuestConfig {
  const conf: GuestConfig = { ...guest.config, ...guest.pending };
  for (const key of guest.pendingDelete) delete conf[key];
  return conf;
}

/** `GET …/config` (`current`, `snapshot`). */
export function getConfig(ctx: RouteContext, kind: Kind): Record<string, ConfigValue> {
  const guest = findGuest(ctx, kind);
  const snapname = pstr(ctx.params, "snapshot");
  const current = pbool(ctx.params, "current");
  if (snapname !== undefined && current) {
    const msg = "cannot use 'snapshot' parameter with 'current'";
    throw paramError({ snapshot: msg, current: msg });
  }
  let conf: GuestConfig;
  if (snapname !== undefined) {
    const snap = guest.snapshots.get(snapname);
    if (snap === undefined) throw dieError(`snapshot '${snapname}' does not exist`);
    conf = snapshotConfigView(snap);
  } else {
    conf = current ? { ...guest.config } : effectiveConfig(guest);
  }
  return { ...shapeConfig(kind, conf), digest: configDigest(guest) };
}

/** `GET …/pending`. */
export function getPending(ctx: RouteContext, kind: Kind): Record<string, unknown>[] {
  const guest = findGuest(ctx, kind);
  const keys = new Set([
    ...Object.keys(guest.config),
    ...Object.keys(guest.pending),
    ...guest.pendingDelete,
  ]);
  const out: Record<string, unknown>[] = [];
  for (const key of [...keys].sort()) {
    const item: Record<string, unknown> = { key };
    const value = guest.config[key];
    if (value !== undefined) {
      item.value = key === "cipassword" ? "**********" : shapeValue(kind, key, value);
    }
    const pending = guest.pending[key];
    if (pending !== undefined) item.pending = shapeValue(kind, key, pending);
    if (guest.pendingDelete.includes(key)) item.delete = 1;
    out.push(item);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Sizes, disks, volumes, MACs

/** Parses `32G`, `512M`, `1.5T`, `1024` (bytes) into bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text.trim());
  if (m === null) return undefined;
  const unit = { "": 1, K: 1024, M: MIB, G: GIB, T: 1024 ** 4 }[m[2] as "" | "K" | "M" | "G" | "T"];
  return Math.round(Number(m[1]) * unit);
}

/** PVE's `format_size`: the largest unit that divides the size exactly. */
export function formatSize(bytes: number): string {
  const kb = Math.floor(bytes / 1024);
  if (kb * 1024 !== bytes) return String(bytes);
  const mb = Math.floor(kb / 1024);
  if (mb * 1024 !== kb) return `${kb}K`;
  const gb = Math.floor(mb / 1024);
  if (gb * 1024 !== mb) return `${mb}M`;
  const tb = Math.floor(gb / 1024);
  if (tb * 1024 !== gb) return `${gb}G`;
  return `${tb}T`;
}

/** `2.0 GiB` style sizes, as PVE's `render_bytes` prints them. */
export function renderBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${value} B` : `${value.toFixed(1)} ${units[i]}`;
}

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

/** The storage config of a volid's storage, or undefined. */
export function storageOf(state: SimState, volid: string): StorageConfig | undefined {
  return state.storages.get(volid.split(":")[0] ?? "");
}

/** Finds a volume entry (and its list) by volid on a node (local) or cluster-wide (shared). */
export function findVolume(
  state: SimState,
  volid: string,
  node?: string,
): { list: Volume[]; volume: Volume; key: string } | undefined {
  for (const [key, list] of state.volumes) {
    if (node !== undefined && key.includes("/") && !key.startsWith(`${node}/`)) continue;
    const volume = list.find((v) => v.volid === volid);
    if (volume !== undefined) return { list, volume, key };
  }
  return undefined;
}

/** Removes a volume from the storage lists. */
export function removeVolume(state: SimState, volid: string, node: string): void {
  const found = findVolume(state, volid, node);
  if (found === undefined) return;
  const i = found.list.indexOf(found.volume);
  if (i >= 0) found.list.splice(i, 1);
}

/** Next free disk number of a vmid on a storage. */
function nextDiskIndex(
  state: SimState,
  storage: StorageConfig,
  node: string,
  vmid: number,
): number {
  const list = volumesOn(state, storage, node);
  let n = 0;
  const taken = new Set(list.map((v) => v.volid));
  for (;;) {
    const names = [
      `${storage.storage}:vm-${vmid}-disk-${n}`,
      `${storage.storage}:base-${vmid}-disk-${n}`,
      `${storage.storage}:subvol-${vmid}-disk-${n}`,
      `${storage.storage}:${vmid}/vm-${vmid}-disk-${n}.qcow2`,
      `${storage.storage}:${vmid}/vm-${vmid}-disk-${n}.raw`,
      `${storage.storage}:${vmid}/base-${vmid}-disk-${n}.qcow2`,
    ];
    if (
      !names.some((name) =>
        taken.has(name) || [...taken].some((t) => t.endsWith(`/vm-${vmid}-disk-${n}`))
      )
    ) {
      return n;
    }
    n++;
  }
}

/** Looks up a storage by id; 500 `storage 'x' does not exist`. */
export function requireStorage(state: SimState, storeid: string): StorageConfig {
  const storage = state.storages.get(storeid);
  if (storage === undefined) throw dieError(`storage '${storeid}' does not exist`);
  return storage;
}

/** Allocates a new volume for a guest disk; returns its volid. */
export function allocateVolume(
  sim: Sim,
  options: {
    storage: StorageConfig;
    node: string;
    vmid: number;
    size: number;
    content: "images" | "rootdir";
    format?: string;
    base?: string;
  },
): string {
  const { storage, node, vmid, size, content } = options;
  const n = nextDiskIndex(sim.state, storage, node, vmid);
  const fileBased = storage.type === "dir" || storage.type === "nfs";
  const format = options.format ?? (fileBased ? (content === "rootdir" ? "raw" : "qcow2") : "raw");
  let volname: string;
  if (fileBased) volname = `${vmid}/vm-${vmid}-disk-${n}.${format}`;
  else if (storage.type === "zfspool" && content === "rootdir") {
    volname = `subvol-${vmid}-disk-${n}`;
  } else volname = `vm-${vmid}-disk-${n}`;
  if (options.base !== undefined) {
    const baseName = options.base.slice(options.base.indexOf(":") + 1);
    volname = fileBased ? `${baseName}/${volname}` : `${baseName}/${volname}`;
  }
  const volid = `${storage.storage}:${volname}`;
  const volume: Volume = {
    volid,
    content,
    format: storage.type === "zfspool" && content === "rootdir" ? "subvol" : format,
    size,
    ctime: sim.clock.now(),
    vmid,
  };
  if (options.base !== undefined) volume.parent = options.base.slice(options.base.indexOf(":") + 1);
  volumesOn(sim.state, storage, node).push(volume);
  return volid;
}

/** The log line PVE's storage plugins print when a volume is created. */
export function createdLine(volid: string, storage: StorageConfig | undefined): string {
  const volname = volid.slice(volid.indexOf(":") + 1);
  if (storage?.type === "lvmthin" || storage?.type === "lvm") {
    return `  Logical volume "${volname.split("/").pop()}" created.`;
  }
  if (storage?.type === "dir" || storage?.type === "nfs") {
    const base = storage.path ??
      (storage.type === "nfs" ? `/mnt/pve/${storage.storage}` : "/var/lib/vz");
    return `Formatting '${base}/images/${volname}', fmt=${
      volname.split(".").pop()
    } size=0 preallocation=off`;
  }
  return `successfully created '${volid}'`;
}

/** The log line printed when a volume is removed. */
export function removedLine(volid: string, storage: StorageConfig | undefined): string {
  const volname = volid.slice(volid.indexOf(":") + 1).split("/").pop() ?? volid;
  if (storage?.type === "lvmthin" || storage?.type === "lvm") {
    return `  Logical volume "${volname}" successfully removed.`;
  }
  return `Removing image: 100% complete...done.`;
}

/** FNV-1a hash for deterministic pseudo-random values. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A deterministic MAC with the Proxmox prefix `BC:24:11`, unique within the cluster state. */
export function generateMac(state: SimState, seed: string): string {
  const used = new Set<string>();
  for (const g of state.guests.values()) {
    for (const v of Object.values(g.config)) {
      const m = /([0-9A-F]{2}(?::[0-9A-F]{2}){5})/i.exec(String(v));
      if (m?.[1] !== undefined) used.add(m[1].toUpperCase());
    }
  }
  for (let i = 0;; i++) {
    const h = hash32(`${seed}#${i}`);
    const mac = `BC:24:11:${
      [h >>> 16, h >>> 8, h].map((b) => (b & 0xff).toString(16).toUpperCase().padStart(2, "0"))
        .join(":")
    }`;
    if (!used.has(mac)) return mac;
  }
}

const QEMU_NIC_MODELS = [
  "virtio",
  "e1000",
  "e1000e",
  "rtl8139",
  "vmxnet3",
  "ne2k_pci",
  "pcnet",
  "i82551",
  "i82557b",
  "i82559er",
  "ne2k_isa",
];

/** Adds a MAC to a NIC value that lacks one (`virtio,bridge=vmbr0` → `virtio=BC:24:11:…,bridge=vmbr0`). */
export function completeNic(
  kind: Kind,
  state: SimState,
  seed: string,
  value: string,
  fresh = false,
): string {
  const parts = value.split(",").filter((p) => p !== "");
  if (kind.type === "qemu") {
    const first = parts[0] ?? "virtio";
    const [model, mac] = first.includes("=")
      ? first.split("=", 2) as [string, string]
      : [first, ""];
    if (QEMU_NIC_MODELS.includes(model) && (mac === "" || fresh)) {
      parts[0] = `${model}=${generateMac(state, seed)}`;
    }
    const macIdx = parts.findIndex((p) => p.startsWith("macaddr="));
    if (macIdx >= 0) {
      const m = parts[macIdx]?.slice(8) ?? "";
      parts.splice(macIdx, 1);
      parts[0] = `${parts[0]?.split("=")[0]}=${fresh ? generateMac(state, seed) : m}`;
    }
    return parts.join(",");
  }
  const map = new Map<string, string>();
  for (const p of parts) {
    const eq = p.indexOf("=");
    if (eq > 0) map.set(p.slice(0, eq), p.slice(eq + 1));
  }
  if (!map.has("hwaddr") || fresh) map.set("hwaddr", generateMac(state, seed));
  if (!map.has("type")) map.set("type", "veth");
  const order = [
    "name",
    "bridge",
    "firewall",
    "gw",
    "gw6",
    "hwaddr",
    "ip",
    "ip6",
    "link_down",
    "mtu",
    "rate",
    "tag",
    "trunks",
    "type",
  ];
  const keys = [...map.keys()].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  return keys.map((k) => `${k}=${map.get(k)}`).join(",");
}

/** Gives every NIC of a config a new MAC (clone, `unique` restore). */
export function regenerateMacs(
  kind: Kind,
  state: SimState,
  vmid: number,
  config: GuestConfig,
): void {
  for (const key of Object.keys(config)) {
    if (/^net\d+$/.test(key)) {
      config[key] = completeNic(kind, state, `${vmid}/${key}/new`, String(config[key]), true);
    }
  }
}

/**
 * Turns a disk parameter of a create/update into a stored disk: `<storage>:<GiB>` allocates a
 * new volume (logged), anything else is kept. Returns the config value.
 */
export function materializeDisk(
  sim: Sim,
  task: TaskRunner | undefined,
  options: { kind: Kind; node: string; vmid: number; key: string; value: string },
): string {
  const { kind, node, vmid, key, value } = options;
  if (kind.type === "qemu" && isCdrom(value)) return value;
  const { volid, opts } = parseDrive(value);
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$/i.exec(volid);
  if (m === null) return value;
  const storage = requireStorage(sim.state, m[1] ?? "");
  let size = Math.round(Number(m[2]) * GIB);
  const rest = opts.filter(([k]) => k !== "size" && k !== "import-from" && k !== "format");
  const importFrom = opts.find(([k]) => k === "import-from")?.[1];
  if (importFrom !== undefined) {
    const src = findVolume(sim.state, importFrom, node);
    size = src?.volume.size ?? 2 * GIB;
  }
  const format = opts.find(([k]) => k === "format")?.[1];
  const newVolid = allocateVolume(sim, {
    storage,
    node,
    vmid,
    size,
    content: kind.type === "lxc" ? "rootdir" : "images",
    ...(format !== undefined ? { format } : {}),
  });
  const stored = printDrive(newVolid, [...rest, ["size", formatSize(size)]]);
  if (task !== undefined) {
    task.log(createdLine(newVolid, storage));
    if (kind.type === "qemu") task.log(`${key}: successfully created disk '${stored}'`);
  }
  return stored;
}

/** Next free `unusedN` key. */
export function nextUnusedKey(config: GuestConfig): string {
  for (let i = 0;; i++) if (config[`unused${i}`] === undefined) return `unused${i}`;
}

// ---------------------------------------------------------------------------------------
// Config updates (PUT/POST config)

const QEMU_COLD_KEYS = new Set([
  "cores",
  "sockets",
  "numa",
  "cpu",
  "machine",
  "bios",
  "ostype",
  "scsihw",
  "vga",
  "args",
  "kvm",
  "acpi",
  "agent",
  "smbios1",
  "hugepages",
  "affinity",
  "tpmstate0",
  "efidisk0",
  "arch",
  "audio0",
  "rng0",
  "watchdog",
  "keyboard",
  "localtime",
  "tablet",
  "vmgenid",
  "startdate",
  "tdf",
  "freeze",
]);
const LXC_COLD_KEYS = new Set([
  "features",
  "unprivileged",
  "ostype",
  "arch",
  "cmode",
  "console",
  "tty",
  "entrypoint",
  "env",
  "timezone",
  "hookscript",
  "rootfs",
]);

/** Whether changing `key` on a running guest must wait in pending (not hot-pluggable). */
export function isColdKey(kind: Kind, guest: Guest, key: string): boolean {
  if (guest.status !== "running") return false;
  if (kind.type === "lxc") return LXC_COLD_KEYS.has(key) || /^(mp|dev)\d+$/.test(key);
  const hotplug = String(guest.config.hotplug ?? "network,disk,usb");
  const features = hotplug === "1"
    ? ["network", "disk", "usb"]
    : hotplug === "0"
    ? []
    : hotplug.split(",");
  if (key === "memory") return !features.includes("memory");
  if (key === "vcpus") return !features.includes("cpu");
  if (/^net\d+$/.test(key)) return !features.includes("network");
  if (isDiskKey(kind, key)) return !features.includes("disk");
  if (/^usb\d+$/.test(key)) return !features.includes("usb");
  if (/^(hostpci|serial|parallel|ide|virtiofs)\d*$/.test(key)) return true;
  return QEMU_COLD_KEYS.has(key);
}

const UPDATE_META_KEYS = new Set([
  "node",
  "vmid",
  "digest",
  "delete",
  "revert",
  "force",
  "skiplock",
  "background_delay",
]);

/** `option_exists`: a config key of this guest type (an indexed key within its range). */
function optionExists(kind: Kind, key: string): boolean {
  if (UPDATE_META_KEYS.has(key)) return false;
  const schema = endpointSchema("PUT", `/nodes/{node}/${kind.type}/{vmid}/config`);
  if (schema === undefined) return false;
  return Object.hasOwn(checkParams(schema.parameters, { [key]: "" }).schema, key);
}

/** The keys of `delete`, QEMU's `cdrom` alias resolved to `ide2`. */
function deleteKeys(kind: Kind, params: Params): string[] {
  const keys = plist(params, "delete");
  return kind.type === "qemu" ? keys.map((k) => k === "cdrom" ? "ide2" : k) : keys;
}

/**
 * The `revert`/`delete` checks of `update_vm_api` (qemu-server) and `update_vm`
 * (pve-container), each in its own order and wording — including QEMU reporting a
 * set-and-revert conflict under `delete`, and both dropping a quote before `-delete`.
 */
function checkDeleteRevert(kind: Kind, params: Params): void {
  const revert = plist(params, "revert");
  const given = (key: string) => params[key] !== undefined && !UPDATE_META_KEYS.has(key);
  for (const key of revert) {
    if (!optionExists(kind, key)) throw paramError({ revert: `unknown option '${key}'` });
    if (given(key)) {
      throw kind.type === "qemu"
        ? paramError({ delete: `you can't use '-${key}' and -revert ${key}' at the same time` })
        : paramError({ revert: `you can't use '-${key}' and '-revert ${key}' at the same time` });
    }
  }
  for (const key of deleteKeys(kind, params)) {
    const unknown = paramError({ delete: `unknown option '${key}'` });
    if (kind.type === "lxc" && !optionExists(kind, key)) throw unknown;
    if (given(key)) {
      throw paramError({ delete: `you can't use '-${key}' and -delete ${key}' at the same time` });
    }
    if (revert.includes(key)) {
      throw kind.type === "qemu"
        ? paramError({
          revert: `you can't use '-delete ${key}' and -revert ${key}' at the same time`,
        })
        : paramError({
          delete: `you can't use '-delete ${key}' and '-revert ${key}' at the same time`,
        });
    }
    if (!optionExists(kind, key)) throw unknown;
  }
}

/**
 * Sync checks of a config update: skiplock, `no options specified`, then for QEMU the
 * `delete`/`revert` checks, lock and digest (`checksum mismatch …`); for LXC lock, digest
 * (`PVE::Tools::assert_if_modified`'s wording) and then the `delete`/`revert` checks.
 */
export function checkConfigUpdate(
  ctx: RouteContext,
  kind: Kind,
  guest: Guest,
): { skiplock: boolean } {
  const skiplock = checkSkiplock(ctx);
  const params = ctx.params;
  const changes = Object.keys(params).filter((k) => !UPDATE_META_KEYS.has(k));
  if (
    changes.length === 0 && plist(params, "delete").length === 0 &&
    plist(params, "revert").length === 0
  ) {
    throw dieError("no options specified");
  }
  if (kind.type === "qemu") checkDeleteRevert(kind, params);
  assertUnlockedSync(kind, guest, skiplock);
  const digest = pstr(params, "digest");
  if (digest !== undefined && digest !== configDigest(guest)) {
    throw dieError(
      kind.type === "qemu"
        ? "checksum mismatch (file change by other user?)"
        : "detected modified configuration - file changed by other user? Try again.",
    );
  }
  if (kind.type === "lxc") checkDeleteRevert(kind, params);
  return { skiplock };
}

/** Applies a config update (`delete`, `revert`, new values); cold keys of running guests go to pending. */
export function applyConfigUpdate(
  ctx: RouteContext,
  kind: Kind,
  guest: Guest,
  task?: TaskRunner,
): void {
  const { params, sim } = ctx;
  const force = pbool(params, "force");
  for (const key of plist(params, "revert")) {
    delete guest.pending[key];
    guest.pendingDelete = guest.pendingDelete.filter((k) => k !== key);
  }
  for (const key of deleteKeys(kind, params)) {
    if (guest.pending[key] !== undefined) delete guest.pending[key];
    if (guest.config[key] === undefined) continue;
    if (isColdKey(kind, guest, key)) {
      if (!guest.pendingDelete.includes(key)) guest.pendingDelete.push(key);
      continue;
    }
    deleteConfigKey(sim, kind, guest, key, force, task);
  }
  for (const [key, raw] of Object.entries(params)) {
    if (UPDATE_META_KEYS.has(key)) continue;
    let value: ConfigValue = Array.isArray(raw) ? raw.join(",") : raw;
    if (/^net\d+$/.test(key)) {
      value = completeNic(kind, sim.state, `${guest.vmid}/${key}/${String(value)}`, String(value));
    } else if (isDiskKey(kind, key)) {
      value = materializeDisk(sim, task, {
        kind,
        node: guest.node,
        vmid: guest.vmid,
        key,
        value: String(value),
      });
    }
    guest.pendingDelete = guest.pendingDelete.filter((k) => k !== key);
    if (isColdKey(kind, guest, key)) {
      guest.pending[key] = value;
      continue;
    }
    const old = guest.config[key];
    if (old !== undefined && isDiskKey(kind, key) && String(old) !== String(value)) {
      const oldVol = parseDrive(String(old)).volid;
      if (!isCdrom(String(old)) && oldVol !== parseDrive(String(value)).volid) {
        guest.config[nextUnusedKey(guest.config)] = oldVol;
      }
    }
    guest.config[key] = value;
  }
}

/** Deletes one key: disks become `unusedN` unless `force`; `unusedN` deletion destroys the volume. */
export function deleteConfigKey(
  sim: Sim,
  kind: Kind,
  guest: Guest,
  key: string,
  force: boolean,
  task?: TaskRunner,
): void {
  const old = guest.config[key];
  if (old === undefined) return;
  delete guest.config[key];
  const isUnused = /^unused\d+$/.test(key);
  if (!isUnused && !(isDiskKey(kind, key) && !isCdrom(String(old)))) return;
  const volid = parseDrive(String(old)).volid;
  if (!volid.includes(":")) return;
  if (isUnused || force) {
    removeVolume(sim.state, volid, guest.node);
    task?.log(removedLine(volid, storageOf(sim.state, volid)));
  } else {
    guest.config[nextUnusedKey(guest.config)] = volid;
  }
}

/** Applies pending changes (on start and reboot). */
export function applyPending(sim: Sim, kind: Kind, guest: Guest): void {
  for (const key of guest.pendingDelete) deleteConfigKey(sim, kind, guest, key, false);
  guest.pendingDelete = [];
  for (const [key, value] of Object.entries(guest.pending)) guest.config[key] = value;
  guest.pending = {};
}

// ---------------------------------------------------------------------------------------
// Statistics

/** Memory in bytes of a config (`memory` is `[current=]MiB`). */
export function configMemory(config: GuestConfig): number {
  const raw = config.memory;
  if (raw === undefined) return 512 * MIB;
  const m = /(?:current=)?(\d+)/.exec(String(raw));
  return Number(m?.[1] ?? 512) * MIB;
}

/** Number of vCPUs of a guest. */
export function configCpus(kind: Kind, state: SimState, guest: Guest): number {
  const c = guest.config;
  if (kind.type === "lxc") {
    return Number(c.cores ?? state.nodes.get(guest.node)?.maxcpu ?? 1);
  }
  if (c.vcpus !== undefined) return Number(c.vcpus);
  return Number(c.sockets ?? 1) * Number(c.cores ?? 1);
}

/** Size of the boot disk (QEMU) or rootfs (LXC) in bytes. */
export function bootDiskSize(kind: Kind, config: GuestConfig): number {
  if (kind.type === "lxc") {
    return config.rootfs === undefined ? 0 : driveSize(String(config.rootfs));
  }
  const boot = String(config.boot ?? "");
  const order = /order=([^,]+)/.exec(boot)?.[1]?.split(";") ?? [];
  const legacy = config.bootdisk === undefined ? [] : [String(config.bootdisk)];
  for (const key of [...order, ...legacy, "scsi0", "virtio0", "sata0", "ide0"]) {
    const value = config[key];
    if (value !== undefined && isDiskKey(kind, key) && !isCdrom(String(value))) {
      return driveSize(String(value));
    }
  }
  return 0;
}

/** Live, plausible and deterministic usage figures of a guest. */
export function liveStats(
  kind: Kind,
  state: SimState,
  guest: Guest,
  now: number,
): {
  cpu: number;
  mem: number;
  maxmem: number;
  uptime: number;
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
  disk: number;
  maxdisk: number;
  cpus: number;
  freemem: number;
} {
  const maxmem = configMemory(guest.config);
  const maxdisk = bootDiskSize(kind, guest.config);
  const cpus = configCpus(kind, state, guest);
  const running = guest.status === "running";
  if (!running) {
    return {
      cpu: 0,
      mem: 0,
      maxmem,
      uptime: 0,
      netin: 0,
      netout: 0,
      diskread: 0,
      diskwrite: 0,
      disk: kind.type === "lxc" ? guest.stats.disk : 0,
      maxdisk,
      cpus,
      freemem: 0,
    };
  }
  const uptime = Math.max(0, now - guest.startedAt);
  const h = hash32(`stats/${guest.vmid}`);
  const s = guest.stats;
  const cpu = s.cpu > 0 ? s.cpu : 0.005 + (h % 400) / 10_000;
  const mem = s.mem > 0 ? s.mem : Math.round(maxmem * (0.3 + ((h >>> 8) % 40) / 100));
  const rate = 200 + (h % 1800);
  return {
    cpu,
    mem: Math.min(mem, maxmem),
    maxmem,
    uptime,
    netin: s.netin + uptime * rate,
    netout: s.netout + Math.round(uptime * rate * 0.2),
    diskread: s.diskread + uptime * (rate * 16),
    diskwrite: s.diskwrite + uptime * (rate * 4),
    disk: kind.type === "lxc" ? (s.disk > 0 ? s.disk : Math.round(maxdisk * 0.35)) : 0,
    maxdisk,
    cpus,
    freemem: Math.max(0, maxmem - mem),
  };
}

/** `ha` of `status/current`. */
export function haStatus(state: SimState, kind: Kind, vmid: number): Record<string, unknown> {
  const res = state.ha.get(haSid(kind, vmid));
  if (res === undefined) return { managed: 0 };
  const out: Record<string, unknown> = { managed: 1, state: res.state };
  if (res.group !== undefined) out.group = res.group;
  return out;
}

/** Display name of a guest: QEMU `name` or `VM <id>`, LXC `hostname` or `CT<id>`. */
export function guestName(kind: Kind, guest: Guest): string {
  if (kind.type === "qemu") return String(guest.config.name ?? `VM ${guest.vmid}`);
  return String(guest.config.hostname ?? `CT${guest.vmid}`);
}

// ---------------------------------------------------------------------------------------
// RRD data

const RRD_FRAMES: Record<string, [number, number]> = {
  hour: [60, 60],
  day: [60, 1440],
  week: [1800, 336],
  month: [1800, 1440],
  year: [21600, 1440],
};

/** `GET …/rrddata`: deterministic series from the vmid and the time slots. */
export function rrdData(ctx: RouteContext, kind: Kind): Record<string, number>[] {
  const guest = findGuest(ctx, kind);
  const timeframe = pstr(ctx.params, "timeframe") ?? "hour";
  const cf = pstr(ctx.params, "cf") ?? "AVERAGE";
  const [step, count] = RRD_FRAMES[timeframe] ?? [60, 60];
  const now = ctx.sim.clock.now();
  const end = Math.floor(now / step) * step;
  const ctimeMatch = /ctime=(\d+)/.exec(String(guest.config.meta ?? ""));
  const since = ctimeMatch?.[1] !== undefined ? Number(ctimeMatch[1]) : 0;
  const maxmem = configMemory(guest.config);
  const maxdisk = bootDiskSize(kind, guest.config);
  const maxcpu = configCpus(kind, ctx.sim.state, guest);
  const factor = cf === "MAX" ? 1.35 : 1;
  const out: Record<string, number>[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const time = end - i * step;
    if (time < since) {
      out.push({ time });
      continue;
    }
    const h = hash32(`${guest.vmid}/${time}`);
    const r = (h % 10_000) / 10_000;
    const r2 = ((h >>> 12) % 10_000) / 10_000;
    const base = (hash32(`base/${guest.vmid}`) % 300) / 10_000;
    const cpu = Math.min(1, (base + r * 0.03) * factor);
    const mem = maxmem * (0.35 + r2 * 0.2) * (cf === "MAX" ? 1.05 : 1);
    const point: Record<string, number> = {
      time,
      maxcpu,
      cpu: Number(cpu.toFixed(6)),
      maxmem,
      mem: Number(Math.min(mem, maxmem).toFixed(2)),
      memhost: Number(Math.min(mem * 1.04, maxmem).toFixed(2)),
      maxdisk,
      disk: kind.type === "lxc" ? Number((maxdisk * (0.3 + r2 * 0.05)).toFixed(2)) : 0,
      netin: Number((200 + r * 2000 * factor).toFixed(2)),
      netout: Number((40 + r2 * 400 * factor).toFixed(2)),
      diskread: Number((r * 65_536 * factor).toFixed(2)),
      diskwrite: Number((r2 * 32_768 * factor).toFixed(2)),
      pressurecpusome: Number((r * 0.02).toFixed(4)),
      pressurecpufull: 0,
      pressureiosome: Number((r2 * 0.01).toFixed(4)),
      pressureiofull: Number((r2 * 0.005).toFixed(4)),
      pressurememorysome: 0,
      pressurememoryfull: 0,
    };
    out.push(point);
  }
  while (out.length > 0 && Object.keys(out[out.length - 1] ?? {}).length === 1) out.pop();
  return out;
}

// ---------------------------------------------------------------------------------------
// Snapshots

/** The config frozen in a snapshot, as `GET …/snapshot/{snap}/config` shows it. */
export function snapshotConfigView(snap: Snapshot): GuestConfig {
  const conf: GuestConfig = { ...snap.config, snaptime: snap.snaptime };
  if (snap.description !== "") conf.description = snap.description;
  if (snap.parent !== undefined) conf.parent = snap.parent;
  if (snap.vmstate === 1) conf.vmstate = 1;
  return conf;
}

/** `GET …/snapshot`: real snapshots, then the `current` pseudo entry. */
export function listSnapshots(ctx: RouteContext, kind: Kind): Record<string, unknown>[] {
  const guest = findGuest(ctx, kind);
  const out: Record<string, unknown>[] = [];
  for (const snap of guest.snapshots.values()) {
    const item: Record<string, unknown> = {
      name: snap.name,
      snaptime: snap.snaptime,
      description: snap.description,
    };
    if (kind.type === "qemu") item.vmstate = snap.vmstate;
    if (snap.parent !== undefined) item.parent = snap.parent;
    out.push(item);
  }
  const current: Record<string, unknown> = {
    name: "current",
    digest: configDigest(guest),
    running: guest.status === "running" ? 1 : 0,
    description: "You are here!",
  };
  if (guest.config.parent !== undefined) current.parent = String(guest.config.parent);
  out.push(current);
  return out;
}

/** Config keys that are not copied into a snapshot. */
const SNAPSHOT_SKIP = new Set(["lock", "parent", "snaptime", "vmstate"]);

/** Sync part of snapshot creation: reserved names (500). */
export function checkSnapshotName(snapname: string): void {
  if (snapname === "current" || snapname === "pending") {
    throw dieError(`unable to use snapshot name '${snapname}' (reserved name)`);
  }
}

/** The task body of a snapshot creation. */
export async function createSnapshotTask(
  sim: Sim,
  task: TaskRunner,
  options: {
    kind: Kind;
    node: string;
    vmid: number;
    snapname: string;
    description: string;
    vmstate: boolean;
  },
): Promise<void> {
  const { kind, node, vmid, snapname } = options;
  const guest = guestInTask(sim.state, kind, node, vmid);
  assertUnlockedTask(kind, guest);
  if (guest.snapshots.has(snapname)) throw new Error(`snapshot name '${snapname}' already used`);
  if (Number(guest.config.template ?? 0) === 1) {
    throw new Error("you can't take a snapshot if it's a template");
  }
  for (const [, volid] of guestDisks(kind, guest.config)) {
    const storage = storageOf(sim.state, volid);
    if (storage?.type === "lvm" || (storage !== undefined && /\.raw$/.test(volid))) {
      throw new Error("snapshot feature is not available");
    }
  }
  await withLock(guest, "snapshot", async () => {
    const withState = kind.type === "qemu" && options.vmstate && guest.status === "running";
    if (withState) {
      const storage = String(guest.config.vmstatestorage ?? "local-lvm");
      task.log(`saving VM state and RAM using storage '${storage}'`);
      await task.sleep(1);
      const mem = configMemory(guest.config) * 0.45;
      task.log(`${renderBytes(mem / 2)} in 1s`);
      await task.sleep(1);
      task.log(`completed saving the VM state in 2s, saved ${renderBytes(mem)}`);
    }
    for (const [key, volid] of guestDisks(kind, guest.config)) {
      if (/^unused\d+$/.test(key)) continue;
      task.log(
        kind.type === "qemu"
          ? `snapshotting 'drive-${key}' (${volid})`
          : `snapshotting '${key}' (${volid})`,
      );
      const storage = storageOf(sim.state, volid);
      if (storage?.type === "lvmthin") {
        const vol = volid.slice(volid.indexOf(":") + 1).split("/").pop();
        task.log(`  Logical volume "snap_${vol}_${snapname}" created.`);
      }
      await task.sleep(0.5);
    }
    const config: GuestConfig = {};
    for (const [k, v] of Object.entries(guest.config)) if (!SNAPSHOT_SKIP.has(k)) config[k] = v;
    const snap: Snapshot = {
      name: snapname,
      snaptime: sim.clock.now(),
      vmstate: withState ? 1 : 0,
      description: options.description,
      config,
    };
    if (guest.config.parent !== undefined) snap.parent = String(guest.config.parent);
    guest.snapshots.set(snapname, snap);
    guest.config.parent = snapname;
  });
}

/** The task body of a snapshot deletion. */
export async function deleteSnapshotTask(
  sim: Sim,
  task: TaskRunner,
  options: { kind: Kind; node: string; vmid: number; snapname: string; force: boolean },
): Promise<void> {
  const { kind, node, vmid, snapname, force } = options;
  const guest = guestInTask(sim.state, kind, node, vmid);
  const snap = guest.snapshots.get(snapname);
  if (snap === undefined) throw new Error(`snapshot '${snapname}' does not exist`);
  assertUnlockedTask(kind, guest, force);
  await withLock(guest, "snapshot-delete", async () => {
    for (const [key, volid] of guestDisks(kind, snap.config)) {
      if (/^unused\d+$/.test(key)) continue;
      const storage = storageOf(sim.state, volid);
      if (storage?.type === "lvmthin") {
        const vol = volid.slice(volid.indexOf(":") + 1).split("/").pop();
        task.log(`  Logical volume "snap_${vol}_${snapname}" successfully removed.`);
      }
      await task.sleep(0.5);
    }
    for (const other of guest.snapshots.values()) {
      if (other.parent === snapname) {
        if (snap.parent !== undefined) other.parent = snap.parent;
        else delete other.parent;
      }
    }
    if (guest.config.parent === snapname) {
      if (snap.parent !== undefined) guest.config.parent = snap.parent;
      else delete guest.config.parent;
    }
    guest.snapshots.delete(snapname);
  });
}

/** `GET|PUT …/snapshot/{snap}/config`. */
export function snapshotConfig(ctx: RouteContext, kind: Kind): unknown {
  const guest = findGuest(ctx, kind);
  const snapname = String(ctx.params.snapname);
  const snap = guest.snapshots.get(snapname);
  if (snap === undefined) throw dieError(`snapshot '${snapname}' does not exist`);
  if (ctx.method === "PUT") {
    const description = pstr(ctx.params, "description");
    if (description !== undefined) snap.description = description;
    return null;
  }
  return shapeConfig(kind, snapshotConfigView(snap));
}

/** Whether a guest is (at least partly) on storage local to its node. */
export function localDisks(state: SimState, kind: Kind, guest: Guest): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, volid] of guestDisks(kind, guest.config)) {
    const storage = storageOf(state, volid);
    if (storage !== undefined && !storage.shared) out.push([key, volid]);
  }
  return out;
}

/** Moves the local volumes of a guest to another node's lists (migration). */
export function moveLocalVolumes(state: SimState, kind: Kind, guest: Guest, target: string): void {
  const volids = new Set(guestDisks(kind, guest.config).map(([, v]) => v));
  for (const snap of guest.snapshots.values()) {
    for (const [, v] of guestDisks(kind, snap.config)) volids.add(v);
  }
  for (const volid of volids) {
    const storage = storageOf(state, volid);
    if (storage === undefined || storage.shared) continue;
    const found = findVolume(state, volid, guest.node);
    if (found === undefined) continue;
    found.list.splice(found.list.indexOf(found.volume), 1);
    volumesOn(state, storage, target).push(found.volume);
  }
}

/** Removes a guest from its pool, backup jobs and HA (destroy with `purge`). */
export function purgeGuestReferences(
  state: SimState,
  kind: Kind,
  vmid: number,
  purge: boolean,
): void {
  const pool = poolOf(state, vmid);
  if (pool !== undefined) state.pools.get(pool)?.vms.delete(vmid);
  if (!purge) return;
  state.ha.delete(haSid(kind, vmid));
  for (const job of state.backupJobs.values()) {
    if (job.vmid === undefined) continue;
    const ids = job.vmid.split(/[,;\s]+/).filter((v) => v !== "" && v !== String(vmid));
    job.vmid = ids.join(",");
  }
}

/** A fresh guest record. */
export function newGuest(kind: Kind, vmid: number, node: string, config: GuestConfig): Guest {
  return {
    vmid,
    type: kind.type,
    node,
    config,
    pending: {},
    pendingDelete: [],
    snapshots: new Map(),
    status: "stopped",
    qmpstatus: "stopped",
    startedAt: 0,
    pid: 0,
    stats: { cpu: 0, mem: 0, disk: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0 },
    execs: new Map(),
  };
}

/** Marks a guest running (new pid, start time). */
export function markRunning(sim: Sim, guest: Guest): void {
  guest.status = "running";
  guest.qmpstatus = "running";
  guest.startedAt = sim.clock.now();
  guest.pid = sim.state.nextPid++;
}

/** Marks a guest stopped. */
export function markStopped(guest: Guest): void {
  guest.status = "stopped";
  guest.qmpstatus = "stopped";
  guest.startedAt = 0;
  guest.pid = 0;
  guest.execs.clear();
}

/** Waits (in simulated time) until a task ends or `seconds` pass; returns whether it ended OK. */
export async function waitForTask(sim: Sim, upid: string, seconds: number): Promise<boolean> {
  const step = 0.25;
  for (let waited = 0; waited <= seconds; waited += step) {
    const task = sim.state.tasks.find((t) => t.upid === upid);
    if (task === undefined) return false;
    if (task.status === "stopped") return task.exitstatus === "OK";
    await sim.clock.sleep(step);
  }
  return false;
}

/** `uuid`-shaped deterministic id from a seed. */
export function pseudoUuid(seed: string): string {
  const hex = [0, 1, 2, 3].map((i) => hash32(`${seed}/${i}`).toString(16).padStart(8, "0")).join(
    "",
  );
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${
    hex.slice(20, 32)
  }`;
}

// ---------------------------------------------------------------------------------------
// Operations shared by QEMU and LXC routes

/** `Permission check failed (pool 'x' does not exist)` unless the pool exists. */
export function checkPool(state: SimState, pool: string | undefined): void {
  if (pool !== undefined && !state.pools.has(pool)) {
    throw permError(`pool '${pool}' does not exist`);
  }
}

/** Adds a guest to a pool. */
export function addToPool(state: SimState, pool: string | undefined, vmid: number): void {
  if (pool !== undefined) state.pools.get(pool)?.vms.add(vmid);
}

/** `GET …/snapshot/{snap}`: the command index. */
export function snapshotIndex(ctx: RouteContext, kind: Kind): unknown {
  const guest = findGuest(ctx, kind);
  const snapname = String(ctx.params.snapname);
  if (!guest.snapshots.has(snapname)) throw dieError(`snapshot '${snapname}' does not exist`);
  return [{ cmd: "rollback" }, { cmd: "config" }];
}

/** `POST …/snapshot`. */
export function postSnapshot(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const snapname = String(ctx.params.snapname);
  checkSnapshotName(snapname);
  const options = {
    kind,
    node: guest.node,
    vmid: guest.vmid,
    snapname,
    description: pstr(ctx.params, "description") ?? "",
    vmstate: pbool(ctx.params, "vmstate"),
  };
  return ctx.sim.startTask(
    ctx.auth,
    { node: guest.node, type: `${kind.prefix}snapshot`, id: String(guest.vmid) },
    (task) => createSnapshotTask(ctx.sim, task, options),
  );
}

/** `DELETE …/snapshot/{snap}`. */
export function deleteSnapshot(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const options = {
    kind,
    node: guest.node,
    vmid: guest.vmid,
    snapname: String(ctx.params.snapname),
    force: pbool(ctx.params, "force"),
  };
  return ctx.sim.startTask(
    ctx.auth,
    { node: guest.node, type: `${kind.prefix}delsnapshot`, id: String(guest.vmid) },
    (task) => deleteSnapshotTask(ctx.sim, task, options),
  );
}

/** `POST …/snapshot/{snap}/rollback`. */
export function rollbackSnapshot(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const { sim } = ctx;
  const node = guest.node;
  const vmid = guest.vmid;
  const snapname = String(ctx.params.snapname);
  const start = pbool(ctx.params, "start");
  return sim.startTask(
    ctx.auth,
    { node, type: `${kind.prefix}rollback`, id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      const snap = g.snapshots.get(snapname);
      if (snap === undefined) throw new Error(`snapshot '${snapname}' does not exist`);
      assertUnlockedTask(kind, g);
      await withLock(g, "rollback", async () => {
        if (g.status === "running") {
          task.log(kind.type === "qemu" ? `stopping VM ${vmid}` : `stopping CT ${vmid}`);
          await task.sleep(1);
          markStopped(g);
        }
        for (const [key, volid] of guestDisks(kind, snap.config)) {
          if (/^unused\d+$/.test(key)) continue;
          const storage = storageOf(sim.state, volid);
          if (storage?.type === "lvmthin") {
            const vol = volid.slice(volid.indexOf(":") + 1).split("/").pop();
            task.log(`  Logical volume "${vol}" successfully removed.`);
            task.log(`  Logical volume "${vol}" created.`);
          }
          await task.sleep(0.5);
        }
        const config: GuestConfig = { ...snap.config, parent: snapname };
        g.config = config;
        g.pending = {};
        g.pendingDelete = [];
      });
      if (kind.type === "qemu" && snap.vmstate === 1) {
        task.log("restoring VM state from snapshot");
        await task.sleep(1);
        markRunning(sim, g);
      } else if (start) {
        await task.sleep(1);
        markRunning(sim, g);
      }
    },
  );
}

/** `PUT …/resize`. */
export function resizeDisk(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const skiplock = kind.type === "qemu" ? checkSkiplock(ctx) : false;
  const { sim } = ctx;
  const node = guest.node;
  const vmid = guest.vmid;
  const disk = String(ctx.params.disk);
  const sizeText = String(ctx.params.size);
  const digest = pstr(ctx.params, "digest");
  /** The checks of both resize handlers; `fail` makes a sync (LXC) or task (QEMU) error. */
  const plan = (g: Guest, fail: (message: string) => Error) => {
    if (kind.type === "qemu") {
      if (digest !== undefined && digest !== configDigest(g)) {
        throw fail("checksum mismatch (file change by other user?)");
      }
      assertUnlockedTask(kind, g, skiplock);
    } else {
      assertUnlockedSync(kind, g);
      if (digest !== undefined && digest !== configDigest(g)) {
        throw fail("detected modified configuration - file changed by other user? Try again.");
      }
    }
    const value = g.config[disk];
    if (value === undefined || !isDiskKey(kind, disk)) throw fail(`disk '${disk}' does not exist`);
    if (kind.type === "qemu" && isCdrom(String(value))) throw fail("you can't resize a cdrom");
    const { volid, opts } = parseDrive(String(value));
    const current = findVolume(sim.state, volid, node)?.volume.size ?? driveSize(String(value));
    const grow = sizeText.startsWith("+");
    const amount = parseSize(grow ? sizeText.slice(1) : sizeText) ?? 0;
    let newSize = grow ? current + amount : amount;
    newSize = Math.ceil(newSize / 1024) * 1024;
    if (kind.type === "qemu") {
      if (newSize < current) throw fail("shrinking disks is not supported");
    } else {
      if (newSize < current) throw fail("unable to shrink disk size");
      if (newSize === current) throw fail("disk is already at specified size");
    }
    return { volid, opts, current, newSize };
  };
  // pve-container checks all of this before forking (sync 500s); qemu-server in the worker.
  const early = kind.type === "lxc" ? plan(guest, dieError) : undefined;
  return sim.startTask(
    ctx.auth,
    { node, type: "resize", id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      const { volid, opts, current, newSize } = early ?? plan(g, (m) => new Error(m));
      const storage = storageOf(sim.state, volid);
      if (storage?.type === "lvmthin" || storage?.type === "lvm") {
        const vg = storage.vgname ?? "pve";
        const vol = volid.slice(volid.indexOf(":") + 1).split("/").pop();
        const extents = (b: number) => Math.round(b / (4 * MIB));
        task.log(
          `  Size of logical volume ${vg}/${vol} changed from ${(current / GIB).toFixed(2)} GiB (${
            extents(current)
          } extents) to ${(newSize / GIB).toFixed(2)} GiB (${extents(newSize)} extents).`,
        );
        task.log(`  Logical volume ${vg}/${vol} successfully resized.`);
      } else {
        task.log(`Image resized.`);
      }
      await task.sleep(1);
      const found = findVolume(sim.state, volid, node);
      if (found !== undefined) found.volume.size = newSize;
      g.config[disk] = printDrive(volid, [
        ...opts.filter(([k]) => k !== "size"),
        ["size", formatSize(newSize)],
      ]);
    },
  );
}

/** `POST …/template` (QEMU returns the UPID, LXC `null`). */
export function makeTemplate(ctx: RouteContext, kind: Kind): string | null {
  const guest = findGuest(ctx, kind);
  const { sim } = ctx;
  if (Number(guest.config.template ?? 0) === 1) {
    throw dieError("you can't convert a template to a template");
  }
  if (guest.status === "running") {
    throw dieError(
      kind.type === "qemu"
        ? "you can't convert a VM to template if VM is running"
        : "you can't convert a CT to template if the CT is running",
    );
  }
  assertUnlockedSync(kind, guest);
  const onlyDisk = pstr(ctx.params, "disk");
  const node = guest.node;
  const vmid = guest.vmid;
  const upid = sim.startTask(
    ctx.auth,
    { node, type: `${kind.prefix}template`, id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      for (const [key, volid, value] of guestDisks(kind, g.config)) {
        if (/^unused\d+$/.test(key)) continue;
        if (onlyDisk !== undefined && key !== onlyDisk) continue;
        const baseVolid = volid.replace(/vm-(\d+)-disk-/, "base-$1-disk-").replace(
          /subvol-(\d+)-disk-/,
          "basevol-$1-disk-",
        );
        if (baseVolid === volid) continue;
        const storage = storageOf(sim.state, volid);
        if (storage?.type === "lvmthin") {
          const from = volid.slice(volid.indexOf(":") + 1);
          const to = baseVolid.slice(baseVolid.indexOf(":") + 1);
          task.log(`  Renamed "${from}" to "${to}" in volume group "${storage.vgname ?? "pve"}"`);
          task.log(`  Logical volume pve/${to} changed.`);
        }
        const found = findVolume(sim.state, volid, node);
        if (found !== undefined) found.volume.volid = baseVolid;
        g.config[key] = printDrive(baseVolid, parseDrive(value).opts);
        await task.sleep(0.5);
      }
      g.config.template = 1;
    },
  );
  return kind.type === "qemu" ? upid : null;
}

/** `DELETE /nodes/{node}/{qemu|lxc}/{vmid}`. */
export function destroyGuest(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const { sim, params } = ctx;
  const skiplock = kind.type === "qemu" ? checkSkiplock(ctx) : false;
  const purge = pbool(params, "purge");
  const force = kind.type === "lxc" && pbool(params, "force");
  const vmid = guest.vmid;
  const node = guest.node;
  if (!purge && sim.state.ha.has(haSid(kind, vmid))) {
    throw dieError(
      `unable to remove ${kind.label} ${vmid} - used in HA resources and purge parameter not set.`,
    );
  }
  if (Number(guest.config.protection ?? 0) === 1) {
    throw dieError(`can't remove ${kind.label} ${vmid} - protection mode enabled`);
  }
  if (guest.status === "running" && !force) {
    throw dieError(
      kind.type === "qemu"
        ? `VM ${vmid} is running - destroy failed`
        : `unable to destroy CT ${vmid} - container is running`,
    );
  }
  const unreferenced = pbool(params, "destroy-unreferenced-disks");
  return sim.startTask(
    ctx.auth,
    { node, type: `${kind.prefix}destroy`, id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      assertUnlockedTask(kind, g, skiplock);
      if (g.status === "running") {
        if (!force) throw new Error(`${kind.label} ${vmid} is running - destroy failed`);
        await task.sleep(1);
        markStopped(g);
      }
      g.config.lock = "destroyed";
      const volids = new Set(guestDisks(kind, g.config).map(([, v]) => v));
      for (const snap of g.snapshots.values()) {
        for (const [, v] of guestDisks(kind, snap.config)) volids.add(v);
      }
      if (unreferenced) {
        for (const [key, list] of sim.state.volumes) {
          if (key.includes("/") && !key.startsWith(`${node}/`)) continue;
          for (const v of list) {
            if (v.vmid === vmid && (v.content === "images" || v.content === "rootdir")) {
              volids.add(v.volid);
            }
          }
        }
      }
      for (const volid of [...volids].sort()) {
        await task.sleep(0.5);
        removeVolume(sim.state, volid, node);
        task.log(removedLine(volid, storageOf(sim.state, volid)));
      }
      sim.state.guests.delete(vmid);
      purgeGuestReferences(sim.state, kind, vmid, purge);
      if (purge) task.log(`purging ${kind.label} ${vmid} from related configurations..`);
    },
  );
}

/** `GET …/migrate`: the precondition check. */
export function migratePrecondition(ctx: RouteContext, kind: Kind): Record<string, unknown> {
  const guest = findGuest(ctx, kind);
  const state = ctx.sim.state;
  const local = localDisks(state, kind, guest);
  const allowed: string[] = [];
  const notAllowed: Record<string, unknown> = {};
  for (const node of state.nodes.values()) {
    if (node.name === guest.node) continue;
    const unavailable = [...new Set(local.map(([, v]) => v.split(":")[0] ?? ""))].filter((s) => {
      const st = state.storages.get(s);
      return st === undefined || (st.nodes !== undefined && !st.nodes.includes(node.name));
    });
    if (!node.online) notAllowed[node.name] = { unavailable_storages: [], offline: 1 };
    else if (unavailable.length > 0) notAllowed[node.name] = { unavailable_storages: unavailable };
    else allowed.push(node.name);
  }
  const out: Record<string, unknown> = {
    running: guest.status === "running" ? 1 : 0,
    allowed_nodes: allowed,
    not_allowed_nodes: notAllowed,
  };
  if (kind.type === "qemu") {
    out.local_disks = local.map(([key, volid]) => ({
      volid,
      drivename: key,
      size: findVolume(state, volid, guest.node)?.volume.size ?? 0,
    }));
    out.local_resources = [];
    out["mapped-resources"] = [];
    out["mapped-resource-info"] = {};
  }
  return out;
}

/** `POST …/migrate`. */
export function migrateGuest(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const { sim, params } = ctx;
  const target = String(params.target);
  const node = guest.node;
  const vmid = guest.vmid;
  if (target === node) throw paramError({ target: "target is local node." });
  const targetNode = sim.state.nodes.get(target);
  if (targetNode === undefined) throw dieError(`no such cluster node '${target}'`);
  if (!targetNode.online) throw dieError(`target node '${target}' is not online`);
  const online = pbool(params, "online");
  const restart = kind.type === "lxc" && pbool(params, "restart");
  if (guest.status === "running") {
    if (kind.type === "qemu" && !online) {
      throw dieError("can't migrate running VM without --online");
    }
    if (kind.type === "lxc" && !online && !restart) {
      throw dieError("can't migrate running container without --online or --restart");
    }
  }
  assertUnlockedSync(kind, guest);
  const sid = haSid(kind, vmid);
  if (sim.state.ha.has(sid)) {
    return sim.startTask(ctx.auth, { node, type: "hamigrate", id: String(vmid) }, async (task) => {
      task.log(`Requesting HA migration for ${kind.label} ${vmid} to node ${target}`);
      await task.sleep(1);
      const g = guestInTask(sim.state, kind, node, vmid);
      moveLocalVolumes(sim.state, kind, g, target);
      g.node = target;
    });
  }
  return sim.startTask(
    ctx.auth,
    { node, type: kind.type === "qemu" ? "qmigrate" : "vzmigrate", id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      assertUnlockedTask(kind, g);
      if (kind.type === "lxc" && g.status === "running" && online && !restart) {
        throw new Error("lxc live migration is currently not implemented");
      }
      const started = sim.clock.now();
      const stamp = () => new Date(sim.clock.nowMs()).toISOString().slice(0, 19).replace("T", " ");
      await withLock(g, "migrate", async () => {
        task.log(
          `${stamp()} starting migration of ${kind.label} ${vmid} to node '${target}' (${targetNode.ip})`,
        );
        const wasRunning = g.status === "running";
        if (kind.type === "lxc" && wasRunning) {
          task.log(`${stamp()} shutdown CT ${vmid}`);
          await task.sleep(1);
          markStopped(g);
        }
        for (const [key, volid] of localDisks(sim.state, kind, g)) {
          task.log(`${stamp()} found local volume '${volid}' (in current VM config)`);
          const size = findVolume(sim.state, volid, node)?.volume.size ?? 0;
          for (let i = 1; i <= 3; i++) {
            await task.sleep(1);
            const done = Math.round((size * i) / 3);
            task.log(
              `${stamp()} ${key}: transferred ${renderBytes(done)} of ${renderBytes(size)} (${
                ((done / Math.max(size, 1)) * 100).toFixed(2)
              }%) in ${i}s`,
            );
          }
        }
        if (kind.type === "qemu" && wasRunning) {
          task.log(`${stamp()} starting online/live migration on tcp:${targetNode.ip}:60000`);
          const mem = configMemory(g.config);
          for (let i = 1; i <= 3; i++) {
            await task.sleep(1);
            task.log(
              `${stamp()} migration active, transferred ${renderBytes((mem * i) / 4)} of ${
                renderBytes(mem)
              } VM-state, ${renderBytes(mem / 4)}/s`,
            );
          }
          task.log(`${stamp()} migration status: completed`);
        } else {
          await task.sleep(1);
        }
        moveLocalVolumes(sim.state, kind, g, target);
        g.node = target;
        if (kind.type === "lxc" && wasRunning) {
          task.log(`${stamp()} start container on target node`);
          await task.sleep(1);
          markRunning(sim, g);
        }
        const secs = Math.max(0, sim.clock.now() - started);
        const hh = String(Math.floor(secs / 3600)).padStart(2, "0");
        const mm = String(Math.floor((secs % 3600) / 60)).padStart(2, "0");
        const ss = String(secs % 60).padStart(2, "0");
        task.log(`${stamp()} migration finished successfully (duration ${hh}:${mm}:${ss})`);
      });
    },
  );
}

/** `POST …/clone`. */
export function cloneGuest(ctx: RouteContext, kind: Kind): string {
  const src = findGuest(ctx, kind);
  const { sim, params } = ctx;
  const state = sim.state;
  const node = src.node;
  const vmid = src.vmid;
  const newid = Number(params.newid);
  const snapname = pstr(params, "snapname");
  const isTemplate = Number(src.config.template ?? 0) === 1;
  const full = params.full === undefined ? !isTemplate : pbool(params, "full");
  const storageParam = pstr(params, "storage");
  const format = pstr(params, "format");
  const pool = pstr(params, "pool");
  let target = pstr(params, "target");
  if (target === node) target = undefined;
  if (storageParam !== undefined && !full) {
    throw dieError("parameter 'storage' not allowed for linked clones");
  }
  if (format !== undefined && !full) {
    throw dieError("parameter 'format' not allowed for linked clones");
  }
  assertUnlockedSync(kind, src);
  if (state.guests.has(newid)) {
    throw dieError(`unable to create ${kind.label} ${newid}: config file already exists`);
  }
  let baseConfig: GuestConfig = src.config;
  if (snapname !== undefined) {
    const snap = src.snapshots.get(snapname);
    if (snap === undefined) throw dieError(`snapshot '${snapname}' does not exist`);
    baseConfig = snap.config;
  }
  const targetStorage = storageParam === undefined
    ? undefined
    : requireStorage(state, storageParam);
  if (target !== undefined) {
    if (!state.nodes.has(target)) throw dieError(`no such cluster node '${target}'`);
    const local = guestDisks(kind, baseConfig).filter(([k, v]) =>
      !/^unused\d+$/.test(k) && !(storageOf(state, v)?.shared ?? false)
    );
    if (local.length > 0 && !(targetStorage?.shared ?? false)) {
      throw dieError(
        `can't clone ${kind.label} to node '${target}' (${kind.label} uses local storage)`,
      );
    }
  }
  checkPool(state, pool);
  const newNode = target ?? node;

  const newConfig: GuestConfig = {};
  for (const [k, v] of Object.entries(baseConfig)) {
    if (SNAPSHOT_SKIP.has(k) || k === "template" || /^unused\d+$/.test(k)) continue;
    newConfig[k] = v;
  }
  if (kind.type === "qemu") {
    const srcName = String(baseConfig.name ?? `VM-${vmid}`);
    newConfig.name = pstr(params, "name") ?? `Copy-of-VM-${srcName}`;
    if (newConfig.smbios1 !== undefined) {
      newConfig.smbios1 = String(newConfig.smbios1).replace(
        /uuid=[0-9a-f-]+/i,
        `uuid=${pseudoUuid(`smbios/${newid}`)}`,
      );
    }
    if (newConfig.vmgenid !== undefined) newConfig.vmgenid = pseudoUuid(`vmgenid/${newid}`);
  } else {
    const hostname = pstr(params, "hostname");
    if (hostname !== undefined) newConfig.hostname = hostname;
  }
  const description = pstr(params, "description");
  if (description !== undefined) newConfig.description = description;
  regenerateMacs(kind, state, newid, newConfig);
  newConfig.lock = "clone";
  const disks = guestDisks(kind, baseConfig).filter(([k]) => !/^unused\d+$/.test(k));
  for (const [key] of disks) delete newConfig[key];
  const clone = newGuest(kind, newid, newNode, newConfig);
  state.guests.set(newid, clone);

  return sim.startTask(
    ctx.auth,
    { node, type: `${kind.prefix}clone`, id: String(vmid) },
    async (task) => {
      const created: string[] = [];
      try {
        for (const [key, volid, value] of disks) {
          const srcStorage = storageOf(state, volid);
          const size = findVolume(state, volid, node)?.volume.size ?? driveSize(value);
          const opts = parseDrive(value).opts.filter(([k]) => k !== "size");
          const what = kind.type === "qemu" ? `drive ${key}` : `mountpoint ${key}`;
          if (!full) {
            const volname = volid.slice(volid.indexOf(":") + 1);
            if (!/^(base|basevol)-\d+-disk-\d+/.test(volname.split("/").pop() ?? "")) {
              throw new Error(`Linked clone feature is not supported for '${volid}' (${key})`);
            }
            task.log(`create linked clone of ${what} (${volid})`);
            if (srcStorage === undefined) {
              throw new Error(`storage '${volid.split(":")[0]}' does not exist`);
            }
            const newVolid = allocateVolume(sim, {
              storage: srcStorage,
              node: newNode,
              vmid: newid,
              size,
              content: kind.type === "qemu" ? "images" : "rootdir",
              base: volid,
            });
            created.push(newVolid);
            task.log(createdLine(newVolid, srcStorage));
            await task.sleep(1);
            clone.config[key] = printDrive(newVolid, [...opts, ["size", formatSize(size)]]);
            continue;
          }
          const storage = targetStorage ?? srcStorage;
          if (storage === undefined) {
            throw new Error(`storage '${volid.split(":")[0]}' does not exist`);
          }
          task.log(`create full clone of ${what} (${volid})`);
          const newVolid = allocateVolume(sim, {
            storage,
            node: newNode,
            vmid: newid,
            size,
            content: kind.type === "qemu" ? "images" : "rootdir",
            ...(format !== undefined ? { format } : {}),
          });
          created.push(newVolid);
          task.log(createdLine(newVolid, storage));
          const steps = 5;
          const prefix = kind.type === "qemu" ? `drive-${key}` : key;
          for (let i = 1; i <= steps; i++) {
            await task.sleep(1);
            const done = i === steps ? size : Math.round((size * i) / steps / GIB * 10) / 10 * GIB;
            const pct = size === 0 ? 100 : (done / size) * 100;
            task.log(
              `${prefix}: transferred ${renderBytes(done)} of ${renderBytes(size)} (${
                pct.toFixed(2)
              }%) in ${i}s${i === steps ? ", ready" : ""}`,
            );
          }
          clone.config[key] = printDrive(newVolid, [...opts, ["size", formatSize(size)]]);
        }
        if (kind.type === "qemu" && src.status === "running" && full && disks.length > 0) {
          task.log("all 'mirror' jobs are ready");
        }
        addToPool(state, pool, newid);
        if (clone.config.lock === "clone") delete clone.config.lock;
      } catch (e) {
        for (const volid of created) removeVolume(state, volid, newNode);
        if (state.guests.get(newid) === clone) state.guests.delete(newid);
        throw e;
      }
    },
  );
}

/** Whether the QEMU guest agent is enabled in a config (`agent: 1` or `enabled=1,…`). */
export function agentEnabled(config: GuestConfig): boolean {
  const raw = config.agent;
  if (raw === undefined) return false;
  for (const part of String(raw).split(",")) {
    if (part === "1") return true;
    if (part === "0") return false;
    if (part.startsWith("enabled=")) return part.slice(8) === "1";
  }
  return false;
}

/** A timestamp as PVE prints it in logs (`2025-08-05 14:30:00`), in simulated UTC time. */
export function logStamp(sim: Sim): string {
  return new Date(sim.clock.nowMs()).toISOString().slice(0, 19).replace("T", " ");
}

// ---------------------------------------------------------------------------------------
// Route-module pieces that are the same for QEMU and LXC (the differences stay in qemu.ts
// and lxc.ts)

/** `GET /nodes/{node}/<type>`: the guests of one kind on the node that the caller may audit. */
export function listGuests(
  ctx: RouteContext,
  kind: Kind,
  status: (guest: Guest) => Record<string, unknown>,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const guest of ctx.sim.state.guests.values()) {
    if (guest.type !== kind.type || guest.node !== String(ctx.params.node)) continue;
    if (!ctx.sim.can(ctx.auth, `/vms/${guest.vmid}`, "VM.Audit")) continue;
    out.push(status(guest));
  }
  return out;
}

/** Whether the guest is an HA resource (then start/stop/shutdown go through HA). */
export function isHaManaged(state: SimState, kind: Kind, vmid: number): boolean {
  return state.ha.has(haSid(kind, vmid));
}

/** `ha-managed=1` at create: registers the new guest as a started HA resource. */
export function addHaResource(state: SimState, kind: Kind, vmid: number): void {
  state.ha.set(haSid(kind, vmid), {
    sid: haSid(kind, vmid),
    type: kind.haType,
    state: "started",
    max_restart: 1,
    max_relocate: 1,
  });
}

/** A create or restore task failed: its volumes go, and the placeholder guest with them. */
export function discardCreatedGuest(state: SimState, kind: Kind, guest: Guest): void {
  for (const [, volid] of guestDisks(kind, guest.config)) removeVolume(state, volid, guest.node);
  if (state.guests.get(guest.vmid) === guest) state.guests.delete(guest.vmid);
}

/** The storage a task body allocates on; a missing one ends the task. */
export function requireStorageInTask(sim: Sim, storeid: string): StorageConfig {
  const storage = sim.state.storages.get(storeid);
  if (storage === undefined) throw new Error(`storage '${storeid}' does not exist`);
  return storage;
}

/** Start or stop of an HA-managed guest: an `hastart`/`hastop` task that asks the HA stack. */
export function haTask(
  ctx: RouteContext,
  kind: Kind,
  options: { guest: Guest; type: "hastart" | "hastop" },
): string {
  const { sim } = ctx;
  const { guest, type } = options;
  const sid = haSid(kind, guest.vmid);
  const n = guest.node;
  const id = guest.vmid;
  return sim.startTask(ctx.auth, { node: n, type, id: String(id) }, async (task) => {
    task.log(`Requesting HA ${type === "hastart" ? "start" : "stop"} for ${kind.label} ${id}`);
    const res = sim.state.ha.get(sid);
    if (res !== undefined) res.state = type === "hastart" ? "started" : "stopped";
    await task.sleep(1);
    const g = lookupGuest(sim.state, kind, n, id);
    if (g === undefined) return;
    if (type === "hastart" && g.status !== "running") {
      applyPending(sim, kind, g);
      markRunning(sim, g);
    } else if (type === "hastop" && g.status === "running") {
      markStopped(g);
    }
  });
}

/** `overrule-shutdown=1` on stop: aborts the guest's running shutdown tasks, logging each. */
export function overruleShutdown(sim: Sim, task: TaskRunner, kind: Kind, vmid: number): void {
  for (const t of sim.state.tasks) {
    if (t.status === "running" && t.type === `${kind.prefix}shutdown` && t.id === String(vmid)) {
      task.log(`overruling active shutdown task ${t.upid}`);
      t.abort.abort();
    }
  }
}

/** The endpoints both guest types implement with the same handler, below `…/<type>/{vmid}`. */
export function guestRoutes(kind: Kind): Route[] {
  const base = `/nodes/{node}/${kind.type}/{vmid}`;
  const of = <T>(fn: (ctx: RouteContext, kind: Kind) => T) => (ctx: RouteContext): T =>
    fn(ctx, kind);
  return [
    route("DELETE", base, of(destroyGuest)),
    route("GET", `${base}/config`, of(getConfig)),
    route("GET", `${base}/pending`, of(getPending)),
    route("GET", `${base}/snapshot`, of(listSnapshots)),
    route("POST", `${base}/snapshot`, of(postSnapshot)),
    route("GET", `${base}/snapshot/{snapname}`, of(snapshotIndex)),
    route("DELETE", `${base}/snapshot/{snapname}`, of(deleteSnapshot)),
    route("GET", `${base}/snapshot/{snapname}/config`, of(snapshotConfig)),
    route("PUT", `${base}/snapshot/{snapname}/config`, of(snapshotConfig)),
    route("POST", `${base}/snapshot/{snapname}/rollback`, of(rollbackSnapshot)),
    route("POST", `${base}/clone`, of(cloneGuest)),
    route("PUT", `${base}/resize`, of(resizeDisk)),
    route("GET", `${base}/migrate`, of(migratePrecondition)),
    route("POST", `${base}/migrate`, of(migrateGuest)),
    route("POST", `${base}/template`, of(makeTemplate)),
    route("GET", `${base}/rrddata`, of(rrdData)),
  ];
}
