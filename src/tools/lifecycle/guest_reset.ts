/**
 * `guest_reset`: hard-resets a running VM, like pressing its reset button — the guest OS gets
 * no chance to shut down, so unsaved data is lost (a `destroy`-class tool: it asks first).
 * Containers have no reset; a stopped VM is refused with the tool to use instead.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool } from "../types.ts";
import {
  actionPlan,
  guestActionOutput,
  readRunState,
  runAction,
  statusCall,
} from "../_shared/guest_action.ts";
import { guestSelector, guestTitle } from "../_shared/guest.ts";

/** Resets a VM. */
export const guestReset = defineTool({
  name: "guest_reset",
  title: "Reset VM",
  description:
    "Hard-reset a running VM (by vmid or name), like its reset button: no clean shutdown, unsaved data in the guest is lost. Prefer guest_reboot. VMs only.",
  toolset: "lifecycle",
  capability: "destroy",
  inputSchema: z.object({ ...guestSelector }),
  outputSchema: guestActionOutput,
  annotations: { ...annotationsFor("destroy"), idempotentHint: false },
  async plan(args, ctx) {
    const run = await readRunState(args, ctx);
    const title = guestTitle(run.guest);
    if (run.guest.type !== "qemu") {
      throw new PveValidationError(
        `${title} is a container, and containers have no reset: use guest_reboot, or guest_stop then guest_start.`,
        { errors: { vmid: "not a VM" } },
      );
    }
    if (run.state !== "running" && run.state !== "paused") {
      throw new PveValidationError(
        `${title} is not running (${run.state}): start it with ${
          run.state === "hibernated" ? "guest_resume" : "guest_start"
        } instead of resetting it.`,
        { errors: { vmid: `VM ${run.guest.vmid} not running` } },
      );
    }
    return actionPlan(run, {
      action: "reset",
      call: statusCall(run.guest, "reset"),
      summary:
        `Hard-reset ${title} on ${run.guest.node} (no clean shutdown; unsaved data is lost).`,
      done: `${title} was reset`,
    });
  },
  handler: (_args, ctx, plan) => runAction(plan, ctx),
});
