/**
 * Summarizing PVE's RRD answers (`…/rrddata`): which series each kind of resource has and in
 * which unit, per-series avg/max/last over the rows that carry a value, and a downsampled
 * series of at most N points. PVE leaves a field out of a row when it has no value for that
 * slot (a stopped guest's rows carry only `time` and the `max*` capacities), so nothing here
 * invents a number for a missing one.
 *
 * @module
 */

import { isoTime } from "../_shared/format.ts";

/** The kinds of resource PVE keeps RRD files for. */
export type RrdKind = "guest" | "node" | "storage";

/** Unit suffixes of the series, as they appear in output field names. */
type Unit = "fraction" | "bytes" | "bytes_per_second" | "percent" | "1m";

/** Every series per kind (PVE 9 data sources) and its unit. */
export const RRD_SERIES: Readonly<Record<RrdKind, Readonly<Record<string, Unit>>>> = {
  guest: {
    cpu: "fraction",
    mem: "bytes",
    memhost: "bytes",
    disk: "bytes",
    netin: "bytes_per_second",
    netout: "bytes_per_second",
    diskread: "bytes_per_second",
    diskwrite: "bytes_per_second",
    pressurecpusome: "percent",
    pressurecpufull: "percent",
    pressureiosome: "percent",
    pressureiofull: "percent",
    pressurememorysome: "percent",
    pressurememoryfull: "percent",
  },
  node: {
    cpu: "fraction",
    iowait: "fraction",
    loadavg: "1m",
    memused: "bytes",
    memavailable: "bytes",
    memtotal: "bytes",
    arcsize: "bytes",
    swapused: "bytes",
    swaptotal: "bytes",
    rootused: "bytes",
    roottotal: "bytes",
    netin: "bytes_per_second",
    netout: "bytes_per_second",
    pressurecpusome: "percent",
    pressureiosome: "percent",
    pressureiofull: "percent",
    pressurememorysome: "percent",
    pressurememoryfull: "percent",
  },
  storage: { used: "bytes", total: "bytes" },
};

/** The series shown when the caller names none. */
export const DEFAULT_SERIES: Readonly<Record<RrdKind, readonly string[]>> = {
  guest: ["cpu", "mem", "netin", "netout", "diskread", "diskwrite"],
  node: ["cpu", "iowait", "loadavg", "memused", "swapused", "rootused", "netin", "netout"],
  storage: ["used", "total"],
};

/** The output key of a series: name plus unit, e.g. `mem_bytes`, `netin_bytes_per_second`. */
export function seriesKey(kind: RrdKind, series: string): string {
  return `${series}_${RRD_SERIES[kind][series] ?? "value"}`;
}

function rounded(kind: RrdKind, series: string, value: number): number {
  const unit = RRD_SERIES[kind][series];
  if (unit === "bytes") return Math.round(value);
  if (unit === "fraction") return Math.round(value * 10_000) / 10_000;
  return Math.round(value * 100) / 100;
}

/** avg / max / last of one series. */
export interface SeriesStats {
  avg: number;
  max: number;
  last: number;
}

/** What {@linkcode summarizeRrd} makes of an RRD answer. */
export interface RrdSummary {
  points_total: number;
  points_with_data: number;
  step_seconds: number;
  from?: string;
  to?: string;
  stats: Record<string, SeriesStats>;
  capacity: Record<string, number>;
  samples?: Record<string, number | string>[];
}

function value(row: Record<string, unknown>, key: string): number | undefined {
  const v = row[key];
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Summarizes RRD rows: per-series stats over the rows that carry the series, the capacities
 * (`maxcpu`, `maxmem`, `maxdisk`) from the latest row, and, when `points > 0`, a series cut
 * into at most `points` buckets (each the average, or the maximum for `cf=MAX`, of its rows).
 */
export function summarizeRrd(
  rows: readonly Record<string, unknown>[],
  options: { kind: RrdKind; series: readonly string[]; points: number; cf: string },
): RrdSummary {
  const { kind, series } = options;
  const times = rows.map((row) => value(row, "time") ?? 0);
  const step = times.length > 1 ? (times[1] ?? 0) - (times[0] ?? 0) : 0;
  const withData = rows.filter((row) => series.some((s) => value(row, s) !== undefined));
  const summary: RrdSummary = {
    points_total: rows.length,
    points_with_data: withData.length,
    step_seconds: step,
    stats: {},
    capacity: {},
  };
  const from = isoTime(times[0]);
  const to = isoTime(times.at(-1));
  if (from !== undefined) summary.from = from;
  if (to !== undefined) summary.to = to;
  for (const s of series) {
    let sum = 0;
    let count = 0;
    let max = -Infinity;
    let last: number | undefined;
    for (const row of rows) {
      const v = value(row, s);
      if (v === undefined) continue;
      sum += v;
      count++;
      if (v > max) max = v;
      last = v;
    }
    if (count === 0 || last === undefined) continue;
    summary.stats[seriesKey(kind, s)] = {
      avg: rounded(kind, s, sum / count),
      max: rounded(kind, s, max),
      last: rounded(kind, s, last),
    };
  }
  for (
    const [cap, key] of [["maxcpu", "maxcpu"], ["maxmem", "maxmem_bytes"], [
      "maxdisk",
      "maxdisk_bytes",
    ]] as const
  ) {
    for (let i = rows.length - 1; i >= 0; i--) {
      const v = value(rows[i] ?? {}, cap);
      if (v !== undefined) {
        summary.capacity[key] = v;
        break;
      }
    }
  }
  if (options.points > 0 && withData.length > 0) {
    summary.samples = downsample(withData, options);
  }
  return summary;
}

function downsample(
  rows: readonly Record<string, unknown>[],
  options: { kind: RrdKind; series: readonly string[]; points: number; cf: string },
): Record<string, number | string>[] {
  const buckets = Math.min(options.points, rows.length);
  const size = rows.length / buckets;
  const out: Record<string, number | string>[] = [];
  for (let b = 0; b < buckets; b++) {
    const slice = rows.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    const first = slice[0];
    if (first === undefined) continue;
    const sample: Record<string, number | string> = {
      time: isoTime(value(first, "time")) ?? "",
    };
    for (const s of options.series) {
      const values = slice.map((row) => value(row, s)).filter((v): v is number => v !== undefined);
      if (values.length === 0) continue;
      const v = options.cf === "MAX"
        ? Math.max(...values)
        : values.reduce((a, c) => a + c, 0) / values.length;
      sample[seriesKey(options.kind, s)] = rounded(options.kind, s, v);
    }
    out.push(sample);
  }
  return out;
}
