/**
 * A short-lived copy of each cluster's inventory for completions: a client asks
 * `completion/complete` on every keystroke, and each answer must not cost a
 * `/cluster/resources` read. Reads of the same client within {@link INVENTORY_TTL_MS} share
 * one answer (and, through `PveClient.resources()`'s single flight, one request while it is
 * under way); a failed read is not kept, so the next keystroke asks again. Completions are
 * suggestions: a guest created a few seconds ago may be missing from them, never from a tool.
 *
 * @module
 */

import type { ClusterResources, PveClient } from "../pve/mod.ts";

/** How long one inventory answer serves completions (the client's own guest cache is as long). */
export const INVENTORY_TTL_MS = 5000;

interface Entry {
  at: number;
  pending: Promise<ClusterResources>;
}

const entries = new WeakMap<PveClient, Entry>();

/** The client's inventory, read at most once per {@link INVENTORY_TTL_MS}. */
export function cachedInventory(
  client: PveClient,
  options: { signal?: AbortSignal; now?: () => number } = {},
): Promise<ClusterResources> {
  const now = (options.now ?? Date.now)();
  let entry = entries.get(client);
  if (entry === undefined || now - entry.at >= INVENTORY_TTL_MS) {
    const fresh: Entry = { at: now, pending: client.resources() };
    entries.set(client, fresh);
    fresh.pending.catch(() => {
      if (entries.get(client) === fresh) entries.delete(client);
    });
    entry = fresh;
  }
  return abortable(entry.pending, options.signal);
}

/** The promise, or its rejection with the signal's reason once the signal aborts. */
function abortable<T>(pending: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return pending;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener("abort", stop, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}
