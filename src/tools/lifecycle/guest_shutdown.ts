/**
 * `guest_shutdown`: graceful shutdown (ACPI for VMs, `poweroff` inside containers), with an
 * optional guest-side timeout and a hard stop after it. Already stopped is a success.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import { guestSelector } from "../_shared/guest.ts";
import { planPower, powerOutputSchema, runPower } from "../_shared/power.ts";

/** Extra seconds to wait beyond the guest's own shutdown timeout. */
const WAIT_MARGIN_SECONDS = 30;

/** Shuts a guest down gracefully. */
export const guestShutdown = defineTool({
  name: "guest_shutdown",
  title: "Shut down guest",
  description:
    "Gracefully shut down a VM or container (by vmid or name) and wait for it. Optional timeout_seconds; force_after_timeout powers it off if it has not stopped by then. Already stopped is a success.",
  toolset: "lifecycle",
  capability: "lifecycle",
  inputSchema: z.object({
    ...guestSelector,
    timeout_seconds: z.number().int().min(1).max(3600).optional().describe(
      "How long the guest gets to shut down",
    ),
    force_after_timeout: z.boolean().optional().describe("Power off if still running after it"),
  }),
  outputSchema: powerOutputSchema,
  annotations: { ...annotationsFor("lifecycle"), idempotentHint: true },
  plan(args, ctx) {
    const params: Record<string, number> = {};
    if (args.timeout_seconds !== undefined) params.timeout = args.timeout_seconds;
    if (args.force_after_timeout) params.forceStop = 1;
    return planPower(args, ctx, "shutdown", {
      params,
      ...(args.timeout_seconds === undefined
        ? {}
        : { waitSeconds: args.timeout_seconds + WAIT_MARGIN_SECONDS }),
    });
  },
  handler: (_args, ctx, plan) => runPower(plan, ctx),
});
