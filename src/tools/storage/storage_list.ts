/**
 * `storage_list`: every storage with its type, content types, where it is (one row per node for
 * local storage, one row for shared storage), whether it answers, and usage; flags the ones
 * above a usage threshold. An unreachable storage or one on an offline node is a row that says
 * so, never a failed list.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool } from "../types.ts";
import { decodeCursor, encodeCursor, queryFingerprint } from "../_shared/cursor.ts";
import { formatBytes, formatPercent, round4 } from "../_shared/format.ts";
import { nodeParam, pagingParams } from "../_shared/params.ts";
import { checkNodeName, readStorages, type StorageInfo } from "../_shared/storage.ts";

const DEFAULT_LIMIT = 50;
const DEFAULT_THRESHOLD = 0.85;

/** Content types a storage can hold. */
export const CONTENT_TYPES = [
  "images",
  "rootdir",
  "iso",
  "vztmpl",
  "backup",
  "snippets",
  "import",
] as const;

const rowSchema = z.object({
  storage: z.string(),
  type: z.string(),
  content: z.array(z.string()),
  shared: z.boolean(),
  node: z.string().optional(),
  nodes: z.array(z.string()).optional(),
  status: z.enum(["available", "unavailable", "node_offline"]),
  unavailable_on: z.array(z.string()).optional(),
  used_bytes: z.number().optional(),
  total_bytes: z.number().optional(),
  used_fraction: z.number().optional(),
  above_threshold: z.boolean().optional(),
});

type Row = z.infer<typeof rowSchema>;

const outputSchema = z.object({
  storages: z.array(rowSchema),
  total: z.number(),
  returned: z.number(),
  above_threshold: z.number(),
  unavailable: z.number(),
  next_cursor: z.string().optional(),
  hint: z.string().optional(),
});

function usage(row: Row, used: number | undefined, total: number | undefined, limit: number) {
  if (used === undefined || total === undefined || total <= 0) return;
  row.used_bytes = used;
  row.total_bytes = total;
  row.used_fraction = round4(used / total);
  if (row.used_fraction >= limit) row.above_threshold = true;
}

/** The rows of one storage: one for shared storage, one per node otherwise. */
function rowsOf(info: StorageInfo, node: string | undefined, threshold: number): Row[] {
  const base = { storage: info.storage, type: info.type, content: info.content };
  if (info.shared) {
    const here = node === undefined ? info.nodes : info.nodes.filter((n) => n.node === node);
    if (here.length === 0) return [];
    const up = here.find((n) => n.nodeOnline && n.available);
    const row: Row = {
      ...base,
      shared: true,
      nodes: here.map((n) => n.node),
      status: up !== undefined
        ? "available"
        : here.some((n) => n.nodeOnline)
        ? "unavailable"
        : "node_offline",
    };
    const down = here.filter((n) => n.nodeOnline && !n.available).map((n) => n.node);
    if (up !== undefined && down.length > 0) row.unavailable_on = down;
    usage(row, up?.usedBytes, up?.totalBytes, threshold);
    return [row];
  }
  return info.nodes.filter((n) => node === undefined || n.node === node).map((n) => {
    const row: Row = {
      ...base,
      shared: false,
      node: n.node,
      status: !n.nodeOnline ? "node_offline" : n.available ? "available" : "unavailable",
    };
    if (n.available) usage(row, n.usedBytes, n.totalBytes, threshold);
    return row;
  });
}

function textRow(row: Row): string {
  const where = row.shared ? `shared (${row.nodes?.join(", ")})` : `on ${row.node}`;
  const head = `${row.storage} (${row.type}) ${where} [${row.content.join(",")}]`;
  if (row.status === "node_offline") return `${head}: node offline, status unknown`;
  if (row.status === "unavailable") return `${head}: not reachable (inactive or disabled)`;
  const use = row.used_bytes === undefined
    ? ""
    : `: ${formatBytes(row.used_bytes)} of ${formatBytes(row.total_bytes)} used (${
      formatPercent(row.used_fraction)
    })${row.above_threshold ? " ABOVE THRESHOLD" : ""}`;
  const partial = row.unavailable_on === undefined
    ? ""
    : `; not reachable from ${row.unavailable_on.join(", ")}`;
  return `${head}${use}${partial}`;
}

/** Lists storages with usage. */
export const storageList = defineTool({
  name: "storage_list",
  title: "List storage",
  description:
    "Storages with type, content types, shared or per node, reachability and used/total bytes; flags usage above usage_threshold (default 0.85). Filter by node and content type.",
  toolset: "storage",
  capability: "read",
  inputSchema: z.object({
    node: nodeParam().optional(),
    content: z.enum(CONTENT_TYPES).optional().describe("Only storages holding this content"),
    usage_threshold: z.number().min(0).max(1).optional().describe("Fraction, default 0.85"),
    ...pagingParams(DEFAULT_LIMIT, 500),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    if (args.node !== undefined) checkNodeName(args.node);
    const threshold = args.usage_threshold ?? DEFAULT_THRESHOLD;
    const limit = args.limit ?? DEFAULT_LIMIT;
    const query = queryFingerprint({ node: args.node, content: args.content, threshold });
    let offset = 0;
    if (args.cursor !== undefined) {
      const decoded = decodeCursor(args.cursor, query);
      if (decoded === undefined) {
        throw new PveValidationError(
          `Cursor "${args.cursor}" does not belong to this query: repeat the call without cursor, or with the same node, content and usage_threshold.`,
          { errors: { cursor: "unknown or stale cursor" } },
        );
      }
      offset = decoded;
    }
    const storages = await readStorages(ctx);
    const rows = storages
      .filter((s) => args.content === undefined || s.content.includes(args.content))
      .flatMap((s) => rowsOf(s, args.node, threshold));
    const page = rows.slice(offset, offset + limit);
    const structured: z.infer<typeof outputSchema> = {
      storages: page,
      total: rows.length,
      returned: page.length,
      above_threshold: rows.filter((r) => r.above_threshold).length,
      unavailable: rows.filter((r) => r.status !== "available").length,
    };
    const end = offset + page.length;
    if (end < rows.length) {
      structured.next_cursor = encodeCursor({ offset: end, query });
      structured.hint = `${rows.length - end} more: pass cursor, or narrow with node or content.`;
    }
    const lines: string[] = [];
    if (rows.length === 0) {
      const nodes = [...new Set(storages.flatMap((s) => s.nodes.map((n) => n.node)))].sort();
      lines.push(
        args.node !== undefined && !nodes.includes(args.node)
          ? `No storage: node "${args.node}" is not in this cluster (nodes: ${nodes.join(", ")}).`
          : "No storage matches: loosen the filters.",
      );
    } else {
      lines.push(
        `Storage ${offset + 1}-${end} of ${rows.length}` +
          (structured.above_threshold > 0
            ? `, ${structured.above_threshold} above ${formatPercent(threshold)} used`
            : "") +
          (structured.unavailable > 0 ? `, ${structured.unavailable} not reachable` : "") + ":",
      );
      for (const row of page) lines.push(textRow(row));
    }
    if (structured.next_cursor !== undefined) {
      lines.push(`${structured.hint} next_cursor: ${structured.next_cursor}`);
    }
    return { text: lines.join("\n"), structured };
  },
});
