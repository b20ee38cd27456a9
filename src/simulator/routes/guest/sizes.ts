/**
 * Sizes as PVE parses and prints them (`32G`, `format_size`, `render_bytes`).
 *
 * @module
 */

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Parses `32G`, `512M`, `1.5T`, `1024` (bytes) into bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text.trim());
  if (m === null) return undefined;
  const unit = { "": 1, K: 1024, M: MIB, G: GIB, T: 1024 ** 4 }[m[2] as "" | "K" | "M" | "G" | "T"];
  return Math.round(Number(m[1]) * unit);
}

/** PVE's `format_size`: the largest unit that divides the size exactly. */
export function formatSize(bytes: number): string {
  const kb = Math.floor(bytes / 1024);
  if (kb * 1024 !== bytes) return String(bytes);
  const mb = Math.floor(kb / 1024);
  if (mb * 1024 !== kb) return `${kb}K`;
  const gb = Math.floor(mb / 1024);
  if (gb * 1024 !== mb) return `${mb}M`;
  const tb = Math.floor(gb / 1024);
  if (tb * 1024 !== gb) return `${gb}G`;
  return `${tb}T`;
}

/** `2.0 GiB` style sizes, as PVE's `render_bytes` prints them. */
export function renderBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${value} B` : `${value.toFixed(1)} ${units[i]}`;
}
