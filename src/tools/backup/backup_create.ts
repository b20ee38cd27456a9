/**
 * `backup_create`: vzdump one or more guests (by vmid, by name, or every guest of a pool) to a
 * backup storage. vzdump runs per node, so the plan makes one `POST /nodes/{node}/vzdump` per
 * node with that node's guests, and the handler waits for each task with progress, then reads
 * its log to report every guest's outcome: the archive's volid, or why that guest failed (PVE
 * ends such a task `job errors`). When a node's vzdump cannot be started after another's was,
 * the started ones are still waited for and reported, and the remaining nodes are not asked.
 *
 * @module
 */

import { sendWrite } from "../_shared/write.ts";
import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import {
  PveError,
  PveNotFoundError,
  PveOutcomeUnknownError,
  PveValidationError,
} from "../../pve/errors.ts";
import { type Guest, pvePath } from "../../pve/mod.ts";
import { defineTool, type Plan, type ToolResult } from "../types.ts";
import { guestTitle, scopeOf } from "../_shared/guest.ts";
import { guestNameParam, poolParam, storageParam, vmidParam } from "../_shared/params.ts";
import { checkStorageId, findStorage, storagesOf } from "../_shared/storage.ts";
import { taskStateOf } from "../_shared/task.ts";

const MAX_GUESTS = 100;

const guestOutcome = z.object({
  vmid: z.number(),
  name: z.string().optional(),
  node: z.string(),
  result: z.enum(["ok", "failed", "running", "skipped"]),
  volid: z.string().optional(),
  error: z.string().optional(),
});

type GuestOutcome = z.infer<typeof guestOutcome>;

const outputSchema = z.object({
  storage: z.string(),
  guests: z.array(guestOutcome),
  ok: z.number(),
  failed: z.number(),
  tasks: z.array(z.object({
    node: z.string(),
    upid: z.string(),
    task_state: z.enum(["ok", "warnings", "failed", "timeout", "cancelled"]),
    exitstatus: z.string().optional(),
  })),
});

type Output = z.infer<typeof outputSchema>;

interface NodeBatch {
  node: string;
  guests: Guest[];
}

interface BackupState {
  storage: string;
  batches: NodeBatch[];
}

const states = new WeakMap<Plan, BackupState>();

/** Outcomes of the guests of one vzdump task, from its log. */
function parseLog(lines: readonly string[], storage: string): Map<number, Partial<GuestOutcome>> {
  const out = new Map<number, Partial<GuestOutcome>>();
  let current: number | undefined;
  for (const line of lines) {
    const start = /^INFO: Starting Backup of VM (\d+) /.exec(line);
    if (start !== null) {
      current = Number(start[1]);
      out.set(current, {});
      continue;
    }
    const failed = /^ERROR: Backup of VM (\d+) failed - (.*)$/.exec(line);
    if (failed !== null) {
      out.set(Number(failed[1]), { result: "failed", error: failed[2] ?? "" });
      continue;
    }
    if (current === undefined) continue;
    const entry = out.get(current) ?? {};
    const file = /^INFO: creating vzdump archive '(?:.*\/)?([^/']+)'$/.exec(line);
    if (file !== null) entry.volid = `${storage}:backup/${file[1]}`;
    const pbs = /^INFO: creating Proxmox Backup Server archive '([^']+)'$/.exec(line);
    if (pbs !== null) entry.volid = `${storage}:backup/${pbs[1]}`;
    if (/^INFO: Finished Backup of VM \d+ /.test(line)) entry.result = "ok";
    out.set(current, entry);
  }
  return out;
}

/** Backs up guests. */
export const backupCreate = defineTool({
  name: "backup_create",
  title: "Back up guests",
  description:
    "Back up guests (vmids, names, or all of a pool) to a backup storage with vzdump and wait; reports each guest's archive volid or why it failed. mode snapshot (default), suspend or stop.",
  toolset: "backup",
  capability: "change",
  inputSchema: z.object({
    vmids: z.array(vmidParam()).min(1).max(MAX_GUESTS).optional(),
    names: z.array(guestNameParam()).min(1).max(MAX_GUESTS).optional(),
    pool: poolParam("Every guest of this pool").optional(),
    storage: storageParam("Backup storage (storage_list content=backup)"),
    mode: z.enum(["snapshot", "suspend", "stop"]).optional(),
    compress: z.enum(["0", "gzip", "lzo", "zstd"]).optional().describe(
      "File storages; default zstd",
    ),
    notes: z.string().max(1024).optional().describe(
      "Notes template: {{guestname}}, {{vmid}}, {{node}}, {{cluster}}",
    ),
    protected: z.boolean().optional().describe("Exempt from pruning and deletion"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    checkStorageId(args.storage);
    if (args.notes !== undefined && /[\r\n]/.test(args.notes)) {
      throw new PveValidationError(
        "notes must be one line (PVE refuses a line feed in a notes template): join the lines, e.g. with ' - '.",
        { errors: { "notes-template": "contains a line feed" } },
      );
    }
    const selectors = [args.vmids, args.names, args.pool].filter((s) => s !== undefined).length;
    if (selectors !== 1) {
      throw new PveValidationError(
        selectors === 0
          ? "No guests given: pass vmids, names or pool."
          : "Give only one of vmids, names or pool.",
        { errors: { vmids: "property is missing and it is not optional" } },
      );
    }
    const inventory = await ctx.client.resources(undefined, { signal: ctx.signal });
    let guests: Guest[] = [];
    if (args.pool !== undefined) {
      guests = inventory.guests.filter((g) => g.pool === args.pool);
      if (guests.length === 0) {
        const pools = [...new Set(inventory.guests.flatMap((g) => g.pool ?? []))].sort();
        throw new PveNotFoundError(
          `Pool "${args.pool}" has no guests: known pools with guests are ${
            pools.join(", ") || "none"
          }.`,
        );
      }
    } else {
      const refs: (number | string)[] = [...(args.vmids ?? []), ...(args.names ?? [])];
      for (const ref of refs) {
        const matches = inventory.guests.filter((g) =>
          typeof ref === "number" ? g.vmid === ref : g.name.toLowerCase() === ref.toLowerCase()
        );
        if (matches.length === 0) {
          throw new PveNotFoundError(
            `No guest ${
              typeof ref === "number" ? ref : `named "${ref}"`
            } in this cluster: check with guest_list.`,
          );
        }
        if (matches.length > 1) {
          throw new PveValidationError(
            `The name "${ref}" matches several guests (${
              matches.map((g) => g.vmid).join(", ")
            }): pass vmids instead.`,
            { errors: { names: "ambiguous" } },
          );
        }
        guests.push(...matches);
      }
      guests = [...new Map(guests.map((g) => [g.vmid, g])).values()];
    }
    for (const guest of guests) ctx.assertInScope(scopeOf(guest));
    if (guests.length > MAX_GUESTS) {
      throw new PveValidationError(
        `Pool "${args.pool}" has ${guests.length} guests, more than ${MAX_GUESTS} per call: back them up in batches with vmids.`,
        { errors: { pool: "too many guests" } },
      );
    }
    const offline = guests.filter((g) => !g.nodeOnline);
    if (offline.length > 0) {
      throw new PveError(
        `${offline.map((g) => guestTitle(g)).join(", ")} ${
          offline.length === 1 ? "is" : "are"
        } on an offline node and cannot be backed up now: leave ${
          offline.length === 1 ? "it" : "them"
        } out, or wait until the node is back.`,
      );
    }
    const storage = findStorage(storagesOf(inventory), args.storage);
    if (!storage.content.includes("backup")) {
      throw new PveValidationError(
        `Storage "${storage.storage}" does not take backups (content ${
          storage.content.join(",")
        }): choose one with storage_list content=backup.`,
        { errors: { storage: `storage '${storage.storage}' does not support backups` } },
      );
    }
    const byNode = new Map<string, Guest[]>();
    for (const guest of [...guests].sort((a, b) => a.vmid - b.vmid)) {
      const list = byNode.get(guest.node) ?? [];
      list.push(guest);
      byNode.set(guest.node, list);
    }
    const batches = [...byNode.entries()].sort(([a], [b]) => a.localeCompare(b)).map((
      [node, list],
    ) => ({ node, guests: list }));
    for (const batch of batches) {
      const here = storage.nodes.find((n) => n.node === batch.node);
      if (here === undefined) {
        throw new PveValidationError(
          `Storage "${storage.storage}" is not available on node ${batch.node} (where ${
            batch.guests.map((g) => g.vmid).join(", ")
          } run${batch.guests.length === 1 ? "s" : ""}): choose a shared backup storage.`,
          { errors: { storage: "not available on node" } },
        );
      }
      if (!here.available) {
        throw new PveError(
          `Storage "${storage.storage}" does not answer on ${batch.node}: check it with storage_list before backing up.`,
          { node: batch.node },
        );
      }
    }
    const params: Record<string, string | number> = { storage: storage.storage };
    if (args.mode !== undefined) params.mode = args.mode;
    if (storage.type !== "pbs") params.compress = args.compress ?? "zstd";
    if (args.notes !== undefined && args.notes !== "") params["notes-template"] = args.notes;
    if (args.protected === true) params.protected = 1;
    const locked = guests.filter((g) => g.lock !== undefined);
    const lockNote = locked.length === 0
      ? ""
      : ` Locked now, so PVE will fail ${
        locked.map((g) => `${guestTitle(g)} (${g.lock})`).join(", ")
      } unless the lock clears first.`;
    const plan: Plan = {
      summary: `Back up ${guests.map((g) => guestTitle(g)).join(", ")} to "${storage.storage}" (${
        args.mode ?? "snapshot"
      } mode${args.protected ? ", protected" : ""}).${lockNote}`,
      scopeTargets: guests.map(scopeOf),
      calls: batches.map((batch) => ({
        method: "POST" as const,
        path: pvePath`/nodes/${batch.node}/vzdump`,
        params: { vmid: batch.guests.map((g) => g.vmid).join(","), ...params },
      })),
    };
    states.set(plan, { storage: storage.storage, batches });
    return plan;
  },
  async handler(_args, ctx, plan): Promise<ToolResult<Output>> {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("backup_create handler called without its plan");
    }
    const started: { batch: NodeBatch; upid: string }[] = [];
    // Once a vzdump has started, a later node's refusal is reported with the started ones' results
    // (not thrown, which would hide them), and no further node is asked.
    let refused: { batch: NodeBatch; error: PveError } | undefined;
    const unsent: NodeBatch[] = [];
    for (const [i, call] of plan.calls.entries()) {
      const batch = state.batches[i];
      if (batch === undefined) continue;
      if (refused !== undefined) {
        unsent.push(batch);
        continue;
      }
      ctx.progress(`Starting vzdump on ${batch.node} for ${batch.guests.map((g) => g.vmid)}`);
      try {
        started.push({ batch, upid: String(await sendWrite(ctx, call)) });
      } catch (error) {
        if (started.length === 0 || !(error instanceof PveError)) throw error;
        refused = { batch, error };
      }
    }
    const guests: GuestOutcome[] = [];
    const tasks: Output["tasks"] = [];
    for (const { batch, upid } of started) {
      const outcome = await ctx.waitTask(upid);
      const task: Output["tasks"][number] = {
        node: batch.node,
        upid,
        task_state: taskStateOf(outcome),
      };
      if ("exitstatus" in outcome) task.exitstatus = outcome.exitstatus;
      tasks.push(task);
      const finished = outcome.state !== "timeout" && outcome.state !== "aborted";
      let parsed = new Map<number, Partial<GuestOutcome>>();
      if (finished) {
        const log = await ctx.client.get(
          pvePath`/nodes/${batch.node}/tasks/${upid}/log`,
          { start: 0, limit: 0 },
          { signal: ctx.signal },
        ) as { t?: unknown }[];
        parsed = parseLog(
          (Array.isArray(log) ? log : []).map((l) => String(l.t ?? "")),
          state.storage,
        );
      }
      for (const guest of batch.guests) {
        const found = parsed.get(guest.vmid);
        const row: GuestOutcome = {
          vmid: guest.vmid,
          node: batch.node,
          result: !finished
            ? "running"
            : found === undefined
            ? (outcome.state === "failed" ? "failed" : "skipped")
            : found.result ?? "failed",
        };
        if (guest.name !== "") row.name = guest.name;
        if (found?.volid !== undefined && row.result === "ok") row.volid = found.volid;
        if (row.result === "failed") {
          row.error = found?.error ??
            ("exitstatus" in outcome ? outcome.exitstatus : "the task failed before this guest");
        }
        guests.push(row);
      }
    }
    const notRun = (batch: NodeBatch, error: string) => {
      for (const guest of batch.guests) {
        const row: GuestOutcome = { vmid: guest.vmid, node: batch.node, result: "failed", error };
        if (guest.name !== "") row.name = guest.name;
        guests.push(row);
      }
    };
    if (refused !== undefined) {
      notRun(refused.batch, refused.error.message.replace(/\.$/, ""));
      for (const batch of unsent) {
        notRun(batch, `not started, because starting the vzdump on ${refused.batch.node} failed`);
      }
    }
    const structured: Output = {
      storage: state.storage,
      guests,
      ok: guests.filter((g) => g.result === "ok").length,
      failed: guests.filter((g) => g.result === "failed").length,
      tasks,
    };
    const label = (g: GuestOutcome) => `${g.vmid}${g.name ? ` (${g.name})` : ""}`;
    const lines = [
      `Backed up ${structured.ok} of ${guests.length} guest(s) to "${state.storage}".`,
      ...guests.map((g) =>
        g.result === "ok"
          ? `${label(g)}: ${g.volid ?? "done"}`
          : g.result === "failed"
          ? `${label(g)}: FAILED - ${g.error}`
          : g.result === "running"
          ? `${label(g)}: still running`
          : `${label(g)}: not backed up (vzdump skipped it)`
      ),
    ];
    const running = tasks.filter((t) => t.task_state === "timeout" || t.task_state === "cancelled");
    if (running.length > 0) {
      lines.push(
        `Still running: ${
          running.map((t) => t.upid).join(", ")
        }: call task_wait with the UPID to follow it.`,
      );
    }
    if (refused?.error instanceof PveOutcomeUnknownError) {
      lines.push(
        `Whether vzdump started on ${refused.batch.node} is unknown: check task_list (node "${refused.batch.node}", type "vzdump") before backing up ${
          refused.batch.guests.map((g) => g.vmid).join(", ")
        } again.`,
      );
    } else if (structured.failed > 0) {
      lines.push("Fix the cause named for each failed guest, then back up those guests again.");
    }
    return structured.failed > 0
      ? { text: lines.join("\n"), structured, isError: true }
      : { text: lines.join("\n"), structured };
  },
});
