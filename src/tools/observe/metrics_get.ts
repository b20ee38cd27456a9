/**
 * `metrics_get`: RRD metrics of a guest, a node or a storage over a timeframe, summarized per
 * series (avg / max / last, units in the field names) with an optional downsampled series of
 * at most N points — never PVE's raw point dump. With `top`, instead the busiest guests of the
 * whole cluster by CPU, memory, disk I/O or network, from one `/cluster/resources` read.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError, PveValidationError } from "../../pve/errors.ts";
import { pvePath } from "../../pve/mod.ts";
import type { ToolContext } from "../types.ts";
import { defineTool } from "../types.ts";
import { formatBytes, formatPercent, num, round4 } from "../_shared/format.ts";
import { guestPath, guestSelector, guestTitle, resolveGuestArg } from "../_shared/guest.ts";
import { requireOnlineNode } from "../_shared/nodes.ts";
import { nodeParam, storageParam } from "../_shared/params.ts";
import {
  DEFAULT_SERIES,
  RRD_SERIES,
  type RrdKind,
  type RrdSummary,
  seriesKey,
  summarizeRrd,
} from "./_rrd.ts";

const TOP_BY = ["cpu", "mem", "disk_io", "net"] as const;

const statsSchema = z.object({ avg: z.number(), max: z.number(), last: z.number() });

// Plus the ranked figures: cpu_fraction and cpu_cores, mem_bytes and maxmem_bytes,
// disk_io_bytes_per_second, or net_bytes_per_second.
const topSchema = z.object({
  vmid: z.number(),
  node: z.string(),
  type: z.string(),
  name: z.string().optional(),
}).catchall(z.unknown());

const outputSchema = z.object({
  target: z.string(),
  points_total: z.number().optional(),
  points_with_data: z.number().optional(),
  step_seconds: z.number().optional(),
  from: z.string().optional(),
  stats: z.record(z.string(), statsSchema).optional(),
  capacity: z.record(z.string(), z.number()).optional(),
  samples: z.array(z.record(z.string(), z.union([z.number(), z.string()]))).optional(),
  top_by: z.enum(TOP_BY).optional(),
  guests_considered: z.number().optional(),
  top: z.array(topSchema).optional(),
});

type Output = z.infer<typeof outputSchema>;
type Top = {
  vmid: number;
  node: string;
  type: string;
  name?: string;
  cpu_fraction?: number;
  cpu_cores?: number;
  mem_bytes?: number;
  maxmem_bytes?: number;
  disk_io_bytes_per_second?: number;
  net_bytes_per_second?: number;
};
type Raw = Record<string, unknown>;

interface Target {
  kind: RrdKind;
  label: string;
  path: string;
  /** For a guest: whether it runs now (a stopped guest has no samples). */
  running?: boolean;
}

function bad(message: string, key: string): PveValidationError {
  return new PveValidationError(message, { errors: { [key]: message } });
}

/** Picks a node for a storage: the given one, or the one node (or any online node, if shared). */
async function storageTarget(storage: string, node: string | undefined, ctx: ToolContext) {
  if (node !== undefined) await requireOnlineNode(node, ctx);
  const { storage: entries } = await ctx.client.resources("storage", { signal: ctx.signal });
  const on = entries.filter((e) => e.storage === storage);
  if (on.length === 0) {
    const ids = [...new Set(entries.map((e) => e.storage))].sort();
    throw bad(
      `Storage "${storage}" does not exist: use one of ${ids.map((id) => `"${id}"`).join(", ")}.`,
      "storage",
    );
  }
  const names = on.map((e) => `"${e.node}"`).sort().join(", ");
  if (node !== undefined) {
    if (on.some((e) => e.node === node)) return node;
    throw bad(`Storage "${storage}" is not on node "${node}": it is on ${names}.`, "node");
  }
  const online = on.filter((e) => e.status === "available")
    .sort((a, b) => a.node.localeCompare(b.node));
  const shared = on.some((e) => e.shared);
  const pick = online[0];
  if (pick !== undefined && (shared || on.length === 1)) return pick.node;
  if (pick === undefined) {
    throw new PveError(`Storage "${storage}" is not available on any online node right now.`);
  }
  throw bad(`Storage "${storage}" is local to each node: give node, one of ${names}.`, "node");
}

async function targetOf(
  args: {
    vmid?: number | undefined;
    name?: string | undefined;
    node?: string | undefined;
    storage?: string | undefined;
  },
  ctx: ToolContext,
): Promise<Target> {
  const guestGiven = args.vmid !== undefined || (args.name !== undefined && args.name !== "");
  if (guestGiven) {
    if (args.node !== undefined || args.storage !== undefined) {
      throw bad("Give a guest (vmid or name) alone: its node is found, not asked for.", "node");
    }
    const guest = await resolveGuestArg(args, ctx);
    return {
      kind: "guest",
      label: guestTitle(guest),
      path: `${guestPath(guest)}/rrddata`,
      running: guest.status === "running",
    };
  }
  if (args.storage !== undefined) {
    const node = await storageTarget(args.storage, args.node, ctx);
    return {
      kind: "storage",
      label: `storage ${args.storage} on ${node}`,
      path: pvePath`/nodes/${node}/storage/${args.storage}/rrddata`,
    };
  }
  if (args.node !== undefined) {
    await requireOnlineNode(args.node, ctx);
    return {
      kind: "node",
      label: `node ${args.node}`,
      path: pvePath`/nodes/${args.node}/rrddata`,
    };
  }
  throw bad(
    "Say what to measure: vmid or name (a guest), node, storage (with node for local storage), or top for the busiest guests.",
    "vmid",
  );
}

function checkSeries(kind: RrdKind, series: readonly string[]): void {
  const known = Object.keys(RRD_SERIES[kind]);
  const unknown = series.filter((s) => !known.includes(s));
  if (unknown.length > 0) {
    throw bad(
      `No ${kind} series ${unknown.map((s) => `"${s}"`).join(", ")}: a ${kind} has ${
        known.join(", ")
      }.`,
      "series",
    );
  }
}

function statLine(key: string, s: { avg: number; max: number; last: number }): string {
  const show = (v: number) =>
    key.endsWith("_bytes_per_second")
      ? `${formatBytes(v)}/s`
      : key.endsWith("_bytes")
      ? formatBytes(v)
      : key.endsWith("_fraction")
      ? formatPercent(v)
      : String(v);
  return `${key}: avg ${show(s.avg)}, max ${show(s.max)}, last ${show(s.last)}`;
}

/** Ranks running guests by one current value from one `/cluster/resources` read. */
async function topGuests(
  by: (typeof TOP_BY)[number],
  limit: number,
  ctx: ToolContext,
): Promise<{ considered: number; top: Top[] }> {
  const data = await ctx.client.get("/cluster/resources", { type: "vm" }, { signal: ctx.signal });
  const rows: { score: number; row: Top }[] = [];
  for (const raw of (Array.isArray(data) ? data : []) as Raw[]) {
    if (raw.status !== "running" || raw.template === 1) continue;
    const vmid = num(raw.vmid);
    if (vmid === undefined) continue;
    const tags = typeof raw.tags === "string" ? raw.tags.split(/[;,\s]+/).filter(Boolean) : [];
    const target: { vmid: number; node: string; tags: string[]; pool?: string } = {
      vmid,
      node: String(raw.node),
      tags,
    };
    if (typeof raw.pool === "string") target.pool = raw.pool;
    if (!ctx.inScope(target)) continue;
    const uptime = Math.max(1, num(raw.uptime) ?? 1);
    const row: Top = { vmid, node: String(raw.node), type: String(raw.type) };
    if (typeof raw.name === "string") row.name = raw.name;
    let score = 0;
    if (by === "cpu") {
      const cpu = num(raw.cpu) ?? 0;
      row.cpu_fraction = round4(cpu);
      row.cpu_cores = Math.round(cpu * (num(raw.maxcpu) ?? 1) * 100) / 100;
      score = row.cpu_cores;
    } else if (by === "mem") {
      row.mem_bytes = num(raw.mem) ?? 0;
      const max = num(raw.maxmem);
      if (max !== undefined) row.maxmem_bytes = max;
      score = row.mem_bytes;
    } else if (by === "disk_io") {
      score = ((num(raw.diskread) ?? 0) + (num(raw.diskwrite) ?? 0)) / uptime;
      row.disk_io_bytes_per_second = Math.round(score);
    } else {
      score = ((num(raw.netin) ?? 0) + (num(raw.netout) ?? 0)) / uptime;
      row.net_bytes_per_second = Math.round(score);
    }
    rows.push({ score, row });
  }
  rows.sort((a, b) => b.score - a.score || a.row.vmid - b.row.vmid);
  return { considered: rows.length, top: rows.slice(0, limit).map((r) => r.row) };
}

function topLine(row: Top): string {
  const who = `${row.type === "lxc" ? "CT" : "VM"} ${row.vmid}${
    row.name ? ` (${row.name})` : ""
  } on ${row.node}`;
  if (row.cpu_cores !== undefined) {
    return `${who}: ${row.cpu_cores} cores (${formatPercent(row.cpu_fraction)} of its vCPUs)`;
  }
  if (row.mem_bytes !== undefined) {
    return `${who}: ${formatBytes(row.mem_bytes)} of ${formatBytes(row.maxmem_bytes)}`;
  }
  if (row.disk_io_bytes_per_second !== undefined) {
    return `${who}: ${formatBytes(row.disk_io_bytes_per_second)}/s disk I/O`;
  }
  return `${who}: ${formatBytes(row.net_bytes_per_second)}/s network`;
}

/** RRD metrics of one resource, or the busiest guests. */
export const metricsGet = defineTool({
  name: "metrics_get",
  title: "Metrics",
  description:
    "Usage history of a guest, node or storage over a timeframe (default hour): avg/max/last per series; points adds a downsampled series. Or top: the busiest running guests now.",
  toolset: "observe",
  capability: "read",
  inputSchema: z.object({
    ...guestSelector,
    node: nodeParam().optional(),
    storage: storageParam().optional(),
    timeframe: z.enum(["hour", "day", "week", "month", "year"]).optional(),
    cf: z.enum(["AVERAGE", "MAX"]).optional(),
    series: z.array(z.string().min(1).max(32)).min(1).max(24).optional(),
    points: z.number().int().min(1).max(200).optional(),
    top: z.enum(TOP_BY).optional(),
    limit: z.number().int().min(1).max(50).optional(),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    if (args.top !== undefined) {
      const extra = ["vmid", "name", "node", "storage", "timeframe", "cf", "series", "points"]
        .filter((key) => (args as Record<string, unknown>)[key] !== undefined);
      if (extra.length > 0) {
        throw bad(
          `top ranks the whole cluster's current values: drop ${extra.join(", ")}, or drop top.`,
          extra[0] ?? "top",
        );
      }
      const { considered, top } = await topGuests(args.top, args.limit ?? 10, ctx);
      const out: Output = {
        target: "cluster",
        top_by: args.top,
        guests_considered: considered,
        top,
      };
      const lines = [
        `Top ${top.length} of ${considered} running guest(s) by ${args.top} (current values${
          args.top === "disk_io" || args.top === "net" ? ", averaged since each guest started" : ""
        }):`,
        ...top.map((row, i) => `${i + 1}. ${topLine(row)}`),
      ];
      return { text: lines.join("\n"), structured: out };
    }
    if (args.limit !== undefined) throw bad("limit goes with top: drop it, or add top.", "limit");
    const target = await targetOf(args, ctx);
    const series = args.series ?? DEFAULT_SERIES[target.kind];
    checkSeries(target.kind, series);
    const timeframe = args.timeframe ?? "hour";
    const cf = args.cf ?? "AVERAGE";
    const data = await ctx.client.get(target.path, { timeframe, cf }, { signal: ctx.signal });
    const rows = (Array.isArray(data) ? data : []) as Raw[];
    const summary: RrdSummary = summarizeRrd(rows, {
      kind: target.kind,
      series,
      points: args.points ?? 0,
      cf,
    });
    const { to: _to, ...rest } = summary;
    const out: Output = { target: target.label, ...rest };
    if (Object.keys(summary.capacity).length === 0) delete out.capacity;

    const lines = [
      `${target.label}, last ${timeframe} (${cf}, ${summary.points_with_data} of ${summary.points_total} slots with data, step ${summary.step_seconds}s):`,
    ];
    const keys = Object.keys(summary.stats);
    if (keys.length === 0) {
      lines.push(
        target.kind === "guest" && target.running === false
          ? `No samples: ${target.label} is not running, and PVE records no usage for a guest that is not running.`
          : "No samples in this timeframe for these series.",
      );
    }
    for (const key of keys) {
      const stats = summary.stats[key];
      if (stats !== undefined) lines.push(`- ${statLine(key, stats)}`);
    }
    const cap = summary.capacity;
    if (Object.keys(cap).length > 0) {
      lines.push(
        `Capacity: ${
          [
            cap.maxcpu !== undefined ? `${cap.maxcpu} CPUs` : "",
            cap.maxmem_bytes !== undefined ? `${formatBytes(cap.maxmem_bytes)} memory` : "",
            cap.maxdisk_bytes !== undefined ? `${formatBytes(cap.maxdisk_bytes)} disk` : "",
          ].filter(Boolean).join(", ")
        }`,
      );
    }
    if (summary.samples !== undefined) {
      lines.push(
        `${summary.samples.length} samples (${
          series.map((s) => seriesKey(target.kind, s)).join(", ")
        }) in structured output.`,
      );
    }
    return { text: lines.join("\n"), structured: out };
  },
});
