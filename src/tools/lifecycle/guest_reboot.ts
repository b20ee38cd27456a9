/**
 * `guest_reboot`: reboots a running VM (ACPI) or container and waits for the task. A guest
 * that is not running is an error with the next step (start it instead).
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import { guestSelector } from "../_shared/guest.ts";
import { planPower, powerOutputSchema, runPower } from "../_shared/power.ts";

/** Reboots a guest. */
export const guestReboot = defineTool({
  name: "guest_reboot",
  title: "Reboot guest",
  description:
    "Gracefully reboot a running VM or container (by vmid or name) and wait for it. A stopped guest is an error: use guest_start.",
  toolset: "lifecycle",
  capability: "lifecycle",
  inputSchema: z.object(guestSelector),
  outputSchema: powerOutputSchema,
  annotations: { ...annotationsFor("lifecycle"), idempotentHint: false },
  plan: (args, ctx) => planPower(args, ctx, "reboot"),
  handler: (_args, ctx, plan) => runPower(plan, ctx),
});
