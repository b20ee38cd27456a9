/**
 * `backup_list`: one guest's backups across every storage that holds backups — shared ones
 * (NFS, Proxmox Backup Server, …) and the per-node ones of the guest's node — newest first,
 * with size, time, notes, protection and PBS verification. A guest that no longer exists can
 * be asked for by vmid (its backups are what is left of it). Storages that cannot be read are
 * named next to the backups that could.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool } from "../types.ts";
import {
  backupOut,
  backupRowSchema,
  newestFirst,
  readBackups,
  unreadableNote,
  unreadableSchema,
  whereOf,
} from "../_shared/backups.ts";
import { decodeCursor, encodeCursor, queryFingerprint } from "../_shared/cursor.ts";
import { formatBytes } from "../_shared/format.ts";
import { guestSelector, guestTitle, resolveGuestArg, scopeOf } from "../_shared/guest.ts";
import { pagingParams, storageParam } from "../_shared/params.ts";
import { checkStorageId, findStorage, storagesOf } from "../_shared/storage.ts";
import { volumeLine } from "../_shared/volumes.ts";

const DEFAULT_LIMIT = 20;

const outputSchema = z.object({
  vmid: z.number(),
  name: z.string().optional(),
  node: z.string().optional(),
  exists: z.boolean(),
  backups: z.array(backupRowSchema),
  total: z.number(),
  returned: z.number(),
  newest_time: z.string().optional(),
  next_cursor: z.string().optional(),
  hint: z.string().optional(),
  unreadable: z.array(unreadableSchema).optional(),
});

/** Lists a guest's backups. */
export const backupList = defineTool({
  name: "backup_list",
  title: "List a guest's backups",
  description:
    "A guest's backups on every backup storage (incl. Proxmox Backup Server), newest first: volid, size, time, notes, protected, verification. vmid also works for a deleted guest.",
  toolset: "backup",
  capability: "read",
  inputSchema: z.object({
    ...guestSelector,
    storage: storageParam("Only this storage").optional(),
    ...pagingParams(DEFAULT_LIMIT, 200),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    if (args.storage !== undefined) checkStorageId(args.storage);
    let vmid = args.vmid;
    let title: string;
    let name: string | undefined;
    let node: string | undefined;
    let exists = true;
    const inventory = await ctx.client.resources(undefined, { signal: ctx.signal });
    const known = vmid === undefined ? undefined : inventory.guests.find((g) => g.vmid === vmid);
    if (vmid !== undefined && known === undefined && args.name === undefined) {
      ctx.assertInScope({ vmid });
      exists = false;
      title = `Guest ${vmid} (no longer exists)`;
    } else {
      const guest = await resolveGuestArg(args, ctx).catch((error) => {
        // A guest on an offline node still has backups on shared storage.
        const found = inventory.guests.find((g) =>
          args.vmid !== undefined
            ? g.vmid === args.vmid
            : g.name.toLowerCase() === (args.name ?? "").toLowerCase()
        );
        if (found !== undefined && !found.nodeOnline) return found;
        throw error;
      });
      ctx.assertInScope(scopeOf(guest));
      vmid = guest.vmid;
      title = guestTitle(guest);
      name = guest.name === "" ? undefined : guest.name;
      node = guest.node;
    }
    const limit = args.limit ?? DEFAULT_LIMIT;
    const query = queryFingerprint({ vmid, storage: args.storage });
    let offset = 0;
    if (args.cursor !== undefined) {
      const decoded = decodeCursor(args.cursor, query);
      if (decoded === undefined) {
        throw new PveValidationError(
          `Cursor "${args.cursor}" does not belong to this query: repeat the call without cursor, or with the same guest and storage.`,
          { errors: { cursor: "unknown or stale cursor" } },
        );
      }
      offset = decoded;
    }
    const storages = storagesOf(inventory);
    if (args.storage !== undefined) findStorage(storages, args.storage);
    const scan = await readBackups(ctx, storages, {
      vmid,
      ...(node === undefined ? {} : { nodes: new Set([node]) }),
      ...(args.storage === undefined ? {} : { storage: args.storage }),
    });
    const rows = newestFirst(scan.rows.filter((r) => r.vmid === vmid));
    const page = rows.slice(offset, offset + limit);
    const structured: z.infer<typeof outputSchema> = {
      vmid,
      exists,
      backups: page.map(backupOut),
      total: rows.length,
      returned: page.length,
    };
    if (name !== undefined) structured.name = name;
    if (node !== undefined) structured.node = node;
    if (rows[0]?.time !== undefined) structured.newest_time = rows[0].time;
    const end = offset + page.length;
    if (end < rows.length) {
      structured.next_cursor = encodeCursor({ offset: end, query });
      structured.hint = `${rows.length - end} older: pass cursor, or narrow with storage.`;
    }
    if (scan.unreadable.length > 0) structured.unreadable = scan.unreadable;
    const lines: string[] = [];
    if (rows.length === 0) {
      lines.push(`${title} has no backups${args.storage ? ` on ${args.storage}` : ""}.`);
    } else {
      const size = rows.reduce((sum, r) => sum + r.size_bytes, 0);
      lines.push(
        `${title}: ${rows.length} backup(s), ${formatBytes(size)}, newest ${rows[0]?.time} on ${
          whereOf(rows[0] ?? { storage: "?" })
        }; ${offset + 1}-${end}:`,
      );
      for (const row of page) lines.push(`${whereOf(row)} ${volumeLine(row)}`);
    }
    if (structured.next_cursor !== undefined) {
      lines.push(`${structured.hint} next_cursor: ${structured.next_cursor}`);
    }
    const note = unreadableNote(scan.unreadable);
    if (note !== "") lines.push(note);
    return { text: lines.join("\n"), structured };
  },
});
