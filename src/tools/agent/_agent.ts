/**
 * Shared by the guest agent tools: the checks PVE makes before it talks to a VM's QEMU guest
 * agent (`assert_agent_available`: a VM, agent enabled in the config, running), made first so
 * the answer is one sentence saying which and how to fix it, and the words for PVE's own agent
 * errors (not running, timeout).
 *
 * @module
 */

import type { GuestRef } from "../../pve/mod.ts";
import { PveError, PveValidationError } from "../../pve/errors.ts";
import type { ToolContext } from "../types.ts";
import { truthy } from "../_shared/format.ts";
import { guestPath, guestTitle } from "../_shared/guest.ts";

/**
 * Refuses a container, a VM without the agent enabled, and a VM that is not running.
 *
 * @throws {PveValidationError} for a container or a VM without `agent` enabled.
 * @throws {PveError} for a VM that is not running.
 */
export async function assertAgentUsable(guest: GuestRef, ctx: ToolContext): Promise<void> {
  if (guest.type === "lxc") {
    throw new PveValidationError(
      `${guestTitle(guest)} is a container, and containers have no QEMU guest agent: read its ` +
        `config with guest_get, or run the command on ${guest.node} with ` +
        `pct exec ${guest.vmid} -- <command>.`,
      { errors: { vmid: "not a VM" } },
    );
  }
  const status = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
    signal: ctx.signal,
  }) as Record<string, unknown>;
  if (!truthy(status?.agent)) {
    throw new PveValidationError(
      `${
        guestTitle(guest)
      } has no guest agent enabled: set agent=1 in its config and install qemu-guest-agent inside it (takes effect after a full stop and start).`,
      { errors: { vmid: "No QEMU guest agent configured" } },
    );
  }
  if (status?.status !== "running") {
    throw new PveError(
      `${
        guestTitle(guest)
      } is not running, so its guest agent cannot answer: start it first (guest_start).`,
    );
  }
}

/** Whether PVE's error says the agent did not answer in time. */
export function isAgentTimeout(error: unknown): boolean {
  return error instanceof PveError && /got timeout|timed? ?out/i.test(error.message);
}

/**
 * One sentence for an agent call PVE refused, or undefined for other errors. `next` ends the
 * sentence for an agent that did not answer in time: asking again suits a read, not a command
 * that may have started.
 */
export function agentProblem(
  guest: GuestRef,
  error: unknown,
  next = "try again shortly",
): string | undefined {
  if (!(error instanceof PveError)) return undefined;
  const text = error.pveMessage ?? error.message;
  if (/QEMU guest agent is not running/i.test(text)) {
    return `The guest agent in ${
      guestTitle(guest)
    } is not answering: start qemu-guest-agent inside the guest (systemctl enable --now qemu-guest-agent), or install it.`;
  }
  if (isAgentTimeout(error)) {
    return `The guest agent in ${
      guestTitle(guest)
    } did not answer in time: the guest may be busy or hung; ${next}.`;
  }
  return undefined;
}
