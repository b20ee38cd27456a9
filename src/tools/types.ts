/**
 * The shape of a tool. A tool is data: schema, annotations, toolset, capability class and
 * handler side by side. One registry (`registry.ts`) turns the list in `mod.ts` into an MCP
 * server; nothing else registers tools.
 *
 * The server owns the data path around a handler, in this order: input validation → policy
 * (class → toolset → excluded) → for write tools `plan()` (resolves the target and states the
 * exact PVE calls) → scope check on the plan's target → `dry_run` (returns the plan, calls
 * nothing) → confirmation for `destroy`/`exec`/`raw` (and tools that set `confirm`) →
 * `handler()` → audit line.
 *
 * @module
 */

import type { z } from "zod";
import type { Capability } from "../policy/capability.ts";
import type { GuestRef, PveClient, TaskOutcome } from "../pve/mod.ts";

/** MCP tool annotations; every tool sets all four explicitly. */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** One Proxmox VE API call a write tool makes, or would make under `dry_run`. */
export interface PlannedCall {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path below `/api2/json`, segments already encoded. */
  path: string;
  /** Parameters as sent (never secrets). */
  params?: Record<string, string | number | boolean | string[]>;
}

/** A config change, key by key (for config-changing tools under `dry_run`). */
export interface ConfigDiffEntry {
  key: string;
  before?: string | number;
  after?: string | number;
}

/** What a write tool is about to do. */
export interface Plan {
  /** The guest acted on, when there is one (scope is checked against it). */
  target?: GuestRef;
  /**
   * Further targets the scope must admit before anything happens: the guest a create, clone or
   * restore makes (its vmid, node, pool, tags), the guest as it will be after a migration (its
   * target node), every guest a multi-guest tool touches.
   */
  scopeTargets?: ScopeTarget[];
  /** One sentence for the human: shown in confirmations, dry runs and the audit line. */
  summary: string;
  /** The exact calls, in order. */
  calls: PlannedCall[];
  /** For config changes: the diff. */
  diff?: ConfigDiffEntry[];
}

/** A scope query: every configured scope dimension must match. */
export interface ScopeTarget {
  vmid?: number;
  node?: string;
  pool?: string;
  tags?: string[];
}

/** Services a handler may use. */
export interface ToolContext {
  /** The client of the selected cluster. */
  client: PveClient;
  /** The selected cluster's name. */
  cluster: string;
  /** Aborted when the MCP client cancels the request. */
  signal: AbortSignal;
  /** Sends an MCP progress notification (a no-op when the client gave no progress token). */
  progress(message: string, fraction?: number): void;
  /** Whether a guest is inside the configured scope (list tools hide the others). */
  inScope(target: ScopeTarget): boolean;
  /** Throws a scope `PolicyError` unless the guest is inside the configured scope (read tools on one guest). */
  assertInScope(target: ScopeTarget): void;
  /**
   * Names of the tools the policy offers in this session, when the server tells (`access_check`
   * then checks exactly those; without it, every tool it knows).
   */
  offeredTools?: readonly string[];
  /**
   * Waits for a task under the configured wait policy, forwarding progress and honouring
   * cancellation; `timeoutSeconds` is capped by the policy's maximum.
   */
  waitTask(upid: string, options?: { timeoutSeconds?: number }): Promise<TaskOutcome>;
  /**
   * How long a wait that is not a task's (a guest agent answering, a status reached) may take
   * when `seconds` is asked: capped by the policy's maximum, like `waitTask`'s.
   */
  waitLimit(seconds: number): number;
  /**
   * Writes the audit line of one step of a multi-step tool (a workflow), before the next step
   * starts; the call's own line still follows when the call ends. Absent where nothing is
   * audited.
   */
  auditStep?(step: StepAudit): Promise<void>;
}

/** One step of a multi-step tool, as its audit line records it. */
export interface StepAudit {
  /** What the step did, in a few words: `clone 9000 into VM 123`, `migrate CT 201 to pve3`. */
  step: string;
  /** The guest the step acted on. */
  target?: { vmid: number; node: string; type: "qemu" | "lxc"; name?: string | undefined };
  /** How the step ended. */
  outcome: "ok" | "warnings" | "error" | "timeout" | "cancelled";
  /** The task the step started, if any. */
  upid?: string;
  /** What went wrong, when it did. */
  error?: string;
}

/** What a handler returns: a short human summary plus data matching the output schema. */
export interface ToolResult<O> {
  text: string;
  structured: O;
  /** A failure the model can act on (the text says the next step). */
  isError?: boolean;
}

/** A tool. `I`/`O` are zod object schemas for input and output. */
export interface ToolDefinition<
  I extends z.ZodObject = z.ZodObject,
  O extends z.ZodObject = z.ZodObject,
> {
  /** snake_case, `<noun>_<verb>`, unique. */
  name: string;
  title: string;
  /** What it does and when to use it; within the description budget. */
  description: string;
  /** The toolset it belongs to (e.g. `inventory`, `lifecycle`, `snapshots`, `tasks`, `api`). */
  toolset: string;
  capability: Capability;
  /**
   * Ask the user to confirm every call although the class would not (`destroy`, `exec` and `raw`
   * always ask): for a tool of a milder class whose one call touches many guests, such as a node
   * drain. It adds confirmation only; the class, and so the annotations, stay as they are.
   */
  confirm?: boolean;
  /** Input schema, without `dry_run`/`cluster` (the registry adds those where they apply). */
  inputSchema: I;
  /**
   * Output schema of a real run. For write tools the registry advertises
   * `anyOf [outputSchema, DryRunResult]`, where `DryRunResult` is
   * `{dry_run: true, summary, calls, diff?}` (the plan, returned under `dry_run`), so a dry
   * run validates against what `tools/list` announced; tools never build that shape.
   */
  outputSchema: O;
  annotations: ToolAnnotations;
  /** Write tools: resolve the target and state the exact calls (required unless `capability` is `read`). */
  plan?: (args: z.infer<I>, ctx: ToolContext) => Promise<Plan>;
  /** Does the work; write tools receive their plan. */
  handler: (
    args: z.infer<I>,
    ctx: ToolContext,
    plan: Plan | undefined,
  ) => Promise<ToolResult<z.infer<O>>>;
}

/** Erases a tool's generic parameters so tools of different shapes fit in one list. */
// deno-lint-ignore no-explicit-any
export type AnyTool = ToolDefinition<any, any>;

/** Identity helper that keeps a tool's inferred types while checking it against the shape. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  tool: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return tool;
}
