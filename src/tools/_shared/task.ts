/**
 * Turning a waited-for task ({@linkcode TaskOutcome}) into tool output: one shared set of
 * structured fields and one sentence that says what happened and what to do next.
 *
 * @module
 */

import { z } from "zod";
import type { TaskOutcome } from "../../pve/mod.ts";

/** How waiting ended, as tools report it. */
export const taskStateSchema = z.enum(["ok", "warnings", "failed", "timeout", "cancelled"]);

/** One of {@linkcode taskStateSchema}. */
export type TaskState = z.infer<typeof taskStateSchema>;

/** Structured fields describing a waited-for task. */
export const taskFields = {
  upid: z.string().optional(),
  task_state: taskStateSchema.optional(),
  exitstatus: z.string().optional(),
  log_tail: z.array(z.string()).optional(),
  warnings: z.array(z.string()).optional(),
};

/** The values of {@linkcode taskFields}. */
export interface TaskFields {
  upid?: string;
  task_state?: TaskState;
  exitstatus?: string;
  log_tail?: string[];
  warnings?: string[];
}

/** Maps the client's outcome state to the tool-facing one (`aborted` → `cancelled`). */
export function taskStateOf(outcome: TaskOutcome): TaskState {
  return outcome.state === "aborted" ? "cancelled" : outcome.state;
}

/** The structured fields of an outcome; the log tail only where it helps (failure, warnings). */
export function taskFieldsOf(outcome: TaskOutcome, tailLines = 10): TaskFields {
  const fields: TaskFields = { upid: outcome.upid, task_state: taskStateOf(outcome) };
  if (outcome.state === "ok" || outcome.state === "warnings" || outcome.state === "failed") {
    fields.exitstatus = outcome.exitstatus;
  }
  if (outcome.state === "failed") fields.log_tail = outcome.logTail.slice(-tailLines);
  if (outcome.warnings.length > 0) fields.warnings = outcome.warnings.slice(-tailLines);
  return fields;
}

/**
 * One or two sentences for an outcome: `done` is what success means ("VM 100 started").
 * Failures include the log tail; timeouts and cancellations name the UPID for `task_wait`.
 */
export function describeOutcome(outcome: TaskOutcome, done: string): string {
  switch (outcome.state) {
    case "ok":
      return `${done}.`;
    case "warnings":
      return `${done}, with ${outcome.warningCount} warning(s):\n${outcome.warnings.join("\n")}`;
    case "failed": {
      const tail = outcome.logTail.slice(-10).join("\n");
      return `Task ${outcome.upid} failed: ${outcome.exitstatus}. Fix the cause shown in the log, then retry.${
        tail === "" ? "" : `\nTask log (last lines):\n${tail}`
      }`;
    }
    case "timeout":
      return `Task ${outcome.upid} is still running after ${
        Math.round(outcome.waitedMs / 1000)
      } s: call task_wait with this upid to keep waiting.`;
    case "aborted":
      return `Stopped waiting (cancelled); task ${outcome.upid} keeps running on the cluster: call task_wait with this upid to follow it.`;
  }
}
