/**
 * Simulated PVE endpoints: tasks (`/nodes/{node}/tasks…`, `/cluster/tasks`), after
 * `pve-manager PVE/API2/Tasks.pm` and `PVE::Tools::dump_logfile`.
 *
 * @module
 */

import { dieError, paramError, permError } from "../errors.ts";
import { download, type Route, route, type RouteContext, withTotal } from "../router.ts";
import type { Task } from "../state.ts";
import { INTERRUPT_MESSAGE, splitTaskUser, taskUser } from "../tasks.ts";
import { parseUpid } from "../upid.ts";

function num(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** PVE's `upid_normalize_status_type`. */
function statusType(task: Task): string {
  const status = task.exitstatus;
  if (task.status === "running" || status === undefined) return "running";
  if (status === "OK") return "ok";
  if (/^WARNINGS: \d+$/.test(status)) return "warning";
  if (status === "unexpected status") return "unknown";
  return "error";
}

/** What a task list item and a task status both start with: the UPID fields, token split off. */
function taskIdentity(task: Task): Record<string, unknown> {
  const { user, tokenid } = splitTaskUser(task.user);
  const identity: Record<string, unknown> = {
    upid: task.upid,
    node: task.node,
    pid: task.pid,
    pstart: task.pstart,
    starttime: task.starttime,
    type: task.type,
    id: task.id,
    user,
  };
  if (tokenid !== undefined) identity.tokenid = tokenid;
  return identity;
}

/** The list item of a task (`/nodes/{node}/tasks`, `/cluster/tasks`). */
function listItem(task: Task, sparse = false): Record<string, unknown> {
  const item = taskIdentity(task);
  if (sparse) {
    // The sparse-rows quirk: only what identifies the task; the rest is in the UPID.
    return { upid: item.upid, node: item.node, pid: item.pid, pstart: item.pstart, id: item.id };
  }
  if (task.status === "stopped") {
    if (task.endtime !== undefined) item.endtime = task.endtime;
    item.status = task.exitstatus ?? "unexpected status";
  } else {
    item.status = "RUNNING";
  }
  return item;
}

/** Finds a task of a node by UPID, with PVE's parameter errors. */
function findTask(ctx: RouteContext): Task {
  const upid = String(ctx.params.upid ?? "");
  const node = String(ctx.params.node ?? "");
  if (parseUpid(upid) === undefined) throw paramError({ upid: "unable to parse worker upid" });
  const task = ctx.sim.state.tasks.find((t) => t.upid === upid && t.node === node);
  if (task === undefined) throw paramError({ upid: "no such task" });
  return task;
}

/** Others' tasks need `Sys.Audit` on the node (`Tasks.pm` read_task_log / read_task_status). */
function requireTaskAudit(ctx: RouteContext, task: Task): void {
  if (task.user === taskUser(ctx.auth)) return;
  ctx.sim.require(ctx.auth, `/nodes/${task.node}`, "Sys.Audit");
}

function listNodeTasks(ctx: RouteContext): unknown {
  const { params, sim, auth } = ctx;
  const node = String(params.node);
  const start = num(params.start, 0);
  const limit = num(params.limit, 50);
  const source = str(params.source) ?? "archive";
  const userfilter = str(params.userfilter)?.toLowerCase();
  const typefilter = str(params.typefilter);
  const vmid = typeof params.vmid === "number" ? String(params.vmid) : undefined;
  const onlyErrors = params.errors === 1;
  const since = typeof params.since === "number" ? params.since : undefined;
  const until = typeof params.until === "number" ? params.until : undefined;
  const statusfilter = str(params.statusfilter);
  const statusTypes = statusfilter === undefined
    ? undefined
    : new Set(statusfilter.split(/[,;\s]+/).filter((s) => s !== ""));
  const auditor = sim.can(auth, `/nodes/${node}`, "Sys.Audit");
  const me = taskUser(auth);

  const matches = sim.state.tasks.filter((task) => {
    if (task.node !== node) return false;
    if (source === "archive" && task.status === "running") return false;
    if (source === "active" && task.status !== "running") return false;
    if (!auditor && task.user !== me) return false;
    if (userfilter !== undefined && !task.user.toLowerCase().includes(userfilter)) return false;
    if (typefilter !== undefined && task.type !== typefilter) return false;
    if (vmid !== undefined && task.id !== vmid) return false;
    if (onlyErrors && task.status === "stopped" && task.exitstatus === "OK") return false;
    if (since !== undefined && task.starttime < since) return false;
    if (until !== undefined && task.starttime > until) return false;
    if (statusTypes !== undefined && !statusTypes.has(statusType(task))) return false;
    return true;
  });
  // Newest first: by start time, then by start order.
  const ordered = matches.map((task, index) => ({ task, index }))
    .sort((a, b) => b.task.starttime - a.task.starttime || b.index - a.index)
    .map(({ task }) => task);
  const sparse = sim.state.quirks.sparseTaskRows;
  const page = ordered.slice(start, start + limit).map((task) => listItem(task, sparse));
  return withTotal(page, ordered.length);
}

function taskIndex(ctx: RouteContext): unknown {
  findTask(ctx);
  return [{ name: "log" }, { name: "status" }];
}

function taskStatus(ctx: RouteContext): unknown {
  const task = findTask(ctx);
  requireTaskAudit(ctx, task);
  const data = taskIdentity(task);
  data.status = task.status;
  if (task.status === "stopped") data.exitstatus = task.exitstatus ?? "unexpected status";
  return data;
}

/**
 * `PVE::Tools::dump_logfile`: 0-based `start`, `limit` 0 = to the end, 1-based `n`. With
 * `download=1` the raw log file as `text/plain` (`Tasks.pm` read_task_log), which refuses
 * `start` and `limit` before anything else.
 */
function taskLog(ctx: RouteContext): unknown {
  const task = findTask(ctx);
  requireTaskAudit(ctx, task);
  if (ctx.params.download === 1) {
    for (const name of ["start", "limit"]) {
      if (name in ctx.params) throw dieError(`Parameter '${name}' not allowed with 'download'`);
    }
    return download(task.log.map((line) => `${line}\n`).join(""), "text/plain");
  }
  const start = num(ctx.params.start, 0);
  let limit = num(ctx.params.limit, 50);
  const toEnd = limit === 0;
  const lines: { n: number; t: string }[] = [];
  let count = 0;
  for (const line of task.log) {
    if (count++ < start) continue;
    if (!toEnd) {
      if (limit <= 0) continue;
      limit--;
    }
    lines.push({ n: count, t: line });
  }
  if (count === 0) {
    count++;
    lines.push({ n: count, t: "no content" });
  }
  return withTotal(lines, count);
}

function stopTask(ctx: RouteContext): unknown {
  const task = findTask(ctx);
  if (task.user !== taskUser(ctx.auth)) {
    if (!ctx.sim.can(ctx.auth, `/nodes/${task.node}`, "Sys.Modify")) {
      throw permError(`/nodes/${task.node}`, "Sys.Modify");
    }
  }
  if (task.status === "running") task.abort.abort(new Error(INTERRUPT_MESSAGE));
  return null;
}

function clusterTasks(ctx: RouteContext): unknown {
  const { sim, auth } = ctx;
  const me = taskUser(auth);
  const result: Record<string, unknown>[] = [];
  const byNode = new Map<string, Task[]>();
  for (const task of sim.state.tasks) {
    const list = byNode.get(task.node) ?? [];
    list.push(task);
    byNode.set(task.node, list);
  }
  for (const [node, tasks] of byNode) {
    const auditor = sim.can(auth, `/nodes/${node}`, "Sys.Audit");
    const visible = tasks.filter((t) => auditor || t.user === me);
    const running = visible.filter((t) => t.status === "running").reverse();
    const finished = visible.filter((t) => t.status === "stopped")
      .sort((a, b) => (b.endtime ?? 0) - (a.endtime ?? 0) || b.starttime - a.starttime)
      .slice(0, 25);
    const sparse = sim.state.quirks.sparseTaskRows;
    for (const task of running) {
      const item = listItem(task, sparse);
      delete item.status;
      result.push({ ...item, saved: 0 });
    }
    for (const task of finished) result.push({ ...listItem(task, sparse), saved: 1 });
  }
  return result;
}

/** The tasks endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/nodes/{node}/tasks", listNodeTasks),
  route("GET", "/nodes/{node}/tasks/{upid}", taskIndex),
  route("GET", "/nodes/{node}/tasks/{upid}/status", taskStatus),
  route("GET", "/nodes/{node}/tasks/{upid}/log", taskLog),
  route("DELETE", "/nodes/{node}/tasks/{upid}", stopTask),
  route("GET", "/cluster/tasks", clusterTasks),
];
