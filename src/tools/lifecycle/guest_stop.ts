/**
 * `guest_stop`: hard power-off (`status/stop`), like pulling the plug — unsaved data in the
 * guest is lost, hence the `destroy` class and a confirmation. Prefer `guest_shutdown`.
 * A guest that is already stopped is a success without a task.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import { guestSelector } from "../_shared/guest.ts";
import { planPower, powerOutputSchema, runPower } from "../_shared/power.ts";

/** Hard-stops a guest. */
export const guestStop = defineTool({
  name: "guest_stop",
  title: "Stop guest (hard power-off)",
  description:
    "Immediately power off a VM or container (by vmid or name), like pulling the plug; unsaved guest data is lost. Prefer guest_shutdown. Already stopped is a success.",
  toolset: "lifecycle",
  capability: "destroy",
  inputSchema: z.object(guestSelector),
  outputSchema: powerOutputSchema,
  annotations: { ...annotationsFor("destroy"), idempotentHint: true },
  plan: (args, ctx) => planPower(args, ctx, "stop"),
  handler: (_args, ctx, plan) => runPower(plan, ctx),
});
