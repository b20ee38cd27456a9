/**
 * `snapshot_delete`: deletes a snapshot (`destroy`, confirmed). The snapshot must exist
 * (checked in the plan, listing the names that do); `force` removes the config entry even
 * when deleting the disk snapshot fails.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import { snapshotNameParam } from "../_shared/params.ts";
import { guestPath, guestSelector, resolveGuestArg } from "../_shared/guest.ts";
import {
  assertSnapshotExists,
  listSnapshots,
  rememberSnapshotPlan,
  runSnapshotPlan,
  snapshotTitle,
  snapshotWriteOutput,
} from "../_shared/snapshots.ts";

/** Deletes a snapshot. */
export const snapshotDelete = defineTool({
  name: "snapshot_delete",
  title: "Delete snapshot",
  description:
    "Delete a snapshot of a VM or container (by vmid or name) and wait for it. force=true drops it from the config even if removing disk data fails.",
  toolset: "snapshots",
  capability: "destroy",
  inputSchema: z.object({
    ...guestSelector,
    snapshot: snapshotNameParam(),
    force: z.boolean().optional(),
  }),
  outputSchema: snapshotWriteOutput,
  annotations: { ...annotationsFor("destroy"), idempotentHint: false },
  async plan(args, ctx) {
    const guest = await resolveGuestArg(args, ctx);
    assertSnapshotExists(guest, await listSnapshots(guest, ctx), args.snapshot);
    return rememberSnapshotPlan({
      target: guest,
      summary: `Delete ${snapshotTitle(guest, args.snapshot)}${args.force ? " (force)" : ""}.`,
      calls: [{
        method: "DELETE",
        path: `${guestPath(guest)}/snapshot/${encodeURIComponent(args.snapshot)}`,
        ...(args.force ? { params: { force: 1 } } : {}),
      }],
    }, {
      guest,
      snapshot: args.snapshot,
      action: "delete",
      done: `Deleted ${snapshotTitle(guest, args.snapshot)}`,
    });
  },
  handler: (_args, ctx, plan) => runSnapshotPlan(plan, ctx),
});
