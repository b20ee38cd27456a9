/**
 * Simulated PVE endpoints: the node list and per-node index, status (with PVE's Perl
 * string quirks), version, system services and the subscription. Network interfaces are in
 * `network.ts`, RRD metrics in `rrd.ts`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { hostnameLookupError } from "../errors.ts";
import { type AuthInfo, type Route, route, type Sim } from "../router.ts";
import type { NodeState, ServiceState } from "../state.ts";
import { hashOrder } from "../order.ts";
import { nodeEntry } from "./cluster.ts";

const CPU_FLAGS = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 " +
  "clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc " +
  "art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni " +
  "pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 " +
  "sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm " +
  "3dnowprefetch cpuid_fault epb ssbd ibrs ibpb stibp tpr_shadow flexpriority ept vpid " +
  "ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid mpx rdseed adx smap " +
  "clflushopt intel_pt xsaveopt xsavec xgetbv1 xsaves dtherm ida arat pln pts hwp " +
  "hwp_notify hwp_act_window hwp_epp md_clear flush_l1d arch_capabilities";

/** An `ssl_fingerprint` for a node: SHA-256 hex pairs, derived from the node name. */
export function sslFingerprint(node: string): string {
  const digest = createHash("sha256").update(`pve-ssl:${node}`).digest("hex").toUpperCase();
  return digest.match(/../g)?.join(":") ?? "";
}

/** The node of a `/nodes/{node}/…` request; an unknown name fails as PVE's hostname lookup. */
export function nodeOf(sim: Sim, name: string): NodeState {
  const node = sim.state.nodes.get(name);
  if (node === undefined) throw hostnameLookupError(name);
  return node;
}

function nodeStatus(sim: Sim, node: NodeState): Record<string, unknown> {
  const v = sim.state.version;
  const release = /^Linux (\S+) (.*) \(/.exec(node.kversion);
  const kernelRelease = release?.[1] ?? "6.17.2-1-pve";
  const kernelVersion = node.kversion.replace(/^Linux \S+ /, "");
  const available = node.maxmem - node.mem;
  const rootTotal = node.maxdisk;
  const rootUsed = node.disk;
  const rootFree = rootTotal - rootUsed;
  return {
    uptime: Math.max(0, sim.clock.now() - node.bootTime),
    idle: 0,
    loadavg: node.loadavg,
    kversion: node.kversion,
    "current-kernel": {
      sysname: "Linux",
      release: kernelRelease,
      version: kernelVersion,
      machine: "x86_64",
    },
    "boot-info": { mode: "efi", secureboot: 0 },
    cpuinfo: {
      user_hz: 100,
      vendor: node.cpuModel.includes("AMD") ? "AuthenticAMD" : "GenuineIntel",
      family: node.cpuModel.includes("AMD") ? "25" : "6",
      model: node.cpuModel,
      mhz: node.cpuModel.includes("AMD") ? "2800.000" : "3400.000",
      cpus: node.maxcpu,
      sockets: node.sockets,
      cores: node.cores,
      flags: CPU_FLAGS,
      hvm: "1",
    },
    cpu: node.cpu,
    wait: Math.round(node.cpu * 0.03 * 1e6) / 1e6,
    memory: {
      total: node.maxmem,
      used: node.maxmem - available,
      free: Math.round(available * 0.82),
      available,
    },
    ksm: { shared: 0 },
    swap: { total: node.swaptotal, used: node.swapused, free: node.swaptotal - node.swapused },
    rootfs: {
      total: rootTotal,
      avail: Math.round(rootFree * 0.95),
      used: rootUsed,
      free: rootFree,
    },
    pveversion: `pve-manager/${node.pveVersion}/${v.repoid}`,
  };
}

/** The units `GET /nodes/{node}/services` reports on a PVE 9 node, with their descriptions. */
const SERVICES: readonly [string, string][] = [
  ["chrony", "chrony, an NTP client/server"],
  ["corosync", "Corosync Cluster Engine"],
  ["cron", "Regular background program processing daemon"],
  ["ksmtuned", "Kernel Samepage Merging (KSM) Tuning Daemon"],
  ["lxcfs", "FUSE filesystem for LXC"],
  ["postfix", "Postfix Mail Transport Agent (instance -)"],
  ["proxmox-firewall", "Proxmox nftables firewall"],
  ["pve-cluster", "The Proxmox VE cluster filesystem"],
  ["pve-firewall", "Proxmox VE firewall"],
  ["pve-ha-crm", "PVE Cluster HA Resource Manager Daemon"],
  ["pve-ha-lrm", "PVE Local HA Resource Manager Daemon"],
  ["pve-lxc-syscalld", "Proxmox VE LXC Syscall Daemon"],
  ["pvedaemon", "PVE API Daemon"],
  ["pvefw-logger", "Proxmox VE firewall logger"],
  ["pveproxy", "PVE API Proxy Server"],
  ["pvescheduler", "Proxmox VE scheduler"],
  ["pvestatd", "PVE Status Daemon"],
  ["qmeventd", "PVE Qemu Event Daemon"],
  ["spiceproxy", "PVE SPICE Proxy Server"],
  ["sshd", "OpenBSD Secure Shell server"],
  ["syslog", "System Logging Service"],
  ["systemd-journald", "Journal Service"],
];

/** A unit's state on a node: what the seed or control API set, else PVE's usual state. */
function serviceState(sim: Sim, node: NodeState, service: string): ServiceState {
  const set = node.services?.[service];
  if (set !== undefined) return set;
  // The nftables firewall is a tech preview, off unless enabled; corosync needs a cluster.
  if (service === "proxmox-firewall" || (service === "corosync" && !sim.state.clusterName)) {
    return { state: "dead", "active-state": "inactive", "unit-state": "enabled" };
  }
  return { state: "running", "active-state": "active", "unit-state": "enabled" };
}

function serviceEntry(sim: Sim, node: NodeState, service: string, desc: string): unknown {
  return { service, name: service, desc, ...serviceState(sim, node, service) };
}

/** A server id as PVE derives it from the host's MAC addresses: 32 uppercase hex digits. */
function serverId(node: NodeState): string {
  return createHash("md5").update(`serverid:${node.name}`).digest("hex").toUpperCase();
}

const SHOP_URL = "https://www.proxmox.com/en/proxmox-virtual-environment/pricing";

function subscription(sim: Sim, auth: AuthInfo, node: NodeState): Record<string, unknown> {
  const audit = sim.can(auth, `/nodes/${node.name}`, "Sys.Audit");
  const sub = node.subscription;
  if (sub === undefined) {
    const out: Record<string, unknown> = {
      status: "notfound",
      message: "There is no subscription key",
      url: SHOP_URL,
    };
    if (audit) out.serverid = serverId(node);
    return out;
  }
  const out: Record<string, unknown> = {
    status: sub.status,
    level: sub.level,
    productname: sub.productname,
    regdate: sub.regdate,
    nextduedate: sub.nextduedate,
    checktime: sub.checktime,
    sockets: node.sockets,
    url: SHOP_URL,
  };
  if (sub.message !== undefined) out.message = sub.message;
  if (audit) {
    out.key = sub.key;
    out.serverid = serverId(node);
  }
  return out;
}

const NODE_INDEX = [
  "aplinfo",
  "apt",
  "capabilities",
  "ceph",
  "certificates",
  "config",
  "disks",
  "dns",
  "execute",
  "firewall",
  "hardware",
  "hosts",
  "journal",
  "lxc",
  "migrateall",
  "netstat",
  "network",
  "qemu",
  "query-url-metadata",
  "replication",
  "report",
  "rrd",
  "rrddata",
  "scan",
  "sdn",
  "services",
  "spiceshell",
  "startall",
  "status",
  "stopall",
  "storage",
  "subscription",
  "suspendall",
  "syslog",
  "tasks",
  "termproxy",
  "time",
  "version",
  "vncshell",
  "vzdump",
  "wakeonlan",
].map((name) => ({ name }));

/** The nodes endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/nodes", ({ sim, auth }) => {
    const out: unknown[] = [];
    for (const node of hashOrder(sim.state.nodes.values(), (n) => n.name)) {
      const entry = nodeEntry(sim, auth, node);
      entry.ssl_fingerprint = sslFingerprint(node.name);
      out.push(entry);
    }
    return out;
  }),
  route("GET", "/nodes/{node}", () => NODE_INDEX),
  route("GET", "/nodes/{node}/status", ({ sim, params }) => {
    return nodeStatus(sim, nodeOf(sim, String(params.node)));
  }),
  route("GET", "/nodes/{node}/services", ({ sim, params }) => {
    const node = nodeOf(sim, String(params.node));
    return hashOrder(SERVICES, ([service]) => service)
      .map(([service, desc]) => serviceEntry(sim, node, service, desc));
  }),
  route(
    "GET",
    "/nodes/{node}/services/{service}",
    () => ["state", "start", "stop", "restart", "reload"].map((subdir) => ({ subdir })),
  ),
  route("GET", "/nodes/{node}/services/{service}/state", ({ sim, params }) => {
    const node = nodeOf(sim, String(params.node));
    const service = String(params.service);
    const desc = SERVICES.find(([name]) => name === service)?.[1] ?? service;
    return serviceEntry(sim, node, service, desc);
  }),
  route("GET", "/nodes/{node}/subscription", ({ sim, auth, params }) => {
    return subscription(sim, auth, nodeOf(sim, String(params.node)));
  }),
  route("GET", "/nodes/{node}/time", ({ sim, params }) => {
    nodeOf(sim, String(params.node));
    // Simulated nodes keep UTC, so local time (seconds as if local were UTC) equals time.
    const now = sim.clock.now();
    return { timezone: "UTC", time: now, localtime: now };
  }),
  route("GET", "/nodes/{node}/version", ({ sim, params }) => {
    const node = nodeOf(sim, String(params.node));
    const v = sim.state.version;
    return {
      version: node.pveVersion,
      release: node.pveVersion.split(".").slice(0, 2).join("."),
      repoid: v.repoid,
    };
  }),
];
