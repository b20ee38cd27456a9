/**
 * Simulated PVE endpoints: the node list and per-node index, status (with PVE's Perl
 * string quirks), version, network interfaces and RRD metrics.
 *
 * RRD values are generated deterministically from the node and the time slot, so two
 * requests at the same simulated time return the same floats.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dieError } from "../errors.ts";
import { type Route, route, type Sim } from "../router.ts";
import type { NodeState } from "../state.ts";
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

function getNode(sim: Sim, name: string): NodeState {
  const node = sim.state.nodes.get(name);
  if (node === undefined) {
    throw dieError(
      `hostname lookup '${name}' failed - failed to get address info for: ${name}: ` +
        "Name or service not known",
    );
  }
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

const BRIDGE_TYPES = new Set(["bridge", "OVSBridge"]);

function networkList(node: NodeState, type: string | undefined): unknown[] {
  return node.network.filter((iface) => {
    if (type === undefined || type === "include_sdn") return true;
    if (type === "any_bridge" || type === "any_local_bridge") {
      return BRIDGE_TYPES.has(String(iface.type));
    }
    return iface.type === type;
  });
}

/** Points and step (seconds) of each RRD timeframe (PVE 9 format). */
export const RRD_FRAMES: Record<string, { points: number; step: number }> = {
  hour: { points: 60, step: 60 },
  day: { points: 1440, step: 60 },
  week: { points: 336, step: 1800 },
  month: { points: 1440, step: 1800 },
  year: { points: 1440, step: 21600 },
  decade: { points: 520, step: 604800 },
};

function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

function wave(t: number, phase: number): number {
  return 0.5 + 0.3 * Math.sin(t / 5400 + phase * 6.28) + 0.2 * Math.sin(t / 997 + phase * 17);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function nodeRrd(sim: Sim, node: NodeState, timeframe: string, cf: string): unknown[] {
  const frame = RRD_FRAMES[timeframe] ?? { points: 60, step: 60 };
  const last = Math.floor(sim.clock.now() / frame.step) * frame.step;
  const phase = seedOf(node.name);
  const peak = cf === "MAX" ? 1.25 : 1;
  const out: unknown[] = [];
  for (let i = frame.points - 1; i >= 0; i--) {
    const time = last - i * frame.step;
    const w = wave(time, phase);
    const cpu = Math.min(1, node.cpu * (0.5 + w) * peak);
    const memused = Math.min(node.maxmem, node.mem * (0.9 + 0.2 * w) * (cf === "MAX" ? 1.05 : 1));
    out.push({
      time,
      loadavg: round(Number(node.loadavg[0]) * (0.5 + w) * peak, 4),
      maxcpu: node.maxcpu,
      cpu: round(cpu, 6),
      iowait: round(cpu * 0.04, 6),
      memtotal: node.maxmem,
      memused: round(memused, 2),
      memavailable: round(node.maxmem - memused, 2),
      arcsize: 0,
      swaptotal: node.swaptotal,
      swapused: node.swapused,
      roottotal: node.maxdisk,
      rootused: round(node.disk * (0.98 + 0.02 * w), 2),
      netin: round(150000 * w * peak, 4),
      netout: round(60000 * w * peak, 4),
      pressurecpusome: round(0.01 * w * peak, 4),
      pressureiosome: round(0.004 * w * peak, 4),
      pressureiofull: round(0.002 * w * peak, 4),
      pressurememorysome: 0,
      pressurememoryfull: 0,
    });
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
    return nodeStatus(sim, getNode(sim, String(params.node)));
  }),
  route("GET", "/nodes/{node}/version", ({ sim, params }) => {
    const node = getNode(sim, String(params.node));
    const v = sim.state.version;
    return {
      version: node.pveVersion,
      release: node.pveVersion.split(".").slice(0, 2).join("."),
      repoid: v.repoid,
    };
  }),
  route("GET", "/nodes/{node}/network", ({ sim, params }) => {
    const node = getNode(sim, String(params.node));
    return networkList(node, typeof params.type === "string" ? params.type : undefined);
  }),
  route("GET", "/nodes/{node}/rrddata", ({ sim, params }) => {
    const node = getNode(sim, String(params.node));
    const cf = typeof params.cf === "string" ? params.cf : "AVERAGE";
    return nodeRrd(sim, node, String(params.timeframe), cf);
  }),
];
