/**
 * Formatting by the unit a field name carries (`_bytes`, `_bytes_per_second`, `_fraction`,
 * `_percent`, `_1m`), the same numbers the tools' text shows.
 *
 * @module
 */

import { formatBytes, formatPercent } from "../../tools/_shared/format.ts";

export { formatBytes, formatDuration, formatPercent } from "../../tools/_shared/format.ts";

/** The unit suffix of an output key. */
export type Unit = "bytes_per_second" | "bytes" | "fraction" | "percent" | "1m" | "value";

const SUFFIXES: readonly [string, Unit][] = [
  ["_bytes_per_second", "bytes_per_second"],
  ["_bytes", "bytes"],
  ["_fraction", "fraction"],
  ["_percent", "percent"],
  ["_1m", "1m"],
];

/** The unit of a key such as `netin_bytes_per_second`. */
export function unitOf(key: string): Unit {
  return SUFFIXES.find(([suffix]) => key.endsWith(suffix))?.[1] ?? "value";
}

/** The key without its unit suffix (`netin_bytes_per_second` → `netin`). */
export function seriesName(key: string): string {
  const suffix = SUFFIXES.find(([s]) => key.endsWith(s))?.[0];
  return suffix === undefined ? key : key.slice(0, -suffix.length);
}

/** A value in its unit, for people. */
export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined || !Number.isFinite(value)) return "?";
  switch (unit) {
    case "bytes_per_second":
      return `${formatBytes(Math.round(value))}/s`;
    case "bytes":
      return formatBytes(Math.round(value));
    case "fraction":
      return formatPercent(value);
    case "percent":
      return `${value.toFixed(1)}%`;
    default:
      return Number.isInteger(value) ? String(value) : value.toFixed(2);
  }
}
