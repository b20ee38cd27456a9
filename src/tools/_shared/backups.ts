/**
 * Reading backups from every storage that holds them: a shared storage once (through an
 * online node where it answers), a per-node storage on each node asked for. A storage that
 * cannot be read (node offline, storage unreachable, no permission) is reported as such next
 * to the backups that could be read — the listing never fails as a whole.
 *
 * @module
 */

import { z } from "zod";
import { PveError } from "../../pve/errors.ts";
import type { ToolContext } from "../types.ts";
import { parseBackupName, type StorageInfo, storagePath, unavailableReason } from "./storage.ts";
import { type VolumeItem, volumeItem, volumeItemSchema } from "./volumes.ts";

/** Reads run this many at a time. */
const CONCURRENCY = 8;

/** A backup, with where it is. */
export interface BackupRow extends VolumeItem {
  storage: string;
  /** The node of a per-node storage (absent for shared storage). */
  node?: string;
  /** Guest type of the archive, when known. */
  type?: "qemu" | "lxc";
}

/** A backup in tool output. */
export const backupRowSchema = volumeItemSchema.omit({ content: true }).extend({
  storage: z.string(),
  node: z.string().optional(),
  type: z.enum(["qemu", "lxc"]).optional(),
});

/** A backup row as output (without the sort key and the always-`backup` content). */
export function backupOut(row: BackupRow): z.infer<typeof backupRowSchema> {
  const { ctime: _ctime, content: _content, ...rest } = row;
  return rest;
}

/** A storage (on a node) whose backups could not be read. */
export const unreadableSchema = z.object({
  storage: z.string(),
  node: z.string().optional(),
  reason: z.string(),
});

/** A storage whose backups could not be read. */
export type Unreadable = z.infer<typeof unreadableSchema>;

/** What {@linkcode readBackups} found. */
export interface BackupScan {
  rows: BackupRow[];
  unreadable: Unreadable[];
  /** How many storage reads were made. */
  reads: number;
}

interface Target {
  storage: StorageInfo;
  node: string;
  shared: boolean;
}

/**
 * Reads the backups on every backup storage: shared ones once, per-node ones on `nodes`
 * (default: every node that has them). `vmid` narrows to one guest (PVE filters).
 */
export async function readBackups(
  ctx: ToolContext,
  storages: readonly StorageInfo[],
  options: { vmid?: number; nodes?: ReadonlySet<string>; storage?: string } = {},
): Promise<BackupScan> {
  const targets: Target[] = [];
  const unreadable: Unreadable[] = [];
  for (const info of storages) {
    if (!info.content.includes("backup")) continue;
    if (options.storage !== undefined && info.storage !== options.storage) continue;
    if (info.shared) {
      const via = info.nodes.find((n) => n.nodeOnline && n.available);
      if (via === undefined) {
        unreadable.push({
          storage: info.storage,
          reason: info.nodes.some((n) => n.nodeOnline)
            ? "not reachable (inactive, disabled or unreachable)"
            : "no online node",
        });
      } else targets.push({ storage: info, node: via.node, shared: true });
      continue;
    }
    for (const n of info.nodes) {
      if (options.nodes !== undefined && !options.nodes.has(n.node)) continue;
      if (!n.nodeOnline) {
        unreadable.push({ storage: info.storage, node: n.node, reason: "node offline" });
      } else if (!n.available) {
        unreadable.push({
          storage: info.storage,
          node: n.node,
          reason: "not reachable (inactive, disabled or unreachable)",
        });
      } else targets.push({ storage: info, node: n.node, shared: false });
    }
  }
  const rows: BackupRow[] = [];
  for (let i = 0; i < targets.length; i += CONCURRENCY) {
    const batch = targets.slice(i, i + CONCURRENCY);
    const answers = await Promise.all(batch.map(async (target) => {
      const params: Record<string, string | number> = { content: "backup" };
      if (options.vmid !== undefined) params.vmid = options.vmid;
      try {
        const data = await ctx.client.get(
          `${storagePath(target.node, target.storage.storage)}/content`,
          params,
          { signal: ctx.signal },
        );
        return { target, data: Array.isArray(data) ? data as Record<string, unknown>[] : [] };
      } catch (error) {
        if (!(error instanceof PveError) || ctx.signal.aborted) throw error;
        return { target, error };
      }
    }));
    for (const answer of answers) {
      const { target } = answer;
      if ("error" in answer) {
        const entry: Unreadable = {
          storage: target.storage.storage,
          reason: unavailableReason(answer.error),
        };
        if (!target.shared) entry.node = target.node;
        unreadable.push(entry);
        continue;
      }
      for (const raw of answer.data) {
        if (raw.content !== undefined && raw.content !== "backup") continue;
        const item = volumeItem(raw);
        const row: BackupRow = { ...item, storage: target.storage.storage };
        if (!target.shared) row.node = target.node;
        const name = parseBackupName(item.volid.slice(item.volid.indexOf(":") + 1));
        const type = raw.subtype === "qemu" || raw.subtype === "lxc" ? raw.subtype : name.type;
        if (type !== undefined) row.type = type;
        if (row.vmid === undefined && name.vmid !== undefined) row.vmid = name.vmid;
        rows.push(row);
      }
    }
  }
  return { rows, unreadable, reads: targets.length };
}

/** Backup rows newest first (volid breaks ties). */
export function newestFirst(rows: BackupRow[]): BackupRow[] {
  return rows.sort((a, b) => (b.ctime ?? 0) - (a.ctime ?? 0) || a.volid.localeCompare(b.volid));
}

/** `nas` or `local@pve1`: where a backup is. */
export function whereOf(row: { storage: string; node?: string | undefined }): string {
  return row.node === undefined ? row.storage : `${row.storage}@${row.node}`;
}

/** One sentence about storages that could not be read, or `""`. */
export function unreadableNote(unreadable: readonly Unreadable[]): string {
  if (unreadable.length === 0) return "";
  const list = unreadable.slice(0, 5).map((u) => `${whereOf(u)} (${u.reason})`).join(", ");
  return `Not read: ${list}${
    unreadable.length > 5 ? ` and ${unreadable.length - 5} more` : ""
  } — backups there are not counted.`;
}
