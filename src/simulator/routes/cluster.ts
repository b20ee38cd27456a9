/**
 * Simulated PVE endpoints: `/version`, `/cluster/status`, `/cluster/resources` and
 * `/cluster/nextid`, plus the guest/node/pool resource builders the pool and storage routes
 * share.
 *
 * Offline nodes: PVE has no fresh RRD data for an offline node's guests, so their
 * `/cluster/resources` entries carry only `id, type, vmid, node, status: "unknown"` (plus
 * `pool`, `lock`, `tags`, `hastate`, `template`, `name`); the node entry has
 * `status: "offline"` without usage stats.
 *
 * Lists come in PVE's hash order (`order.ts`): grouped by kind as `Cluster.pm` builds them,
 * unsorted within each kind.
 *
 * @module
 */

import { paramError } from "../errors.ts";
import { type AuthInfo, type Route, route, type Sim } from "../router.ts";
import { hashOrder } from "../order.ts";
import type { Guest, NodeState, SimState } from "../state.ts";
import { storageResource } from "./storage.ts";

/** Parses a PVE size string (`32G`, `4M`, `512K`, `1T`, plain bytes) into bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text.trim());
  if (m === null) return 0;
  const factor = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] ?? ""] ?? 1;
  return Math.round(Number(m[1]) * factor);
}

/** The `size=` option of a disk property string, in bytes (0 if absent). */
export function diskSize(value: string): number {
  const m = /(?:^|,)size=([^,]+)/.exec(value);
  return m?.[1] === undefined ? 0 : parseSize(m[1]);
}

/** Configured memory of a guest in bytes (QEMU `memory` is a `[current=]<MiB>` string). */
export function guestMaxmem(guest: Guest): number {
  const raw = guest.config.memory;
  if (raw === undefined) return (guest.type === "qemu" ? 512 : 512) * 1024 ** 2;
  const m = /(?:current=)?(\d+)/.exec(String(raw));
  return Number(m?.[1] ?? 512) * 1024 ** 2;
}

/** Virtual CPUs of a guest. */
export function guestMaxcpu(guest: Guest, node?: NodeState): number {
  const c = guest.config;
  if (guest.type === "qemu") {
    if (c.vcpus !== undefined) return Number(c.vcpus);
    return Number(c.cores ?? 1) * Number(c.sockets ?? 1);
  }
  return c.cores !== undefined ? Number(c.cores) : node?.maxcpu ?? 1;
}

const DISK_KEY = /^(ide|sata|scsi|virtio)\d+$/;

/** Size of the boot disk (QEMU) or the rootfs (LXC) in bytes. */
export function guestMaxdisk(guest: Guest): number {
  const c = guest.config;
  if (guest.type === "lxc") return diskSize(String(c.rootfs ?? ""));
  const order = /order=([^,]+)/.exec(String(c.boot ?? ""))?.[1]?.split(";") ?? [];
  for (const key of order) {
    const value = c[key];
    if (value !== undefined && DISK_KEY.test(key) && !String(value).includes("media=cdrom")) {
      return diskSize(String(value));
    }
  }
  for (const [key, value] of Object.entries(c)) {
    if (DISK_KEY.test(key) && !String(value).includes("media=cdrom")) {
      return diskSize(String(value));
    }
  }
  return 0;
}

/** The display name: QEMU `name` (`VM <id>` if unset), LXC `hostname` (`CT<id>` if unset). */
export function guestName(guest: Guest): string {
  const c = guest.config;
  if (guest.type === "qemu") return String(c.name ?? `VM ${guest.vmid}`);
  return String(c.hostname ?? `CT${guest.vmid}`);
}

/**
 * The HA service state PVE reports for a guest (`hastate`, the manager's service state), if
 * HA-managed: a planted CRM state, `migrate`/`relocate` while the HA manager moves it, else the
 * requested state.
 */
export function haState(state: SimState, guest: Guest): string | undefined {
  const sid = `${guest.type === "qemu" ? "vm" : "ct"}:${guest.vmid}`;
  const res = state.ha.get(sid);
  if (res === undefined) return undefined;
  if (res.crmState !== undefined) return res.crmState;
  if (res.motion !== undefined) return res.motion.state;
  if (res.state === "enabled") return "started";
  return res.state;
}

/** A map vmid → pool id, built once per request (pools are few, guests many). */
export function poolIndex(state: SimState): Map<number, string> {
  const index = new Map<number, string>();
  for (const pool of state.pools.values()) {
    for (const vmid of pool.vms) index.set(vmid, pool.poolid);
  }
  return index;
}

/** A `/cluster/resources` guest entry (`extract_vm_stats`). */
export function guestResource(
  sim: Sim,
  guest: Guest,
  pool: string | undefined,
): Record<string, unknown> {
  const state = sim.state;
  const node = state.nodes.get(guest.node);
  const online = node?.online ?? false;
  const entry: Record<string, unknown> = {
    id: `${guest.type}/${guest.vmid}`,
    type: guest.type,
    vmid: guest.vmid,
    node: guest.node,
    status: online ? guest.status : "unknown",
    name: guestName(guest),
    template: guest.config.template === 1 ? 1 : 0,
  };
  if (online) {
    const running = guest.status === "running";
    const stats = guest.stats;
    entry.uptime = running ? Math.max(0, sim.clock.now() - guest.startedAt) : 0;
    entry.maxcpu = guestMaxcpu(guest, node);
    entry.cpu = running ? stats.cpu : 0;
    entry.maxmem = guestMaxmem(guest);
    entry.mem = running ? stats.mem : 0;
    entry.memhost = running ? Math.round(stats.mem * (guest.type === "qemu" ? 1.05 : 1)) : 0;
    entry.maxdisk = guestMaxdisk(guest);
    entry.disk = running ? stats.disk : 0;
    entry.netin = running ? stats.netin : 0;
    entry.netout = running ? stats.netout : 0;
    entry.diskread = running ? stats.diskread : 0;
    entry.diskwrite = running ? stats.diskwrite : 0;
  }
  if (pool !== undefined) entry.pool = pool;
  const lock = guest.config.lock;
  if (lock !== undefined) entry.lock = String(lock);
  const tags = guest.config.tags;
  if (tags !== undefined && tags !== "") entry.tags = String(tags);
  const ha = haState(state, guest);
  if (ha !== undefined) entry.hastate = ha;
  return entry;
}

/** Node usage stats (`extract_node_stats`), for callers with `Sys.Audit` on the node. */
export function nodeStats(sim: Sim, node: NodeState): Record<string, number> {
  return {
    uptime: Math.max(0, sim.clock.now() - node.bootTime),
    cpu: node.cpu,
    maxcpu: node.maxcpu,
    mem: node.mem,
    maxmem: node.maxmem,
    disk: node.disk,
    maxdisk: node.maxdisk,
  };
}

/** A node entry as `GET /nodes` and `/cluster/resources` list it (without `ssl_fingerprint`). */
export function nodeEntry(sim: Sim, auth: AuthInfo, node: NodeState): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    id: `node/${node.name}`,
    node: node.name,
    type: "node",
    status: node.online ? "online" : "offline",
    level: node.level,
  };
  if (node.online && sim.can(auth, `/nodes/${node.name}`, "Sys.Audit")) {
    Object.assign(entry, nodeStats(sim, node));
  }
  return entry;
}

/** A `/cluster/resources` pool entry, with the summed usage of its running members. */
export function poolResource(sim: Sim, poolid: string): Record<string, unknown> {
  const pool = sim.state.pools.get(poolid);
  const entry: Record<string, unknown> = { id: `/pool/${poolid}`, pool: poolid, type: "pool" };
  if (pool === undefined) return entry;
  let mem = 0, maxmem = 0, maxcpu = 0, cpuWeighted = 0, uptime = 0;
  for (const vmid of pool.vms) {
    const guest = sim.state.guests.get(vmid);
    if (guest === undefined || guest.status !== "running") continue;
    if (!(sim.state.nodes.get(guest.node)?.online ?? false)) continue;
    const cpus = guestMaxcpu(guest, sim.state.nodes.get(guest.node));
    mem += guest.stats.mem;
    maxmem += guestMaxmem(guest);
    maxcpu += cpus;
    cpuWeighted += guest.stats.cpu * cpus;
    uptime = Math.max(uptime, sim.clock.now() - guest.startedAt);
  }
  entry.mem = mem;
  entry.maxmem = maxmem;
  entry.maxcpu = maxcpu;
  entry.cpu = maxcpu > 0 ? Math.round((cpuWeighted / maxcpu) * 1e6) / 1e6 : 0;
  entry.uptime = uptime;
  return entry;
}

function resources(sim: Sim, auth: AuthInfo, type: string | undefined): unknown[] {
  const state = sim.state;
  const out: unknown[] = [];
  if (type === undefined || type === "vm") {
    const pools = poolIndex(state);
    for (const guest of hashOrder(state.guests.values(), (g) => String(g.vmid))) {
      if (!sim.can(auth, `/vms/${guest.vmid}`, "VM.Audit")) continue;
      out.push(guestResource(sim, guest, pools.get(guest.vmid)));
    }
  }
  if (type === undefined || type === "node") {
    const haActive = state.ha.size > 0;
    for (const node of hashOrder(state.nodes.values(), (n) => n.name)) {
      const entry = nodeEntry(sim, auth, node);
      entry["cgroup-mode"] = 2;
      entry["host-arch"] = "x86_64";
      if (haActive) entry.hastate = node.online ? "online" : "unknown";
      out.push(entry);
    }
  }
  if (type === undefined || type === "storage") {
    for (const storage of hashOrder(state.storages.values(), (s) => s.storage)) {
      if (storage.disable) continue;
      if (!sim.can(auth, `/storage/${storage.storage}`, "Datastore.Audit")) continue;
      for (const node of hashOrder(state.nodes.values(), (n) => n.name)) {
        if (storage.nodes !== undefined && !storage.nodes.includes(node.name)) continue;
        out.push(storageResource(state, storage, node));
      }
    }
  }
  if (type === undefined) {
    for (const pool of hashOrder(state.pools.values(), (p) => p.poolid)) {
      if (!sim.can(auth, `/pool/${pool.poolid}`, "Pool.Audit")) continue;
      out.push(poolResource(sim, pool.poolid));
    }
  }
  if (type === undefined || type === "sdn") {
    for (const node of hashOrder(state.nodes.values(), (n) => n.name)) {
      if (!sim.can(auth, "/sdn/zones/localnetwork", "SDN.Audit")) break;
      const status = node.online ? "ok" : "unknown";
      if (type === "sdn") {
        out.push({
          id: `sdn/${node.name}/localnetwork`,
          sdn: "localnetwork",
          node: node.name,
          type: "sdn",
          status,
        });
      } else {
        out.push({
          id: `network/${node.name}/zone/localnetwork`,
          type: "network",
          "network-type": "zone",
          network: "localnetwork",
          node: node.name,
          status,
          "zone-type": "local",
        });
      }
    }
  }
  return out;
}

function clusterStatus(sim: Sim): unknown[] {
  const state = sim.state;
  const nodes = [...state.nodes.values()];
  const local = nodes.find((n) => n.online) ?? nodes[0];
  if (state.clusterName === null) {
    return nodes.slice(0, 1).map((n) => ({
      type: "node",
      id: `node/${n.name}`,
      name: n.name,
      ip: n.ip,
      local: 1,
      nodeid: 0,
      online: n.online ? 1 : 0,
      level: n.level,
    }));
  }
  const online = nodes.filter((n) => n.online).length;
  const out: unknown[] = [{
    type: "cluster",
    id: "cluster",
    name: state.clusterName,
    nodes: nodes.length,
    version: nodes.length,
    quorate: online * 2 > nodes.length ? 1 : 0,
  }];
  for (const n of hashOrder(nodes, (node) => node.name)) {
    out.push({
      type: "node",
      id: `node/${n.name}`,
      name: n.name,
      nodeid: n.nodeid,
      ip: n.ip,
      local: n === local ? 1 : 0,
      online: n.online ? 1 : 0,
      level: n.level,
    });
  }
  return out;
}

function nextid(state: SimState, wanted: number | undefined): string {
  if (wanted !== undefined) {
    if (state.guests.has(wanted)) {
      throw paramError({ vmid: `VM ${wanted} already exists` });
    }
    return String(wanted);
  }
  for (let id = 100; id < 1_000_000; id++) {
    if (!state.guests.has(id)) return String(id);
  }
  throw paramError({ vmid: "Unable to get any free VMID in range [100, 1000000)" });
}

/** `GET /version` body. */
export function versionInfo(state: SimState): Record<string, string> {
  const v = state.version;
  const out: Record<string, string> = {
    version: v.version,
    release: v.release,
    repoid: v.repoid,
  };
  out.console = v.console ?? "xtermjs";
  return out;
}

/** The cluster endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/version", ({ sim }) => versionInfo(sim.state)),
  route("GET", "/cluster/status", ({ sim }) => clusterStatus(sim)),
  route("GET", "/cluster/resources", ({ sim, auth, params }) => {
    const type = typeof params.type === "string" ? params.type : undefined;
    return resources(sim, auth, type);
  }),
  route("GET", "/cluster/nextid", ({ sim, params }) => {
    const vmid = typeof params.vmid === "number" ? params.vmid : undefined;
    return nextid(sim.state, vmid);
  }),
];
