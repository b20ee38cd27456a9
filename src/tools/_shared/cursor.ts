/**
 * Opaque pagination cursors. A cursor records the offset of the next page and a
 * fingerprint of the query it belongs to, so a cursor reused with other filters or another
 * sort order is refused instead of silently returning the wrong page.
 *
 * @module
 */

/** What a cursor carries. */
export interface CursorState {
  /** Index of the first item of the next page. */
  offset: number;
  /** Fingerprint of the query (filters and sort) the cursor was issued for. */
  query: string;
}

/** A short stable fingerprint of a query object (FNV-1a over its canonical JSON). */
export function queryFingerprint(query: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(query).sort().filter((k) => query[k] !== undefined).map((k) => [k, query[k]]),
  );
  let hash = 0x811c9dc5;
  for (let i = 0; i < canonical.length; i++) {
    hash ^= canonical.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

/** Encodes a cursor as URL-safe base64 text. */
export function encodeCursor(state: CursorState): string {
  return btoa(`${state.offset}.${state.query}`).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * Decodes a cursor; `undefined` when it is not one of ours or belongs to another query.
 * Callers turn that into an error that says to start again without a cursor.
 */
export function decodeCursor(cursor: string, query: string): number | undefined {
  let text: string;
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return undefined;
  }
  const match = /^(\d{1,9})\.([0-9a-z]+)$/.exec(text);
  if (match === null || match[2] !== query) return undefined;
  return Number(match[1]);
}
