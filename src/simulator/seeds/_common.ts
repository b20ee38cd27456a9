/**
 * Builders shared by the `demo` and `scale` seeds: nodes, guests with configs as PVE
 * stores them, storages, volumes and users. Private to the seeds folder.
 *
 * @module
 */

import {
  type AclEntry,
  type Guest,
  type GuestConfig,
  type NodeState,
  type SimState,
  type StorageConfig,
  type Volume,
  volumeKey,
} from "../state.ts";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** A small seeded PRNG (mulberry32): returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(random: () => number, digits: number): string {
  let out = "";
  for (let i = 0; i < digits; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** A v4-looking UUID drawn from `random`. */
export function uuid(random: () => number): string {
  return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-a${hex(random, 3)}-${
    hex(random, 12)
  }`;
}

/** A MAC address with the Proxmox OUI `BC:24:11`, unique per (vmid, nic index). */
export function macFor(vmid: number, index: number): string {
  const n = (vmid * 32 + index) & 0xffffff;
  const b = [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return ["BC", "24", "11", ...b.map((x) => x.toString(16).toUpperCase().padStart(2, "0"))]
    .join(":");
}

/** What a node looks like. */
export interface NodeSpec {
  name: string;
  nodeid: number;
  ip: string;
  online?: boolean;
  maxcpu: number;
  sockets: number;
  cores: number;
  cpuModel: string;
  memGiB: number;
  /** Fraction of memory in use. */
  memUsed: number;
  cpu: number;
  rootGiB: number;
  rootUsed: number;
  uptime: number;
  loadavg: [string, string, string];
  now: number;
  pveVersion: string;
}

/** The kernel a PVE 9.1 node runs. */
export const KVERSION =
  "Linux 6.17.2-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)";

/** Adds a node with a `vmbr0` bridge on `eno1`. */
export function addNode(state: SimState, spec: NodeSpec): NodeState {
  const maxmem = spec.memGiB * GIB;
  const maxdisk = spec.rootGiB * GIB;
  const node: NodeState = {
    name: spec.name,
    nodeid: spec.nodeid,
    ip: spec.ip,
    online: spec.online ?? true,
    maxcpu: spec.maxcpu,
    cpu: spec.cpu,
    maxmem,
    mem: Math.round(maxmem * spec.memUsed),
    maxdisk,
    disk: Math.round(maxdisk * spec.rootUsed),
    swaptotal: 8 * GIB,
    swapused: 0,
    bootTime: spec.now - spec.uptime,
    loadavg: spec.loadavg,
    cpuModel: spec.cpuModel,
    sockets: spec.sockets,
    cores: spec.cores,
    kversion: KVERSION,
    pveVersion: spec.pveVersion,
    level: "",
    network: nodeNetwork(spec.ip),
  };
  state.nodes.set(node.name, node);
  return node;
}

function nodeNetwork(ip: string): Record<string, string | number | string[]>[] {
  const gateway = ip.replace(/\.\d+$/, ".1");
  return [
    {
      iface: "vmbr0",
      type: "bridge",
      method: "static",
      method6: "manual",
      address: ip,
      netmask: "24",
      cidr: `${ip}/24`,
      gateway,
      bridge_ports: "eno1",
      bridge_stp: "off",
      bridge_fd: "0",
      autostart: 1,
      active: 1,
      priority: 5,
      families: ["inet"],
    },
    {
      iface: "eno1",
      type: "eth",
      method: "manual",
      method6: "manual",
      exists: 1,
      active: 1,
      families: ["inet"],
      priority: 3,
    },
    {
      iface: "eno2",
      type: "eth",
      method: "manual",
      method6: "manual",
      exists: 1,
      families: ["inet"],
      priority: 4,
    },
  ];
}

/** Adds a storage definition. */
export function addStorage(state: SimState, config: StorageConfig): StorageConfig {
  state.storages.set(config.storage, config);
  return config;
}

/** The standard `local` (dir) and `local-lvm` (lvmthin) storages of a PVE install. */
export function addDefaultStorages(
  state: SimState,
  options: { localGiB: number; lvmGiB: number },
): void {
  addStorage(state, {
    storage: "local",
    type: "dir",
    path: "/var/lib/vz",
    content: ["iso", "vztmpl", "backup"],
    shared: false,
    total: options.localGiB * GIB,
  });
  addStorage(state, {
    storage: "local-lvm",
    type: "lvmthin",
    thinpool: "data",
    vgname: "pve",
    content: ["rootdir", "images"],
    shared: false,
    total: options.lvmGiB * GIB,
  });
}

/** Appends a volume to a storage (on `node` for local storage). */
export function addVolume(
  state: SimState,
  storage: string,
  node: string,
  volume: Volume,
): void {
  const config = state.storages.get(storage);
  if (config === undefined) throw new Error(`Seed references unknown storage "${storage}"`);
  const key = volumeKey(config, node);
  let list = state.volumes.get(key);
  if (list === undefined) {
    list = [];
    state.volumes.set(key, list);
  }
  list.push(volume);
}

/** A guest disk to create: `<storage>:<name>` of `sizeGiB`. */
export interface DiskSpec {
  /** Config key, e.g. `scsi0`, `efidisk0`, `rootfs`, `mp0`. */
  key: string;
  storage: string;
  sizeGiB: number;
  /** Extra options after the volume id, e.g. `iothread=1`. */
  options?: string;
  /** Explicit size text (`4M` for EFI disks); default `<sizeGiB>G`. */
  sizeText?: string;
}

/** What a QEMU VM looks like. */
export interface QemuSpec {
  vmid: number;
  node: string;
  name: string;
  cores: number;
  sockets?: number;
  memoryMiB: number;
  disks: DiskSpec[];
  ostype?: string;
  tags?: string[];
  running?: boolean;
  template?: boolean;
  agent?: boolean;
  onboot?: boolean;
  description?: string;
  cdrom?: string;
  extra?: GuestConfig;
  /** Running-guest usage: cpu fraction and used memory fraction. */
  load?: { cpu: number; mem: number };
  now: number;
  random: () => number;
}

function formatSize(disk: DiskSpec): string {
  return disk.sizeText ?? `${disk.sizeGiB}G`;
}

function sizeBytes(disk: DiskSpec): number {
  const text = disk.sizeText;
  if (text === undefined) return disk.sizeGiB * GIB;
  const m = /^(\d+)([MG])$/.exec(text);
  if (m === null) return disk.sizeGiB * GIB;
  return Number(m[1]) * (m[2] === "M" ? MIB : GIB);
}

function newGuest(
  spec: { vmid: number; node: string; running?: boolean },
  type: "qemu" | "lxc",
  config: GuestConfig,
  state: SimState,
): Guest {
  return {
    vmid: spec.vmid,
    type,
    node: spec.node,
    config,
    pending: {},
    pendingDelete: [],
    snapshots: new Map(),
    status: spec.running ? "running" : "stopped",
    qmpstatus: spec.running ? "running" : "stopped",
    startedAt: 0,
    pid: spec.running ? state.nextPid++ : 0,
    stats: { cpu: 0, mem: 0, disk: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0 },
    execs: new Map(),
  };
}

function runningStats(guest: Guest, spec: {
  load?: { cpu: number; mem: number };
  memoryMiB: number;
  now: number;
  random: () => number;
}): void {
  if (guest.status !== "running") return;
  const r = spec.random;
  const uptime = 3600 + Math.floor(r() * 40 * 86400);
  guest.startedAt = spec.now - uptime;
  const load = spec.load ?? { cpu: 0.01 + r() * 0.2, mem: 0.3 + r() * 0.5 };
  guest.stats = {
    cpu: Math.round(load.cpu * 10000) / 10000,
    mem: Math.round(spec.memoryMiB * MIB * load.mem),
    disk: 0,
    netin: Math.round(uptime * (200 + r() * 5000)),
    netout: Math.round(uptime * (50 + r() * 2000)),
    diskread: Math.round(uptime * (100 + r() * 3000)),
    diskwrite: Math.round(uptime * (200 + r() * 6000)),
  };
}

/** Adds a QEMU VM, its config as PVE stores it, and a volume for every disk. */
export function addQemu(state: SimState, spec: QemuSpec): Guest {
  const r = spec.random;
  const template = spec.template ?? false;
  const config: GuestConfig = {
    boot: `order=${
      spec.disks.find((d) => /^(scsi|virtio|sata|ide)\d+$/.test(d.key))?.key ?? "scsi0"
    }${spec.cdrom !== undefined ? ";ide2" : ""};net0`,
    cores: spec.cores,
    cpu: "x86-64-v2-AES",
    memory: String(spec.memoryMiB),
    meta: `creation-qemu=10.1.2,ctime=${spec.now - 86400 * (30 + (spec.vmid % 200))}`,
    name: spec.name,
    net0: `virtio=${macFor(spec.vmid, 0)},bridge=vmbr0,firewall=1`,
    numa: 0,
    ostype: spec.ostype ?? "l26",
    scsihw: "virtio-scsi-single",
    smbios1: `uuid=${uuid(r)}`,
    sockets: spec.sockets ?? 1,
    vmgenid: uuid(r),
  };
  if (spec.cdrom !== undefined) config.ide2 = spec.cdrom;
  if (spec.agent) config.agent = "1";
  if (spec.onboot) config.onboot = 1;
  if (spec.description !== undefined) config.description = spec.description;
  if (spec.tags !== undefined && spec.tags.length > 0) config.tags = spec.tags.join(";");
  if (template) config.template = 1;
  for (const disk of spec.disks) {
    const prefix = template ? "base" : "vm";
    const index = spec.disks.indexOf(disk);
    const volname = `${prefix}-${spec.vmid}-disk-${index}`;
    const opts = disk.options !== undefined ? `,${disk.options}` : "";
    config[disk.key] = `${disk.storage}:${volname}${opts},size=${formatSize(disk)}`;
    addVolume(state, disk.storage, spec.node, {
      volid: `${disk.storage}:${volname}`,
      content: "images",
      format: "raw",
      size: sizeBytes(disk),
      ctime: spec.now - 86400 * (30 + (spec.vmid % 200)),
      vmid: spec.vmid,
    });
  }
  Object.assign(config, spec.extra ?? {});
  const guest = newGuest(spec, "qemu", config, state);
  runningStats(guest, spec);
  state.guests.set(guest.vmid, guest);
  return guest;
}

/** What an LXC container looks like. */
export interface LxcSpec {
  vmid: number;
  node: string;
  hostname: string;
  cores: number;
  memoryMiB: number;
  swapMiB?: number;
  rootfs: { storage: string; sizeGiB: number };
  ostype?: string;
  tags?: string[];
  running?: boolean;
  onboot?: boolean;
  unprivileged?: boolean;
  features?: string;
  description?: string;
  extra?: GuestConfig;
  load?: { cpu: number; mem: number };
  now: number;
  random: () => number;
}

/** Adds an LXC container, its config as PVE stores it, and its rootfs volume. */
export function addLxc(state: SimState, spec: LxcSpec): Guest {
  const volname = `vm-${spec.vmid}-disk-0`;
  const config: GuestConfig = {
    arch: "amd64",
    cores: spec.cores,
    hostname: spec.hostname,
    memory: spec.memoryMiB,
    net0: `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${macFor(spec.vmid, 0)},ip=dhcp,type=veth`,
    ostype: spec.ostype ?? "debian",
    rootfs: `${spec.rootfs.storage}:${volname},size=${spec.rootfs.sizeGiB}G`,
    swap: spec.swapMiB ?? 512,
  };
  if (spec.unprivileged ?? true) config.unprivileged = 1;
  if (spec.features !== undefined) config.features = spec.features;
  if (spec.onboot) config.onboot = 1;
  if (spec.description !== undefined) config.description = spec.description;
  if (spec.tags !== undefined && spec.tags.length > 0) config.tags = spec.tags.join(";");
  Object.assign(config, spec.extra ?? {});
  addVolume(state, spec.rootfs.storage, spec.node, {
    volid: `${spec.rootfs.storage}:${volname}`,
    content: "rootdir",
    format: "raw",
    size: spec.rootfs.sizeGiB * GIB,
    ctime: spec.now - 86400 * (20 + (spec.vmid % 100)),
    vmid: spec.vmid,
  });
  const guest = newGuest(spec, "lxc", config, state);
  runningStats(guest, spec);
  if (guest.status === "running") {
    guest.stats.disk = Math.round(spec.rootfs.sizeGiB * GIB * (0.15 + spec.random() * 0.4));
  }
  state.guests.set(guest.vmid, guest);
  return guest;
}

/** Adds `root@pam` with its password and the privilege-separation-free `mcp` token. */
export function addRoot(
  state: SimState,
  options: { rootPassword: string; tokenSecret: string },
): void {
  state.users.set("root@pam", {
    userid: "root@pam",
    password: options.rootPassword,
    enable: 1,
    expire: 0,
    email: "root@localhost",
    comment: "Built-in superuser",
    groups: [],
    tokens: new Map([["mcp", {
      name: "mcp",
      secret: options.tokenSecret,
      privsep: 0,
      expire: 0,
      comment: "proxmox-mcp",
    }]]),
  });
}

/** Adds an ACL entry (propagating). */
export function addAcl(
  state: SimState,
  entry: Omit<AclEntry, "propagate"> & { propagate?: 0 | 1 },
): void {
  state.acls.push({ ...entry, propagate: entry.propagate ?? 1 });
}

/** Bytes in a GiB. */
export const GiB = GIB;
/** Bytes in a MiB. */
export const MiB = MIB;
