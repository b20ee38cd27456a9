/**
 * The shared planning and running of power actions (start, shutdown, reboot, stop) for
 * QEMU and LXC alike: read the guest's current state first, so "already running" and
 * "already stopped" are successes without a task, a lock is reported with the task that
 * holds it, and the one write call is stated in the plan before anything happens.
 *
 * @module
 */

import { z } from "zod";
import { PveError } from "../../pve/errors.ts";
import { type GuestRef, isUpid, parseUpid } from "../../pve/mod.ts";
import type { Plan, PlannedCall, ToolContext, ToolResult } from "../types.ts";
import { truthy } from "./format.ts";
import { sendWrite } from "./write.ts";
import {
  currentLock,
  findRunningTask,
  guestIdentity,
  guestPath,
  type GuestSelection,
  guestTitle,
  identityOf,
  lockMessage,
  lockOf,
  resolveGuestArg,
} from "./guest.ts";
import { describeOutcome, taskFields, taskFieldsOf } from "./task.ts";

/** A power action. */
export type PowerAction = "start" | "shutdown" | "reboot" | "stop";

/** How a power action ended. */
export const powerResultSchema = z.enum([
  "ok",
  "warnings",
  "requested",
  "already",
  "locked",
  "failed",
  "timeout",
  "cancelled",
]);

/** The output of every power tool. */
export const powerOutputSchema = z.object({
  ...guestIdentity,
  action: z.enum(["start", "shutdown", "reboot", "stop"]),
  result: powerResultSchema,
  status_before: z.string(),
  lock: z.string().optional(),
  ...taskFields,
});

/** The output of a power tool. */
export type PowerOutput = z.infer<typeof powerOutputSchema>;

/** What planning found out, kept for the handler. */
interface PowerState {
  guest: GuestRef;
  action: PowerAction;
  status: string;
  lock?: string;
  /** Wait at least this long for the task (shutdown with a guest timeout). */
  waitSeconds?: number;
}

const states = new WeakMap<Plan, PowerState>();

const VERB: Record<PowerAction, { doing: string; done: string }> = {
  start: { doing: "Start", done: "started" },
  shutdown: { doing: "Shut down", done: "shut down" },
  reboot: { doing: "Reboot", done: "rebooted" },
  stop: { doing: "Hard-stop (power off)", done: "stopped" },
};

/** Locks that do not block the action (start resumes a hibernated VM). */
function lockBlocks(action: PowerAction, lock: string): boolean {
  return !(action === "start" && lock === "suspended");
}

/** Options of {@linkcode planPower}. */
export interface PowerOptions {
  /** Parameters of the POST (e.g. shutdown `timeout`, `forceStop`). */
  params?: PlannedCall["params"];
  /** Wait at least this many seconds for the task. */
  waitSeconds?: number;
}

/**
 * Resolves the guest, reads its state and plans the one POST (or nothing, when the guest is
 * already where the action would bring it).
 *
 * @throws {PveError} for actions that cannot apply (reboot of a stopped guest, start of a
 *   template), with the next step.
 */
export async function planPower(
  args: GuestSelection,
  ctx: ToolContext,
  action: PowerAction,
  options: PowerOptions = {},
): Promise<Plan> {
  const guest = await resolveGuestArg(args, ctx);
  const current = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
    signal: ctx.signal,
  }) as Record<string, unknown>;
  const status = typeof current.status === "string" ? current.status : guest.status;
  const qmpstatus = typeof current.qmpstatus === "string" ? current.qmpstatus : undefined;
  // The fresh status read decides; the inventory's lock may be seconds old.
  const lock = lockOf(current.lock);
  const title = guestTitle(guest);
  const state: PowerState = { guest, action, status };
  if (lock !== undefined) state.lock = lock;
  if (options.waitSeconds !== undefined) state.waitSeconds = options.waitSeconds;

  if (action === "start" && (truthy(current.template) || guest.template)) {
    throw new PveError(
      `${title} is a template and cannot be started: clone it into a new guest and start that.`,
    );
  }
  if (action === "reboot" && status !== "running") {
    throw new PveError(
      `${title} is not running (${status}): start it with guest_start instead of rebooting.`,
    );
  }

  if (action === "start" && status === "running" && qmpstatus === "paused") {
    throw new PveError(
      `${title} is paused, not stopped: resume it with guest_resume instead of starting it.`,
    );
  }

  const hibernated = status === "stopped" && lock === "suspended";
  const already = (action === "start" && status === "running") ||
    ((action === "shutdown" || action === "stop") && status === "stopped" && !hibernated);
  let plan: Plan;
  if (already) {
    plan = {
      target: guest,
      summary: `${title} on ${guest.node} is already ${status}: nothing to do.`,
      calls: [],
    };
  } else {
    const call: PlannedCall = { method: "POST", path: `${guestPath(guest)}/status/${action}` };
    if (options.params !== undefined && Object.keys(options.params).length > 0) {
      call.params = options.params;
    }
    const lockNote = lock !== undefined && lockBlocks(action, lock)
      ? ` (note: it is locked (${lock}); the call is refused until the lock is released)`
      : "";
    plan = {
      target: guest,
      summary: `${VERB[action].doing} ${title} on ${guest.node}${lockNote}.`,
      calls: [call],
    };
  }
  states.set(plan, state);
  return plan;
}

function baseOutput(state: PowerState, result: PowerOutput["result"]): PowerOutput {
  const out: PowerOutput = {
    ...identityOf(state.guest),
    action: state.action,
    result,
    status_before: state.status,
  };
  if (state.lock !== undefined) out.lock = state.lock;
  return out;
}

/** Runs a planned power action: the POST, then a bounded wait with progress. */
export async function runPower(
  plan: Plan | undefined,
  ctx: ToolContext,
): Promise<ToolResult<PowerOutput>> {
  const state = plan === undefined ? undefined : states.get(plan);
  if (plan === undefined || state === undefined) {
    throw new Error("Power tool handler called without its plan");
  }
  const title = guestTitle(state.guest);
  const call = plan.calls[0];
  if (call === undefined) {
    return {
      text: `${plan.summary.replace(/: nothing to do\.$/, "")}: nothing to do.`,
      structured: baseOutput(state, "already"),
    };
  }
  if (state.lock !== undefined && lockBlocks(state.action, state.lock)) {
    // Refuse only on a lock that is still there: confirmation may have taken a while.
    const lock = await currentLock(state.guest, ctx);
    if (lock !== undefined && lockBlocks(state.action, lock)) {
      const holder = await findRunningTask(state.guest, ctx);
      const out = { ...baseOutput(state, "locked"), lock };
      if (holder !== undefined) out.upid = holder.upid;
      return { text: lockMessage(state.guest, lock, holder), structured: out, isError: true };
    }
  }
  ctx.progress(`${VERB[state.action].doing} ${title}`);
  let upid: string;
  try {
    upid = String(await sendWrite(ctx, call));
  } catch (error) {
    // LXC answers these synchronously (FACTS §6.2): the guest is already where we want it.
    const text = error instanceof PveError ? `${error.pveMessage ?? ""} ${error.message}` : "";
    if (state.action === "start" && /already running/i.test(text)) {
      return {
        text: `${title} is already running: nothing to do.`,
        structured: baseOutput(state, "already"),
      };
    }
    if ((state.action === "shutdown" || state.action === "stop") && /not running/i.test(text)) {
      return {
        text: `${title} is already stopped: nothing to do.`,
        structured: baseOutput(state, "already"),
      };
    }
    throw error;
  }
  const outcome = await ctx.waitTask(
    upid,
    state.waitSeconds === undefined ? {} : { timeoutSeconds: state.waitSeconds },
  );
  const fields = taskFieldsOf(outcome);
  if (
    outcome.state === "failed" && state.action === "start" &&
    /already running/i.test(outcome.exitstatus)
  ) {
    return {
      text: `${title} is already running: nothing to do.`,
      structured: { ...baseOutput(state, "already"), ...fields },
    };
  }
  // An HA-managed guest gets an hastart/hastop task that only records the request (FACTS §6.2).
  const haRequest = outcome.state === "ok" && isUpid(upid) &&
    /^ha(start|stop)$/.test(parseUpid(upid).type);
  const result: PowerOutput["result"] = haRequest ? "requested" : fields.task_state ?? "failed";
  const structured: PowerOutput = { ...baseOutput(state, result), ...fields };
  let text = haRequest
    ? `${title} is HA-managed: HA ${
      state.action === "start" ? "start" : "stop"
    } requested on ${state.guest.node}; the HA manager acts on it shortly (check with guest_get).`
    : describeOutcome(outcome, `${title} ${VERB[state.action].done} on ${state.guest.node}`);
  if (
    outcome.state === "failed" && /is locked/i.test(outcome.exitstatus) && state.lock === undefined
  ) {
    const holder = await findRunningTask(state.guest, ctx);
    const lock = /locked \(([^)]+)\)/.exec(outcome.exitstatus)?.[1] ?? "unknown";
    text = lockMessage(state.guest, lock, holder);
  }
  return outcome.state === "failed" ? { text, structured, isError: true } : { text, structured };
}
