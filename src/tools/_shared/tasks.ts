/**
 * Scope for tasks: a task acting on a guest (its UPID `id` is a vmid) is visible when the
 * guest is in scope; any other task when its node is. When no scope is configured nothing
 * is looked up.
 *
 * @module
 */

import { z } from "zod";
import { PveError, PveNotFoundError, PveUnknownTaskError } from "../../pve/errors.ts";
import { isUpid, parseUpid } from "../../pve/upid.ts";
import type { ToolContext } from "../types.ts";
import { isoTime, num } from "./format.ts";

/** A guest's scope facts, by vmid. */
export type ScopeIndex = Map<number, { vmid: number; node: string; pool?: string; tags: string[] }>;

/** Whether the server runs without any scope restriction (an empty target passes only then). */
export function unscoped(ctx: ToolContext): boolean {
  return ctx.inScope({});
}

/** Loads the guests' scope facts from one inventory read (only when a scope is configured). */
export async function scopeIndex(ctx: ToolContext): Promise<ScopeIndex | undefined> {
  if (unscoped(ctx)) return undefined;
  const inventory = await ctx.client.resources("vm", { signal: ctx.signal });
  const index: ScopeIndex = new Map();
  for (const g of inventory.guests) {
    index.set(g.vmid, {
      vmid: g.vmid,
      node: g.node,
      ...(g.pool === undefined ? {} : { pool: g.pool }),
      tags: g.tags,
    });
  }
  return index;
}

/** Whether a task (by node and worker id) is visible under the scope. */
export function taskVisible(
  ctx: ToolContext,
  index: ScopeIndex | undefined,
  task: { node: string; id: string },
): boolean {
  if (index === undefined) return true;
  if (/^\d+$/.test(task.id)) {
    const guest = index.get(Number(task.id));
    return ctx.inScope(guest ?? { vmid: Number(task.id), node: task.node });
  }
  return ctx.inScope({ node: task.node });
}

/** Throws the scope refusal (a `PolicyError`) unless the task is visible. */
export async function assertTaskInScope(
  ctx: ToolContext,
  task: { node: string; id: string },
): Promise<void> {
  const index = await scopeIndex(ctx);
  if (index === undefined) return;
  if (/^\d+$/.test(task.id)) {
    const vmid = Number(task.id);
    ctx.assertInScope(index.get(vmid) ?? { vmid, node: task.node });
  } else {
    ctx.assertInScope({ node: task.node });
  }
}

/** A task as the task tools list it. */
export const taskItemSchema = z.object({
  upid: z.string(),
  node: z.string(),
  type: z.string(),
  id: z.string(),
  user: z.string(),
  status: z.string(),
  running: z.boolean(),
  start_time: z.string().optional(),
  end_time: z.string().optional(),
});

/** One task item. */
export type TaskItem = z.infer<typeof taskItemSchema>;

/**
 * A raw `/cluster/tasks` or `/nodes/{node}/tasks` entry → a compact item. Fields a server left
 * out (`type`, `starttime`, `user`, `node`, `id`) are completed from the UPID, which encodes
 * them. A row without `status` is running when it has PVE's running-row shape (no `endtime`,
 * and `saved: 0` or its own `starttime`); a sparse row that says nothing is `unknown`.
 */
export function taskItem(raw: Record<string, unknown>): TaskItem {
  const upidText = typeof raw.upid === "string" ? raw.upid : "";
  const upid = isUpid(upidText) ? parseUpid(upidText) : undefined;
  const text = (value: unknown): string | undefined =>
    typeof value === "string" && value !== "" ? value : undefined;
  const status = text(raw.status);
  const ended = raw.endtime !== undefined && raw.endtime !== null && raw.endtime !== "";
  const runningShape = !ended &&
    (raw.saved === 0 || raw.saved === "0" || raw.saved === false || raw.starttime !== undefined);
  const running = status !== undefined ? /^running$/i.test(status) : runningShape;
  const rawUser = text(raw.user);
  const user = rawUser === undefined
    ? upid?.user ?? ""
    : typeof raw.tokenid === "string" && !rawUser.includes("!")
    ? `${rawUser}!${raw.tokenid}`
    : rawUser;
  const item: TaskItem = {
    upid: upidText,
    node: text(raw.node) ?? upid?.node ?? "",
    type: text(raw.type) ?? upid?.type ?? "",
    id: (typeof raw.id === "string" || typeof raw.id === "number" ? String(raw.id) : undefined) ??
      upid?.id ?? "",
    user,
    status: running ? "running" : status ?? "unknown",
    running,
  };
  const start = isoTime(num(raw.starttime) ?? upid?.starttime);
  const end = isoTime(num(raw.endtime));
  if (start !== undefined) item.start_time = start;
  if (end !== undefined && !running) item.end_time = end;
  return item;
}

/** Whether a finished task's status is an error (not `OK`, not `WARNINGS: n`). */
export function isErrorStatus(status: string): boolean {
  return status !== "running" && status !== "OK" && !/^WARNINGS: \d+$/.test(status);
}

/**
 * Runs a task lookup and turns PVE's answers for a wrong node or an unknown UPID (a DNS
 * failure on the node name, 400 `upid: no such task`) into a sentence with the next step.
 * Other errors pass through unchanged.
 *
 * @throws {PveNotFoundError} for an unknown node or task.
 */
export async function explainTaskLookup<T>(
  ctx: ToolContext,
  where: { node: string; upid?: string },
  lookup: () => Promise<T>,
): Promise<T> {
  try {
    return await lookup();
  } catch (error) {
    if (!(error instanceof PveError)) throw error;
    if (error instanceof PveUnknownTaskError && where.upid !== undefined) {
      throw new PveNotFoundError(
        `No task ${where.upid} on node "${where.node}": the UPID is wrong or the task has left the node's task log; find it with task_list.`,
        { cause: error },
      );
    }
    if (error instanceof PveNotFoundError || /hostname lookup/i.test(error.message)) {
      const nodes = await ctx.client.resources("node", { signal: ctx.signal }).then(
        (r) => r.nodes.map((n) => n.node),
        () => [] as string[],
      );
      if (nodes.length > 0 && !nodes.includes(where.node)) {
        throw new PveNotFoundError(
          `No node "${where.node}" in cluster ${ctx.cluster}: use one of ${nodes.join(", ")}.`,
          { cause: error },
        );
      }
    }
    throw error;
  }
}
