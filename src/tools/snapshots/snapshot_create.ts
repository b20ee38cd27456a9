/**
 * `snapshot_create`: takes a snapshot (optionally with RAM for running VMs) and waits for
 * the task. The name is checked as PVE checks it before anything is sent, and an existing
 * name is refused in the plan.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool } from "../types.ts";
import { descriptionParam, snapshotNameParam } from "../_shared/params.ts";
import { guestPath, guestSelector, guestTitle, resolveGuestArg } from "../_shared/guest.ts";
import {
  checkSnapshotName,
  listSnapshots,
  rememberSnapshotPlan,
  runSnapshotPlan,
  snapshotTitle,
  snapshotWriteOutput,
} from "../_shared/snapshots.ts";

/** Creates a snapshot. */
export const snapshotCreate = defineTool({
  name: "snapshot_create",
  title: "Create snapshot",
  description:
    "Snapshot a VM or container (by vmid or name) and wait for it. vmstate also saves a running VM's RAM.",
  toolset: "snapshots",
  capability: "change",
  inputSchema: z.object({
    ...guestSelector,
    snapshot: snapshotNameParam(
      "New snapshot's name: a letter, then letters, digits, - or _; 2-40 chars",
      128,
    ),
    description: descriptionParam().optional(),
    vmstate: z.boolean().optional().describe("Include RAM (QEMU only)"),
  }),
  outputSchema: snapshotWriteOutput,
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    checkSnapshotName(args.snapshot);
    const guest = await resolveGuestArg(args, ctx);
    if (args.vmstate && guest.type !== "qemu") {
      throw new PveValidationError(
        `vmstate is only for VMs, and ${guestTitle(guest)} is a container: omit vmstate.`,
        { errors: { vmstate: "property is not defined in schema" } },
      );
    }
    if (guest.template) {
      throw new PveValidationError(
        `${guestTitle(guest)} is a template and cannot be snapshotted: clone it first.`,
      );
    }
    const list = await listSnapshots(guest, ctx);
    if (list.snapshots.some((s) => s.name === args.snapshot)) {
      throw new PveValidationError(
        `Snapshot "${args.snapshot}" already exists on ${
          guestTitle(guest)
        }: choose another name (existing: ${list.snapshots.map((s) => s.name).join(", ")}).`,
        { errors: { snapname: `snapshot name '${args.snapshot}' already used` } },
      );
    }
    const params: Record<string, string | number> = { snapname: args.snapshot };
    if (args.description !== undefined && args.description !== "") {
      params.description = args.description;
    }
    // PVE saves RAM only for a running VM; say so rather than promise a RAM snapshot.
    const withRam = args.vmstate === true && guest.status === "running";
    if (withRam) params.vmstate = 1;
    const ramNote = withRam ? " with RAM" : args.vmstate ? " (stopped, so without RAM)" : "";
    return rememberSnapshotPlan({
      target: guest,
      summary: `Create ${snapshotTitle(guest, args.snapshot)}${ramNote}.`,
      calls: [{ method: "POST", path: `${guestPath(guest)}/snapshot`, params }],
    }, {
      guest,
      snapshot: args.snapshot,
      action: "create",
      done: `Created ${snapshotTitle(guest, args.snapshot)}`,
    });
  },
  handler: (_args, ctx, plan) => runSnapshotPlan(plan, ctx),
});
