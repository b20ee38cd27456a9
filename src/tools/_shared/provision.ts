/**
 * The output the provisioning tools share (which guest, how it ended, the task) and turning a
 * run of a plan's calls into that output and one sentence: success says what exists now, a
 * failed task gives its log tail, a timeout names the UPID for `task_wait`. Also what the two
 * create tools share of a new guest: the parameters they pass on alike, the scope target and the
 * placement's notes.
 *
 * @module
 */

import { z } from "zod";
import { isUpid, parseUpid } from "../../pve/mod.ts";
import type { ScopeTarget, ToolResult } from "../types.ts";
import { guestIdentity } from "./guest.ts";
import type { Placement } from "./placement.ts";
import { lastOutcome, type StepsRun } from "./steps.ts";
import { describeOutcome, type TaskFields, taskFields, taskFieldsOf } from "./task.ts";

/** How a provisioning tool's run ended; `requested` when the HA manager acts on it. */
export const provisionResultSchema = z.enum([
  "ok",
  "warnings",
  "requested",
  "failed",
  "timeout",
  "cancelled",
]);

/** One of {@linkcode provisionResultSchema}. */
export type ProvisionResult = z.infer<typeof provisionResultSchema>;

/** Output fields every provisioning tool has: the guest, the result, the task. */
export const provisionFields = {
  ...guestIdentity,
  result: provisionResultSchema,
  ...taskFields,
};

/** The guest part of the output. */
export type GuestIdentity = {
  vmid: number;
  name?: string;
  node: string;
  type: "qemu" | "lxc";
};

/** Whether a run succeeded (its last task ended OK or with warnings, or the HA stack took it). */
export function runSucceeded(run: StepsRun): boolean {
  const { result } = runFields(run);
  return result === "ok" || result === "warnings" || result === "requested";
}

/** `result` and task fields of a run. */
export function runFields(run: StepsRun): TaskFields & { result: ProvisionResult } {
  const outcome = lastOutcome(run);
  if (outcome === undefined) return { result: "ok" };
  const fields = taskFieldsOf(outcome);
  const ha = outcome.state === "ok" && isUpid(outcome.upid) &&
    /^ha(start|stop|migrate)$/.test(parseUpid(outcome.upid).type);
  return { ...fields, result: ha ? "requested" : fields.task_state ?? "failed" };
}

/**
 * The result of a run: `done` is what success means ("Created VM 123 (web03) on pve1"),
 * `extra` sentences follow it on success (warnings, notes).
 */
export function finishRun<O>(
  run: StepsRun,
  output: GuestIdentity & Record<string, unknown>,
  options: { done: string; extra?: string[] },
): ToolResult<O> {
  const fields = runFields(run);
  const structured = { ...output, ...fields } as O;
  const outcome = lastOutcome(run);
  let text = outcome === undefined ? `${options.done}.` : describeOutcome(outcome, options.done);
  if (run.stopped?.outcome?.state === "failed" && run.steps.length > 1) {
    const done = run.steps.slice(0, -1).map((s) => `${s.call.method} ${s.call.path}`);
    text += `\nAlready done before that: ${done.join(", ")}.`;
  }
  if (fields.result === "ok" || fields.result === "warnings" || fields.result === "requested") {
    for (const line of options.extra ?? []) text += `\n${line}`;
  }
  return fields.result === "failed" ? { text, structured, isError: true } : { text, structured };
}

/** The arguments `vm_create` and `ct_create` take alike. */
export interface NewGuestOptions {
  tags?: string[] | undefined;
  pool?: string | undefined;
  onboot?: boolean | undefined;
  start?: boolean | undefined;
}

/** The create call's parameters for {@linkcode NewGuestOptions} (only those given). */
export function newGuestParams(options: NewGuestOptions): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  if (options.tags !== undefined && options.tags.length > 0) params.tags = options.tags.join(";");
  if (options.pool !== undefined) params.pool = options.pool;
  if (options.onboot !== undefined) params.onboot = options.onboot ? 1 : 0;
  if (options.start) params.start = 1;
  return params;
}

/** The new guest as the scope must admit it: its vmid, node, tags and pool. */
export function newGuestScope(
  guest: { vmid: number; node: string },
  options: NewGuestOptions,
): ScopeTarget {
  const target: ScopeTarget = { vmid: guest.vmid, node: guest.node, tags: options.tags ?? [] };
  if (options.pool !== undefined) target.pool = options.pool;
  return target;
}

/** The notes a placement adds to a create's plan and result: why this node, and overcommit. */
export function placementNotes(placement: Placement): string[] {
  const notes: string[] = [];
  if (placement.reason !== undefined) notes.push(`Placement: ${placement.reason}.`);
  if (placement.warning !== undefined) notes.push(placement.warning);
  return notes;
}
