/**
 * `backup_restore_overwrite`: restores a backup OVER an existing guest (PVE's `force=1`),
 * which destroys the guest's current disks and config. A destroy-class tool (confirmation),
 * split from `backup_restore` so each tool's annotations are truthful. The plan refuses a
 * backup of the other guest type, a running, protected or locked guest, and an archive the
 * guest's node cannot read.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool } from "../types.ts";
import { truthy } from "../_shared/format.ts";
import { guestPath, guestTitle, lockOf, resolveGuestArg } from "../_shared/guest.ts";
import { storageParam, vmidParam, volidParam } from "../_shared/params.ts";
import { storagesOf } from "../_shared/storage.ts";
import {
  checkTargetStorage,
  findArchive,
  rememberRestore,
  restoreCall,
  restoreOutput,
  runRestore,
} from "./_restore.ts";

/** Restores a backup over an existing guest. */
export const backupRestoreOverwrite = defineTool({
  name: "backup_restore_overwrite",
  title: "Restore backup over a guest",
  description:
    "Restore a backup OVER an existing, stopped guest of the same type: its current disks and config are replaced. To keep the guest, use backup_restore (new vmid).",
  toolset: "backup",
  capability: "destroy",
  inputSchema: z.object({
    volid: volidParam("Backup volid"),
    vmid: vmidParam("Guest to overwrite"),
    target_storage: storageParam("Storage for the disks (default: as in the backup)").optional(),
    unique: z.boolean().optional().describe("New MAC addresses; default false"),
    start: z.boolean().optional(),
  }),
  outputSchema: restoreOutput,
  annotations: { ...annotationsFor("destroy"), idempotentHint: false },
  async plan(args, ctx) {
    const guest = await resolveGuestArg({ vmid: args.vmid }, ctx);
    const storages = storagesOf(
      await ctx.client.resources(undefined, { signal: ctx.signal }),
    );
    const archive = await findArchive(ctx, args.volid, guest.node, storages);
    const title = guestTitle(guest);
    if (archive.type !== guest.type) {
      throw new PveValidationError(
        `${args.volid} is a ${
          archive.type === "qemu" ? "VM" : "container"
        } backup but ${title} is a ${
          guest.type === "qemu" ? "VM" : "container"
        }: restore it as a new guest with backup_restore, or pick a ${
          guest.type === "qemu" ? "VM" : "container"
        } backup from backup_list.`,
        { errors: { volid: "backup type does not match the guest" } },
      );
    }
    if (archive.node !== undefined && archive.node !== guest.node) {
      throw new PveValidationError(
        `${args.volid} is on node ${archive.node}'s own storage, but ${title} is on ${guest.node}: restore it there as a new guest with backup_restore.`,
        { errors: { volid: "archive not reachable from the guest's node" } },
      );
    }
    if (!archive.storage.nodes.some((n) => n.node === guest.node && n.available)) {
      throw new PveValidationError(
        `Storage "${archive.storage.storage}" is not reachable from ${guest.node}, where ${title} is: check it with storage_list.`,
        { errors: { volid: "archive not reachable from the guest's node" } },
      );
    }
    // Fresh reads, not the inventory cache: this call destroys the guest's current state.
    const [current, config] = await Promise.all([
      ctx.client.get(`${guestPath(guest)}/status/current`, undefined, { signal: ctx.signal }),
      ctx.client.get(`${guestPath(guest)}/config`, undefined, { signal: ctx.signal }),
    ]) as [Record<string, unknown>, Record<string, unknown>];
    const status = typeof current.status === "string" ? current.status : guest.status;
    if (status !== "stopped") {
      throw new PveValidationError(
        `${title} is ${status}: shut it down first (guest_shutdown), then restore over it.`,
        { errors: { vmid: "guest is running" } },
      );
    }
    const lock = lockOf(config.lock);
    if (lock !== undefined) {
      throw new PveValidationError(
        `${title} is locked (${lock}): wait for the task that holds it (task_list), then retry.`,
        { errors: { vmid: `locked (${lock})` } },
      );
    }
    if (truthy(config.protection)) {
      throw new PveValidationError(
        `${title} has protection on, and PVE refuses to restore over it: turn protection off first (pve_api_call PUT ${
          guestPath(guest)
        }/config with protection=0), or restore as a new guest with backup_restore.`,
        { errors: { vmid: "protection mode enabled" } },
      );
    }
    if (args.target_storage !== undefined) {
      checkTargetStorage(storages, args.target_storage, guest.node, archive.type);
    }
    const other = archive.vmid !== undefined && archive.vmid !== guest.vmid
      ? ` (a backup of ${archive.vmid}, not of this guest)`
      : "";
    return rememberRestore({
      target: guest,
      summary:
        `Overwrite ${title} on ${guest.node} with ${args.volid}${other}: its current disks and config are destroyed${
          args.unique ? "; new MAC addresses" : ""
        }${args.start ? "; then start it" : ""}.`,
      calls: [restoreCall(archive, { node: guest.node, vmid: guest.vmid }, {
        storage: args.target_storage,
        unique: args.unique,
        start: args.start,
        force: true,
      })],
    }, { archive, vmid: guest.vmid, node: guest.node, overwrite: true });
  },
  handler: (_args, ctx, plan) => runRestore(plan, ctx),
});
