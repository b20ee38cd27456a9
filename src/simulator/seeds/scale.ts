/**
 * The `scale` seed: a generated cluster of `nodes` nodes (`node01`…) and `guests` guests,
 * deterministic for a given `random` seed. Built with plain loops so that 50 nodes ×
 * 10,000 guests take a fraction of a second.
 *
 * @module
 */

import { emptyState, type GuestConfig, type SimState } from "../state.ts";
import { vzdumpStamp } from "./demo.ts";
import {
  addDefaultStorages,
  addLxc,
  addNode,
  addQemu,
  addRoot,
  addStorage,
  addVolume,
  GiB,
  mulberry32,
} from "./_common.ts";

/** Options of the scale seed. */
export interface ScaleOptions {
  nodes: number;
  guests: number;
  random: number;
  rootPassword: string;
  tokenSecret: string;
  now: number;
}

const TAGS = ["prod", "dev", "staging", "web", "db", "k8s", "monitoring", "ci", "edge", "batch"];
const LOCKS = ["backup", "snapshot", "migrate"];
const CPU_MODELS = [
  "AMD EPYC 7543 32-Core Processor",
  "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
  "AMD EPYC 9354 32-Core Processor",
];

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Builds a generated cluster. */
export function buildScale(options: ScaleOptions): SimState {
  const { now } = options;
  const random = mulberry32(options.random);
  const state = emptyState();
  state.clusterName = "scale";
  const nodeCount = Math.max(1, Math.floor(options.nodes));
  const guestCount = Math.max(0, Math.floor(options.guests));

  const nodeNames: string[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const name = `node${pad2(i + 1)}`;
    nodeNames.push(name);
    const big = random() < 0.5;
    const cores = big ? 32 : 16;
    const load = 0.05 + random() * 0.6;
    addNode(state, {
      name,
      nodeid: i + 1,
      ip: `10.1.${Math.floor(i / 200)}.${(i % 200) + 11}`,
      maxcpu: cores * 2 * 2,
      sockets: 2,
      cores,
      cpuModel: CPU_MODELS[i % CPU_MODELS.length] ?? "AMD EPYC 7543 32-Core Processor",
      memGiB: big ? 512 : 256,
      memUsed: 0.2 + random() * 0.6,
      cpu: Math.round(load * 10000) / 10000,
      rootGiB: 200,
      rootUsed: 0.05 + random() * 0.2,
      uptime: 86400 + Math.floor(random() * 200 * 86400),
      loadavg: [
        (load * cores).toFixed(2),
        (load * cores * 0.9).toFixed(2),
        (load * cores * 0.8).toFixed(2),
      ],
      now,
      pveVersion: state.version.version,
    });
  }

  addDefaultStorages(state, { localGiB: 200, lvmGiB: 16_000 });
  addStorage(state, {
    storage: "shared-nfs",
    type: "nfs",
    server: "10.1.255.10",
    export: "/export/pve",
    path: "/mnt/pve/shared-nfs",
    content: ["images", "rootdir", "backup", "iso"],
    shared: true,
    total: 200 * 1024 * GiB,
  });

  const poolCount = Math.max(1, Math.min(10, Math.floor(guestCount / 100)));
  const pools = [];
  for (let p = 0; p < poolCount; p++) {
    const pool = {
      poolid: `pool-${pad2(p + 1)}`,
      comment: `Generated pool ${p + 1}`,
      vms: new Set<number>(),
      storage: new Set<string>(),
    };
    state.pools.set(pool.poolid, pool);
    pools.push(pool);
  }

  for (let i = 0; i < guestCount; i++) {
    const vmid = 100 + i;
    const node = nodeNames[Math.floor(random() * nodeCount)] ?? "node01";
    const tags: string[] = [];
    const tagCount = Math.floor(random() * 3);
    for (let t = 0; t < tagCount; t++) {
      const tag = TAGS[Math.floor(random() * TAGS.length)] ?? "prod";
      if (!tags.includes(tag)) tags.push(tag);
    }
    tags.sort();
    const running = random() < 0.7;
    const cores = 1 << Math.floor(random() * 4);
    const memoryMiB = 512 * (1 << Math.floor(random() * 5));
    const storage = random() < 0.8 ? "local-lvm" : "shared-nfs";
    const guest = random() < 0.65
      ? addQemu(state, {
        vmid,
        node,
        name: `vm-${vmid}`,
        cores,
        memoryMiB,
        disks: [{
          key: "scsi0",
          storage,
          sizeGiB: 16 * (1 + Math.floor(random() * 8)),
          options: "iothread=1",
        }],
        tags,
        running,
        agent: random() < 0.5,
        now,
        random,
      })
      : addLxc(state, {
        vmid,
        node,
        hostname: `ct-${vmid}`,
        cores,
        memoryMiB,
        rootfs: { storage, sizeGiB: 8 * (1 + Math.floor(random() * 4)) },
        tags,
        running,
        now,
        random,
      });
    if (i % 997 === 500) guest.config.lock = LOCKS[(i / 997 | 0) % LOCKS.length] ?? "backup";
    if (random() < 0.2) pools[Math.floor(random() * pools.length)]?.vms.add(vmid);
    // About 1 % of the running guests are HA-managed (no random draw: other guests stay put).
    if (i % 97 === 13 && guest.status === "running") {
      const sid = `${guest.type === "qemu" ? "vm" : "ct"}:${vmid}`;
      state.ha.set(sid, {
        sid,
        type: guest.type === "qemu" ? "vm" : "ct",
        state: "started",
        max_restart: 1,
        max_relocate: 1,
      });
    }
  }

  addBackups(state, now, mulberry32(options.random + 1));
  const pool = (n: number) => `pool-${pad2(n)}`;
  for (const n of [1, 2]) {
    if (!state.pools.has(pool(n))) continue;
    state.backupJobs.set(`nightly-${pool(n)}`, {
      id: `nightly-${pool(n)}`,
      schedule: n === 1 ? "01:00" : "mon..fri 23:30",
      enabled: 1,
      storage: "shared-nfs",
      mode: "snapshot",
      compress: "zstd",
      pool: pool(n),
      "notes-template": "{{guestname}}",
    });
  }
  // Placement rules over the HA resources: each keeps ten of them near two nodes.
  const haSids = [...state.ha.keys()];
  for (let r = 0; r * 10 < haSids.length && r < 10; r++) {
    const id = `ha-rule-${pad2(r + 1)}`;
    state.haRules.set(id, {
      rule: id,
      type: "node-affinity",
      resources: haSids.slice(r * 10, r * 10 + 10),
      nodes: [`${nodeNames[r % nodeCount]}:2`, `${nodeNames[(r + 1) % nodeCount]}:1`],
      strict: 0,
    });
  }
  // A datacenter with a community subscription and the firewall on.
  for (const node of state.nodes.values()) {
    node.level = "c";
    node.subscription = {
      status: "active",
      key: `pve2c-${node.name.replace(/\D/g, "").padStart(10, "0")}`,
      level: "c",
      productname: "Proxmox VE Community Subscription 2 CPUs/year",
      regdate: "2025-01-15 00:00:00",
      nextduedate: "2027-01-15",
      checktime: now - 86400,
    };
  }
  state.firewall.cluster.options = { enable: 1, policy_in: "DROP" };
  state.firewall.cluster.rules = [
    { type: "in", action: "ACCEPT", enable: 1, macro: "SSH", source: "10.1.0.0/16" },
    { type: "in", action: "ACCEPT", enable: 1, proto: "tcp", dport: "8006", source: "10.1.0.0/16" },
  ];

  addRoot(state, options);
  return state;
}

/**
 * Backups on `shared-nfs`, from their own PRNG so the guests stay as they were: ~60 % of the
 * guests were backed up last night, ~15 % two to six days ago, ~5 % one to four weeks ago
 * (some with an older second archive), ~20 % never.
 */
function addBackups(state: SimState, now: number, random: () => number): void {
  const lastNight = Math.floor(now / 86400) * 86400 - 86400 + 3600;
  for (const guest of state.guests.values()) {
    if (guest.config.template === 1) continue;
    const draw = random();
    let age: number;
    if (draw < 0.6) age = 0;
    else if (draw < 0.75) age = (2 + Math.floor(random() * 5)) * 86400;
    else if (draw < 0.8) age = (8 + Math.floor(random() * 21)) * 86400;
    else continue;
    const copies = random() < 0.3 ? 2 : 1;
    const ext = guest.type === "qemu" ? "vma.zst" : "tar.zst";
    const config: GuestConfig = { ...guest.config };
    delete config.lock;
    for (let copy = 0; copy < copies; copy++) {
      const ctime = lastNight - age - copy * 7 * 86400 + (guest.vmid % 3000);
      addVolume(state, "shared-nfs", guest.node, {
        volid: `shared-nfs:backup/vzdump-${guest.type}-${guest.vmid}-${vzdumpStamp(ctime)}.${ext}`,
        content: "backup",
        format: ext,
        size: Math.round((0.3 + random()) * GiB),
        ctime,
        vmid: guest.vmid,
        subtype: guest.type,
        notes: guest.type === "qemu" ? String(guest.config.name) : String(guest.config.hostname),
        backupConfig: config,
      });
    }
  }
}
