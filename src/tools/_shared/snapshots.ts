/**
 * Shared by the snapshot tools: the snapshot name rule (checked before any call, as PVE's
 * `pve-configid` format and reserved names), reading a guest's snapshot list, and running
 * a snapshot task with the lock and failure handling every snapshot tool needs.
 *
 * @module
 */

import { z } from "zod";
import { PveNotFoundError, PveValidationError } from "../../pve/errors.ts";
import type { GuestRef } from "../../pve/mod.ts";
import type { Plan, ToolContext, ToolResult } from "../types.ts";
import { isoTime, num, truthy } from "./format.ts";
import {
  currentLock,
  findRunningTask,
  guestIdentity,
  guestLabel,
  guestPath,
  guestTitle,
  identityOf,
  lockMessage,
} from "./guest.ts";
import { describeOutcome, taskFields, taskFieldsOf } from "./task.ts";
import { sendWrite } from "./write.ts";

/** One snapshot, as the tools report it. */
export const snapshotSchema = z.object({
  name: z.string(),
  parent: z.string().optional(),
  time: z.string().optional(),
  vmstate: z.boolean(),
  description: z.string().optional(),
  /** Whether the guest's current state derives from this snapshot ("You are here" parent). */
  current: z.boolean(),
});

/** A snapshot. */
export type SnapshotInfo = z.infer<typeof snapshotSchema>;

/** The snapshots of a guest and which one the current state derives from. */
export interface SnapshotList {
  snapshots: SnapshotInfo[];
  currentParent?: string;
}

/**
 * Checks a snapshot name as PVE does (`pve-configid`: starts with a letter, then letters,
 * digits, `-` or `_`; 2–40 characters; not `current` or `pending`).
 *
 * @throws {PveValidationError} with the rule and a corrected suggestion.
 */
export function checkSnapshotName(name: string): void {
  const problems: string[] = [];
  if (name.length < 2) problems.push("it must be at least 2 characters long");
  if (name.length > 40) problems.push("it may only be 40 characters long");
  if (!/^[a-z]/i.test(name)) problems.push("it must start with a letter");
  if (/[^a-z0-9_-]/i.test(name)) problems.push("only letters, digits, '-' and '_' are allowed");
  if (/^(current|pending)$/i.test(name)) problems.push("it is a reserved name");
  if (problems.length === 0) return;
  let suggestion = name.replace(/[^a-z0-9_-]+/gi, "-").replace(
    /^[^a-z]+/i,
    (lead) => /[0-9]/.test(lead) ? `s${lead.replace(/^[^0-9]+/, "")}` : "",
  ).slice(0, 40);
  if (suggestion.length < 2 || /^(current|pending)$/i.test(suggestion)) {
    suggestion = `snap-${suggestion}`.slice(0, 40).replace(/-+$/, "") || "snap1";
  }
  throw new PveValidationError(
    `Snapshot name "${name}" is not valid: ${
      problems.join("; ")
    }. Use a name like "${suggestion}".`,
    { errors: { snapname: `invalid configuration ID '${name}'` } },
  );
}

/** Reads a guest's snapshots (`GET …/snapshot`), without the `current` pseudo entry. */
export async function listSnapshots(guest: GuestRef, ctx: ToolContext): Promise<SnapshotList> {
  const data = await ctx.client.get(`${guestPath(guest)}/snapshot`, undefined, {
    signal: ctx.signal,
  });
  const entries = (Array.isArray(data) ? data : []) as Record<string, unknown>[];
  const here = entries.find((e) => e.name === "current");
  const currentParent = typeof here?.parent === "string" ? here.parent : undefined;
  const snapshots = entries.filter((e) => e.name !== "current" && typeof e.name === "string").map(
    (e) => {
      const snap: SnapshotInfo = {
        name: String(e.name),
        vmstate: truthy(e.vmstate),
        current: e.name === currentParent,
      };
      if (typeof e.parent === "string" && e.parent !== "") snap.parent = e.parent;
      const time = isoTime(num(e.snaptime));
      if (time !== undefined) snap.time = time;
      if (typeof e.description === "string" && e.description.trim() !== "") {
        snap.description = e.description.trim();
      }
      return snap;
    },
  );
  snapshots.sort((a, b) =>
    (a.time ?? "").localeCompare(b.time ?? "") || a.name.localeCompare(b.name)
  );
  return currentParent === undefined ? { snapshots } : { snapshots, currentParent };
}

/**
 * Throws unless `name` is one of the guest's snapshots, listing the ones that exist.
 *
 * @throws {PveNotFoundError}
 */
export function assertSnapshotExists(
  guest: GuestRef,
  list: SnapshotList,
  name: string,
): SnapshotInfo {
  const found = list.snapshots.find((s) => s.name === name);
  if (found !== undefined) return found;
  const names = list.snapshots.map((s) => s.name);
  if (/^current$/i.test(name)) {
    throw new PveNotFoundError(
      `"${name}" is the live state of ${
        guestTitle(guest)
      }, not a snapshot: name one of its snapshots (${
        names.length === 0 ? "it has none" : names.map((n) => `"${n}"`).join(", ")
      }).`,
    );
  }
  throw new PveNotFoundError(
    names.length === 0
      ? `${
        guestTitle(guest)
      } has no snapshots, so there is no "${name}": create one with snapshot_create first.`
      : `Snapshot "${name}" does not exist on ${guestTitle(guest)}: existing snapshots are ${
        names.map((n) => `"${n}"`).join(", ")
      }.`,
  );
}

/** The output of the snapshot write tools. */
export const snapshotWriteOutput = z.object({
  ...guestIdentity,
  snapshot: z.string(),
  action: z.enum(["create", "rollback", "delete"]),
  result: z.enum(["ok", "warnings", "locked", "failed", "timeout", "cancelled"]),
  lock: z.string().optional(),
  ...taskFields,
});

/** Output of a snapshot write tool. */
export type SnapshotWriteOutput = z.infer<typeof snapshotWriteOutput>;

/** What planning found, kept for the handler. */
interface SnapshotState {
  guest: GuestRef;
  snapshot: string;
  action: "create" | "rollback" | "delete";
  /** Sentence for success, e.g. `Snapshot "x" of VM 102 (db01) created`. */
  done: string;
}

const states = new WeakMap<Plan, SnapshotState>();

/** Remembers what the handler needs for a plan. */
export function rememberSnapshotPlan(plan: Plan, state: SnapshotState): Plan {
  states.set(plan, state);
  return plan;
}

/** Runs the one planned call of a snapshot tool and waits for its task. */
export async function runSnapshotPlan(
  plan: Plan | undefined,
  ctx: ToolContext,
): Promise<ToolResult<SnapshotWriteOutput>> {
  const state = plan === undefined ? undefined : states.get(plan);
  const call = plan?.calls[0];
  if (state === undefined || call === undefined) {
    throw new Error("Snapshot tool handler called without its plan");
  }
  const base: SnapshotWriteOutput = {
    ...identityOf(state.guest),
    snapshot: state.snapshot,
    action: state.action,
    result: "ok",
  };
  // The inventory's lock may be stale: only a lock a fresh read still shows refuses.
  const lock = state.guest.lock === undefined ? undefined : await currentLock(state.guest, ctx);
  if (lock !== undefined) {
    const holder = await findRunningTask(state.guest, ctx);
    const out: SnapshotWriteOutput = { ...base, result: "locked", lock };
    if (holder !== undefined) out.upid = holder.upid;
    return { text: lockMessage(state.guest, lock, holder), structured: out, isError: true };
  }
  ctx.progress(`${plan?.summary ?? ""}`);
  const upid = String(await sendWrite(ctx, call));
  const outcome = await ctx.waitTask(upid);
  const fields = taskFieldsOf(outcome);
  const structured: SnapshotWriteOutput = {
    ...base,
    ...fields,
    result: fields.task_state ?? "failed",
  };
  if (outcome.state === "failed") {
    const locked = /locked \(([^)]+)\)/.exec(outcome.exitstatus);
    if (locked?.[1] !== undefined) {
      const holder = await findRunningTask(state.guest, ctx);
      structured.result = "locked";
      structured.lock = locked[1];
      return { text: lockMessage(state.guest, locked[1], holder), structured, isError: true };
    }
    return { text: describeOutcome(outcome, state.done), structured, isError: true };
  }
  return { text: describeOutcome(outcome, state.done), structured };
}

/** `snapshot "x" of VM 102 (db01)` for summaries. */
export function snapshotTitle(guest: GuestRef, name: string): string {
  return `snapshot "${name}" of ${guestTitle(guest)}`;
}

/** `VM 102`/`CT 200`, re-exported for snapshot messages. */
export { guestLabel };
