/**
 * Running a plan's calls in order, as the provisioning tools do (create, clone then configure
 * then start, stop then delete): each call is sent with its secrets restored, a UPID it returns
 * is waited for with progress, and the first task that does not succeed stops the run. A write
 * whose outcome cannot be known (no answer: reset, timeout, a proxy's 502–504) is reported as
 * unknown, with how to find out, never as something to simply repeat.
 *
 * @module
 */

import { PveError, PveOutcomeUnknownError } from "../../pve/errors.ts";
import { isUpid, type TaskOutcome } from "../../pve/mod.ts";
import type { Plan, PlannedCall, ToolContext } from "../types.ts";
import { sendPlannedCall } from "./write.ts";

/** One call as it ran. */
export interface StepResult {
  call: PlannedCall;
  /** What the call answered (a UPID, `null`, data). */
  data: unknown;
  /** The task it started, when it answered a UPID. */
  upid?: string;
  /** How waiting for that task ended. */
  outcome?: TaskOutcome;
}

/** How a run of a plan's calls ended. */
export interface StepsRun {
  /** The calls that were made, in order (the last one may have failed in its task). */
  steps: StepResult[];
  /** The step whose task did not succeed (failed, timed out or was cancelled), if any. */
  stopped?: StepResult;
}

/**
 * Sends the plan's calls in order and waits for each task. `check` says how to find out what
 * happened when a write's outcome is unknown ("whether VM 123 exists (guest_get)").
 *
 * @throws {PveError} for a call PVE refused, with what earlier steps already did; an
 *   unknown-outcome error naming the call and `check`.
 */
export async function runSteps(
  plan: Plan,
  ctx: ToolContext,
  options: { check: string; waitSeconds?: number },
): Promise<StepsRun> {
  const steps: StepResult[] = [];
  for (const [index, call] of plan.calls.entries()) {
    let data: unknown;
    try {
      data = await sendPlannedCall(ctx, plan, { index, check: options.check });
    } catch (error) {
      // No definite answer: already in this tool's words, and nothing "done" to add.
      if (error instanceof PveOutcomeUnknownError) throw error;
      if (index > 0 && error instanceof PveError) {
        const done = steps.map((s) => `${s.call.method} ${s.call.path}`).join(", ");
        throw new PveError(
          `${error.message.replace(/\.$/, "")} (already done: ${done}).`,
          { cause: error, ...(error.status === undefined ? {} : { status: error.status }) },
        );
      }
      throw error;
    }
    const step: StepResult = { call, data };
    steps.push(step);
    if (typeof data === "string" && isUpid(data)) {
      step.upid = data;
      ctx.progress(`${call.method} ${call.path}: task ${data}`);
      step.outcome = await ctx.waitTask(
        data,
        options.waitSeconds === undefined ? {} : { timeoutSeconds: options.waitSeconds },
      );
      if (step.outcome.state !== "ok" && step.outcome.state !== "warnings") {
        return { steps, stopped: step };
      }
    }
  }
  return { steps };
}

/** The last task outcome of a run (the stopping one, else the last one waited for). */
export function lastOutcome(run: StepsRun): TaskOutcome | undefined {
  if (run.stopped?.outcome !== undefined) return run.stopped.outcome;
  for (let i = run.steps.length - 1; i >= 0; i--) {
    const outcome = run.steps[i]?.outcome;
    if (outcome !== undefined) return outcome;
  }
  return undefined;
}
