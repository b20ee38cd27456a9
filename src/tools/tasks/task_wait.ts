/**
 * `task_wait`: waits for a task (by UPID) to finish, reporting its log lines as progress,
 * and returns how it ended. It only observes: nothing on the cluster changes, so it is a
 * read tool and safe to repeat after a timeout.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { parseUpid } from "../../pve/mod.ts";
import { defineTool } from "../types.ts";
import { upidParam } from "../_shared/params.ts";
import { describeOutcome, taskFieldsOf, taskStateSchema } from "../_shared/task.ts";
import { assertTaskInScope, explainTaskLookup } from "../_shared/tasks.ts";

const outputSchema = z.object({
  upid: z.string(),
  node: z.string(),
  type: z.string(),
  id: z.string(),
  task_state: taskStateSchema,
  exitstatus: z.string().optional(),
  log_tail: z.array(z.string()).optional(),
  warnings: z.array(z.string()).optional(),
});

/** Waits for a task and reports its outcome. */
export const taskWait = defineTool({
  name: "task_wait",
  title: "Wait for task",
  description:
    "Wait for a task (UPID) to finish, with progress; returns ok, warnings, failed (with log tail), timeout or cancelled. Safe to call again after a timeout.",
  toolset: "tasks",
  capability: "read",
  inputSchema: z.object({
    upid: upidParam(),
    timeout_seconds: z.number().int().min(1).max(3600).optional().describe(
      "Default: the server's wait limit",
    ),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const upid = parseUpid(args.upid);
    await assertTaskInScope(ctx, upid);
    const outcome = await explainTaskLookup(
      ctx,
      { node: upid.node, upid: args.upid },
      () =>
        ctx.waitTask(
          args.upid,
          args.timeout_seconds === undefined ? {} : { timeoutSeconds: args.timeout_seconds },
        ),
    );
    const fields = taskFieldsOf(outcome);
    const structured: z.infer<typeof outputSchema> = {
      upid: args.upid,
      node: upid.node,
      type: upid.type,
      id: upid.id,
      task_state: fields.task_state ?? "failed",
    };
    if (fields.exitstatus !== undefined) structured.exitstatus = fields.exitstatus;
    if (fields.log_tail !== undefined) structured.log_tail = fields.log_tail;
    if (fields.warnings !== undefined) structured.warnings = fields.warnings;
    const text = describeOutcome(
      outcome,
      `Task ${upid.type} ${upid.id} on ${upid.node} finished OK`,
    );
    return { text, structured };
  },
});
