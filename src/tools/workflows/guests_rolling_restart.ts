/**
 * `guests_rolling_restart`: restarts guests selected by tag, pool or list, N at a time (default
 * one): each is shut down cleanly and started again (pending config changes apply), waited on
 * until it runs and — where its QEMU guest agent is enabled — until the agent answers, before
 * the next batch begins. HA-managed guests go through the HA manager (their stop and start are
 * requests, followed until done). Stops at the first guest that fails and says what was done,
 * what was not, and the state it left that guest in.
 *
 * Resumable: the result's `continue_with` call carries `restarted_since` (the cluster's clock
 * when the run began), so a guest that has started since then — restarted by this run, even if
 * its start outlived the wait — is only checked, not restarted again.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError, PveOutcomeUnknownError, PveValidationError } from "../../pve/errors.ts";
import { type GuestRef, pvePath } from "../../pve/mod.ts";
import { defineTool, type Plan, type PlannedCall, type ToolContext } from "../types.ts";
import { num, truthy } from "../_shared/format.ts";
import { guestPath, guestTitle, resolveGuestArg, scopeOf } from "../_shared/guest.ts";
import { poolParam, tagParam } from "../_shared/params.ts";
import { planPower, type PowerOutput, runPower } from "../_shared/power.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import {
  auditStep,
  callText,
  continueSchema,
  pause,
  type RunResult,
  runResultSchema,
  type WorkflowStep,
} from "../_shared/workflow.ts";

/** At most this many guests per call. */
const MAX_GUESTS = 100;

/** What the restart does with one guest. */
interface Target {
  guest: GuestRef;
  action: "restart" | "start" | "check" | "skip";
  agent: boolean;
  ha: boolean;
  reason?: string;
}

interface RestartState {
  targets: Target[];
  batch: number;
  agentSeconds: number;
  since?: number;
  args: Record<string, unknown>;
  selection: string;
}

const states = new WeakMap<Plan, RestartState>();

const outcomeSchema = z.enum([
  "restarted",
  "started",
  "already",
  "skipped",
  "failed",
  "timeout",
  "cancelled",
  "not_run",
]);

const outputSchema = z.object({
  result: runResultSchema,
  guests: z.array(z.object({
    vmid: z.number(),
    name: z.string().optional(),
    type: z.enum(["qemu", "lxc"]),
    node: z.string(),
    outcome: outcomeSchema,
    agent_answers: z.boolean().optional(),
    upid: z.string().optional(),
    reason: z.string().optional(),
    status: z.string().optional(),
  })),
  restarted: z.number(),
  continue_with: continueSchema.optional(),
});

type Output = z.infer<typeof outputSchema>;
type Row = Output["guests"][number];

/** Restarts guests in batches. */
export const guestsRollingRestart = defineTool({
  name: "guests_rolling_restart",
  title: "Rolling restart",
  description:
    "Restart guests chosen by tag, pool or vmids, batch_size at a time (default 1): clean shutdown, start, wait until running and, where the guest agent is enabled, answering. Stops at the first failure and says what was done and not. Resumable via the returned call.",
  toolset: "workflows",
  capability: "lifecycle",
  inputSchema: z.object({
    tag: tagParam("Guests with this tag").optional(),
    pool: poolParam("Guests in this pool").optional(),
    vmids: z.array(z.number().int().min(100).max(999_999_999)).min(1).max(MAX_GUESTS)
      .optional().describe("These guests, in this order"),
    batch_size: z.number().int().min(1).max(10).optional().describe("Guests at once (default 1)"),
    include_stopped: z.boolean().optional().describe("Also start selected guests that are stopped"),
    agent_seconds: z.number().int().min(1).max(900).optional().describe(
      "Wait for the agent per guest (default 120)",
    ),
    restarted_since: z.number().int().min(0).max(4_102_444_800).optional().describe(
      "From continue_with: guests started since this epoch count as done",
    ),
  }),
  outputSchema,
  annotations: { ...annotationsFor("lifecycle"), idempotentHint: false },
  async plan(args, ctx) {
    const given = [args.tag, args.pool, args.vmids].filter((v) => v !== undefined).length;
    if (given !== 1) {
      throw new PveValidationError(
        "Choose the guests one way: give exactly one of tag, pool or vmids.",
        { errors: { tag: "exactly one of tag, pool, vmids" } },
      );
    }
    let guests: GuestRef[];
    let selection: string;
    if (args.vmids !== undefined) {
      guests = [];
      for (const vmid of new Set(args.vmids)) guests.push(await resolveGuestArg({ vmid }, ctx));
      selection = `guests ${args.vmids.join(", ")}`;
    } else {
      const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
      const tag = args.tag?.toLowerCase();
      guests = resources.guests.filter((g) =>
        (tag === undefined || g.tags.some((t) => t.toLowerCase() === tag)) &&
        (args.pool === undefined || g.pool === args.pool) && ctx.inScope(scopeOf(g))
      );
      selection = args.tag !== undefined ? `tag ${args.tag}` : `pool ${args.pool}`;
      if (args.pool !== undefined && !resources.pools.includes(args.pool)) {
        throw new PveValidationError(
          `Pool "${args.pool}" does not exist: use one of ${
            resources.pools.join(", ") || "(none)"
          }.`,
          { errors: { pool: `pool '${args.pool}' does not exist` } },
        );
      }
      if (guests.length === 0) {
        throw new PveValidationError(
          `No guest matches ${selection}${
            ctx.inScope({}) ? "" : " within this server's scope"
          }: check the ${args.tag !== undefined ? "tag (guest_list shows tags)" : "pool"}.`,
          { errors: { [args.tag !== undefined ? "tag" : "pool"]: "no guest matches" } },
        );
      }
      guests.sort((a, b) => a.vmid - b.vmid);
    }
    if (guests.length > MAX_GUESTS) {
      throw new PveValidationError(
        `${selection} selects ${guests.length} guests, more than the ${MAX_GUESTS} one call restarts: narrow it (a tag or vmids).`,
        { errors: { tag: "too many guests" } },
      );
    }
    const offline = guests.find((g) => !g.nodeOnline);
    if (offline !== undefined) {
      throw new PveError(
        `${
          guestTitle(offline)
        } is on node ${offline.node}, which is offline: bring the node back, or leave the guest out (vmids).`,
        { node: offline.node },
      );
    }
    const now = args.restarted_since === undefined
      ? undefined
      : await clusterTime(ctx, guests[0]?.node ?? "");
    const targets: Target[] = [];
    const calls: PlannedCall[] = [];
    for (const guest of guests) {
      const current = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
        signal: ctx.signal,
      }) as Record<string, unknown>;
      const running = current.status === "running";
      const agent = guest.type === "qemu" && truthy(current.agent);
      const ha = truthy((current.ha as Record<string, unknown> | undefined)?.managed);
      const target: Target = { guest, action: "restart", agent, ha };
      if (guest.template) {
        target.action = "skip";
        target.reason = "a template";
      } else if (!running) {
        target.action = args.include_stopped ? "start" : "skip";
        if (!args.include_stopped) target.reason = "stopped (include_stopped starts it)";
      } else if (
        args.restarted_since !== undefined && now !== undefined &&
        now - (num(current.uptime) ?? 0) >= args.restarted_since
      ) {
        target.action = "check";
        target.reason = "started since restarted_since";
      }
      if (target.action === "restart") {
        calls.push({ method: "POST", path: `${guestPath(guest)}/status/shutdown` });
      }
      if (target.action === "restart" || target.action === "start") {
        calls.push({ method: "POST", path: `${guestPath(guest)}/status/start` });
      }
      if (agent && target.action !== "skip") {
        calls.push({ method: "POST", path: `${guestPath(guest)}/agent/ping` });
      }
      targets.push(target);
    }
    const batch = args.batch_size ?? 1;
    const acting = targets.filter((t) => t.action !== "skip");
    const plan: Plan = {
      scopeTargets: acting.map((t) => scopeOf(t.guest)),
      summary: `Rolling restart of ${selection}, ${batch} at a time: ${
        targets.map((t) =>
          `${guestTitle(t.guest)} on ${t.guest.node} (${
            t.action === "restart"
              ? `shut down, start${t.agent ? ", wait for its agent" : ""}`
              : t.action === "start"
              ? `start${t.agent ? ", wait for its agent" : ""}`
              : t.action === "check"
              ? `${t.reason}: only check it${t.agent ? "s agent" : " runs"}`
              : `skip: ${t.reason}`
          }${t.ha ? "; HA-managed" : ""})`
        ).join("; ")
      }.`,
      calls,
    };
    const state: RestartState = {
      targets,
      batch,
      agentSeconds: args.agent_seconds ?? 120,
      args: { ...args },
      selection,
    };
    if (args.restarted_since !== undefined) state.since = args.restarted_since;
    states.set(plan, state);
    return checkPlannedCalls(plan);
  },
  async handler(_args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("guests_rolling_restart handler called without its plan");
    }
    const acting = state.targets.filter((t) => t.action !== "skip");
    const since = state.since ?? await clusterTime(ctx, acting[0]?.guest.node ?? "");
    const rows = new Map<number, Row>();
    for (const target of state.targets) rows.set(target.guest.vmid, rowOf(target));
    let result = "ok" as RunResult;
    let failure: { row: Row; detail: string } | undefined;
    for (let i = 0; i < acting.length; i += state.batch) {
      if (ctx.signal.aborted) {
        result = "cancelled";
        break;
      }
      const batch = acting.slice(i, i + state.batch);
      ctx.progress(
        `Batch ${Math.floor(i / state.batch) + 1}: ${
          batch.map((t) => guestTitle(t.guest)).join(", ")
        }`,
        i / acting.length,
      );
      const outcomes = await Promise.all(batch.map((t) => restartOne(ctx, state, t)));
      for (const [j, outcome] of outcomes.entries()) {
        const target = batch[j] as Target;
        const row = rows.get(target.guest.vmid) as Row;
        Object.assign(row, outcome.row);
        if (outcome.detail !== undefined && result === "ok") {
          result = outcome.row.outcome === "timeout"
            ? "timeout"
            : outcome.row.outcome === "cancelled"
            ? "cancelled"
            : "failed";
          failure = { row, detail: outcome.detail };
        }
      }
      if (result !== "ok") break;
    }
    const list = [...rows.values()];
    const restarted = list.filter((r) => r.outcome === "restarted" || r.outcome === "started")
      .length;
    const out: Output = { result, guests: list, restarted };
    const label = (r: Row) =>
      `${r.type === "qemu" ? "VM" : "CT"} ${r.vmid}${r.name ? ` (${r.name})` : ""}`;
    const lines: string[] = [];
    if (result === "ok") {
      lines.push(`Rolling restart of ${state.selection} done: ${restarted} restarted.`);
    } else {
      lines.push(
        `${
          result === "cancelled" ? "Cancelled" : "Stopped"
        } the rolling restart of ${state.selection}${
          failure === undefined ? "" : ` at ${label(failure.row)}: ${failure.detail}`
        }`,
      );
    }
    const done = list.filter((r) => ["restarted", "started", "already"].includes(r.outcome));
    const notDone = list.filter((r) =>
      ["not_run", "failed", "timeout", "cancelled"].includes(r.outcome)
    );
    lines.push(
      `Done: ${done.map(label).join(", ") || "none"}.${
        notDone.length > 0 ? ` Not done: ${notDone.map(label).join(", ")}.` : ""
      }${
        list.some((r) => r.outcome === "skipped")
          ? ` Skipped: ${
            list.filter((r) => r.outcome === "skipped").map((r) =>
              `${label(r)} (${r.reason})`
            ).join(", ")
          }.`
          : ""
      }`,
    );
    if (failure !== undefined && failure.row.status !== undefined) {
      lines.push(`${label(failure.row)} is ${failure.row.status} now.`);
    }
    if (result !== "ok") {
      const remaining = list.filter((r) =>
        ["not_run", "failed", "timeout", "cancelled"].includes(r.outcome)
      )
        .map((r) => r.vmid);
      const args: Record<string, unknown> = {
        vmids: remaining,
        include_stopped: true,
        ...(state.args.batch_size === undefined ? {} : { batch_size: state.args.batch_size }),
        ...(state.args.agent_seconds === undefined
          ? {}
          : { agent_seconds: state.args.agent_seconds }),
      };
      if (since !== undefined) args.restarted_since = since;
      out.continue_with = { tool: "guests_rolling_restart", arguments: args };
      lines.push(
        `${
          result === "timeout"
            ? "When it has come up, continue"
            : result === "cancelled"
            ? "Continue"
            : "Fix the cause, then continue"
        } with: ${
          callText(out.continue_with)
        } — guests started since the run began are only checked.`,
      );
    }
    return { text: lines.join("\n"), structured: out, isError: result === "failed" };
  },
});

function rowOf(target: Target): Row {
  const row: Row = {
    vmid: target.guest.vmid,
    type: target.guest.type,
    node: target.guest.node,
    outcome: target.action === "skip" ? "skipped" : "not_run",
  };
  if (target.guest.name !== "") row.name = target.guest.name;
  if (target.action === "skip" && target.reason !== undefined) row.reason = target.reason;
  return row;
}

/** The cluster's clock (`GET /nodes/{node}/time`), or undefined when it cannot be read. */
async function clusterTime(ctx: ToolContext, node: string): Promise<number | undefined> {
  if (node === "") return undefined;
  try {
    const answer = await ctx.client.get(pvePath`/nodes/${node}/time`, undefined, {
      signal: ctx.signal,
    }) as Record<string, unknown>;
    return num(answer?.time);
  } catch (error) {
    if (error instanceof PveError) return undefined;
    throw error;
  }
}

/** A step for the audit line of one action on one guest. */
function auditOf(target: Target, describe: string): WorkflowStep {
  const g = target.guest;
  return {
    step: describe,
    describe: `${describe} ${guestTitle(g)}`,
    calls: [],
    guest: { vmid: g.vmid, node: g.node, type: g.type, name: g.name },
  };
}

/** Runs one power action through the power tools' code; audits it. */
async function power(
  ctx: ToolContext,
  target: Target,
  action: "shutdown" | "start",
): Promise<PowerOutput & { text: string; failed: boolean }> {
  const plan = await planPower({ vmid: target.guest.vmid }, ctx, action);
  const result = await runPower(plan, ctx);
  const out = result.structured;
  const failed = result.isError === true || out.result === "timeout" || out.result === "cancelled";
  await auditStep(ctx, auditOf(target, action === "shutdown" ? "shut down" : "start"), {
    status: out.result === "timeout"
      ? "timeout"
      : out.result === "cancelled"
      ? "cancelled"
      : failed
      ? "failed"
      : "done",
    ...(out.upid === undefined ? {} : { upid: out.upid }),
    ...(failed ? { detail: result.text } : {}),
  });
  return { ...out, text: result.text, failed };
}

/** Polls `status/current` until the guest is `wanted`, its HA service fails, or time runs out. */
async function awaitStatus(
  ctx: ToolContext,
  guest: GuestRef,
  wanted: "running" | "stopped",
  seconds: number,
): Promise<{ ok: boolean; status: string; detail?: string }> {
  const limit = ctx.waitLimit(seconds);
  const deadline = Date.now() + limit * 1000;
  let delay = 250;
  for (;;) {
    const current = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
      signal: ctx.signal,
    }) as Record<string, unknown>;
    const status = String(current.status ?? "unknown");
    if (status === wanted) return { ok: true, status };
    const ha = current.ha as Record<string, unknown> | undefined;
    if (ha?.state === "error") {
      return {
        ok: false,
        status,
        detail: `the HA manager could not ${
          wanted === "running" ? "start" : "stop"
        } it (HA state error; ha_status and task_list show why)`,
      };
    }
    if (Date.now() >= deadline || ctx.signal.aborted) {
      return { ok: false, status, detail: `still ${status} after ${limit} s` };
    }
    await pause(Math.min(delay, deadline - Date.now()), ctx.signal);
    delay = Math.min(delay * 2, 2000);
  }
}

/**
 * Polls the guest agent until it answers `ping` (true), time runs out (false), or PVE refuses the
 * question itself (its message: a permission, a VM gone).
 */
async function awaitAgent(
  ctx: ToolContext,
  target: Target,
  seconds: number,
): Promise<boolean | string> {
  const deadline = Date.now() + ctx.waitLimit(seconds) * 1000;
  let delay = 250;
  for (;;) {
    try {
      await ctx.client.request("POST", `${guestPath(target.guest)}/agent/ping`, {
        signal: ctx.signal,
      });
      return true;
    } catch (error) {
      if (!(error instanceof PveError)) throw error;
      const text = error.pveMessage ?? error.message;
      // A ping without a definite answer (a dropped connection) is asked again, like silence.
      const silent = error instanceof PveOutcomeUnknownError ||
        /agent is not running|got timeout|not running/i.test(text);
      if (!ctx.signal.aborted && !silent) {
        return error.message.replace(/\.$/, "");
      }
    }
    if (Date.now() >= deadline || ctx.signal.aborted) return false;
    ctx.progress(`Waiting for the guest agent of ${guestTitle(target.guest)}`);
    await pause(Math.min(delay, deadline - Date.now()), ctx.signal);
    delay = Math.min(delay * 2, 2000);
  }
}

/** Restarts (or starts, or checks) one guest; `detail` is set when it did not come back. */
async function restartOne(
  ctx: ToolContext,
  state: RestartState,
  target: Target,
): Promise<{ row: Partial<Row>; detail?: string }> {
  const title = guestTitle(target.guest);
  if (target.action === "restart") {
    const down = await power(ctx, target, "shutdown");
    if (down.failed) {
      return {
        row: {
          outcome: outcomeOf(down.result),
          status: "running",
          ...(down.upid ? { upid: down.upid } : {}),
        },
        detail: down.exitstatus !== undefined
          ? `its shutdown failed (task ${down.upid}): ${down.exitstatus}`
          : down.text,
      };
    }
    if (down.result === "requested") {
      const stopped = await awaitStatus(ctx, target.guest, "stopped", 300);
      if (!stopped.ok) {
        return {
          row: { outcome: "failed", status: stopped.status },
          detail: `${title} did not stop: ${stopped.detail}`,
        };
      }
    }
  }
  if (target.action === "restart" || target.action === "start") {
    if (ctx.signal.aborted) {
      return {
        row: { outcome: "cancelled", status: "stopped" },
        detail: "cancelled before its start",
      };
    }
    const up = await power(ctx, target, "start");
    if (up.failed) {
      const now = await awaitStatus(ctx, target.guest, "running", 0);
      return {
        row: {
          outcome: outcomeOf(up.result),
          status: now.status,
          ...(up.upid ? { upid: up.upid } : {}),
        },
        detail: up.exitstatus !== undefined
          ? `its start failed (task ${up.upid}): ${up.exitstatus}${
            up.log_tail !== undefined && up.log_tail.length > 1
              ? `\n${up.log_tail.slice(-5, -1).join("\n")}`
              : ""
          }`
          : up.text,
      };
    }
    const running = await awaitStatus(
      ctx,
      target.guest,
      "running",
      up.result === "requested" ? 300 : 30,
    );
    if (!running.ok) {
      return {
        row: { outcome: "failed", status: running.status, ...(up.upid ? { upid: up.upid } : {}) },
        detail: `${title} did not come up: ${running.detail}`,
      };
    }
  }
  const row: Partial<Row> = {
    outcome: target.action === "restart"
      ? "restarted"
      : target.action === "start"
      ? "started"
      : "already",
    status: "running",
  };
  if (target.agent) {
    const agentSeconds = ctx.waitLimit(state.agentSeconds);
    const answer = await awaitAgent(ctx, target, agentSeconds);
    const answers = answer === true;
    row.agent_answers = answers;
    await auditStep(ctx, auditOf(target, "wait for the agent of"), {
      status: answers ? "done" : typeof answer === "string" ? "failed" : "timeout",
      ...(answers ? {} : {
        detail: typeof answer === "string" ? answer : `no answer after ${agentSeconds} s`,
      }),
    });
    if (typeof answer === "string") {
      return {
        row: { ...row, outcome: "failed" },
        detail: `${title} runs, but asking its guest agent failed: ${answer}`,
      };
    }
    if (!answers) {
      return {
        row: { ...row, outcome: "timeout" },
        detail:
          `${title} runs, but its guest agent did not answer within ${agentSeconds} s: check the guest's console, or start qemu-guest-agent inside it`,
      };
    }
  }
  return { row };
}

function outcomeOf(result: PowerOutput["result"]): Row["outcome"] {
  if (result === "timeout") return "timeout";
  if (result === "cancelled") return "cancelled";
  return "failed";
}
