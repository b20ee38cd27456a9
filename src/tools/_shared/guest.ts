/**
 * Addressing one guest: the shared `vmid`/`name` input fields, resolving them to node and
 * type through the client's inventory, and describing a guest and its lock in words a
 * model can act on.
 *
 * @module
 */

import { z } from "zod";
import { PveError, PveValidationError } from "../../pve/errors.ts";
import { type GuestRef, isUpid, parseUpid } from "../../pve/mod.ts";
import type { ToolContext } from "../types.ts";

/** Input fields that address one guest; one of them is required. */
export const guestSelector = {
  vmid: z.number().int().min(100).max(999_999_999).optional().describe(
    "Guest id (give vmid or name)",
  ),
  name: z.string().min(1).max(128).optional().describe("Guest name, exact (give vmid or name)"),
};

/** The values of {@linkcode guestSelector}. */
export interface GuestSelection {
  vmid?: number | undefined;
  name?: string | undefined;
}

/** Output fields that identify the guest a tool acted on. */
export const guestIdentity = {
  vmid: z.number(),
  name: z.string().optional(),
  node: z.string(),
  type: z.enum(["qemu", "lxc"]),
};

/** `{vmid, name?, node, type}` of a guest, for structured output. */
export function identityOf(guest: GuestRef): {
  vmid: number;
  name?: string;
  node: string;
  type: "qemu" | "lxc";
} {
  const out: { vmid: number; name?: string; node: string; type: "qemu" | "lxc" } = {
    vmid: guest.vmid,
    node: guest.node,
    type: guest.type,
  };
  if (guest.name !== undefined && guest.name !== "") out.name = guest.name;
  return out;
}

/**
 * Resolves the `vmid`/`name` arguments to a guest (node and type found, not asked for).
 *
 * @throws {PveValidationError} when neither or conflicting values are given.
 * @throws {PveNotFoundError} (from the client) when no such guest exists.
 * @throws {PveError} when the guest's node is offline (every guest call goes through it).
 */
export async function resolveGuestArg(args: GuestSelection, ctx: ToolContext): Promise<GuestRef> {
  if (args.vmid === undefined && (args.name === undefined || args.name === "")) {
    throw new PveValidationError("No guest given: pass vmid or name.", {
      errors: { vmid: "property is missing and it is not optional" },
    });
  }
  const guest = await ctx.client.resolveGuest(args.vmid ?? args.name ?? "", {
    signal: ctx.signal,
  });
  // Before anything else reads or says more about the guest: out of scope is invisible.
  ctx.assertInScope(scopeOf(guest));
  if (
    args.vmid !== undefined && args.name !== undefined && args.name !== "" &&
    guest.name.toLowerCase() !== args.name.toLowerCase()
  ) {
    throw new PveValidationError(
      `Guest ${args.vmid} is named "${guest.name}", not "${args.name}": pass only vmid or only name.`,
      { errors: { name: "does not match vmid" } },
    );
  }
  if (!guest.nodeOnline) {
    // A refusal is confirmed by a fresh read: the node may be back since the cached inventory.
    const fresh = await ctx.client.resolveGuest(guest.vmid, { signal: ctx.signal, fresh: true });
    if (fresh.nodeOnline) return fresh;
    throw new PveError(
      `${
        guestTitle(guest)
      } is on node "${guest.node}", which is offline: it cannot be reached until the node is back (cluster_status shows the nodes).`,
      { node: guest.node },
    );
  }
  return guest;
}

/** The scope query of a guest (`vmid`, `node`, `pool`, `tags`). */
export function scopeOf(
  guest: GuestRef,
): { vmid: number; node: string; pool?: string; tags: string[] } {
  const out: { vmid: number; node: string; pool?: string; tags: string[] } = {
    vmid: guest.vmid,
    node: guest.node,
    tags: [...guest.tags],
  };
  if (guest.pool !== undefined) out.pool = guest.pool;
  return out;
}

/** `VM 100` or `CT 200`, as PVE names guests in messages. */
export function guestLabel(guest: { vmid: number; type: "qemu" | "lxc" }): string {
  return `${guest.type === "qemu" ? "VM" : "CT"} ${guest.vmid}`;
}

/** `VM 100 (web01)`: the label plus the name, for summaries. */
export function guestTitle(guest: { vmid: number; type: "qemu" | "lxc"; name?: string }): string {
  return guest.name ? `${guestLabel(guest)} (${guest.name})` : guestLabel(guest);
}

/** The API path prefix of a guest: `/nodes/{node}/{qemu|lxc}/{vmid}` (segments encoded). */
export function guestPath(guest: { node: string; type: "qemu" | "lxc"; vmid: number }): string {
  return `/nodes/${encodeURIComponent(guest.node)}/${guest.type}/${guest.vmid}`;
}

/** A lock value as PVE sends it: absent or `""` means unlocked. */
export function lockOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The guest's lock right now, read fresh (`GET …/status/current`), so a lock that has been
 * removed since the inventory or the plan was read no longer blocks anything.
 */
export async function currentLock(guest: GuestRef, ctx: ToolContext): Promise<string | undefined> {
  const current = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
    signal: ctx.signal,
  }) as Record<string, unknown> | null;
  return lockOf(current?.lock);
}

/** A running task that holds a guest, when one can be found. */
export interface LockHolder {
  upid: string;
  type: string;
}

/**
 * Finds the running task acting on a guest (to name it in a lock message): a task of the
 * node's active list whose UPID names this guest (its id is the vmid) and that has not ended.
 * Best effort: any failure to list tasks yields `undefined`.
 */
export async function findRunningTask(
  guest: GuestRef,
  ctx: ToolContext,
): Promise<LockHolder | undefined> {
  try {
    const tasks = await ctx.client.get(
      `/nodes/${encodeURIComponent(guest.node)}/tasks`,
      { source: "active", vmid: guest.vmid, limit: 10 },
      { signal: ctx.signal },
    ) as Record<string, unknown>[];
    const running = Array.isArray(tasks) ? tasks.find((t) => holdsGuest(t, guest.vmid)) : undefined;
    if (running === undefined) return undefined;
    const upid = String(running.upid);
    return { upid, type: String(running.type ?? parseUpid(upid).type) };
  } catch {
    return undefined;
  }
}

/** Whether a task row is a still-running task of guest `vmid` (judged by its UPID). */
function holdsGuest(task: Record<string, unknown>, vmid: number): boolean {
  if (typeof task.upid !== "string" || !isUpid(task.upid)) return false;
  if (parseUpid(task.upid).id !== String(vmid)) return false;
  if (task.endtime !== undefined && task.endtime !== null && task.endtime !== "") return false;
  const status = typeof task.status === "string" ? task.status : undefined;
  return status === undefined || status === "" || /^running$/i.test(status);
}

/**
 * The message for a locked guest, in the house form:
 * `VM 101 is locked (backup): wait for task UPID:… (task_wait), then retry.`
 */
export function lockMessage(guest: GuestRef, lock: string, holder: LockHolder | undefined): string {
  const label = guestLabel(guest);
  if (holder !== undefined) {
    return `${label} is locked (${lock}): wait for task ${holder.upid} with task_wait, then retry.`;
  }
  if (lock === "suspended") {
    return `${label} is locked (suspended): it is hibernated; start it to resume, then retry.`;
  }
  return `${label} is locked (${lock}) and no running task holds it: find the task with task_list, or have an admin run '${
    guest.type === "qemu" ? "qm" : "pct"
  } unlock ${guest.vmid}' if the lock is stale.`;
}
