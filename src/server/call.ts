/**
 * The data path of one `tools/call`, in the order `tools/types.ts` documents:
 * input validation → policy (class → toolset → excluded) → for write tools `plan()` → scope
 * check on the plan's target → `dry_run` → confirmation for `destroy`/`exec`/`raw` →
 * `handler()` → audit line (every write attempt, whatever its outcome).
 *
 * Failures a model can act on are `isError` results with the next step; anything else a
 * handler throws is a bug and becomes a protocol error.
 *
 * @module
 */

import {
  type CallToolResult,
  type InputRequiredResult,
  isInputRequiredResult,
  ProtocolError,
  ProtocolErrorCode,
  type Server,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { z } from "zod";
import { getLog } from "../log.ts";
import { redactText } from "../redact.ts";
import type { AuditLog, AuditOutcome } from "../policy/audit.ts";
import { needsConfirmation } from "../policy/capability.ts";
import {
  confirmationError,
  type ConfirmationRules,
  explainToolHidden,
  PolicyError,
  type PolicyRules,
} from "../policy/policy.ts";
import { assertInScope, type Scope, type ScopeTarget } from "../policy/scope.ts";
import { PveError } from "../pve/errors.ts";
import type { GuestRef, PveClient } from "../pve/mod.ts";
import { isWriteTool, type ToolEntry } from "../tools/registry.ts";
import type { AnyTool, Plan, StepAudit } from "../tools/types.ts";
import { confirm } from "./confirm.ts";
import { type CallContext, createToolContext, type WaitRules } from "./context.ts";
import { SERVER_NAME } from "../version.ts";
import { progressReporter } from "./progress.ts";
import { type InputSchemaView, unknownArgumentsMessage, validationMessage } from "./validation.ts";
import {
  dryRunResult,
  errorResult,
  fromToolResult,
  pveErrorResult,
  sentence,
  withNotice,
} from "./results.ts";

/** The settings the call path reads (derived from the configuration). */
export interface CallSettings {
  policy: PolicyRules;
  scope: Scope;
  confirmation: ConfirmationRules;
  wait: WaitRules;
  /** Configured cluster names; the first is used when there is only one. */
  clusters: readonly string[];
}

/** Everything the call path needs besides the request. */
export interface CallDeps {
  server: Server;
  settings: CallSettings;
  clients: ReadonlyMap<string, PveClient>;
  audit: AuditLog;
  /** The names of the tools this session offers (for `access_check`). */
  offeredTools?: readonly string[];
  /** A line every result starts with (a rehearsal twin says so). */
  notice?: string;
}

const log = getLog("server.call");

/** A write attempt being followed for its audit line. */
interface Attempt {
  tool: AnyTool;
  cluster: string;
  args: Record<string, unknown>;
  dryRun: boolean;
  plan?: Plan;
}

/** Runs one call of a registered (visible) tool; every result carries `deps.notice`. */
export async function runToolCall(
  deps: CallDeps,
  entry: ToolEntry,
  rawArgs: unknown,
  ctx: ServerContext,
): Promise<CallToolResult | InputRequiredResult> {
  const result = await callTool(deps, entry, rawArgs, ctx);
  return isInputRequiredResult(result) ? result : withNotice(result, deps.notice);
}

async function callTool(
  deps: CallDeps,
  entry: ToolEntry,
  rawArgs: unknown,
  ctx: ServerContext,
): Promise<CallToolResult | InputRequiredResult> {
  const { tool } = entry;
  const defaultCluster = deps.settings.clusters[0] ?? "default";
  const given = typeof rawArgs === "object" && rawArgs !== null
    ? rawArgs as Record<string, unknown>
    : {};
  const inputSchema = entry.inputJsonSchema as InputSchemaView;
  const parsed = entry.input.safeParse(rawArgs ?? {}, { reportInput: true });
  const unknown = unknownArgumentsMessage(
    tool.name,
    given,
    Object.keys(inputSchema.properties ?? {}),
  );
  if (!parsed.success || unknown !== undefined) {
    const text = parsed.success
      ? unknown as string
      : validationMessage(tool.name, parsed.error, inputSchema);
    if (isWriteTool(tool)) {
      const cluster = typeof given.cluster === "string" ? given.cluster : defaultCluster;
      await audit(deps, { tool, cluster, args: given, dryRun: given.dry_run === true }, "error", {
        error: text,
      });
    }
    return errorResult(text);
  }
  const { dry_run: dryRunArg, cluster: clusterArg, ...args } = parsed.data as Record<
    string,
    unknown
  >;
  const cluster = typeof clusterArg === "string" ? clusterArg : defaultCluster;
  const attempt: Attempt = { tool, cluster, args, dryRun: dryRunArg === true };

  // The tool is registered only when visible; check again so a changed policy can never slip.
  const hidden = explainToolHidden(tool, deps.settings.policy);
  if (hidden !== undefined) return await refuse(deps, attempt, hidden);

  const client = deps.clients.get(cluster);
  if (client === undefined) {
    throw new ProtocolError(
      ProtocolErrorCode.InternalError,
      `No client for cluster "${cluster}": the server was built without it`,
    );
  }
  const context = createToolContext({
    client,
    cluster,
    signal: ctx.mcpReq.signal,
    progress: progressReporter(ctx),
    scope: deps.settings.scope,
    wait: deps.settings.wait,
    ...(deps.offeredTools === undefined ? {} : { offeredTools: deps.offeredTools }),
    auditStep: (step) =>
      audit(deps, attempt, step.outcome, { upid: step.upid, error: step.error }, step),
  });

  try {
    if (!isWriteTool(tool)) {
      const result = await tool.handler(args, context, undefined);
      return checkedResult(entry, fromToolResult(result));
    }
    if (tool.plan === undefined) {
      throw new Error(`Write tool "${tool.name}" has no plan(): every non-read tool needs one`);
    }
    const plan = await tool.plan(args, context);
    attempt.plan = plan;
    if (plan.target !== undefined) assertInScope(scopeTarget(plan.target), deps.settings.scope);
    for (const target of plan.scopeTargets ?? []) assertInScope(target, deps.settings.scope);
    if (attempt.dryRun) {
      await audit(deps, attempt, "dry-run");
      return checkedResult(entry, dryRunResult(plan));
    }
    if (needsConfirmation(tool)) {
      const answer = await confirm(deps.server, ctx, {
        tool: tool.name,
        capability: tool.capability,
        cluster,
        args,
        plan,
        fallback: deps.settings.confirmation.fallback,
      });
      if (answer.kind === "input_required") return answer.result;
      if (answer.kind === "unsupported") {
        return await refuse(deps, attempt, confirmationError(tool.name, "unavailable"));
      }
      if (answer.kind === "declined") {
        await audit(deps, attempt, ctx.mcpReq.signal.aborted ? "cancelled" : "denied", {
          error: answer.reason,
        });
        return errorResult(answer.reason);
      }
      if (answer.via === "fallback") {
        log.warning(
          "Running {tool} ({capability}) WITHOUT the user's confirmation: the client cannot " +
            'elicit and policy.confirmation.fallback is "allow"',
          { tool: tool.name, capability: tool.capability, cluster },
        );
      }
    }
    const unaudited = await auditUnwritable(deps, attempt);
    if (unaudited !== undefined) return errorResult(unaudited);
    const result = await tool.handler(args, context, plan);
    announceIfCancelled(ctx, attempt, context);
    const checked = checkedResult(entry, fromToolResult(result));
    const outcome = outcomeOf(context, result.isError === true);
    await audit(deps, attempt, outcome, {
      upid: lastUpid(context),
      ...(outcome === "ok" || outcome === "warnings" ? {} : { error: result.text }),
    });
    return checked;
  } catch (error) {
    announceIfCancelled(ctx, attempt, context);
    return await failure(deps, attempt, context, error);
  }
}

/**
 * A cancelled request gets no reply (the protocol drops it), so when a task was started the
 * client hears through a log notification — and stderr — that the task goes on, with its UPID.
 */
function announceIfCancelled(ctx: ServerContext, attempt: Attempt, context: CallContext): void {
  const upid = lastUpid(context);
  if (!ctx.mcpReq.signal.aborted || upid === undefined) return;
  const text = `${attempt.tool.name} was cancelled while waiting; task ${upid} goes on ` +
    "running on the cluster: call task_wait with this UPID to follow it.";
  log.info("{text}", { text });
  try {
    ctx.mcpReq.log("notice", text, SERVER_NAME).catch((error: unknown) => {
      log.debug("Could not send the cancellation notice: {error}", { error });
    });
  } catch (error) {
    // 2026-era sessions have no server-to-client log messages; stderr and the audit line remain.
    log.debug("Could not send the cancellation notice: {error}", { error });
  }
}

/** A call of a tool the policy hides: say why, and audit it when it would write. */
export async function runHiddenToolCall(
  deps: CallDeps,
  tool: AnyTool,
  rawArgs: unknown,
): Promise<CallToolResult> {
  const hidden = explainToolHidden(tool, deps.settings.policy);
  const args = typeof rawArgs === "object" && rawArgs !== null
    ? { ...rawArgs as Record<string, unknown> }
    : {};
  const cluster = typeof args.cluster === "string"
    ? args.cluster
    : deps.settings.clusters[0] ?? "default";
  const error = hidden ??
    new PolicyError("excluded", `Tool "${tool.name}" is not offered by this server`);
  return withNotice(
    await refuse(deps, { tool, cluster, args, dryRun: args.dry_run === true }, error),
    deps.notice,
  );
}

async function refuse(
  deps: CallDeps,
  attempt: Attempt,
  error: PolicyError,
): Promise<CallToolResult> {
  await audit(deps, attempt, "denied", { error: error.message });
  return errorResult(sentence(error.message));
}

async function failure(
  deps: CallDeps,
  attempt: Attempt,
  context: CallContext,
  error: unknown,
): Promise<CallToolResult> {
  if (error instanceof PolicyError) return await refuse(deps, attempt, error);
  if (context.signal.aborted) {
    const text = `Cancelled: ${attempt.tool.name} stopped at the client's request` +
      (lastUpid(context) === undefined
        ? "."
        : `; task ${lastUpid(context)} goes on running: call task_wait to follow it.`);
    await audit(deps, attempt, "cancelled", { upid: lastUpid(context), error: text });
    return errorResult(text);
  }
  if (error instanceof PveError) {
    const result = pveErrorResult(error);
    const text = result.content[0]?.type === "text" ? result.content[0].text : error.message;
    await audit(deps, attempt, "error", { upid: lastUpid(context), error: text });
    return result;
  }
  const detail = error instanceof Error ? error.message : String(error);
  await audit(deps, attempt, "error", { upid: lastUpid(context), error: detail });
  log.error("Tool {tool} failed with a bug: {error}", { tool: attempt.tool.name, error });
  throw new ProtocolError(
    ProtocolErrorCode.InternalError,
    `Tool "${attempt.tool.name}" failed unexpectedly: ${
      redactText(detail)
    }. This is a bug in proxmox-mcp; please report it`,
  );
}

/** Makes sure the structured content matches the advertised output schema (else: a bug). */
function checkedResult(entry: ToolEntry, result: CallToolResult): CallToolResult {
  if (result.isError === true && result.structuredContent === undefined) return result;
  const check = entry.output.safeParse(result.structuredContent);
  if (!check.success) {
    throw new ProtocolError(
      ProtocolErrorCode.InternalError,
      `Tool "${entry.tool.name}" returned data that does not match its output schema: ${
        issuesText(check.error)
      }. This is a bug in proxmox-mcp; please report it`,
    );
  }
  return result;
}

function outcomeOf(context: CallContext, isError: boolean): AuditOutcome {
  if (context.signal.aborted) return "cancelled";
  const last = context.tasks.at(-1);
  if (last !== undefined) {
    if (last.state === "timeout") return "timeout";
    if (last.state === "aborted") return "cancelled";
    if (last.state === "failed") return "error";
    if (last.state === "warnings" && !isError) return "warnings";
  }
  return isError ? "error" : "ok";
}

function lastUpid(context: CallContext): string | undefined {
  return context.tasks.at(-1)?.upid;
}

/**
 * Fail closed: a write that could not be recorded is not made. Checked right before the
 * handler, so a full disk or a removed audit directory refuses the call with nothing changed.
 */
async function auditUnwritable(deps: CallDeps, attempt: Attempt): Promise<string | undefined> {
  try {
    await deps.audit.check();
    return undefined;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    log.error("Refusing {tool}: the audit log cannot be written: {error}", {
      tool: attempt.tool.name,
      error,
    });
    return `Nothing was changed: ${attempt.tool.name} was refused because the audit log cannot ` +
      `be written (${sentence(redactText(detail)).replace(/\.$/, "")}). Fix audit.path or its ` +
      "permissions, or set audit.enabled to false.";
  }
}

async function audit(
  deps: CallDeps,
  attempt: Attempt,
  outcome: AuditOutcome,
  extra: { upid?: string | undefined; error?: string | undefined } = {},
  step?: StepAudit,
): Promise<void> {
  if (!isWriteTool(attempt.tool)) return;
  const target = step === undefined ? attempt.plan?.target : step.target;
  try {
    await deps.audit.record({
      cluster: attempt.cluster,
      tool: attempt.tool.name,
      ...(step === undefined ? {} : { step: step.step }),
      target: target === undefined ? undefined : auditTarget(target),
      arguments: attempt.args,
      dry_run: attempt.dryRun,
      outcome,
      upid: extra.upid,
      error: extra.error,
    });
  } catch (error) {
    log.error("Could not write the audit line for {tool}: {error}", {
      tool: attempt.tool.name,
      error,
    });
  }
}

function scopeTarget(target: GuestRef): ScopeTarget {
  const out: ScopeTarget = { vmid: target.vmid, node: target.node, tags: target.tags };
  if (target.pool !== undefined) out.pool = target.pool;
  return out;
}

/** The audit line's target: who, not the whole inventory row. */
function auditTarget(target: NonNullable<StepAudit["target"]>): Record<string, unknown> {
  return { vmid: target.vmid, node: target.node, type: target.type, name: target.name };
}

function issuesText(error: z.ZodError): string {
  return error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length === 0 ? "(arguments)" : issue.path.join(".");
    return `${path}: ${issue.message}`;
  }).join("; ");
}
