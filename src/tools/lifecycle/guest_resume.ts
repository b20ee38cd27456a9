/**
 * `guest_resume`: resumes a paused or hibernated VM, or a suspended container, and waits for
 * the task. A running guest is a success without a call.
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

/** Resumes a guest. */
export const guestResume = defineTool({
  name: "guest_resume",
  title: "Resume guest",
  description:
    "Resume a paused or hibernated VM, or a suspended container (by vmid or name), and wait. Already running is a success.",
  toolset: "lifecycle",
  capability: "lifecycle",
  inputSchema: z.object({ ...guestSelector }),
  outputSchema: guestActionOutput,
  annotations: { ...annotationsFor("lifecycle"), idempotentHint: true },
  async plan(args, ctx) {
    const run = await readRunState(args, ctx);
    const title = guestTitle(run.guest);
    if (run.state === "running") {
      return actionPlan(run, {
        action: "resume",
        summary: `${title} is already running: nothing to do.`,
        done: `${title} resumed`,
      });
    }
    if (run.state === "stopped" && run.guest.type === "qemu") {
      throw new PveValidationError(
        `${title} is stopped, not paused or hibernated: start it with guest_start instead.`,
        { errors: { vmid: `VM ${run.guest.vmid} not running` } },
      );
    }
    return actionPlan(run, {
      action: "resume",
      call: statusCall(run.guest, "resume"),
      summary: `Resume ${title} on ${run.guest.node}${
        run.state === "hibernated" ? " from its saved state on disk" : ""
      }.`,
      done: `${title} resumed`,
    });
  },
  handler: (_args, ctx, plan) => runAction(plan, ctx),
});
