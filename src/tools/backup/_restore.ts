/**
 * What both restore tools share: finding the archive (it must exist and be a backup whose
 * guest type is known), checking the target storage and pool, building PVE's restore call
 * (`POST …/qemu` with `archive`, `POST …/lxc` with `ostemplate` + `restore=1`), and running it.
 *
 * @module
 */

import { sendWrite } from "../_shared/write.ts";
import { z } from "zod";
import { PveNotFoundError, PveValidationError } from "../../pve/errors.ts";
import { type ClusterResources, pvePath } from "../../pve/mod.ts";
import type { Plan, PlannedCall, ToolContext, ToolResult } from "../types.ts";
import { num } from "../_shared/format.ts";
import { guestLabel } from "../_shared/guest.ts";
import {
  checkStorageId,
  findStorage,
  parseVolid,
  type StorageInfo,
  storageNode,
  storagePath,
  type VolumeId,
} from "../_shared/storage.ts";
import { describeOutcome, taskFields, taskFieldsOf } from "../_shared/task.ts";

/** The archive to restore. */
export interface Archive {
  vol: VolumeId;
  storage: StorageInfo;
  type: "qemu" | "lxc";
  /** The guest the backup was taken of, when known. */
  vmid?: number;
  /** For a per-node storage: the only node that can read it. */
  node?: string;
}

/**
 * Checks that `volid` names an existing backup and finds its guest type.
 *
 * @throws {PveValidationError} for a volume that is not a backup.
 * @throws {PveNotFoundError} for a backup that does not exist.
 */
export async function findArchive(
  ctx: ToolContext,
  volid: string,
  node: string | undefined,
  storages: StorageInfo[],
): Promise<Archive> {
  const vol = parseVolid(volid, "volid");
  if (vol.kind !== "backup") {
    throw new PveValidationError(
      `${volid} is not a backup (it is ${
        vol.kind === "images" ? "a disk image" : `a ${vol.kind} volume`
      }): pass a backup volid from backup_list.`,
      { errors: { volid: "unable to use volume - content type needs to be 'backup'" } },
    );
  }
  const storage = findStorage(storages, vol.storage);
  const params: Record<string, string | number> = { content: "backup" };
  if (vol.vmid !== undefined) params.vmid = vol.vmid;
  // A per-node storage's volid does not say which node has it: look on the given node first,
  // then on the other online nodes, so the answer can name the one that has it.
  const candidates = storage.shared ? [storageNode(storage, undefined).node] : [
    ...(node === undefined ? [] : [storageNode(storage, node).node]),
    ...storage.nodes.filter((n) => n.nodeOnline && n.available && n.node !== node).map((n) =>
      n.node
    ),
  ];
  let entry: Record<string, unknown> | undefined;
  let found: string | undefined;
  for (const candidate of candidates) {
    const list = await ctx.client.get(
      `${storagePath(candidate, storage.storage)}/content`,
      params,
      { signal: ctx.signal },
    ) as Record<string, unknown>[];
    entry = (Array.isArray(list) ? list : []).find((v) => v.volid === volid);
    if (entry !== undefined) {
      found = candidate;
      break;
    }
  }
  if (entry === undefined || found === undefined) {
    throw new PveNotFoundError(
      `Backup "${volid}" does not exist on storage "${storage.storage}"${
        storage.shared ? "" : " of any online node"
      }: list the guest's backups with backup_list.`,
    );
  }
  const subtype = entry.subtype === "qemu" || entry.subtype === "lxc"
    ? entry.subtype
    : vol.backup?.type;
  if (subtype === undefined) {
    throw new PveValidationError(
      `Cannot tell whether ${volid} is a VM or a container backup (its name is not vzdump's): restore it with pve_api_call.`,
      { errors: { volid: "unknown backup type" } },
    );
  }
  const archive: Archive = { vol, storage, type: subtype };
  const vmid = num(entry.vmid) ?? vol.vmid;
  if (vmid !== undefined) archive.vmid = vmid;
  if (!storage.shared) archive.node = found;
  return archive;
}

/** Checks the storage the restored disks go to. */
export function checkTargetStorage(
  storages: readonly StorageInfo[],
  id: string,
  node: string,
  type: "qemu" | "lxc",
): void {
  checkStorageId(id, "target_storage");
  const target = findStorage(storages, id);
  const content = type === "qemu" ? "images" : "rootdir";
  if (!target.content.includes(content)) {
    throw new PveValidationError(
      `Storage "${id}" does not hold ${
        type === "qemu" ? "VM disks (images)" : "container volumes (rootdir)"
      }: choose one with storage_list content=${content}.`,
      { errors: { target_storage: `storage '${id}' does not support ${content}` } },
    );
  }
  const here = target.nodes.find((n) => n.node === node);
  if (here === undefined || !here.available) {
    throw new PveValidationError(
      `Storage "${id}" is not ${
        here === undefined ? "available" : "reachable"
      } on node ${node}: choose a storage that node has (storage_list node=${node}).`,
      { errors: { target_storage: "not available on node" } },
    );
  }
}

/** Refuses a pool that does not exist. */
export function checkPool(inventory: ClusterResources, pool: string): void {
  const pools = [...new Set([...inventory.pools, ...inventory.guests.flatMap((g) => g.pool ?? [])])]
    .sort();
  if (!pools.includes(pool)) {
    throw new PveNotFoundError(
      `Pool "${pool}" does not exist: known pools are ${pools.join(", ") || "none"}.`,
    );
  }
}

/** The restore call for an archive. */
export function restoreCall(
  archive: Archive,
  target: { node: string; vmid: number },
  options: {
    storage?: string | undefined;
    unique?: boolean | undefined;
    start?: boolean | undefined;
    pool?: string | undefined;
    force?: boolean;
  },
): PlannedCall {
  const params: Record<string, string | number> = { vmid: target.vmid };
  if (archive.type === "qemu") params.archive = archive.vol.volid;
  else {
    params.ostemplate = archive.vol.volid;
    params.restore = 1;
  }
  if (options.force) params.force = 1;
  if (options.storage !== undefined) params.storage = options.storage;
  if (options.unique) params.unique = 1;
  if (options.start) params.start = 1;
  if (options.pool !== undefined) params.pool = options.pool;
  return {
    method: "POST",
    path: pvePath`/nodes/${target.node}/${archive.type}`,
    params,
  };
}

/** The output of both restore tools. */
export const restoreOutput = z.object({
  vmid: z.number(),
  node: z.string(),
  type: z.enum(["qemu", "lxc"]),
  volid: z.string(),
  result: z.enum(["ok", "warnings", "failed", "timeout", "cancelled"]),
  ...taskFields,
});

type RestoreOutput = z.infer<typeof restoreOutput>;

/** What a restore plan remembers for its handler. */
export interface RestoreState {
  archive: Archive;
  vmid: number;
  node: string;
  /** Whether the restore replaces an existing guest. */
  overwrite: boolean;
}

const states = new WeakMap<Plan, RestoreState>();

/** Remembers a restore plan's facts. */
export function rememberRestore(plan: Plan, state: RestoreState): Plan {
  states.set(plan, state);
  return plan;
}

/** Sends the planned restore and waits for its `qmrestore`/`vzrestore` task. */
export async function runRestore(
  plan: Plan | undefined,
  ctx: ToolContext,
): Promise<ToolResult<RestoreOutput>> {
  const state = plan === undefined ? undefined : states.get(plan);
  const call = plan?.calls[0];
  if (state === undefined || call === undefined) {
    throw new Error("Restore handler called without its plan");
  }
  ctx.progress(plan?.summary ?? "Restoring");
  const upid = String(await sendWrite(ctx, call));
  const outcome = await ctx.waitTask(upid);
  const fields = taskFieldsOf(outcome);
  const structured: RestoreOutput = {
    vmid: state.vmid,
    node: state.node,
    type: state.archive.type,
    volid: state.archive.vol.volid,
    result: fields.task_state ?? "failed",
    ...fields,
  };
  const label = guestLabel({ vmid: state.vmid, type: state.archive.type });
  let text = describeOutcome(
    outcome,
    `Restored ${state.archive.vol.volid} as ${label} on ${state.node}`,
  );
  if (outcome.state === "failed" && state.archive.type === "qemu" && !state.overwrite) {
    // qemu-server keeps the config of a failed restore ("state is NOT cleaned up").
    text +=
      `\nPVE may have left an incomplete ${label} behind: check with guest_get and delete it before restoring to that vmid again.`;
  }
  return outcome.state === "failed" ? { text, structured, isError: true } : { text, structured };
}
