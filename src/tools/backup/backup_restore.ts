/**
 * `backup_restore`: restores a VM or container backup as a NEW guest (the next free vmid
 * unless one is given), next to the original if that still exists: new MAC addresses by
 * default so both can run. Overwriting an existing guest is `backup_restore_overwrite`, a
 * destroy-class tool, so this one's annotations stay truthful. The new guest's vmid, node and
 * pool go through the scope check before anything is sent.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError, PveValidationError } from "../../pve/errors.ts";
import { defineTool, type ScopeTarget } from "../types.ts";
import { guestTitle } from "../_shared/guest.ts";
import { nodeParam, poolParam, storageParam, vmidParam, volidParam } from "../_shared/params.ts";
import { checkNodeName, storagesOf } from "../_shared/storage.ts";
import {
  checkPool,
  checkTargetStorage,
  findArchive,
  rememberRestore,
  restoreCall,
  restoreOutput,
  runRestore,
} from "./_restore.ts";

/** Restores a backup as a new guest. */
export const backupRestore = defineTool({
  name: "backup_restore",
  title: "Restore backup as new guest",
  description:
    "Restore a VM or container backup (volid from backup_list) as a new guest: next free vmid unless given, new MACs by default (unique) so it can run next to the original. Never overwrites: see backup_restore_overwrite.",
  toolset: "backup",
  capability: "change",
  inputSchema: z.object({
    volid: volidParam("Backup volid"),
    vmid: vmidParam("New guest's id (default: next free)").optional(),
    node: nodeParam("Target node (default: the original guest's)").optional(),
    target_storage: storageParam("Storage for the disks (default: as in the backup)").optional(),
    unique: z.boolean().optional().describe("New MAC addresses; default true"),
    start: z.boolean().optional(),
    pool: poolParam().optional(),
  }),
  outputSchema: restoreOutput,
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    if (args.node !== undefined) checkNodeName(args.node);
    const inventory = await ctx.client.resources(undefined, { signal: ctx.signal });
    const storages = storagesOf(inventory);
    const archive = await findArchive(ctx, args.volid, args.node, storages);
    const original = archive.vmid === undefined
      ? undefined
      : inventory.guests.find((g) => g.vmid === archive.vmid);
    if (archive.node !== undefined && args.node !== undefined && args.node !== archive.node) {
      throw new PveValidationError(
        `${archive.vol.volid} is on node ${archive.node}'s own storage, so only ${archive.node} can restore it: omit node or pass node ${archive.node}.`,
        { errors: { node: "archive not reachable from this node" } },
      );
    }
    const online = inventory.nodes.filter((n) => n.status === "online").map((n) => n.node);
    const node = archive.node ?? args.node ??
      (original !== undefined && original.nodeOnline ? original.node : undefined) ??
      archive.storage.nodes.find((n) => n.nodeOnline && n.available)?.node;
    if (node === undefined || !online.includes(node)) {
      throw new PveError(
        node === undefined
          ? `No online node can read ${archive.vol.volid}: check the storage with storage_list.`
          : `Node ${node} is offline: restore on another node (pass node), or wait until it is back.`,
      );
    }
    if (!archive.storage.nodes.some((n) => n.node === node && n.available)) {
      throw new PveValidationError(
        `Storage "${archive.storage.storage}" is not reachable from node ${node}: restore on a node that has it (${
          archive.storage.nodes.filter((n) => n.available).map((n) => n.node).join(", ")
        }).`,
        { errors: { node: "archive not reachable from this node" } },
      );
    }
    if (args.target_storage !== undefined) {
      checkTargetStorage(storages, args.target_storage, node, archive.type);
    }
    if (args.pool !== undefined) checkPool(inventory, args.pool);
    let vmid = args.vmid;
    if (vmid !== undefined) {
      const taken = inventory.guests.find((g) => g.vmid === vmid);
      if (taken !== undefined) {
        throw new PveValidationError(
          `${
            guestTitle(taken)
          } already exists: omit vmid to restore as the next free id, or overwrite it with backup_restore_overwrite.`,
          { errors: { vmid: `VM ${vmid} already exists` } },
        );
      }
      // The inventory may be seconds old: PVE's nextid check is the fresh one.
      try {
        await ctx.client.get("/cluster/nextid", { vmid }, { signal: ctx.signal });
      } catch (error) {
        if (!(error instanceof PveValidationError)) throw error;
        throw new PveValidationError(
          `Guest ${vmid} already exists: omit vmid to restore as the next free id, or overwrite it with backup_restore_overwrite.`,
          { errors: { vmid: `VM ${vmid} already exists` } },
        );
      }
    } else {
      vmid = Number(await ctx.client.get("/cluster/nextid", undefined, { signal: ctx.signal }));
    }
    const unique = args.unique ?? true;
    const target: ScopeTarget = { vmid, node };
    if (args.pool !== undefined) target.pool = args.pool;
    const kind = archive.type === "qemu" ? "VM" : "CT";
    const next = original !== undefined ? `, next to ${guestTitle(original)}` : "";
    return rememberRestore({
      summary: `Restore ${archive.vol.volid} as new ${kind} ${vmid} on ${node}${next}${
        args.target_storage ? ` with disks on "${args.target_storage}"` : ""
      }${unique ? ", new MAC addresses" : ", SAME MAC addresses as the backup"}${
        args.start ? ", then start it" : ""
      }.`,
      scopeTargets: [target],
      calls: [restoreCall(archive, { node, vmid }, {
        storage: args.target_storage,
        unique,
        start: args.start,
        pool: args.pool,
      })],
    }, { archive, vmid, node, overwrite: false });
  },
  handler: (_args, ctx, plan) => runRestore(plan, ctx),
});
