/**
 * Turning what the call path produces into MCP `tools/call` results: handler results,
 * refusals and Proxmox VE failures the model can act on. Only bugs become protocol errors;
 * everything here is a result (`isError` where something failed).
 *
 * Error results carry text only: a `structuredContent` that does not match the tool's output
 * schema would make strict clients reject the whole result.
 *
 * @module
 */

import type { CallToolResult } from "@modelcontextprotocol/server";
import { type PveError, PveLockedError, PveTaskError } from "../pve/errors.ts";
import { isSecretKey, REDACTED, redactText } from "../redact.ts";
import type { Plan, ToolResult } from "../tools/types.ts";

/** The `structuredContent` of a dry run (see `DRY_RUN_RESULT_SCHEMA` in the registry). */
export interface DryRunResult {
  dry_run: true;
  summary: string;
  calls: Plan["calls"];
  diff?: NonNullable<Plan["diff"]>;
}

/** A handler's {@linkcode ToolResult} as an MCP result (text plus `structuredContent`). */
export function fromToolResult(result: ToolResult<unknown>): CallToolResult {
  const out: CallToolResult = {
    content: [{ type: "text", text: redactText(result.text) }],
    structuredContent: scrub(result.structured) as Record<string, unknown>,
  };
  if (result.isError === true) out.isError = true;
  return out;
}

/**
 * Removes credentials from structured content without changing its shape: every string passes
 * through `redactText`, a non-empty string under a secret-looking key becomes `[redacted]`;
 * numbers, booleans and structure stay as they are, so the output schema still matches.
 */
export function scrub(value: unknown): unknown {
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map(scrub);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = typeof item === "string" && item !== "" && isSecretKey(key) ? REDACTED : scrub(item);
  }
  return out;
}

/** Where a failed task's log tail starts in an error text: the only lines a refusal may add. */
const LOG_TAIL_HEADING = "\nTask log (last lines):\n";

/** Line breaks, other control characters and the Unicode line separators, as escapes. */
// deno-lint-ignore no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f\u2028\u2029]/g;

function escapeControl(char: string): string {
  switch (char) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default:
      return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  }
}

/**
 * A refusal as one line: control characters and line separators in it (a model's argument
 * quoted into the message, a Proxmox VE error text) are shown as escapes, so no input can split
 * the sentence, fake a second one or send terminal escapes. A failed task's log tail, after
 * {@linkcode LOG_TAIL_HEADING}, keeps its lines.
 */
export function oneLine(text: string): string {
  const tail = text.indexOf(LOG_TAIL_HEADING);
  const head = tail < 0 ? text : text.slice(0, tail);
  const rest = tail < 0 ? "" : text.slice(tail);
  return head.replace(CONTROL_RE, escapeControl) + rest;
}

/**
 * The result with `notice` as the first line of its text (a rehearsal twin's marking); the
 * structured content is left alone, so it still matches the output schema.
 */
export function withNotice(result: CallToolResult, notice: string | undefined): CallToolResult {
  if (notice === undefined) return result;
  const [first, ...rest] = result.content;
  if (first?.type === "text") {
    return { ...result, content: [{ ...first, text: `${notice}\n${first.text}` }, ...rest] };
  }
  return { ...result, content: [{ type: "text", text: notice }, ...result.content] };
}

/** A failure the model can act on: one text block, `isError: true`, no structured content. */
export function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text: oneLine(redactText(text)) }], isError: true };
}

/** The result of a dry run: the plan, with the exact calls, and nothing sent. */
export function dryRunResult(plan: Plan): CallToolResult {
  const structured: DryRunResult = { dry_run: true, summary: plan.summary, calls: plan.calls };
  if (plan.diff !== undefined) structured.diff = plan.diff;
  const lines = [`Dry run, nothing was changed. Would: ${plan.summary}`];
  for (const call of plan.calls) lines.push(`  ${call.method} ${call.path}${formatParams(call)}`);
  if (plan.diff !== undefined && plan.diff.length > 0) {
    lines.push("Config diff:");
    for (const entry of plan.diff) {
      lines.push(`  ${entry.key}: ${entry.before ?? "(unset)"} -> ${entry.after ?? "(removed)"}`);
    }
  }
  return fromToolResult({ text: lines.join("\n"), structured });
}

function formatParams(call: Plan["calls"][number]): string {
  if (call.params === undefined || Object.keys(call.params).length === 0) return "";
  return ` ${JSON.stringify(call.params)}`;
}

const LOCK_RE = /\b(is locked|can't lock file|lock file .* timeout|got timeout)\b/i;

/** Whether a PVE error says the guest is locked (a task holds its config lock). */
export function isLockError(error: PveError): boolean {
  return LOCK_RE.test(error.pveMessage ?? "") || LOCK_RE.test(error.message);
}

/** `text` trimmed and ending with a full stop (or the `!`/`?` it already ends with). */
export function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/**
 * The text of a Proxmox VE failure. The client's errors already end with what to do next
 * (check the token, grant a privilege on a path, bring the node back, trust the CA), so the
 * server adds only what the client cannot know: the tools to wait with when a task holds the
 * guest's lock, and a failed task's log tail.
 */
export function describePveError(error: PveError): string {
  const message = sentence(error.message);
  if (error instanceof PveTaskError) {
    const tail = error.logTail.length > 0 ? `${LOG_TAIL_HEADING}${error.logTail.join("\n")}` : "";
    return `${message} Fix the cause shown in the task log, then retry.${tail}`;
  }
  if (error instanceof PveLockedError) {
    // The client already says what holds the lock and when to retry; name the tools for it.
    return `${message} task_list shows the task holding the lock; task_wait waits for it.`;
  }
  if (isLockError(error)) {
    return `${message} The guest is locked by a running task: wait for it (task_list shows it, task_wait waits), then retry.`;
  }
  return message;
}

/** A Proxmox VE failure as an `isError` result. */
export function pveErrorResult(error: PveError): CallToolResult {
  return errorResult(describePveError(error));
}
