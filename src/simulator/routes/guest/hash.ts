/**
 * Deterministic pseudo-random values (FNV-1a) for MACs, UUIDs and statistics.
 *
 * @module
 */

/** FNV-1a hash for deterministic pseudo-random values. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** `uuid`-shaped deterministic id from a seed. */
export function pseudoUuid(seed: string): string {
  const hex = [0, 1, 2, 3].map((i) => hash32(`${seed}/${i}`).toString(16).padStart(8, "0")).join(
    "",
  );
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${
    hex.slice(20, 32)
  }`;
}
