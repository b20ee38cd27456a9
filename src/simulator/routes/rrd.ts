/**
 * Simulated PVE endpoints: RRD metrics (`rrddata`) of nodes and storages, after
 * `pve-manager PVE/API2/Nodes.pm`, `pve-storage PVE/API2/Storage/Status.pm` and
 * `pve-cluster PVE::RRD::create_rrd_data` (PVE 9 resolutions: hour 60 × 1 min, day
 * 1440 × 1 min, week 336 × 30 min, month 1440 × 30 min, year 1440 × 6 h, decade 570 × 1 week).
 *
 * Each row is `{time, <field>: float…}`; a field without data for its slot is left out, so a
 * slot with no data at all is only `{time}`. Values are generated deterministically from the
 * resource and the time slot, so two requests at the same simulated time return the same
 * floats. A storage without an RRD file on the node (not configured there) is
 * `RRD error: opening '…': No such file or directory`, as `RRDs::fetch` fails.
 *
 * @module
 */

import { dieError } from "../errors.ts";
import { type Route, route, type Sim } from "../router.ts";
import type { NodeState, StorageConfig } from "../state.ts";
import { nodeOf } from "./nodes.ts";
import { storageOnNode, storageUsage } from "./storage.ts";

/** Points and step (seconds) of each RRD timeframe (PVE 9 format). */
export const RRD_FRAMES: Readonly<Record<string, { points: number; step: number }>> = {
  hour: { points: 60, step: 60 },
  day: { points: 1440, step: 60 },
  week: { points: 336, step: 1800 },
  month: { points: 1440, step: 1800 },
  year: { points: 1440, step: 21600 },
  decade: { points: 570, step: 604800 },
};

/** A stable fraction in [0, 1) for a text (FNV-1a). */
export function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

/** A smooth daily-ish load curve in [0, 1] for slot `t`, shifted by `phase`. */
export function wave(t: number, phase: number): number {
  return 0.5 + 0.3 * Math.sin(t / 5400 + phase * 6.28) + 0.2 * Math.sin(t / 997 + phase * 17);
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The slot times of a timeframe ending at `now`, oldest first. */
export function rrdSlots(now: number, timeframe: string): number[] {
  const frame = RRD_FRAMES[timeframe] ?? { points: 60, step: 60 };
  const last = Math.floor(now / frame.step) * frame.step;
  const out: number[] = [];
  for (let i = frame.points - 1; i >= 0; i--) out.push(last - i * frame.step);
  return out;
}

function nodeRrd(sim: Sim, node: NodeState, timeframe: string, cf: string): unknown[] {
  const phase = seedOf(node.name);
  const peak = cf === "MAX" ? 1.25 : 1;
  return rrdSlots(sim.clock.now(), timeframe).map((time) => {
    const w = wave(time, phase);
    const cpu = Math.min(1, node.cpu * (0.5 + w) * peak);
    const memused = Math.min(node.maxmem, node.mem * (0.9 + 0.2 * w) * (cf === "MAX" ? 1.05 : 1));
    return {
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
    };
  });
}

/**
 * A storage's `total`/`used` per slot: today's usage, a little less the further back (data
 * grows), never above the capacity.
 */
function storageRrd(
  sim: Sim,
  storage: StorageConfig,
  node: NodeState,
  timeframe: string,
  cf: string,
): unknown[] {
  const now = sim.clock.now();
  const { total, used } = storageUsage(sim.state, storage, node.name);
  const phase = seedOf(`${node.name}/${storage.storage}`);
  return rrdSlots(now, timeframe).map((time) => {
    const age = Math.max(0, now - time) / (86400 * 365);
    const jitter = 0.002 * wave(time, phase) * (cf === "MAX" ? 1.5 : 1);
    const value = Math.min(total, used * Math.max(0.2, 1 - 0.3 * age + jitter));
    return { time, total, used: round(value, 2) };
  });
}

function cfOf(value: unknown): string {
  return typeof value === "string" ? value : "AVERAGE";
}

/** The RRD endpoints this simulator implements (guests: `guest_common.ts`). */
export const routes: Route[] = [
  route("GET", "/nodes/{node}/rrddata", ({ sim, params }) => {
    const node = nodeOf(sim, String(params.node));
    return nodeRrd(sim, node, String(params.timeframe), cfOf(params.cf));
  }),
  route("GET", "/nodes/{node}/storage/{storage}/rrddata", ({ sim, params }) => {
    const node = nodeOf(sim, String(params.node));
    const id = String(params.storage);
    const storage = sim.state.storages.get(id);
    if (storage === undefined || !storageOnNode(storage, node.name)) {
      throw dieError(
        `RRD error: opening '/var/lib/rrdcached/db/pve-storage-9.0/${node.name}/${id}': ` +
          "No such file or directory",
      );
    }
    return storageRrd(sim, storage, node, String(params.timeframe), cfOf(params.cf));
  }),
];
