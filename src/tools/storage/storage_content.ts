/**
 * `storage_content`: the volumes on one storage (ISO images, container templates, backups,
 * disk images), newest first, filtered and paged, with totals per content type. Volumes of
 * guests outside the configured scope are not shown. A storage that does not answer is
 * reported as such, not as a failure.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool } from "../types.ts";
import { decodeCursor, encodeCursor, queryFingerprint } from "../_shared/cursor.ts";
import { formatBytes } from "../_shared/format.ts";
import { nodeParam, pagingParams, storageParam, vmidParam } from "../_shared/params.ts";
import {
  checkNodeName,
  checkStorageId,
  findStorage,
  isStorageUnavailable,
  readStorages,
  storageNode,
  storagePath,
  unavailableReason,
} from "../_shared/storage.ts";
import { scopeIndex } from "../_shared/tasks.ts";
import { type VolumeItem, volumeItem, volumeItemSchema, volumeLine } from "../_shared/volumes.ts";
import { CONTENT_TYPES } from "./storage_list.ts";

const DEFAULT_LIMIT = 50;

const outputSchema = z.object({
  storage: z.string(),
  node: z.string(),
  available: z.boolean(),
  reason: z.string().optional(),
  volumes: z.array(volumeItemSchema),
  total: z.number(),
  total_size_bytes: z.number(),
  by_content: z.record(z.string(), z.number()),
  returned: z.number(),
  next_cursor: z.string().optional(),
  hint: z.string().optional(),
});

/** Lists the volumes of a storage. */
export const storageContent = defineTool({
  name: "storage_content",
  title: "List storage content",
  description:
    "Volumes on one storage, newest first: volid, format, size, time; for backups the guest, notes, protected and verification. Filter by content type and vmid; node is needed only for per-node storage.",
  toolset: "storage",
  capability: "read",
  inputSchema: z.object({
    storage: storageParam(),
    node: nodeParam("Node (for per-node storage such as local)").optional(),
    content: z.enum(CONTENT_TYPES).optional(),
    vmid: vmidParam("Only this guest's volumes").optional(),
    ...pagingParams(DEFAULT_LIMIT, 500),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    checkStorageId(args.storage);
    if (args.node !== undefined) checkNodeName(args.node);
    const limit = args.limit ?? DEFAULT_LIMIT;
    const info = findStorage(await readStorages(ctx), args.storage);
    const where = storageNode(info, args.node);
    const query = queryFingerprint({
      storage: args.storage,
      node: where.node,
      content: args.content,
      vmid: args.vmid,
    });
    let offset = 0;
    if (args.cursor !== undefined) {
      const decoded = decodeCursor(args.cursor, query);
      if (decoded === undefined) {
        throw new PveValidationError(
          `Cursor "${args.cursor}" does not belong to this query: repeat the call without cursor, or with the same storage, node, content and vmid.`,
          { errors: { cursor: "unknown or stale cursor" } },
        );
      }
      offset = decoded;
    }
    const base = {
      storage: info.storage,
      node: where.node,
      total: 0,
      total_size_bytes: 0,
      by_content: {},
      returned: 0,
      volumes: [] as VolumeItem[],
    };
    let raw: unknown;
    try {
      const params: Record<string, string | number> = {};
      if (args.content !== undefined) params.content = args.content;
      if (args.vmid !== undefined) params.vmid = args.vmid;
      raw = await ctx.client.get(`${storagePath(where.node, info.storage)}/content`, params, {
        signal: ctx.signal,
      });
    } catch (error) {
      if (!isStorageUnavailable(error)) throw error;
      const reason = unavailableReason(error);
      return {
        text:
          `Storage "${info.storage}" does not answer on ${where.node} (${reason}): its content cannot be listed now${
            info.shared ? "; try another node with node, or" : ";"
          } check it with storage_list.`,
        structured: { ...base, available: false, reason },
      };
    }
    const index = await scopeIndex(ctx);
    const items = (Array.isArray(raw) ? raw as Record<string, unknown>[] : [])
      .map(volumeItem)
      .filter((v) =>
        index === undefined || v.vmid === undefined ||
        ctx.inScope(index.get(v.vmid) ?? { vmid: v.vmid, node: where.node })
      )
      .sort((a, b) => (b.ctime ?? 0) - (a.ctime ?? 0) || a.volid.localeCompare(b.volid));
    const byContent: Record<string, number> = {};
    let totalSize = 0;
    for (const item of items) {
      byContent[item.content] = (byContent[item.content] ?? 0) + 1;
      totalSize += item.size_bytes;
    }
    const page = items.slice(offset, offset + limit);
    const structured: z.infer<typeof outputSchema> = {
      ...base,
      available: true,
      volumes: page.map(({ ctime: _ctime, ...rest }) => rest),
      total: items.length,
      total_size_bytes: totalSize,
      by_content: byContent,
      returned: page.length,
    };
    const end = offset + page.length;
    if (end < items.length) {
      structured.next_cursor = encodeCursor({ offset: end, query });
      structured.hint = `${items.length - end} more: pass cursor, or narrow with content or vmid.`;
    }
    const counts = Object.entries(byContent).map(([k, n]) => `${n} ${k}`).join(", ");
    const lines = [
      items.length === 0
        ? `Storage "${info.storage}" on ${where.node} has no matching volumes.`
        : `Storage "${info.storage}" on ${where.node}: ${items.length} volume(s), ${
          formatBytes(totalSize)
        } (${counts}); showing ${offset + 1}-${end}, newest first:`,
      ...page.map(volumeLine),
    ];
    if (structured.next_cursor !== undefined) {
      lines.push(`${structured.hint} next_cursor: ${structured.next_cursor}`);
    }
    return { text: lines.join("\n"), structured };
  },
});
