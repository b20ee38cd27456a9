/**
 * `guest_suspend`: pauses a running VM (or, with `to_disk`, hibernates it: RAM saved to disk,
 * VM stopped) or suspends a running container, and waits for the task. Already paused or
 * hibernated is a success without a call; a guest that is not running is refused.
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

/** Suspends a guest. */
export const guestSuspend = defineTool({
  name: "guest_suspend",
  title: "Suspend guest",
  description:
    "Pause a running VM (to_disk: hibernate, saving RAM to disk) or suspend a running container, and wait. Resume with guest_resume.",
  toolset: "lifecycle",
  capability: "lifecycle",
  inputSchema: z.object({
    ...guestSelector,
    to_disk: z.boolean().optional().describe("VMs: save RAM to disk and stop (hibernate)"),
  }),
  outputSchema: guestActionOutput,
  annotations: { ...annotationsFor("lifecycle"), idempotentHint: true },
  async plan(args, ctx) {
    const run = await readRunState(args, ctx);
    const title = guestTitle(run.guest);
    if (args.to_disk && run.guest.type !== "qemu") {
      throw new PveValidationError(
        `to_disk is for VMs, and ${title} is a container: omit to_disk.`,
        { errors: { todisk: "not a VM" } },
      );
    }
    const done = args.to_disk ? "hibernated (RAM saved to disk)" : "suspended";
    if (run.state === "hibernated" || (run.state === "paused" && !args.to_disk)) {
      return actionPlan(run, {
        action: "suspend",
        summary: `${title} is already ${run.state}: nothing to do.`,
        done: `${title} ${done}`,
      });
    }
    if (run.state === "stopped") {
      throw new PveValidationError(
        `${title} is not running, so there is nothing to suspend: start it with guest_start first.`,
        { errors: { vmid: `${run.guest.type === "qemu" ? "VM" : "CT"} not running` } },
      );
    }
    return actionPlan(run, {
      action: "suspend",
      call: statusCall(run.guest, "suspend", args.to_disk ? { todisk: 1 } : undefined),
      summary: `${args.to_disk ? "Hibernate" : "Suspend"} ${title} on ${run.guest.node}.`,
      done: `${title} ${done}`,
    });
  },
  handler: (_args, ctx, plan) => runAction(plan, ctx),
});
