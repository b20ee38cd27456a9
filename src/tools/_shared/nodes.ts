/**
 * Addressing one node: checking a `node` argument against the cluster's node list (`GET
 * /nodes`, which every user may read) before anything is sent to it, so an unknown or offline
 * node gets one sentence with the valid names instead of PVE's `hostname lookup` 500 or a 595.
 *
 * @module
 */

import { PveError, PveValidationError } from "../../pve/errors.ts";
import type { ToolContext } from "../types.ts";

/** One node of `GET /nodes`. */
interface NodeListEntry {
  node: string;
  online: boolean;
}

/** The cluster's nodes (sorted by name; PVE lists them unsorted). */
async function listNodes(ctx: ToolContext): Promise<NodeListEntry[]> {
  const data = await ctx.client.get("/nodes", undefined, { signal: ctx.signal });
  const list = Array.isArray(data) ? data as { node?: unknown; status?: unknown }[] : [];
  return list
    .filter((entry) => typeof entry.node === "string")
    .map((entry) => ({ node: String(entry.node), online: entry.status === "online" }))
    .sort((a, b) => a.node.localeCompare(b.node));
}

function quoted(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(", ");
}

/**
 * Checks that `node` is a node of the cluster and online.
 *
 * @throws {PveValidationError} for an unknown node (naming the valid ones).
 * @throws {PveError} for an offline node (naming the online ones).
 */
export async function requireOnlineNode(node: string, ctx: ToolContext): Promise<void> {
  const nodes = await listNodes(ctx);
  const found = nodes.find((entry) => entry.node === node);
  if (found === undefined) {
    throw new PveValidationError(
      `Node "${node}" is not in the cluster: use one of ${quoted(nodes.map((n) => n.node))}.`,
      { errors: { node: "no such node" } },
    );
  }
  if (!found.online) {
    const online = nodes.filter((n) => n.online).map((n) => n.node);
    throw new PveError(
      `Node "${node}" is offline, so it cannot answer: ask about ${
        online.length > 0 ? `an online node (${quoted(online)})` : "a node once one is back"
      }, or run cluster_health to see what else is affected.`,
      { node },
    );
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the items' order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
