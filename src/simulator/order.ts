/**
 * PVE builds most lists by walking Perl hashes (`keys %$vmlist`, `keys %$nodelist`), so their
 * order is neither sorted nor insertion order. The simulator reproduces that with a
 * deterministic "hash order": items ordered by an FNV-1a hash of their key. The same keys
 * always come back in the same order, and that order is not sorted, so no client can rely on
 * sorting it never asked for.
 *
 * @module
 */

/** FNV-1a with murmur3's final mix, so keys that differ in one character scatter. */
function hashKey(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** The items in hash order of `key(item)` (deterministic, unsorted). */
export function hashOrder<T>(items: Iterable<T>, key: (item: T) => string): T[] {
  const keyed: [number, string, T][] = [];
  for (const item of items) {
    const k = key(item);
    keyed.push([hashKey(k), k, item]);
  }
  keyed.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return keyed.map((entry) => entry[2]);
}
