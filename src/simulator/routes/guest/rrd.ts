/**
 * `GET …/rrddata`: deterministic RRD series of a guest, in PVE 9's resolutions (`../rrd.ts`).
 * A slot before the guest existed has only `time`; a slot in which it was not running carries
 * only `time` and the `max*` capacities (pvestatd writes the live values as unknown); only the
 * slots since the guest's current start carry cpu, memory, disk and network I/O. The simulator
 * keeps no run history, so a stopped guest has no live values anywhere in the window.
 *
 * @module
 */

import type { RouteContext } from "../../router.ts";
import { hash32 } from "./hash.ts";
import type { Kind } from "./kind.ts";
import { findGuest } from "./lookup.ts";
import { pstr } from "./params.ts";
import { RRD_FRAMES } from "../rrd.ts";
import { bootDiskSize, configCpus, configMemory } from "./stats.ts";

/** `GET …/rrddata`: deterministic series from the vmid and the time slots. */
export function rrdData(ctx: RouteContext, kind: Kind): Record<string, number>[] {
  const guest = findGuest(ctx, kind);
  const timeframe = pstr(ctx.params, "timeframe") ?? "hour";
  const cf = pstr(ctx.params, "cf") ?? "AVERAGE";
  const frame = RRD_FRAMES[timeframe] ?? { points: 60, step: 60 };
  const [step, count] = [frame.step, frame.points];
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
    // A slot counts as running when the guest runs now and had started by its end.
    if (guest.status !== "running" || time + step <= guest.startedAt) {
      out.push({ time, maxcpu, maxmem, maxdisk });
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
