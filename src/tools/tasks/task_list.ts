/**
 * `task_list`: recent tasks, cluster-wide (`/cluster/tasks`) or of one node
 * (`/nodes/{node}/tasks`, running and finished), filtered and compact.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { pvePath } from "../../pve/mod.ts";
import { defineTool } from "../types.ts";
import { limitParam, nodeParam, taskTypeParam } from "../_shared/params.ts";
import { checkNodeName } from "../_shared/storage.ts";
import {
  explainTaskLookup,
  isErrorStatus,
  scopeIndex,
  type TaskItem,
  taskItem,
  taskItemSchema,
  taskVisible,
} from "../_shared/tasks.ts";

const DEFAULT_LIMIT = 20;

const outputSchema = z.object({
  tasks: z.array(taskItemSchema),
  returned: z.number(),
  total_matching: z.number(),
  truncated: z.boolean(),
});

/** Lists recent tasks with filters. */
export const taskList = defineTool({
  name: "task_list",
  title: "List tasks",
  description:
    "Recent Proxmox VE tasks (newest first), cluster-wide or for one node: filter by vmid, task type (e.g. qmstart, vzdump), errors only or running only. Returns UPIDs for task_get/task_wait.",
  toolset: "tasks",
  capability: "read",
  inputSchema: z.object({
    node: nodeParam().optional(),
    vmid: z.number().int().min(100).max(999_999_999).optional(),
    type: taskTypeParam().optional(),
    errors: z.boolean().optional().describe("Only failed tasks"),
    running: z.boolean().optional().describe("Only running tasks"),
    limit: limitParam(DEFAULT_LIMIT, 200).optional(),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const limit = args.limit ?? DEFAULT_LIMIT;
    const sig = { signal: ctx.signal };
    let raw: Record<string, unknown>[];
    if (args.node !== undefined) {
      const params: Record<string, string | number> = {
        source: args.running ? "active" : "all",
        limit: 500,
      };
      if (args.vmid !== undefined) params.vmid = args.vmid;
      if (args.type !== undefined) params.typefilter = args.type;
      if (args.errors) params.errors = 1;
      const node = args.node;
      // A name PVE cannot have is refused with the rule, before a path is built from it.
      checkNodeName(node);
      const data = await explainTaskLookup(
        ctx,
        { node },
        () => ctx.client.get(pvePath`/nodes/${node}/tasks`, params, sig),
      );
      raw = (Array.isArray(data) ? data : []) as Record<string, unknown>[];
    } else {
      const data = await ctx.client.get("/cluster/tasks", undefined, sig);
      raw = (Array.isArray(data) ? data : []) as Record<string, unknown>[];
    }
    const index = await scopeIndex(ctx);
    const items: TaskItem[] = raw.map(taskItem).filter((t) =>
      t.upid !== "" &&
      (args.vmid === undefined || t.id === String(args.vmid)) &&
      (args.type === undefined || t.type === args.type) &&
      (!args.errors || (!t.running && isErrorStatus(t.status))) &&
      (!args.running || t.running) &&
      taskVisible(ctx, index, t)
    );
    // Newest first, by start time.
    items.sort((a, b) =>
      (b.start_time ?? "").localeCompare(a.start_time ?? "") || a.upid.localeCompare(b.upid)
    );
    const page = items.slice(0, limit);
    const structured: z.infer<typeof outputSchema> = {
      tasks: page,
      returned: page.length,
      total_matching: items.length,
      truncated: items.length > page.length,
    };
    const lines = [
      page.length === 0
        ? "No tasks match."
        : `${page.length} of ${items.length} matching task(s), newest first:`,
    ];
    for (const t of page) {
      lines.push(
        `${t.start_time ?? "?"} ${t.node} ${t.type} ${t.id || "-"} ${t.user} ${
          t.running ? "RUNNING" : t.status
        } ${t.upid}`,
      );
    }
    if (structured.truncated) lines.push("Raise limit or add filters to see more.");
    return { text: lines.join("\n"), structured };
  },
});
