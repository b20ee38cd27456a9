/**
 * `guest_list`: the guests of the cluster, filtered, sorted and paged, from one
 * `/cluster/resources` read (unfiltered, so the node entries flag offline nodes).
 * Out-of-scope guests are invisible. Compact by default so a 10,000-guest cluster answers
 * within a few kilobytes; `fields` widens the rows.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import type { Guest } from "../../pve/mod.ts";
import { defineTool } from "../types.ts";
import { decodeCursor, encodeCursor, queryFingerprint } from "../_shared/cursor.ts";
import { scopeOf } from "../_shared/guest.ts";
import { unscoped } from "../_shared/tasks.ts";
import { formatBytes, formatPercent, quoted, round4 } from "../_shared/format.ts";
import { globMatcher } from "../_shared/glob.ts";
import { guestNameParam, nodeParam, pagingParams, poolParam, tagParam } from "../_shared/params.ts";

/** Columns a caller may ask for. */
const FIELDS = [
  "vmid",
  "name",
  "type",
  "node",
  "status",
  "template",
  "pool",
  "tags",
  "lock",
  "hastate",
  "cpu_fraction",
  "maxcpu",
  "mem_bytes",
  "maxmem_bytes",
  "disk_bytes",
  "maxdisk_bytes",
  "uptime_seconds",
  "node_online",
] as const;

type Field = typeof FIELDS[number];

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

const rowSchema = z.object({
  vmid: z.number(),
  name: z.string().optional(),
  type: z.enum(["qemu", "lxc"]).optional(),
  node: z.string().optional(),
  status: z.string().optional(),
  template: z.boolean().optional(),
  pool: z.string().optional(),
  tags: z.array(z.string()).optional(),
  lock: z.string().optional(),
  hastate: z.string().optional(),
  cpu_fraction: z.number().optional(),
  maxcpu: z.number().optional(),
  mem_bytes: z.number().optional(),
  maxmem_bytes: z.number().optional(),
  disk_bytes: z.number().optional(),
  maxdisk_bytes: z.number().optional(),
  uptime_seconds: z.number().optional(),
  node_online: z.boolean().optional(),
});

type Row = z.infer<typeof rowSchema>;

/** Per status, guests by type; zero counts are left out. */
const totalsSchema = z.record(
  z.string(),
  z.object({ qemu: z.number().optional(), lxc: z.number().optional() }),
);

type Totals = z.infer<typeof totalsSchema>;

const outputSchema = z.object({
  guests: z.array(rowSchema),
  total_matching: z.number(),
  totals: totalsSchema,
  returned: z.number(),
  next_cursor: z.string().optional(),
  hint: z.string().optional(),
  offline_nodes: z.array(z.string()).optional(),
});

const inputSchema = z.object({
  node: nodeParam().optional(),
  type: z.enum(["qemu", "lxc"]).optional(),
  status: z.enum(["running", "stopped", "unknown"]).optional(),
  tag: tagParam().optional(),
  pool: poolParam().optional(),
  name: guestNameParam("Glob, e.g. web*").optional(),
  template: z.boolean().optional(),
  fields: z.array(z.enum(FIELDS)).max(FIELDS.length).optional().describe(
    "Columns (default vmid,name,type,node,status; cpu/mem when running; lock when set)",
  ),
  sort: z.enum(["vmid", "name", "node", "cpu", "mem"]).optional(),
  order: z.enum(["asc", "desc"]).optional(),
  ...pagingParams(DEFAULT_LIMIT, MAX_LIMIT),
});

function fullRow(g: Guest): Record<Field, unknown> {
  return {
    vmid: g.vmid,
    name: g.name === "" ? undefined : g.name,
    type: g.type,
    node: g.node,
    status: g.status,
    template: g.template,
    pool: g.pool,
    tags: g.tags,
    lock: g.lock,
    hastate: g.hastate,
    cpu_fraction: g.cpu === undefined ? undefined : round4(g.cpu),
    maxcpu: g.maxcpu,
    mem_bytes: g.mem,
    maxmem_bytes: g.maxmem,
    // PVE reports 0 for a VM's disk usage (it cannot see inside the guest): omit, not mislead.
    disk_bytes: g.type === "qemu" ? undefined : g.disk,
    maxdisk_bytes: g.maxdisk,
    uptime_seconds: g.uptime,
    node_online: g.nodeOnline,
  };
}

function project(g: Guest, fields: readonly Field[] | undefined): Row {
  const all = fullRow(g);
  let chosen: readonly Field[];
  if (fields !== undefined && fields.length > 0) {
    chosen = fields.includes("vmid") ? fields : ["vmid", ...fields];
  } else {
    const compact: Field[] = ["vmid", "name", "type", "node", "status"];
    if (g.status === "running") compact.push("cpu_fraction", "mem_bytes");
    if (g.lock !== undefined) compact.push("lock");
    if (g.template) compact.push("template");
    if (!g.nodeOnline) compact.push("node_online");
    chosen = compact;
  }
  const row: Record<string, unknown> = {};
  for (const field of chosen) {
    const value = all[field];
    if (value !== undefined) row[field] = value;
  }
  return row as Row;
}

function compareBy(sort: string): (a: Guest, b: Guest) => number {
  switch (sort) {
    case "name":
      return (a, b) => a.name.localeCompare(b.name) || a.vmid - b.vmid;
    case "node":
      return (a, b) => a.node.localeCompare(b.node) || a.vmid - b.vmid;
    case "cpu":
      return (a, b) => (a.cpu ?? 0) - (b.cpu ?? 0) || a.vmid - b.vmid;
    case "mem":
      return (a, b) => (a.mem ?? 0) - (b.mem ?? 0) || a.vmid - b.vmid;
    default:
      return (a, b) => a.vmid - b.vmid;
  }
}

function textRow(row: Row): string {
  const parts: string[] = [String(row.vmid)];
  if (row.name !== undefined) parts.push(row.name);
  for (const key of ["type", "node", "status"] as const) {
    if (row[key] !== undefined) parts.push(String(row[key]));
  }
  if (row.template) parts.push("template");
  if (row.lock !== undefined) parts.push(`lock=${row.lock}`);
  if (row.cpu_fraction !== undefined) parts.push(`cpu ${formatPercent(row.cpu_fraction)}`);
  if (row.mem_bytes !== undefined) parts.push(`mem ${formatBytes(row.mem_bytes)}`);
  if (row.node_online === false) parts.push("(node offline)");
  return parts.join(" ");
}

/** Counts of the whole match by status, then type (running/stopped × qemu/lxc). */
function totalsOf(guests: readonly Guest[]): Totals {
  const totals: Totals = {};
  for (const g of guests) {
    const byType = totals[g.status] ??= {};
    byType[g.type] = (byType[g.type] ?? 0) + 1;
  }
  return totals;
}

/** `running 6 (qemu 3, lxc 3), stopped 6 (qemu 4, lxc 2)`. */
function totalsText(totals: Totals): string {
  return Object.entries(totals).sort(([a], [b]) => a.localeCompare(b)).map(([status, byType]) => {
    const types = (["qemu", "lxc"] as const).filter((type) => byType[type] !== undefined);
    const sum = types.reduce((n, type) => n + (byType[type] ?? 0), 0);
    return `${status} ${sum} (${types.map((type) => `${type} ${byType[type]}`).join(", ")})`;
  }).join(", ");
}

/** Why an empty answer is empty, when a node or pool filter names none that exists. */
function unknownFilterValue(
  args: { node?: string | undefined; pool?: string | undefined },
  inventory: { nodes: { node: string }[]; pools: string[]; guests: Guest[] },
): string | undefined {
  const nodes = inventory.nodes.map((n) => n.node);
  if (args.node !== undefined && nodes.length > 0 && !nodes.includes(args.node)) {
    return `node "${args.node}" is not in this cluster; its nodes are ${nodes.join(", ")}.`;
  }
  const pools = [...new Set([...inventory.pools, ...inventory.guests.flatMap((g) => g.pool ?? [])])]
    .sort();
  if (args.pool !== undefined && !pools.includes(args.pool)) {
    return `no pool "${args.pool}" is visible; known pools: ${pools.join(", ") || "none"}.`;
  }
  return undefined;
}

/** Lists guests with filters, sort, field selection and cursor paging. */
export const guestList = defineTool({
  name: "guest_list",
  title: "List guests",
  description:
    "List VMs and containers (one inventory read). Filter by node, type, status, tag, pool, name glob, template; sort; page with limit and next_cursor. Compact rows by default; pick more with fields. totals counts the whole match by status and type.",
  toolset: "inventory",
  capability: "read",
  inputSchema,
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const sort = args.sort ?? "vmid";
    const order = args.order ?? "asc";
    const limit = args.limit ?? DEFAULT_LIMIT;
    const query = queryFingerprint({
      node: args.node,
      type: args.type,
      status: args.status,
      tag: args.tag,
      pool: args.pool,
      name: args.name,
      template: args.template,
      sort,
      order,
    });
    let offset = 0;
    if (args.cursor !== undefined && args.cursor !== "") {
      const decoded = decodeCursor(args.cursor, query);
      if (decoded === undefined) {
        throw new PveValidationError(
          `Cursor ${
            quoted(args.cursor)
          } does not belong to this query: repeat the call without cursor, or with the same filters and sort as the call that returned it.`,
          { errors: { cursor: "unknown or stale cursor" } },
        );
      }
      offset = decoded;
    }

    // Unfiltered: still one request, and the node entries tell which nodes are offline.
    const inventory = await ctx.client.resources(undefined, { signal: ctx.signal });
    const guests = inventory.guests;
    const nameRe = args.name !== undefined && args.name !== "" ? globMatcher(args.name) : undefined;
    const tag = args.tag?.toLowerCase();
    const matching = guests.filter((g) =>
      (args.node === undefined || g.node === args.node) &&
      (args.type === undefined || g.type === args.type) &&
      (args.status === undefined || g.status === args.status) &&
      (tag === undefined || g.tags.some((t) => t.toLowerCase() === tag)) &&
      (args.pool === undefined || g.pool === args.pool) &&
      (args.template === undefined || g.template === args.template) &&
      (nameRe === undefined || nameRe.test(g.name)) &&
      ctx.inScope(scopeOf(g))
    );
    const compare = compareBy(sort);
    matching.sort(order === "desc" ? (a, b) => compare(b, a) : compare);

    const page = matching.slice(offset, offset + limit);
    const rows = page.map((g) => project(g, args.fields));
    const structured: z.infer<typeof outputSchema> = {
      guests: rows,
      total_matching: matching.length,
      totals: totalsOf(matching),
      returned: rows.length,
    };
    const end = offset + page.length;
    if (end < matching.length) {
      structured.next_cursor = encodeCursor({ offset: end, query });
      structured.hint = `${
        matching.length - end
      } more: pass cursor to page, or narrow with node, type, status, tag, pool or name.`;
    }
    const offline = [...new Set(page.filter((g) => !g.nodeOnline).map((g) => g.node))].sort();
    if (offline.length > 0) structured.offline_nodes = offline;

    const lines: string[] = [];
    if (matching.length === 0) {
      const why = unknownFilterValue(args, inventory);
      if (why !== undefined) structured.hint = why;
      lines.push(
        `No guests match${
          unscoped(ctx) ? "" : " (guests outside the configured scope are not shown)"
        }: ${why ?? "loosen the filters."}`,
      );
    } else {
      lines.push(
        `Guests ${
          offset + 1
        }-${end} of ${matching.length} matching (sorted by ${sort} ${order}); ` +
          `totals: ${totalsText(structured.totals)}.`,
      );
      for (const row of rows) lines.push(textRow(row));
    }
    if (structured.next_cursor !== undefined) {
      lines.push(`${structured.hint} next_cursor: ${structured.next_cursor}`);
    }
    if (offline.length > 0) {
      lines.push(`Node(s) ${offline.join(", ")} offline: status of their guests is unknown.`);
    }
    return { text: lines.join("\n"), structured };
  },
});
