/**
 * What the workflow tools (several PVE steps in one call) share: the steps they report, the
 * call that continues an unfinished run, and running one step — its planned calls sent in
 * order (secrets restored), each task waited for, the step's own audit line written — so that a
 * run stops at the first step that does not succeed and says what was done, what was not, and
 * how to go on.
 *
 * Workflows are resumable by construction: `plan()` reads the cluster and marks every step that
 * is already done (`already`), so running the same call again, or the `continue_with` call a
 * stopped run returns, repeats nothing that succeeded.
 *
 * @module
 */

import { z } from "zod";
import { PveError, PveOutcomeUnknownError } from "../../pve/errors.ts";
import { isUpid, type TaskOutcome } from "../../pve/mod.ts";
import type { Plan, StepAudit, ToolContext } from "../types.ts";
import { sendPlannedCall } from "./write.ts";

/** How a step ended, or that it was found done, or never ran. */
export const stepStatusSchema = z.enum([
  "done",
  "already",
  "failed",
  "timeout",
  "cancelled",
  "not_run",
]);

/** One of {@linkcode stepStatusSchema}. */
export type StepStatus = z.infer<typeof stepStatusSchema>;

/** A step in a workflow's output. */
export const stepSchema = z.object({
  step: z.string(),
  status: stepStatusSchema,
  vmid: z.number().optional(),
  upid: z.string().optional(),
  detail: z.string().optional(),
});

/** One step in a workflow's output. */
export type StepReport = z.infer<typeof stepSchema>;

/** How a whole run ended. */
export const runResultSchema = z.enum(["ok", "failed", "timeout", "cancelled"]);

/** One of {@linkcode runResultSchema}. */
export type RunResult = z.infer<typeof runResultSchema>;

/** The call that continues an unfinished run. */
export const continueSchema = z.object({
  tool: z.string(),
  arguments: z.record(z.string(), z.unknown()),
});

/** Output fields every workflow has. */
export const workflowFields = {
  result: runResultSchema,
  steps: z.array(stepSchema),
  continue_with: continueSchema.optional(),
};

/** A step of a planned run. */
export interface WorkflowStep {
  /** Short name for the output (`clone`, `migrate`, `restart`). */
  step: string;
  /** What it does, for progress and the audit line (`clone 9000 into VM 123`). */
  describe: string;
  /** Indices of its calls in the plan (none when found done). */
  calls: number[];
  /** Found done while planning. */
  already?: boolean;
  /** The guest it acts on (audit line, output). */
  guest?: { vmid: number; node: string; type: "qemu" | "lxc"; name?: string };
  /** Why it is done already, or other detail for the output. */
  detail?: string;
}

/** How running one step's calls ended. */
export interface StepOutcome {
  status: "done" | "failed" | "timeout" | "cancelled";
  /** The last task the step started. */
  upid?: string;
  /** What PVE answered (the last call's data). */
  data?: unknown;
  /** One sentence on a failure (with the log tail on the lines after it). */
  detail?: string;
  /** The last task's outcome. */
  outcome?: TaskOutcome;
  /** The write's outcome is unknown (no definite answer). */
  unknown?: boolean;
}

/** The status a task outcome gives a step. */
export function statusOfOutcome(outcome: TaskOutcome): StepOutcome["status"] {
  if (outcome.state === "ok" || outcome.state === "warnings") return "done";
  if (outcome.state === "timeout") return "timeout";
  if (outcome.state === "aborted") return "cancelled";
  return "failed";
}

/** One sentence (plus the log tail) for a task that did not succeed. */
export function outcomeDetail(outcome: TaskOutcome): string | undefined {
  switch (outcome.state) {
    case "failed": {
      const tail = outcome.logTail.slice(-6).join("\n");
      return `task ${outcome.upid} failed: ${outcome.exitstatus}${tail === "" ? "" : `\n${tail}`}`;
    }
    case "timeout":
      return `task ${outcome.upid} is still running after ${
        Math.round(outcome.waitedMs / 1000)
      } s (task_wait follows it)`;
    case "aborted":
      return `task ${outcome.upid} goes on running on the cluster (task_wait follows it)`;
    default:
      return undefined;
  }
}

/**
 * Sends the calls of one step in order (secrets restored), waits for each task, and writes the
 * step's audit line. A call PVE refuses, a task that fails or times out, a cancelled wait or a
 * write without a definite answer ends the step; nothing is thrown for those.
 *
 * @param check for an unknown outcome: what to check ("whether VM 123 exists (guest_get)").
 */
export async function runStep(
  ctx: ToolContext,
  plan: Plan,
  step: WorkflowStep,
  options: { check: string; waitSeconds?: number },
): Promise<StepOutcome> {
  let result: StepOutcome = { status: "done" };
  for (const index of step.calls) {
    const call = plan.calls[index];
    if (call === undefined) throw new Error(`Plan has no call ${index} for step "${step.step}"`);
    let data: unknown;
    try {
      data = await sendPlannedCall(ctx, plan, { index, check: options.check });
    } catch (error) {
      if (ctx.signal.aborted) {
        result = { status: "cancelled", detail: "cancelled before PVE answered" };
        break;
      }
      // Already in the tools' words (`unknownOutcomeMessage` with `check`).
      if (error instanceof PveOutcomeUnknownError) {
        result = { status: "failed", unknown: true, detail: error.message };
        break;
      }
      if (error instanceof PveError) {
        result = { status: "failed", detail: error.message.replace(/\.$/, "") };
        break;
      }
      throw error;
    }
    result = { status: "done", data };
    if (typeof data === "string" && isUpid(data)) {
      const outcome = await ctx.waitTask(
        data,
        options.waitSeconds === undefined ? {} : { timeoutSeconds: options.waitSeconds },
      );
      result = { status: statusOfOutcome(outcome), upid: data, outcome, data };
      const detail = outcomeDetail(outcome);
      if (detail !== undefined) result.detail = detail;
      if (result.status !== "done") break;
    }
  }
  await auditStep(ctx, step, result);
  return result;
}

/** Writes the audit line of a step that ran (or ended without a PVE call, like a wait). */
export async function auditStep(
  ctx: ToolContext,
  step: WorkflowStep,
  result: Pick<StepOutcome, "status" | "upid" | "detail" | "outcome">,
): Promise<void> {
  if (ctx.auditStep === undefined) return;
  const entry: StepAudit = {
    step: step.describe,
    outcome: result.status === "done"
      ? result.outcome?.state === "warnings" ? "warnings" : "ok"
      : result.status === "failed"
      ? "error"
      : result.status,
  };
  if (step.guest !== undefined) entry.target = step.guest;
  if (result.upid !== undefined) entry.upid = result.upid;
  if (result.status !== "done" && result.detail !== undefined) entry.error = result.detail;
  await ctx.auditStep(entry);
}

/** Waits `ms` unless the request is cancelled first (then resolves at once). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The report of a step from its plan entry and how it ended (or `not_run`). */
export function stepReport(
  step: WorkflowStep,
  status: StepStatus,
  extra: { upid?: string | undefined; detail?: string | undefined } = {},
): StepReport {
  const report: StepReport = { step: step.step, status };
  if (step.guest !== undefined) report.vmid = step.guest.vmid;
  if (extra.upid !== undefined) report.upid = extra.upid;
  const detail = extra.detail ?? step.detail;
  if (detail !== undefined) report.detail = detail.split("\n")[0] ?? detail;
  return report;
}

/** `name: {json}`: a continuation call as the text shows it. */
export function callText(call: { tool: string; arguments: Record<string, unknown> }): string {
  return `${call.tool} ${JSON.stringify(call.arguments)}`;
}
