/**
 * Small formatting helpers shared by the tools: times as ISO 8601, byte sizes and
 * fractions for the human text (structured output keeps raw numbers with units in names).
 *
 * @module
 */

/** Unix seconds → ISO 8601 (UTC); `undefined` for missing or non-positive values. */
export function isoTime(epochSeconds: number | undefined): string | undefined {
  if (epochSeconds === undefined || !Number.isFinite(epochSeconds) || epochSeconds <= 0) {
    return undefined;
  }
  return new Date(epochSeconds * 1000).toISOString().replace(".000Z", "Z");
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes → a short binary-unit string, e.g. `2.0 GiB`. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return "?";
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A fraction (0..1) → a percentage string, e.g. `2.1%`. */
export function formatPercent(fraction: number | undefined): string {
  if (fraction === undefined || !Number.isFinite(fraction)) return "?";
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Seconds → a compact duration, e.g. `25d 21h`, `3h 5m`, `42s`. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.floor(seconds);
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${s % 60}s`;
  return `${s}s`;
}

/** A PVE value (number, numeric string, missing) → a finite number or `undefined`. */
export function num(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** A PVE boolean (`1`, `"1"`, `true`) → boolean; anything else is `false`. */
export function truthy(value: unknown): boolean {
  return value === 1 || value === "1" || value === true;
}

/** Rounds a fraction to 4 decimals so outputs stay short. */
export function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** Splits a PVE tag list (`;`, `,` or space separated) into tags. */
export function splitTags(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).filter((t) => t !== "");
  if (typeof value !== "string") return [];
  return value.split(/[;,\s]+/).filter((t) => t !== "");
}

/** Characters of an echoed input shown by {@linkcode quoted} before it is cut. */
const QUOTE_MAX = 80;

/**
 * An input echoed in a message: JSON-quoted (control characters escaped) and cut to its first
 * `max` characters with the full length, so a megabyte argument costs a line, not a megabyte.
 *
 * @example
 * ```ts
 * quoted("pve1"); // "\"pve1\""
 * quoted("x".repeat(1000)); // "\"xxx…x\"… (1000 characters)"
 * ```
 */
export function quoted(text: string, max = QUOTE_MAX): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length} characters)`;
}
