/**
 * `backup_status`: "what hasn't been backed up recently?" in one call. For every guest in
 * scope (templates aside) it finds the newest backup on any backup storage and reports the
 * guests whose newest backup is older than `max_age_hours` or missing, oldest first, with
 * totals; `show: "all"` lists every guest instead. One inventory read plus one content read
 * per backup storage (shared once, per-node on each node), so a 10,000-guest cluster answers
 * in a few kilobytes. Storages that cannot be read are named: their backups are not counted.
 * Ages are measured on this server's clock against the backups' creation times (PVE nodes and
 * this server are expected to keep NTP time).
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import type { Guest } from "../../pve/mod.ts";
import { defineTool } from "../types.ts";
import {
  type BackupRow,
  readBackups,
  unreadableNote,
  unreadableSchema,
  whereOf,
} from "../_shared/backups.ts";
import { decodeCursor, encodeCursor, queryFingerprint } from "../_shared/cursor.ts";
import { scopeOf } from "../_shared/guest.ts";
import { nodeParam, pagingParams, poolParam } from "../_shared/params.ts";
import { checkNodeName, storagesOf } from "../_shared/storage.ts";

const DEFAULT_LIMIT = 50;
const DEFAULT_MAX_AGE_HOURS = 48;

const rowSchema = z.object({
  vmid: z.number(),
  name: z.string().optional(),
  type: z.enum(["qemu", "lxc"]),
  node: z.string(),
  state: z.enum(["recent", "stale", "missing"]),
  newest_time: z.string().optional(),
  age_hours: z.number().optional(),
  where: z.string().optional(),
});

type Row = z.infer<typeof rowSchema>;

const outputSchema = z.object({
  max_age_hours: z.number(),
  guests: z.number(),
  recent: z.number(),
  stale: z.number(),
  missing: z.number(),
  rows: z.array(rowSchema),
  total_rows: z.number(),
  returned: z.number(),
  next_cursor: z.string().optional(),
  hint: z.string().optional(),
  unreadable: z.array(unreadableSchema).optional(),
});

const ORDER = { missing: 0, stale: 1, recent: 2 } as const;

/** Reports which guests lack a recent backup. */
export const backupStatus = defineTool({
  name: "backup_status",
  title: "Backup status",
  description:
    "Which guests have no backup newer than max_age_hours (default 48) or none at all, oldest first, with totals; each with its newest backup's time and storage. show=all lists every guest. Filter by node or pool.",
  toolset: "backup",
  capability: "read",
  inputSchema: z.object({
    max_age_hours: z.number().int().min(1).max(87_600).optional(),
    node: nodeParam().optional(),
    pool: poolParam().optional(),
    show: z.enum(["problems", "all"]).optional().describe("Default problems"),
    ...pagingParams(DEFAULT_LIMIT, 500),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    if (args.node !== undefined) checkNodeName(args.node);
    const maxAge = args.max_age_hours ?? DEFAULT_MAX_AGE_HOURS;
    const show = args.show ?? "problems";
    const limit = args.limit ?? DEFAULT_LIMIT;
    const query = queryFingerprint({ maxAge, node: args.node, pool: args.pool, show });
    let offset = 0;
    if (args.cursor !== undefined) {
      const decoded = decodeCursor(args.cursor, query);
      if (decoded === undefined) {
        throw new PveValidationError(
          `Cursor "${args.cursor}" does not belong to this query: repeat the call without cursor, or with the same max_age_hours, node, pool and show.`,
          { errors: { cursor: "unknown or stale cursor" } },
        );
      }
      offset = decoded;
    }
    const inventory = await ctx.client.resources(undefined, { signal: ctx.signal });
    const guests: Guest[] = inventory.guests.filter((g) =>
      !g.template &&
      (args.node === undefined || g.node === args.node) &&
      (args.pool === undefined || g.pool === args.pool) &&
      ctx.inScope(scopeOf(g))
    );
    const scan = await readBackups(ctx, storagesOf(inventory));
    const newest = new Map<number, BackupRow>();
    for (const row of scan.rows) {
      if (row.vmid === undefined) continue;
      const seen = newest.get(row.vmid);
      if (seen === undefined || (row.ctime ?? 0) > (seen.ctime ?? 0)) newest.set(row.vmid, row);
    }
    const now = Date.now() / 1000;
    const all: (Row & { sortAge: number })[] = guests.map((g) => {
      const backup = newest.get(g.vmid);
      const row: Row & { sortAge: number } = {
        vmid: g.vmid,
        type: g.type,
        node: g.node,
        state: "missing",
        sortAge: Number.POSITIVE_INFINITY,
      };
      if (g.name !== "") row.name = g.name;
      if (backup !== undefined) {
        const age = Math.max(0, now - (backup.ctime ?? 0)) / 3600;
        row.state = age > maxAge ? "stale" : "recent";
        row.age_hours = Math.round(age * 10) / 10;
        row.sortAge = age;
        if (backup.time !== undefined) row.newest_time = backup.time;
        row.where = whereOf(backup);
      }
      return row;
    });
    const counts = { recent: 0, stale: 0, missing: 0 };
    for (const row of all) counts[row.state]++;
    const listed = (show === "all" ? all : all.filter((r) => r.state !== "recent")).sort((a, b) =>
      ORDER[a.state] - ORDER[b.state] || b.sortAge - a.sortAge || a.vmid - b.vmid
    );
    const page = listed.slice(offset, offset + limit).map(({ sortAge: _age, ...rest }) => rest);
    const structured: z.infer<typeof outputSchema> = {
      max_age_hours: maxAge,
      guests: guests.length,
      ...counts,
      rows: page,
      total_rows: listed.length,
      returned: page.length,
    };
    const end = offset + page.length;
    if (end < listed.length) {
      structured.next_cursor = encodeCursor({ offset: end, query });
      structured.hint = `${listed.length - end} more: pass cursor, or narrow with node or pool.`;
    }
    if (scan.unreadable.length > 0) structured.unreadable = scan.unreadable;
    const lines = [
      `${guests.length} guest(s): ${counts.recent} backed up within ${maxAge} h, ${counts.stale} older, ${counts.missing} never.`,
      ...page.map((r) =>
        `${r.vmid}${r.name ? ` ${r.name}` : ""} (${r.node}): ${
          r.state === "missing"
            ? "no backup"
            : `${
              r.state === "stale" ? "STALE " : ""
            }newest ${r.newest_time} (${r.age_hours} h) on ${r.where}`
        }`
      ),
    ];
    if (structured.next_cursor !== undefined) {
      lines.push(`${structured.hint} next_cursor: ${structured.next_cursor}`);
    }
    const note = unreadableNote(scan.unreadable);
    if (note !== "") lines.push(note);
    return { text: lines.join("\n"), structured };
  },
});
