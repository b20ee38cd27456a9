/**
 * `guest_start`: starts a VM or container and waits for the start task. A guest that is
 * already running is a success without a task (PVE itself would fail a QEMU start task
 * with `already running`, and LXC answers 500).
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import { guestSelector } from "../_shared/guest.ts";
import { planPower, powerOutputSchema, runPower } from "../_shared/power.ts";

/** Starts a guest. */
export const guestStart = defineTool({
  name: "guest_start",
  title: "Start guest",
  description:
    "Start a VM or container (by vmid or name) and wait for it, with progress. Already running is a success. On timeout returns the UPID for task_wait.",
  toolset: "lifecycle",
  capability: "lifecycle",
  inputSchema: z.object(guestSelector),
  outputSchema: powerOutputSchema,
  annotations: { ...annotationsFor("lifecycle"), idempotentHint: true },
  plan: (args, ctx) => planPower(args, ctx, "start"),
  handler: (_args, ctx, plan) => runPower(plan, ctx),
});
