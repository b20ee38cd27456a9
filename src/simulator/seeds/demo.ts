/**
 * The `demo` seed: a three-node home lab cluster (`homelab`, PVE 9.1.1) with a dozen
 * guests, storage content, backups, a pool, an HA resource, a backup job and users with
 * different privileges. See `README.md` beside this file for the credentials table.
 *
 * @module
 */

import { emptyState, type Guest, type GuestConfig, type SimState } from "../state.ts";
import {
  addAcl,
  addDefaultStorages,
  addLxc,
  addNode,
  addQemu,
  addRoot,
  addStorage,
  addVolume,
  GiB,
  macFor,
  mulberry32,
} from "./_common.ts";
import { addDemoFirewall } from "./_firewall.ts";
import { bondedNetwork, stageIsolatedBridge } from "./_network.ts";

/** Options of the demo seed. */
export interface DemoOptions {
  rootPassword: string;
  tokenSecret: string;
  now: number;
}

/** Secret of the `auditor@pve!ro` token. */
export const AUDITOR_TOKEN_SECRET = "a1b2c3d4-0000-4000-8000-000000000001";
/** Secret of the `operator@pve!ops` token. */
export const OPERATOR_TOKEN_SECRET = "a1b2c3d4-0000-4000-8000-000000000002";

const ISO_DEBIAN = "debian-12.7.0-amd64-netinst.iso";
const ISO_UBUNTU = "ubuntu-24.04.1-live-server-amd64.iso";
const TMPL_DEBIAN = "debian-12-standard_12.7-1_amd64.tar.zst";
const TMPL_UBUNTU = "ubuntu-24.04-standard_24.04-2_amd64.tar.zst";

/** Formats epoch seconds as vzdump does in archive names: `YYYY_MM_DD-HH_MM_SS` (UTC). */
export function vzdumpStamp(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}-${
    p(d.getUTCHours())
  }_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
}

/** Builds the demo cluster. */
export function buildDemo(options: DemoOptions): SimState {
  const { now } = options;
  const random = mulberry32(20251119);
  const state = emptyState();
  state.clusterName = "homelab";
  state.version = { version: "9.1.1", release: "9.1", repoid: "42db4a6cf33dac83" };

  const xeon = "Intel(R) Xeon(R) E-2236 CPU @ 3.40GHz";
  addNode(state, {
    name: "pve1",
    nodeid: 1,
    ip: "10.0.0.11",
    maxcpu: 12,
    sockets: 1,
    cores: 6,
    cpuModel: xeon,
    memGiB: 64,
    memUsed: 0.41,
    cpu: 0.0734,
    rootGiB: 94,
    rootUsed: 0.16,
    uptime: 2236708,
    loadavg: ["0.82", "0.74", "0.69"],
    now,
    pveVersion: "9.1.1",
  });
  addNode(state, {
    name: "pve2",
    nodeid: 2,
    ip: "10.0.0.12",
    maxcpu: 12,
    sockets: 1,
    cores: 6,
    cpuModel: xeon,
    memGiB: 64,
    memUsed: 0.33,
    cpu: 0.0412,
    rootGiB: 94,
    rootUsed: 0.14,
    uptime: 2235990,
    loadavg: ["0.41", "0.52", "0.48"],
    now,
    pveVersion: "9.1.1",
  });
  addNode(state, {
    name: "pve3",
    nodeid: 3,
    ip: "10.0.0.13",
    maxcpu: 16,
    sockets: 1,
    cores: 12,
    cpuModel: "12th Gen Intel(R) Core(TM) i5-1240P",
    memGiB: 32,
    memUsed: 0.28,
    cpu: 0.0215,
    rootGiB: 68,
    rootUsed: 0.21,
    uptime: 1209611,
    loadavg: ["0.15", "0.25", "0.30"],
    now,
    pveVersion: "9.1.1",
  });

  addDefaultStorages(state, { localGiB: 94, lvmGiB: 794 });
  addStorage(state, {
    storage: "nas",
    type: "nfs",
    server: "10.0.0.50",
    export: "/export/pve",
    path: "/mnt/pve/nas",
    content: ["backup", "iso", "images"],
    shared: true,
    total: 3600 * GiB,
  });
  addStorage(state, {
    storage: "pbs",
    type: "pbs",
    server: "10.0.0.60",
    datastore: "homelab",
    username: "backup@pbs",
    fingerprint:
      "5e:2c:8a:41:0b:d3:77:19:fa:60:2e:9c:13:b8:4d:a7:c2:39:6f:e1:08:5b:94:3d:aa:71:e4:0f:26:cb:58:93",
    content: ["backup"],
    shared: true,
    total: 8192 * GiB,
  });

  // ISO images and container templates.
  for (const node of ["pve1", "pve2", "pve3"]) {
    addVolume(state, "local", node, {
      volid: `local:iso/${ISO_DEBIAN}`,
      content: "iso",
      format: "iso",
      size: 661651456,
      ctime: 1725633012,
    });
    addVolume(state, "local", node, {
      volid: `local:vztmpl/${TMPL_DEBIAN}`,
      content: "vztmpl",
      format: "tzst",
      size: 126592512,
      ctime: 1725633540,
    });
    addVolume(state, "local", node, {
      volid: `local:vztmpl/${TMPL_UBUNTU}`,
      content: "vztmpl",
      format: "tzst",
      size: 141352960,
      ctime: 1727784911,
    });
  }
  addVolume(state, "local", "pve1", {
    volid: `local:iso/${ISO_UBUNTU}`,
    content: "iso",
    format: "iso",
    size: 2773874688,
    ctime: 1727784500,
  });
  addVolume(state, "nas", "pve1", {
    volid: `nas:iso/${ISO_UBUNTU}`,
    content: "iso",
    format: "iso",
    size: 2773874688,
    ctime: 1727784620,
  });

  const cdrom = `local:iso/${ISO_DEBIAN},media=cdrom,size=631M`;
  const web01 = addQemu(state, {
    vmid: 100,
    node: "pve1",
    name: "web01",
    cores: 2,
    memoryMiB: 2048,
    disks: [{ key: "scsi0", storage: "local-lvm", sizeGiB: 32, options: "iothread=1" }],
    tags: ["prod", "web"],
    running: true,
    agent: true,
    onboot: true,
    cdrom,
    load: { cpu: 0.0213, mem: 0.486 },
    now,
    random,
  });
  web01.agent = web01Agent();
  addQemu(state, {
    vmid: 101,
    node: "pve2",
    name: "web02",
    cores: 2,
    memoryMiB: 2048,
    disks: [{ key: "scsi0", storage: "local-lvm", sizeGiB: 32, options: "iothread=1" }],
    tags: ["prod", "web"],
    running: true,
    agent: true,
    onboot: true,
    load: { cpu: 0.0187, mem: 0.452 },
    now,
    random,
  });
  const db01 = addQemu(state, {
    vmid: 102,
    node: "pve1",
    name: "db01",
    cores: 4,
    memoryMiB: 8192,
    disks: [
      { key: "scsi0", storage: "local-lvm", sizeGiB: 32, options: "iothread=1" },
      { key: "scsi1", storage: "local-lvm", sizeGiB: 100, options: "iothread=1" },
    ],
    tags: ["db", "prod"],
    running: true,
    agent: true,
    onboot: true,
    description: "PostgreSQL 16 primary",
    extra: { protection: 1 },
    load: { cpu: 0.0834, mem: 0.71 },
    now,
    random,
  });
  addDb01Snapshots(db01, now);
  addVolume(state, "local-lvm", "pve1", {
    volid: "local-lvm:vm-102-state-pre-upgrade2",
    content: "images",
    format: "raw",
    size: 17704157184,
    ctime: now - 2 * 86400,
    vmid: 102,
  });
  addQemu(state, {
    vmid: 103,
    node: "pve3",
    name: "win11-desk",
    cores: 4,
    memoryMiB: 8192,
    ostype: "win11",
    disks: [
      {
        key: "efidisk0",
        storage: "local-lvm",
        sizeGiB: 0,
        sizeText: "4M",
        options: "efitype=4m,pre-enrolled-keys=1",
      },
      { key: "scsi0", storage: "local-lvm", sizeGiB: 64, options: "iothread=1" },
      {
        key: "tpmstate0",
        storage: "local-lvm",
        sizeGiB: 0,
        sizeText: "4M",
        options: "version=v2.0",
      },
    ],
    tags: ["desktop"],
    running: false,
    cdrom: "none,media=cdrom",
    extra: { bios: "ovmf", machine: "pc-q35-10.1" },
    now,
    random,
  });
  addQemu(state, {
    vmid: 104,
    node: "pve2",
    name: "k8s-node1",
    cores: 4,
    memoryMiB: 4096,
    disks: [{ key: "scsi0", storage: "local-lvm", sizeGiB: 48, options: "iothread=1" }],
    tags: ["k8s"],
    running: true,
    agent: true,
    onboot: true,
    load: { cpu: 0.142, mem: 0.63 },
    now,
    random,
  });
  addQemu(state, {
    vmid: 105,
    node: "pve3",
    name: "k8s-node2",
    cores: 4,
    memoryMiB: 4096,
    disks: [{ key: "scsi0", storage: "local-lvm", sizeGiB: 48, options: "iothread=1" }],
    tags: ["k8s"],
    running: true,
    agent: true,
    onboot: true,
    load: { cpu: 0.118, mem: 0.59 },
    now,
    random,
  });
  addQemu(state, {
    vmid: 9000,
    node: "pve1",
    name: "debian12-tmpl",
    cores: 1,
    memoryMiB: 1024,
    disks: [{ key: "scsi0", storage: "local-lvm", sizeGiB: 3.5, sizeText: "3584M" }],
    template: true,
    agent: true,
    description: "Debian 12 cloud image template",
    now,
    random,
  });

  addLxc(state, {
    vmid: 200,
    node: "pve1",
    hostname: "pihole",
    cores: 1,
    memoryMiB: 512,
    rootfs: { storage: "local-lvm", sizeGiB: 8 },
    tags: ["dns", "infra"],
    running: true,
    onboot: true,
    features: "nesting=1",
    load: { cpu: 0.0042, mem: 0.38 },
    now,
    random,
  });
  addLxc(state, {
    vmid: 201,
    node: "pve2",
    hostname: "nginx-proxy",
    cores: 2,
    memoryMiB: 1024,
    rootfs: { storage: "local-lvm", sizeGiB: 8 },
    tags: ["infra", "web"],
    running: true,
    onboot: true,
    features: "nesting=1",
    load: { cpu: 0.0091, mem: 0.22 },
    now,
    random,
  });
  addLxc(state, {
    vmid: 202,
    node: "pve3",
    hostname: "grafana",
    cores: 2,
    memoryMiB: 2048,
    rootfs: { storage: "local-lvm", sizeGiB: 16 },
    tags: ["monitoring"],
    running: true,
    onboot: true,
    features: "nesting=1",
    load: { cpu: 0.0123, mem: 0.31 },
    now,
    random,
  });
  addLxc(state, {
    vmid: 203,
    node: "pve2",
    hostname: "build-runner",
    cores: 4,
    memoryMiB: 4096,
    swapMiB: 1024,
    rootfs: { storage: "local-lvm", sizeGiB: 32 },
    ostype: "ubuntu",
    tags: ["ci"],
    running: false,
    features: "keyctl=1,nesting=1",
    now,
    random,
  });
  addLxc(state, {
    vmid: 204,
    node: "pve3",
    hostname: "old-wiki",
    cores: 1,
    memoryMiB: 512,
    rootfs: { storage: "local-lvm", sizeGiB: 4 },
    tags: ["archive"],
    running: false,
    description: "Retired DokuWiki, kept for reference",
    now,
    random,
  });

  addBackups(state, now);
  addPbsBackups(state, now);

  state.pools.set("prod", {
    poolid: "prod",
    comment: "Production services",
    vms: new Set([100, 101, 102, 201]),
    storage: new Set(["nas"]),
  });

  state.backupJobs.set("backup-5d1c0e2a-7f3b", {
    id: "backup-5d1c0e2a-7f3b",
    schedule: "02:00",
    enabled: 1,
    storage: "nas",
    mode: "snapshot",
    compress: "zstd",
    vmid: "100,101,102,200,201",
    comment: "Nightly backups of production",
    "notes-template": "{{guestname}}",
    "prune-backups": { "keep-daily": 7, "keep-weekly": 4 },
  });

  state.backupJobs.set("backup-pbs-k8s", {
    id: "backup-pbs-k8s",
    schedule: "sun 03:00",
    enabled: 1,
    storage: "pbs",
    mode: "snapshot",
    compress: "zstd",
    vmid: "104,105",
    comment: "Weekly k8s nodes to the backup server",
    "notes-template": "{{guestname}} weekly",
    "prune-backups": { "keep-last": 4 },
  });

  state.ha.set("vm:101", {
    sid: "vm:101",
    type: "vm",
    state: "started",
    max_restart: 1,
    max_relocate: 1,
    comment: "Second web frontend",
  });
  state.haRules.set("web02-prefers-pve2", {
    rule: "web02-prefers-pve2",
    type: "node-affinity",
    resources: ["vm:101"],
    nodes: ["pve2:2", "pve3:1"],
    strict: 0,
    comment: "Keep web02 off pve1, where web01 runs",
  });

  const [pve1, pve2] = [state.nodes.get("pve1"), state.nodes.get("pve2")];
  if (pve1 !== undefined) pve1.network = bondedNetwork("10.0.0.11", "10.0.50.11");
  if (pve2 !== undefined) stageIsolatedBridge(pve2, "vmbr1", "eno2", now - 600);
  addDemoFirewall(state);

  addUsers(state, options);
  return state;
}

function web01Agent(): NonNullable<Guest["agent"]> {
  const mac = macFor(100, 0).toLowerCase();
  return {
    running: true,
    osinfo: {
      id: "debian",
      name: "Debian GNU/Linux",
      "pretty-name": "Debian GNU/Linux 12 (bookworm)",
      version: "12 (bookworm)",
      "version-id": "12",
      "kernel-release": "6.1.0-25-amd64",
      "kernel-version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.106-3 (2024-08-26)",
      machine: "x86_64",
    },
    interfaces: [
      {
        name: "lo",
        "hardware-address": "00:00:00:00:00:00",
        "ip-addresses": [
          { "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 },
          { "ip-address": "::1", "ip-address-type": "ipv6", prefix: 128 },
        ],
        statistics: {
          "rx-bytes": 48212,
          "rx-dropped": 0,
          "rx-errs": 0,
          "rx-packets": 612,
          "tx-bytes": 48212,
          "tx-dropped": 0,
          "tx-errs": 0,
          "tx-packets": 612,
        },
      },
      {
        name: "eth0",
        "hardware-address": mac,
        "ip-addresses": [
          { "ip-address": "192.168.1.50", "ip-address-type": "ipv4", prefix: 24 },
          { "ip-address": "fd00:1::50", "ip-address-type": "ipv6", prefix: 64 },
          { "ip-address": ipv6LinkLocal(mac), "ip-address-type": "ipv6", prefix: 64 },
        ],
        statistics: {
          "rx-bytes": 1538713,
          "rx-dropped": 0,
          "rx-errs": 0,
          "rx-packets": 10321,
          "tx-bytes": 88912,
          "tx-dropped": 0,
          "tx-errs": 0,
          "tx-packets": 1012,
        },
      },
    ],
    fsinfo: [
      {
        name: "sda1",
        mountpoint: "/",
        type: "ext4",
        "used-bytes": 4831838208,
        "total-bytes": 32707571712,
        disk: [{
          "bus-type": "scsi",
          bus: 0,
          target: 0,
          unit: 0,
          serial: "0QEMU_QEMU_HARDDISK_drive-scsi0",
          dev: "/dev/sda1",
          "pci-controller": { domain: 0, bus: 9, slot: 1, function: 0 },
        }],
      },
      {
        name: "sda15",
        mountpoint: "/boot/efi",
        type: "vfat",
        "used-bytes": 12689408,
        "total-bytes": 129718272,
        disk: [{
          "bus-type": "scsi",
          bus: 0,
          target: 0,
          unit: 0,
          serial: "0QEMU_QEMU_HARDDISK_drive-scsi0",
          dev: "/dev/sda15",
          "pci-controller": { domain: 0, bus: 9, slot: 1, function: 0 },
        }],
      },
    ],
    hostname: "web01",
    files: {
      "/etc/hostname": "web01\n",
      "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n' +
        'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n' +
        'HOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\n' +
        'BUG_REPORT_URL="https://bugs.debian.org/"\n',
    },
  };
}

function ipv6LinkLocal(mac: string): string {
  const b = mac.split(":").map((x) => parseInt(x, 16));
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0] = b;
  const h = (x: number, y: number) => ((x << 8) | y).toString(16);
  return `fe80::${h(b0 ^ 2, b1)}:${h(b2, 0xff)}:${h(0xfe, b3)}:${h(b4, b5)}`;
}

function snapshotConfig(config: GuestConfig): GuestConfig {
  const copy: GuestConfig = { ...config };
  delete copy.parent;
  delete copy.lock;
  return copy;
}

function addDb01Snapshots(db01: Guest, now: number): void {
  const first = now - 14 * 86400;
  const second = now - 2 * 86400;
  const base = snapshotConfig(db01.config);
  db01.snapshots.set("pre-upgrade", {
    name: "pre-upgrade",
    snaptime: first,
    vmstate: 0,
    description: "before apt upgrade",
    config: { ...base, snaptime: first },
  });
  db01.snapshots.set("pre-upgrade2", {
    name: "pre-upgrade2",
    snaptime: second,
    vmstate: 1,
    description: "before PostgreSQL 16 migration",
    parent: "pre-upgrade",
    config: {
      ...base,
      parent: "pre-upgrade",
      snaptime: second,
      vmstate: "local-lvm:vm-102-state-pre-upgrade2",
      runningmachine: "pc-i440fx-10.1+pve0",
      runningcpu:
        "qemu64,+aes,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+pni,+popcnt,+sse4.1,+sse4.2,+ssse3",
    },
  });
  db01.config.parent = "pre-upgrade2";
}

function addBackups(state: SimState, now: number): void {
  const lastNight = Math.floor(now / 86400) * 86400 - 86400 + 7200;
  const entries: { vmid: number; offset: number; notes: string; size: number }[] = [
    { vmid: 100, offset: 3, notes: "web01", size: 1288490188 },
    { vmid: 101, offset: 41, notes: "web02", size: 1251870310 },
    { vmid: 102, offset: 77, notes: "db01", size: 9448928051 },
    { vmid: 200, offset: 190, notes: "pihole", size: 312475238 },
    { vmid: 201, offset: 214, notes: "nginx-proxy", size: 187904819 },
    { vmid: 100, offset: 3 - 86400, notes: "web01", size: 1283457331 },
  ];
  for (const entry of entries) {
    const guest = state.guests.get(entry.vmid);
    if (guest === undefined) continue;
    const ctime = lastNight + entry.offset;
    const ext = guest.type === "qemu" ? "vma.zst" : "tar.zst";
    addVolume(state, "nas", guest.node, {
      volid: `nas:backup/vzdump-${guest.type}-${entry.vmid}-${vzdumpStamp(ctime)}.${ext}`,
      content: "backup",
      format: ext,
      size: entry.size,
      ctime,
      vmid: entry.vmid,
      subtype: guest.type,
      notes: entry.notes,
      backupConfig: snapshotConfig(guest.config),
    });
  }
  // An older manual backup of db01 on pve1's local storage, protected.
  const db01 = state.guests.get(102);
  if (db01 !== undefined) {
    const ctime = lastNight - 10 * 86400 + 45000;
    addVolume(state, "local", "pve1", {
      volid: `local:backup/vzdump-qemu-102-${vzdumpStamp(ctime)}.vma.zst`,
      content: "backup",
      format: "vma.zst",
      size: 9126805504,
      ctime,
      vmid: 102,
      subtype: "qemu",
      notes: "db01 before PostgreSQL 16",
      protected: 1,
      backupConfig: snapshotConfig(db01.config),
    });
  }
}

/** A PBS verification task id (PBS's UPID form: node, pid, pstart, task id, time, type, id, user). */
function verifyUpid(ctime: number): string {
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, "0");
  return `UPID:pbs:${hex(4242 + (ctime % 997), 8)}:${hex(117_000 + (ctime % 8191), 8)}:${
    hex(ctime % 64, 8)
  }:${hex(ctime + 3600, 8)}:verificationjob:homelab\\x3av\\x2dweekly:root@pam:`;
}

/**
 * Backups of the k8s nodes and grafana on the Proxmox Backup Server storage `pbs`
 * (`backup/vm/105/<time>` volids): verified, one failed verification, one protected, and a
 * stale one of grafana.
 */
function addPbsBackups(state: SimState, now: number): void {
  const lastSunday = Math.floor(now / 86400) * 86400 - ((new Date(now * 1000).getUTCDay() || 7) *
    86400) +
    3 * 3600;
  const entries: {
    vmid: number;
    ctime: number;
    notes: string;
    verification?: "ok" | "failed";
    protected?: boolean;
  }[] = [
    { vmid: 104, ctime: lastSunday + 40, notes: "k8s-node1 weekly", verification: "ok" },
    { vmid: 105, ctime: lastSunday + 95, notes: "k8s-node2 weekly", verification: "ok" },
    {
      vmid: 105,
      ctime: lastSunday - 7 * 86400 + 95,
      notes: "k8s-node2 weekly",
      verification: "failed",
    },
    {
      vmid: 105,
      ctime: lastSunday - 14 * 86400 + 95,
      notes: "k8s-node2 before 1.31 upgrade",
      verification: "ok",
      protected: true,
    },
    { vmid: 202, ctime: lastSunday - 21 * 86400 + 600, notes: "grafana" },
  ];
  const pbs = state.storages.get("pbs");
  if (pbs === undefined) return;
  for (const entry of entries) {
    const guest = state.guests.get(entry.vmid);
    if (guest === undefined) continue;
    const kind = guest.type === "qemu" ? "vm" : "ct";
    const disks = Object.entries(guest.config).filter(([key]) =>
      /^(scsi|virtio|sata|ide)\d+$|^rootfs$/.test(key)
    );
    const size = disks.reduce((sum, [, value]) => {
      const m = /size=(\d+)G/.exec(String(value));
      return sum + (m === null ? 0 : Number(m[1]) * GiB);
    }, 0);
    const volume: Parameters<typeof addVolume>[3] = {
      volid: `pbs:backup/${kind}/${entry.vmid}/${
        new Date(entry.ctime * 1000).toISOString().replace(/\.\d{3}Z$/, "Z")
      }`,
      content: "backup",
      format: `pbs-${kind}`,
      size: guest.type === "qemu" ? size : Math.round(size * 0.3),
      ctime: entry.ctime,
      vmid: entry.vmid,
      subtype: guest.type,
      notes: entry.notes,
      backupConfig: snapshotConfig(guest.config),
    };
    if (entry.verification !== undefined) {
      volume.verification = { state: entry.verification, upid: verifyUpid(entry.ctime) };
    }
    if (entry.protected) volume.protected = 1;
    addVolume(state, "pbs", guest.node, volume);
  }
}

function addUsers(state: SimState, options: DemoOptions): void {
  addRoot(state, options);
  state.groups.set("admins", { groupid: "admins", comment: "Cluster administrators" });
  const root = state.users.get("root@pam");
  if (root !== undefined) root.groups.push("admins");
  addAcl(state, { path: "/", ugid: "@admins", type: "group", roleid: "Administrator" });

  state.users.set("auditor@pve", {
    userid: "auditor@pve",
    password: "auditor-pass",
    enable: 1,
    expire: 0,
    firstname: "Audrey",
    lastname: "Auditor",
    email: "auditor@example.com",
    comment: "Read-only monitoring",
    groups: [],
    tokens: new Map([["ro", {
      name: "ro",
      secret: AUDITOR_TOKEN_SECRET,
      privsep: 1,
      expire: 0,
      comment: "read-only token",
    }]]),
  });
  addAcl(state, { path: "/", ugid: "auditor@pve", type: "user", roleid: "PVEAuditor" });
  addAcl(state, { path: "/", ugid: "auditor@pve!ro", type: "token", roleid: "PVEAuditor" });

  state.users.set("operator@pve", {
    userid: "operator@pve",
    password: "operator-pass",
    enable: 1,
    expire: 0,
    firstname: "Oscar",
    lastname: "Operator",
    email: "operator@example.com",
    comment: "Operates the prod pool",
    groups: [],
    tokens: new Map([["ops", {
      name: "ops",
      secret: OPERATOR_TOKEN_SECRET,
      privsep: 1,
      expire: 0,
      comment: "prod operations",
    }]]),
  });
  addAcl(state, { path: "/pool/prod", ugid: "operator@pve", type: "user", roleid: "PVEVMUser" });
  addAcl(state, {
    path: "/pool/prod",
    ugid: "operator@pve!ops",
    type: "token",
    roleid: "PVEVMUser",
  });

  state.users.set("tfa@pve", {
    userid: "tfa@pve",
    password: "tfa-pass",
    enable: 1,
    expire: 0,
    comment: "User with TOTP second factor",
    groups: [],
    tokens: new Map(),
    totp: "123456",
  });
  state.users.set("disabled@pve", {
    userid: "disabled@pve",
    password: "disabled-pass",
    enable: 0,
    expire: 0,
    comment: "Disabled account",
    groups: [],
    tokens: new Map(),
  });
}
