/**
 * How far a running task is, read from its log the way PVE's own task viewer does: the last
 * percentage a line printed (`transferred 1.0 GiB of 32.0 GiB (3.13%)`, `progress 42%`).
 *
 * @module
 */

/** The last percentage in the log lines, as a fraction; `undefined` when none printed one. */
export function logProgress(log: readonly string[]): number | undefined {
  for (let i = log.length - 1; i >= 0; i--) {
    const matches = [...(log[i] ?? "").matchAll(/(\d{1,3}(?:\.\d+)?)\s?%/g)];
    for (let j = matches.length - 1; j >= 0; j--) {
      const value = Number(matches[j]?.[1]);
      if (value >= 0 && value <= 100) return value / 100;
    }
  }
  return undefined;
}
