/**
 * One-call actions on a guest's run state that the power tools (`power.ts`) do not cover —
 * suspend, resume, reset: read the guest's state first so "already there" is a success without
 * a call, refuse what PVE would refuse (a guest that is not running) with the next step, plan
 * the one POST, then send it and wait for the task.
 *
 * @module
 */

import { z } from "zod";
import type { GuestRef } from "../../pve/mod.ts";
import type { Plan, PlannedCall, ToolContext, ToolResult } from "../types.ts";
import {
  guestIdentity,
  guestPath,
  guestTitle,
  identityOf,
  lockOf,
  resolveGuestArg,
} from "./guest.ts";
import type { GuestSelection } from "./guest.ts";
import { runFields } from "./provision.ts";
import { checkPlannedCalls } from "./schema_check.ts";
import { lastOutcome, runSteps } from "./steps.ts";
import { describeOutcome, taskFields } from "./task.ts";

/** An action of this module. */
export type GuestAction = "suspend" | "resume" | "reset";

/** The output of the suspend, resume and reset tools. */
export const guestActionOutput = z.object({
  ...guestIdentity,
  action: z.enum(["suspend", "resume", "reset"]),
  result: z.enum(["ok", "warnings", "already", "failed", "timeout", "cancelled"]),
  state_before: z.string(),
  ...taskFields,
});

/** Output of an action tool. */
export type GuestActionOutput = z.infer<typeof guestActionOutput>;

/** A guest's run state as the actions judge it. */
export interface RunState {
  guest: GuestRef;
  /** `running`, `paused`, `hibernated` (VM suspended to disk) or `stopped`. */
  state: "running" | "paused" | "hibernated" | "stopped";
}

interface ActionState extends RunState {
  action: GuestAction;
  done: string;
}

const states = new WeakMap<Plan, ActionState>();

/** Resolves the guest and reads its run state (`status/current`). */
export async function readRunState(args: GuestSelection, ctx: ToolContext): Promise<RunState> {
  const guest = await resolveGuestArg(args, ctx);
  const current = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
    signal: ctx.signal,
  }) as Record<string, unknown>;
  const status = String(current.status ?? guest.status);
  const qmp = typeof current.qmpstatus === "string" ? current.qmpstatus : undefined;
  // The fresh status read decides: the inventory's lock may be seconds old.
  const lock = lockOf(current.lock);
  if (status === "running") {
    return { guest, state: qmp === "paused" || qmp === "suspended" ? "paused" : "running" };
  }
  return { guest, state: lock === "suspended" ? "hibernated" : "stopped" };
}

/**
 * The plan of an action: `call` is the POST (or undefined when the guest is already where the
 * action would bring it: `summary` then says so).
 */
export function actionPlan(
  run: RunState,
  options: { action: GuestAction; call?: PlannedCall; summary: string; done: string },
): Promise<Plan> {
  const plan: Plan = {
    target: run.guest,
    summary: options.summary,
    calls: options.call === undefined ? [] : [options.call],
  };
  states.set(plan, { ...run, action: options.action, done: options.done });
  return checkPlannedCalls(plan);
}

/** `POST …/status/<action>` of a guest. */
export function statusCall(
  guest: GuestRef,
  action: GuestAction,
  params?: Record<string, number>,
): PlannedCall {
  const call: PlannedCall = { method: "POST", path: `${guestPath(guest)}/status/${action}` };
  if (params !== undefined && Object.keys(params).length > 0) call.params = params;
  return call;
}

/** Runs a planned action and waits for its task. */
export async function runAction(
  plan: Plan | undefined,
  ctx: ToolContext,
): Promise<ToolResult<GuestActionOutput>> {
  const state = plan === undefined ? undefined : states.get(plan);
  if (plan === undefined || state === undefined) {
    throw new Error("Guest action handler called without its plan");
  }
  const base = {
    ...identityOf(state.guest),
    action: state.action,
    state_before: state.state,
  };
  if (plan.calls.length === 0) {
    return { text: plan.summary, structured: { ...base, result: "already" } };
  }
  const title = guestTitle(state.guest);
  const run = await runSteps(plan, ctx, { check: `the state of ${title} (guest_get)` });
  const { result, ...fields } = runFields(run);
  const outcome = lastOutcome(run);
  const structured: GuestActionOutput = {
    ...base,
    ...fields,
    result: result === "requested" ? "ok" : result,
  };
  const text = outcome === undefined ? `${state.done}.` : describeOutcome(outcome, state.done);
  return result === "failed" ? { text, structured, isError: true } : { text, structured };
}
