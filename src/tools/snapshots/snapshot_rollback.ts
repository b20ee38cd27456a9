/**
 * `snapshot_rollback`: returns a guest to a snapshot, discarding everything since — hence
 * `destroy` and a confirmation. The snapshot must exist (checked in the plan, listing the
 * names that do).
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import { snapshotNameParam } from "../_shared/params.ts";
import { guestPath, guestSelector, guestTitle, resolveGuestArg } from "../_shared/guest.ts";
import {
  assertSnapshotExists,
  listSnapshots,
  rememberSnapshotPlan,
  runSnapshotPlan,
  snapshotTitle,
  snapshotWriteOutput,
} from "../_shared/snapshots.ts";

/** Rolls a guest back to a snapshot. */
export const snapshotRollback = defineTool({
  name: "snapshot_rollback",
  title: "Roll back to snapshot",
  description:
    "Roll a VM or container (by vmid or name) back to a snapshot; all changes since are lost. start=true starts it afterwards. Waits for the task.",
  toolset: "snapshots",
  capability: "destroy",
  inputSchema: z.object({
    ...guestSelector,
    snapshot: snapshotNameParam(),
    start: z.boolean().optional().describe("Start the guest after the rollback"),
  }),
  outputSchema: snapshotWriteOutput,
  annotations: { ...annotationsFor("destroy"), idempotentHint: false },
  async plan(args, ctx) {
    const guest = await resolveGuestArg(args, ctx);
    const snap = assertSnapshotExists(guest, await listSnapshots(guest, ctx), args.snapshot);
    const call = {
      method: "POST" as const,
      path: `${guestPath(guest)}/snapshot/${encodeURIComponent(args.snapshot)}/rollback`,
      ...(args.start ? { params: { start: 1 } } : {}),
    };
    // Without saved RAM, PVE stops a running guest for the rollback and leaves it stopped
    // unless start is set; with RAM (QEMU) it resumes the saved running state.
    const stopsIt = guest.status === "running" && !snap.vmstate && !args.start;
    return rememberSnapshotPlan({
      target: guest,
      summary: `Roll back ${guestTitle(guest)} to snapshot "${args.snapshot}"${
        snap.time ? ` (taken ${snap.time})` : ""
      }, discarding all changes since${args.start ? ", then start it" : ""}.${
        stopsIt
          ? " It is running: the rollback stops it and leaves it stopped (start=true restarts it)."
          : ""
      }`,
      calls: [call],
    }, {
      guest,
      snapshot: args.snapshot,
      action: "rollback",
      done: `Rolled back to ${snapshotTitle(guest, args.snapshot)}${
        stopsIt ? "; it is now stopped: start it with guest_start" : ""
      }`,
    });
  },
  handler: (_args, ctx, plan) => runSnapshotPlan(plan, ctx),
});
