/**
 * Sending a tool's write (POST, PUT, DELETE). A write that got no definite answer (timeout,
 * connection broken after sending, a proxy's 502–504 or 500 page, 595–599) may have happened:
 * the client reports it as `PveOutcomeUnknownError`, and this turns its advice into the tools'
 * terms — check with guest_get and task_list (node, vmid, type) before repeating — so a model
 * never starts, snapshots or deletes twice because it was told to try again.
 *
 * @module
 */

import { PveOutcomeUnknownError } from "../../pve/errors.ts";
import { readablePath } from "../../pve/errors.ts";
import type { Plan, PlannedCall, ToolContext } from "../types.ts";
import { withSecrets } from "./secrets.ts";

/**
 * The message for a write whose outcome is unknown, naming the tools that check it. `what` is
 * the tool's own words for what to look at ("whether VM 180 exists (guest_get)"); without it,
 * the guest (when the write names one) or what the write changes.
 */
export function unknownOutcomeMessage(error: PveOutcomeUnknownError, what?: string): string {
  const filters = [
    ...(error.node === undefined ? [] : [`node "${error.node}"`]),
    ...(error.vmid === undefined ? [] : [`vmid ${error.vmid}`]),
    ...(error.taskType === undefined ? [] : [`type "${error.taskType}"`]),
  ];
  const tasks = `task_list${filters.length === 0 ? "" : ` (${filters.join(", ")})`}`;
  const check = what !== undefined
    ? `check ${what} and its tasks with ${tasks}`
    : error.vmid === undefined
    ? `check ${tasks} and the state of what it changes`
    : `check the guest with guest_get (vmid ${error.vmid}) and its tasks with ${tasks}`;
  return `It is unknown whether Proxmox VE carried out ${error.method ?? "the write"} ${
    readablePath(error.path ?? "")
  } (${error.happened}): do not repeat it yet; ${check}, and repeat it only if it did not happen.`;
}

/** {@linkcode unknownOutcomeMessage} as an error with the same details. */
export function toolOutcomeError(
  error: PveOutcomeUnknownError,
  what?: string,
): PveOutcomeUnknownError {
  return new PveOutcomeUnknownError(unknownOutcomeMessage(error, what), {
    happened: error.happened,
    cause: error.cause ?? error,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.method === undefined ? {} : { method: error.method }),
    ...(error.path === undefined ? {} : { path: error.path }),
    ...(error.node === undefined ? {} : { node: error.node }),
    ...(error.vmid === undefined ? {} : { vmid: error.vmid }),
    ...(error.taskType === undefined ? {} : { taskType: error.taskType }),
  });
}

/**
 * Sends one planned write and returns PVE's `data` (a UPID for task-starting writes).
 *
 * @throws {PveOutcomeUnknownError} in the tools' words when no definite answer came.
 * @throws {PveError} for every other failure, unchanged.
 */
export function sendWrite(ctx: ToolContext, call: PlannedCall): Promise<unknown> {
  return send(ctx, call, call.params);
}

/**
 * Sends call `index` of a plan with its secrets restored ({@linkcode withSecrets}) and returns
 * PVE's `data`. `check` is what to look at when the outcome is unknown, in the tool's words.
 *
 * @throws {PveOutcomeUnknownError} in the tools' words when no definite answer came.
 * @throws {PveError} for every other failure, unchanged.
 */
export function sendPlannedCall(
  ctx: ToolContext,
  plan: Plan,
  options: { index: number; check?: string },
): Promise<unknown> {
  const call = plan.calls[options.index];
  if (call === undefined) throw new Error(`Plan has no call ${options.index}`);
  return send(ctx, call, withSecrets(plan, options.index, call), options.check);
}

async function send(
  ctx: ToolContext,
  call: PlannedCall,
  params: PlannedCall["params"],
  check?: string,
): Promise<unknown> {
  try {
    return await ctx.client.request(call.method, call.path, {
      ...(params === undefined ? {} : { params }),
      signal: ctx.signal,
    });
  } catch (error) {
    if (error instanceof PveOutcomeUnknownError) throw toolOutcomeError(error, check);
    throw error;
  }
}
