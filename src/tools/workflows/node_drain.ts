/**
 * `node_drain`: moves every guest off a node, one at a time — running VMs live, running
 * containers by restart migration (they stop here and start on the target), HA-managed guests
 * through the HA manager (`POST /cluster/ha/resources/{sid}/migrate`), stopped guests and
 * templates offline or left where they are, as asked. Each guest gets a destination of its own:
 * the node with the most free memory (counting what the drain already sends there) that has the
 * storages and bridges it needs and that PVE's precondition check allows — the shared chooser
 * of `_shared/migration.ts` — or a refusal with the reason (local disks without permission, a
 * CD-ROM image on local storage, no node with its bridge, …). The plan lists every guest with
 * its destination or refusal before anything moves; the result lists each outcome.
 *
 * Class `change`, but it asks the user to confirm (`confirm: true`) like a destructive call: one
 * call touches many guests. Resumable: running it again finds the moved guests gone from the
 * node, waits for moves still in progress, and moves the rest. Stops at the first migration that
 * fails; cancellation stops between guests.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { type Guest, type GuestRef, isUpid, parseUpid, pvePath } from "../../pve/mod.ts";
import {
  defineTool,
  type Plan,
  type PlannedCall,
  type ScopeTarget,
  type ToolContext,
} from "../types.ts";
import { findRunningTask, guestTitle, scopeOf } from "../_shared/guest.ts";
import {
  checkMovable,
  chooseMigrationTarget,
  haMigrateCall,
  migrateCall,
  type MigrationMode,
  readMigrationSource,
} from "../_shared/migration.ts";
import { nodeParam } from "../_shared/params.ts";
import { nodeInfo, requireOnlineNode } from "../_shared/placement.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import {
  auditStep,
  callText,
  continueSchema,
  outcomeDetail,
  pause,
  type RunResult,
  runResultSchema,
  runStep,
  statusOfOutcome,
  type StepOutcome,
  type WorkflowStep,
} from "../_shared/workflow.ts";

/** What the drain does with one guest. */
interface GuestVerdict {
  guest: GuestRef;
  action: "move" | "wait" | "refuse" | "leave";
  to?: string;
  mode?: MigrationMode;
  ha?: boolean;
  /** Why refused, left or waited for; where to and why there for a move. */
  reason: string;
  step?: WorkflowStep;
  /** The call that moves it. */
  call?: PlannedCall;
  /** A running task to wait for (a move already under way). */
  upid?: string;
}

interface DrainState {
  node: string;
  verdicts: GuestVerdict[];
  /** Guests on the node this server may not act on. */
  hidden: number;
  waitSeconds: number;
  args: Record<string, unknown>;
}

const states = new WeakMap<Plan, DrainState>();

const guestOutcome = z.enum([
  "moved",
  "failed",
  "timeout",
  "cancelled",
  "not_run",
  "refused",
  "left",
]);

const outputSchema = z.object({
  node: z.string(),
  result: runResultSchema,
  guests: z.array(z.object({
    vmid: z.number(),
    name: z.string().optional(),
    type: z.enum(["qemu", "lxc"]),
    outcome: guestOutcome,
    to: z.string().optional(),
    mode: z.enum(["live", "restart", "offline"]).optional(),
    ha: z.boolean().optional(),
    upid: z.string().optional(),
    reason: z.string().optional(),
  })),
  moved: z.number(),
  /** Guests still on the node (refused, left, not moved, and ones outside this server's scope). */
  remaining: z.number(),
  continue_with: continueSchema.optional(),
});

type Output = z.infer<typeof outputSchema>;
type GuestRow = Output["guests"][number];

const MODE_SHORT: Record<MigrationMode, string> = {
  live: "live",
  restart: "restart migration",
  offline: "offline",
};

/** The order guests move in: HA-managed, running VMs, running containers, stopped, templates. */
function rank(guest: GuestRef, ha: boolean): number {
  if (guest.template) return 4;
  if (guest.status !== "running") return 3;
  if (ha) return 0;
  return guest.type === "qemu" ? 1 : 2;
}

/** Drains a node. */
export const nodeDrain = defineTool({
  name: "node_drain",
  title: "Drain node",
  description:
    "Move every guest off a node (maintenance): running VMs live, running containers by restart migration, HA-managed guests through the HA manager; stopped guests and templates offline or left. Each guest goes to the fitting node with the most free memory, or is refused with the reason. Asks for confirmation. Resumable.",
  toolset: "workflows",
  capability: "change",
  confirm: true,
  inputSchema: z.object({
    node: nodeParam("Node to empty"),
    targets: z.array(nodeParam()).min(1).max(32).optional().describe(
      "Only move to these nodes",
    ),
    with_local_disks: z.boolean().optional().describe("Allow copying disks on local storage"),
    stopped: z.enum(["move", "leave"]).optional().describe(
      "Stopped guests and templates: move offline (default) or leave",
    ),
    wait_seconds: z.number().int().min(10).max(900).optional().describe(
      "Wait per guest (default 600)",
    ),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: true },
  async plan(args, ctx) {
    const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
    requireOnlineNode(resources, args.node);
    const online = resources.nodes.filter((n) => n.status === "online").map((n) => n.node);
    for (const target of args.targets ?? []) {
      if (target === args.node) {
        throw new PveValidationError(
          `targets names ${target}, the node being drained: name other nodes.`,
          { errors: { targets: "target is the drained node" } },
        );
      }
      requireOnlineNode(resources, target);
    }
    const candidates = (args.targets ?? online).filter((n) =>
      n !== args.node && online.includes(n)
    );
    const onNode = resources.guests.filter((g) => g.node === args.node);
    const visible = onNode.filter((g) => ctx.inScope(scopeOf(g)));
    const info = nodeInfo(ctx);
    const promised = new Map<string, number>();
    const moveStopped = (args.stopped ?? "move") === "move";
    const withLocalDisks = args.with_local_disks === true;

    const verdicts: GuestVerdict[] = [];
    const ordered = [...visible].sort((a, b) =>
      rank(a, a.hastate !== undefined) - rank(b, b.hastate !== undefined) || a.vmid - b.vmid
    );
    for (const guest of ordered) {
      const ha = guest.hastate !== undefined;
      if (!moveStopped && (guest.template || guest.status !== "running")) {
        verdicts.push({
          guest,
          action: "leave",
          reason: guest.template ? "a template (stopped: leave)" : "stopped (stopped: leave)",
        });
        continue;
      }
      if (ha && (guest.hastate === "migrate" || guest.hastate === "relocate")) {
        verdicts.push({ guest, action: "wait", ha, reason: "the HA manager is moving it" });
        continue;
      }
      if (guest.lock === "migrate") {
        const holder = await findRunningTask(guest, ctx);
        if (holder !== undefined) {
          verdicts.push({
            guest,
            action: "wait",
            upid: holder.upid,
            reason: `its migration is under way (task ${holder.upid})`,
          });
          continue;
        }
      }
      const allowed = candidates.filter((n) => ctx.inScope({ ...scopeOf(guest), node: n }));
      try {
        const source = await readMigrationSource(ctx, guest, { info });
        await checkMovable(ctx, source, { withLocalDisks, info });
        const target = await chooseMigrationTarget(source, allowed, { info, promised });
        if (source.running) {
          promised.set(target.node, (promised.get(target.node) ?? 0) + source.memoryBytes);
        }
        const haMove = source.ha;
        const mode: MigrationMode = haMove && guest.type === "lxc" && source.running
          ? "restart"
          : target.mode;
        verdicts.push({
          guest,
          action: "move",
          to: target.node,
          mode,
          ha: haMove,
          reason: `to ${target.node}, ${MODE_SHORT[mode]}${
            haMove ? " through HA" : ""
          } (${target.reason})`,
          step: {
            step: "migrate",
            describe: `${haMove ? "HA-migrate" : "migrate"} ${
              guestTitle(guest)
            } from ${args.node} to ${target.node} (${MODE_SHORT[mode]})`,
            calls: [],
            guest: { vmid: guest.vmid, node: guest.node, type: guest.type, name: guest.name },
          },
          call: haMove ? haMigrateCall(source, target.node) : migrateCall(source, target),
        });
      } catch (error) {
        if (!(error instanceof PveValidationError)) throw error;
        verdicts.push({ guest, action: "refuse", reason: error.message.replace(/\.$/, "") });
      }
    }
    const calls: PlannedCall[] = [];
    // Draining is an operation on the node (the scope must admit it as such), and on every guest
    // it moves, where it is and where it goes.
    const scopeTargets: ScopeTarget[] = [{ node: args.node }];
    for (const verdict of verdicts) {
      if (verdict.step !== undefined && verdict.call !== undefined) {
        verdict.step.calls = [calls.push(verdict.call) - 1];
        scopeTargets.push(scopeOf(verdict.guest), {
          ...scopeOf(verdict.guest),
          node: verdict.to ?? verdict.guest.node,
        });
      }
      if (verdict.action === "wait") scopeTargets.push(scopeOf(verdict.guest));
    }
    const hidden = onNode.length - visible.length;
    const line = (v: GuestVerdict) =>
      `${guestTitle(v.guest)} ${v.action === "move" ? "→" : "—"} ${
        v.action === "move"
          ? v.reason
          : v.action === "wait"
          ? `wait: ${v.reason}`
          : v.action === "leave"
          ? `left: ${v.reason}`
          : `refused: ${v.reason}`
      }`;
    const moving = verdicts.filter((v) => v.action === "move").length;
    const plan: Plan = {
      scopeTargets,
      summary: `Drain ${args.node}: move ${moving} of ${onNode.length} guest(s), one at a time${
        verdicts.length === 0 ? " (nothing to move)" : ""
      }${hidden > 0 ? `; ${hidden} guest(s) outside this server's scope stay` : ""}.${
        verdicts.map((v) => `\n- ${line(v)}`).join("")
      }`,
      calls,
    };
    // Capped once here: the HA manager's move is followed by polling, not only by task waits.
    const waitSeconds = ctx.waitLimit(args.wait_seconds ?? 600);
    states.set(plan, {
      node: args.node,
      verdicts,
      hidden,
      waitSeconds,
      args: { ...args },
    });
    return checkPlannedCalls(plan);
  },
  async handler(_args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("node_drain handler called without its plan");
    }
    const rows: GuestRow[] = [];
    let result: RunResult = "ok";
    let failure: string | undefined;
    const active = state.verdicts.filter((v) => v.action === "move" || v.action === "wait");
    let index = 0;
    for (const verdict of state.verdicts) {
      const row = rowOf(verdict);
      rows.push(row);
      if (verdict.action === "refuse" || verdict.action === "leave") continue;
      if (result !== "ok") continue;
      if (ctx.signal.aborted) {
        result = "cancelled";
        failure = `cancelled before ${guestTitle(verdict.guest)}`;
        continue;
      }
      index++;
      ctx.progress(
        `Guest ${index}/${active.length}: ${guestTitle(verdict.guest)} ${
          verdict.action === "wait" ? "— waiting for its move" : `→ ${verdict.to}`
        }`,
        (index - 1) / Math.max(1, active.length),
      );
      const outcome = verdict.action === "wait"
        ? await awaitMove(ctx, state, verdict)
        : verdict.ha
        ? await haMove(ctx, plan, state, verdict)
        : await runStep(ctx, plan, verdict.step as WorkflowStep, {
          check: `which node ${guestTitle(verdict.guest)} is on (guest_get)`,
          waitSeconds: state.waitSeconds,
        });
      if (outcome.upid !== undefined) row.upid = outcome.upid;
      if (verdict.to !== undefined) row.to = verdict.to;
      if (outcome.status === "done") {
        row.outcome = "moved";
        continue;
      }
      row.outcome = outcome.status;
      failure = outcome.detail;
      if (failure !== undefined) row.reason = failure.split("\n")[0] ?? failure;
      result = outcome.status;
    }
    const moved = rows.filter((r) => r.outcome === "moved").length;
    const remaining = rows.filter((r) => r.outcome !== "moved").length + state.hidden;
    const out: Output = { node: state.node, result, guests: rows, moved, remaining };
    const lines: string[] = [];
    const headline = result === "ok"
      ? remaining === 0
        ? `${state.node} is empty: moved ${moved} guest(s).`
        : `Moved ${moved} guest(s) off ${state.node}; ${remaining} remain there.`
      : `${
        result === "cancelled" ? "Cancelled" : "Stopped"
      } draining ${state.node} after moving ${moved} guest(s): ${failure ?? result}`;
    lines.push(headline);
    for (const row of rows) {
      const label = `${row.type === "qemu" ? "VM" : "CT"} ${row.vmid}${
        row.name ? ` (${row.name})` : ""
      }`;
      lines.push(
        `- ${label}: ${row.outcome}${
          row.to !== undefined && row.outcome === "moved" ? ` to ${row.to}` : ""
        }${row.reason !== undefined && row.outcome !== "moved" ? ` — ${row.reason}` : ""}`,
      );
    }
    if (state.hidden > 0) {
      lines.push(`${state.hidden} guest(s) this server may not act on stay on ${state.node}.`);
    }
    if (result !== "ok") {
      out.continue_with = { tool: "node_drain", arguments: state.args };
      lines.push(
        `${
          result === "timeout"
            ? "When the running task has finished (task_wait), continue"
            : "Fix the cause, then continue"
        } with: ${callText(out.continue_with)} — guests already moved are not moved again.`,
      );
    }
    return { text: lines.join("\n"), structured: out, isError: result === "failed" };
  },
});

function rowOf(verdict: GuestVerdict): GuestRow {
  const row: GuestRow = {
    vmid: verdict.guest.vmid,
    type: verdict.guest.type,
    outcome: verdict.action === "refuse"
      ? "refused"
      : verdict.action === "leave"
      ? "left"
      : "not_run",
  };
  if (verdict.guest.name !== "") row.name = verdict.guest.name;
  if (verdict.to !== undefined) row.to = verdict.to;
  if (verdict.mode !== undefined) row.mode = verdict.mode;
  if (verdict.ha === true) row.ha = true;
  if (verdict.action === "refuse" || verdict.action === "leave") row.reason = verdict.reason;
  return row;
}

/** The migration tasks of a guest on a node, newest first (their UPIDs). */
async function migrationTasks(ctx: ToolContext, guest: GuestRef): Promise<string[]> {
  const list = await ctx.client.get(pvePath`/nodes/${guest.node}/tasks`, {
    vmid: guest.vmid,
    source: "all",
    typefilter: guest.type === "qemu" ? "qmigrate" : "vzmigrate",
    limit: 20,
  }, { signal: ctx.signal }) as Record<string, unknown>[];
  return (Array.isArray(list) ? list : []).map((t) => String(t.upid)).filter((u) => isUpid(u));
}

/** Where the guest is now (fresh inventory). */
async function whereIs(ctx: ToolContext, guest: GuestRef): Promise<Guest | undefined> {
  const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
  return resources.guests.find((g) => g.vmid === guest.vmid);
}

/**
 * An HA-managed guest: ask the HA manager, find the migration task its LRM starts, wait for it,
 * and check the guest arrived.
 */
async function haMove(
  ctx: ToolContext,
  plan: Plan,
  state: DrainState,
  verdict: GuestVerdict,
): Promise<StepOutcome> {
  const step = verdict.step as WorkflowStep;
  const before = new Set(await migrationTasks(ctx, verdict.guest));
  const asked = await runStep(ctx, plan, { ...step, describe: `${step.describe}: request` }, {
    check: `the HA state and node of ${guestTitle(verdict.guest)} (ha_status, guest_get)`,
  });
  if (asked.status !== "done") return asked;
  const outcome = await followMotion(ctx, state, verdict, before);
  await auditStep(ctx, step, outcome);
  return outcome;
}

/** A move already under way when the drain was planned: wait for it. */
async function awaitMove(
  ctx: ToolContext,
  state: DrainState,
  verdict: GuestVerdict,
): Promise<StepOutcome> {
  const step: WorkflowStep = {
    step: "migrate",
    describe: `wait for the move of ${guestTitle(verdict.guest)} off ${state.node}`,
    calls: [],
    guest: {
      vmid: verdict.guest.vmid,
      node: verdict.guest.node,
      type: verdict.guest.type,
      name: verdict.guest.name,
    },
  };
  let outcome: StepOutcome;
  if (verdict.upid !== undefined) {
    const task = await ctx.waitTask(verdict.upid, { timeoutSeconds: state.waitSeconds });
    outcome = { status: statusOfOutcome(task), upid: verdict.upid, outcome: task };
    const detail = outcomeDetail(task);
    if (detail !== undefined) outcome.detail = detail;
  } else {
    outcome = await followMotion(ctx, state, verdict, new Set());
  }
  if (outcome.status === "done") {
    const now = await whereIs(ctx, verdict.guest);
    if (now !== undefined && now.node !== state.node) verdict.to = now.node;
  }
  await auditStep(ctx, step, outcome);
  return outcome;
}

/**
 * Follows a move the HA manager carries out: waits (bounded) for the LRM's migration task to
 * appear on the guest's node, waits for that task, then for the guest to be listed elsewhere.
 */
async function followMotion(
  ctx: ToolContext,
  state: DrainState,
  verdict: GuestVerdict,
  known: ReadonlySet<string>,
): Promise<StepOutcome> {
  const title = guestTitle(verdict.guest);
  const deadline = Date.now() + state.waitSeconds * 1000;
  let delay = 250;
  let upid: string | undefined;
  while (upid === undefined) {
    if (ctx.signal.aborted) {
      return { status: "cancelled", detail: `cancelled while the HA manager moves ${title}` };
    }
    const fresh = (await migrationTasks(ctx, verdict.guest)).find((u) => !known.has(u));
    if (fresh !== undefined) {
      upid = fresh;
      break;
    }
    const now = await whereIs(ctx, verdict.guest);
    if (now !== undefined && now.node !== state.node) return { status: "done" };
    if (Date.now() >= deadline) {
      return {
        status: "timeout",
        detail:
          `the HA manager has not started moving ${title} after ${state.waitSeconds} s (ha_status shows its state)`,
      };
    }
    ctx.progress(`Waiting for the HA manager to move ${title}`);
    await pause(delay, ctx.signal);
    delay = Math.min(delay * 2, 2000);
  }
  const remaining = Math.max(1, Math.round((deadline - Date.now()) / 1000));
  const task = await ctx.waitTask(upid, { timeoutSeconds: remaining });
  const outcome: StepOutcome = { status: statusOfOutcome(task), upid, outcome: task };
  const detail = outcomeDetail(task);
  if (detail !== undefined) outcome.detail = detail;
  if (outcome.status !== "done") return outcome;
  for (let i = 0; i < 20; i++) {
    const now = await whereIs(ctx, verdict.guest);
    if (
      now !== undefined && now.node !== state.node && now.hastate !== "migrate" &&
      now.hastate !== "relocate"
    ) {
      return outcome;
    }
    await pause(250, ctx.signal);
    if (ctx.signal.aborted) break;
  }
  return {
    status: "failed",
    upid,
    detail: `task ${upid} (${
      parseUpid(upid).type
    }) ended but ${title} is still on ${state.node}: check ha_status and guest_get`,
  };
}
