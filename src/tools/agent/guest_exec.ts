/**
 * `guest_exec`: runs one command in a VM through the QEMU guest agent (`agent/exec`, then
 * `agent/exec-status` until it exits or the timeout passes). The command is an argv array —
 * no shell is involved unless the caller names one as argv[0] — with optional stdin. Output
 * is cut to a byte limit and the cut is stated; a command still running at the timeout is
 * reported with its PID (it keeps running in the guest). Class `exec`: every call is confirmed
 * and audited.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError, PveOutcomeUnknownError, PveValidationError } from "../../pve/errors.ts";
import type { GuestRef } from "../../pve/mod.ts";
import { defineTool } from "../types.ts";
import { num, truthy } from "../_shared/format.ts";
import { guestPath, guestSelector, guestTitle, resolveGuestArg } from "../_shared/guest.ts";
import { agentProblem, assertAgentUsable } from "./_agent.ts";

/** PVE's limit on `input-data` (QGA's buffer). */
const STDIN_MAX = 65_536;

const outputSchema = z.object({
  vmid: z.number(),
  node: z.string(),
  pid: z.number(),
  exited: z.boolean(),
  timed_out: z.boolean(),
  exit_code: z.number().optional(),
  signal: z.number().optional(),
  stdout: z.string(),
  stderr: z.string(),
  stdout_bytes: z.number(),
  stderr_bytes: z.number(),
  stdout_truncated: z.boolean(),
  stderr_truncated: z.boolean(),
});

type Output = z.infer<typeof outputSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Cuts text to `limit` UTF-8 bytes without splitting a character. */
function cut(text: string, limit: number): { text: string; bytes: number; cut: boolean } {
  const bytes = encoder.encode(text);
  if (bytes.length <= limit) return { text, bytes: bytes.length, cut: false };
  const kept = decoder.decode(bytes.slice(0, limit)).replace(/\uFFFD+$/, "");
  return { text: kept, bytes: bytes.length, cut: true };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Runs a command in a VM through the guest agent. */
export const guestExec = defineTool({
  name: "guest_exec",
  title: "Run command in VM",
  description:
    'Run a command in a running VM through the QEMU guest agent (not containers). command is argv, no shell unless argv[0] is one (e.g. ["/bin/sh","-c","…"]). Returns exit code, stdout and stderr cut to max_output_bytes.',
  toolset: "agent",
  capability: "exec",
  inputSchema: z.object({
    ...guestSelector,
    command: z.array(z.string().min(1).max(4096)).min(1).max(64).describe('argv, e.g. ["df","-h"]'),
    stdin: z.string().max(STDIN_MAX).optional().describe("Text fed to the command's stdin"),
    timeout_seconds: z.number().int().min(1).max(600).optional().describe("Default 30"),
    max_output_bytes: z.number().int().min(256).max(65_536).optional().describe(
      "Per stream, default 8192",
    ),
  }),
  outputSchema,
  annotations: { ...annotationsFor("exec"), idempotentHint: false },
  async plan(args, ctx) {
    const [first] = args.command;
    if (args.command.length === 1 && first !== undefined && /\s/.test(first.trim())) {
      throw new PveValidationError(
        `command is an argv array, not a command line: pass ${
          JSON.stringify(first.trim().split(/\s+/))
        }, or ["/bin/sh","-c",${JSON.stringify(first)}] for shell syntax.`,
        { errors: { command: "one item with spaces" } },
      );
    }
    const guest = await resolveGuestArg(args, ctx);
    await assertAgentUsable(guest, ctx);
    const base = `${guestPath(guest)}/agent`;
    const params: Record<string, string | string[]> = { command: args.command };
    // stdin may carry anything, secrets included: the plan shows its size, not its text.
    if (args.stdin !== undefined) {
      params["input-data"] = `[${encoder.encode(args.stdin).length} bytes]`;
    }
    return {
      target: guest,
      summary: `Run ${JSON.stringify(args.command)} in ${
        guestTitle(guest)
      } through the guest agent${args.stdin !== undefined ? " with stdin" : ""}, waiting up to ${
        args.timeout_seconds ?? 30
      }s.`,
      calls: [
        { method: "POST", path: `${base}/exec`, params },
        { method: "GET", path: `${base}/exec-status`, params: { pid: "<pid returned by exec>" } },
      ],
    };
  },
  async handler(args, ctx, plan) {
    const guest = plan?.target as GuestRef;
    const base = `${guestPath(guest)}/agent`;
    const timeout = (args.timeout_seconds ?? 30) * 1000;
    const limit = args.max_output_bytes ?? 8192;
    const params: Record<string, string | string[]> = { command: args.command };
    if (args.stdin !== undefined) params["input-data"] = args.stdin;
    let started: unknown;
    const unknown = "check inside the guest before running it again";
    try {
      started = await ctx.client.post(`${base}/exec`, params, { signal: ctx.signal });
    } catch (error) {
      if (error instanceof PveOutcomeUnknownError) {
        // The client's advice names the task list, but an agent command leaves no task.
        throw new PveOutcomeUnknownError(
          `It is unknown whether the guest agent of ${
            guestTitle(guest)
          } started the command (${error.happened}): ${unknown}.`,
          { happened: error.happened, cause: error, vmid: guest.vmid, node: guest.node },
        );
      }
      const problem = agentProblem(
        guest,
        error,
        `whether the command started is unknown, so ${unknown}`,
      );
      if (problem === undefined) throw error;
      throw new PveError(problem, { cause: error });
    }
    const pid = num((started as { pid?: unknown } | null)?.pid);
    if (pid === undefined) {
      throw new PveError(
        `The guest agent of ${guestTitle(guest)} returned no PID for the command.`,
      );
    }
    ctx.progress(`Started PID ${pid} in ${guestTitle(guest)}`);
    const startedAt = Date.now();
    let status: Record<string, unknown> = {};
    let wait = 100;
    for (;;) {
      try {
        status = await ctx.client.get(`${base}/exec-status`, { pid }, {
          signal: ctx.signal,
        }) as Record<
          string,
          unknown
        >;
      } catch (error) {
        const problem = agentProblem(
          guest,
          error,
          `read the result later with pve_api_get on ${base}/exec-status?pid=${pid} instead of running the command again`,
        );
        if (problem === undefined) throw error;
        throw new PveError(
          `Command PID ${pid} started in ${
            guestTitle(guest)
          }, but its status could not be read: ${problem}`,
          { cause: error },
        );
      }
      if (truthy(status.exited)) break;
      const elapsed = Date.now() - startedAt;
      if (elapsed >= timeout) break;
      await sleep(Math.min(wait, timeout - elapsed), ctx.signal);
      wait = Math.min(wait * 2, 1000);
    }
    const exited = truthy(status.exited);
    const out = cut(String(status["out-data"] ?? ""), limit);
    const err = cut(String(status["err-data"] ?? ""), limit);
    const result: Output = {
      vmid: guest.vmid,
      node: guest.node,
      pid,
      exited,
      timed_out: !exited,
      stdout: out.text,
      stderr: err.text,
      stdout_bytes: out.bytes,
      stderr_bytes: err.bytes,
      stdout_truncated: out.cut || truthy(status["out-truncated"]),
      stderr_truncated: err.cut || truthy(status["err-truncated"]),
    };
    const code = num(status.exitcode);
    if (exited && code !== undefined) result.exit_code = code;
    const sig = num(status.signal);
    if (sig !== undefined) result.signal = sig;

    const seconds = args.timeout_seconds ?? 30;
    const lines = [
      exited
        ? `${JSON.stringify(args.command)} in ${guestTitle(guest)} exited with code ${
          result.exit_code ?? "?"
        }${result.signal !== undefined ? ` (signal ${result.signal})` : ""}.`
        : `${JSON.stringify(args.command)} in ${
          guestTitle(guest)
        } is still running after ${seconds}s (PID ${pid}); it keeps running in the guest: read its result later with pve_api_get on ${base}/exec-status?pid=${pid}, or raise timeout_seconds next time.`,
    ];
    for (
      const [name, stream, s] of [["stdout", out, result.stdout_truncated], [
        "stderr",
        err,
        result.stderr_truncated,
      ]] as const
    ) {
      if (stream.bytes === 0) continue;
      const note = stream.cut
        ? ` (first ${
          encoder.encode(stream.text).length
        } of ${stream.bytes} bytes; the rest was cut)`
        : s
        ? " (cut by the guest agent)"
        : "";
      lines.push(`${name}${note}:`, stream.text);
    }
    return { text: lines.join("\n"), structured: result };
  },
});
