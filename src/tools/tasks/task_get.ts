/**
 * `task_get`: one task's status and the last lines of its log.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { parseUpid, pvePath } from "../../pve/mod.ts";
import { defineTool } from "../types.ts";
import { allOrAbort } from "../_shared/parallel.ts";
import { upidParam } from "../_shared/params.ts";
import { isoTime, num } from "../_shared/format.ts";
import { taskStateSchema } from "../_shared/task.ts";
import { assertTaskInScope, explainTaskLookup } from "../_shared/tasks.ts";

const outputSchema = z.object({
  upid: z.string(),
  node: z.string(),
  type: z.string(),
  id: z.string(),
  user: z.string(),
  running: z.boolean(),
  exitstatus: z.string().optional(),
  task_state: taskStateSchema.optional(),
  start_time: z.string().optional(),
  log_tail: z.array(z.string()),
  log_lines_total: z.number(),
});

/** Shows a task's status and log tail. */
export const taskGet = defineTool({
  name: "task_get",
  title: "Get task",
  description:
    "Status of one task by UPID (running, or its exit status) plus the last lines of its log. Use task_wait to wait for it to finish.",
  toolset: "tasks",
  capability: "read",
  inputSchema: z.object({
    upid: upidParam(),
    lines: z.number().int().min(1).max(500).optional().describe("Log lines to show (default 20)"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const upid = parseUpid(args.upid);
    await assertTaskInScope(ctx, upid);
    const want = args.lines ?? 20;
    const base = pvePath`/nodes/${upid.node}/tasks/${args.upid}`;
    const [statusData, head] = await explainTaskLookup(
      ctx,
      { node: upid.node, upid: args.upid },
      () =>
        allOrAbort(ctx.signal, [
          (signal) => ctx.client.get(`${base}/status`, undefined, { signal }),
          (signal) =>
            ctx.client.requestEnvelope("GET", `${base}/log`, {
              params: { start: 0, limit: 1 },
              signal,
            }),
        ]),
    );
    const status = (statusData ?? {}) as Record<string, unknown>;
    const total = num(head.total) ?? 0;
    let lines: string[] = [];
    if (total > 0) {
      const data = await ctx.client.get(
        `${base}/log`,
        { start: Math.max(0, total - want), limit: want },
        { signal: ctx.signal },
      );
      lines = (Array.isArray(data) ? data : []).map((l) => String((l as { t?: unknown }).t ?? ""));
    }
    const running = status.status === "running";
    const out: z.infer<typeof outputSchema> = {
      upid: args.upid,
      node: upid.node,
      type: upid.type,
      id: upid.id,
      user: upid.user,
      running,
      log_tail: lines,
      log_lines_total: total,
    };
    if (!running && typeof status.exitstatus === "string") {
      out.exitstatus = status.exitstatus;
      out.task_state = status.exitstatus === "OK"
        ? "ok"
        : /^WARNINGS: \d+$/.test(status.exitstatus)
        ? "warnings"
        : "failed";
    }
    const start = isoTime(upid.starttime);
    if (start !== undefined) out.start_time = start;
    const head1 = running
      ? `Task ${upid.type} ${upid.id} on ${upid.node} is running (started ${
        start ?? "?"
      }): call task_wait to wait for it.`
      : `Task ${upid.type} ${upid.id} on ${upid.node} finished: ${
        out.exitstatus ?? "unknown status"
      }.`;
    const text = lines.length > 0
      ? `${head1}\nLog (last ${lines.length} of ${total} lines):\n${lines.join("\n")}`
      : head1;
    return { text, structured: out };
  },
});
