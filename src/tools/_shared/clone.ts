/**
 * Planning a clone, shared by `guest_clone` and `guest_provision`: the checks made before the
 * `POST …/clone` is sent (the source is not locked; a linked clone needs a template and no
 * `storage`; a clone on another node needs shared storage; a full copy needs room; the pool
 * exists; the new VMID is free) and the cloud-init settings of the new VM (with a cloud-init
 * drive beside its disks when the source has none).
 *
 * @module
 */

import { PveValidationError } from "../../pve/errors.ts";
import type { GuestRef } from "../../pve/mod.ts";
import type { PlannedCall, ScopeTarget, ToolContext } from "../types.ts";
import { type CloudInit, cloudInitKeys } from "./cloud_init.ts";
import {
  cloudinitKey,
  configDisks,
  type DiskInfo,
  freeCloudinitSlot,
  type GuestConfig,
  readConfig,
} from "./disks.ts";
import { splitTags } from "./format.ts";
import { findRunningTask, guestTitle, lockMessage, lockOf } from "./guest.ts";
import {
  chooseVmid,
  nodeStorages,
  requireOnlineNode,
  requirePool,
  requireStorage,
} from "./placement.ts";

/** What to clone into. */
export interface CloneOptions {
  /** The new VMID; the next free one when omitted. */
  newVmid?: number | undefined;
  newName?: string | undefined;
  /** Full copy; default linked for templates, full otherwise. */
  full?: boolean | undefined;
  /** Storage of a full copy's disks. */
  storage?: string | undefined;
  /** Node of the clone (default: the source's). */
  targetNode?: string | undefined;
  pool?: string | undefined;
}

/** A checked clone. */
export interface ClonePlan {
  source: GuestRef;
  /** The source's config as read while planning. */
  config: GuestConfig;
  disks: DiskInfo[];
  newid: number;
  /** The node the clone lands on. */
  node: string;
  full: boolean;
  /** The clone's name: the given one, or PVE's `Copy-of-VM-<name>` for VMs. */
  name?: string;
  /** Bytes a full copy writes. */
  bytes: number;
  call: PlannedCall;
  /** The new guest, for the scope check. */
  scope: ScopeTarget;
}

/**
 * Checks a clone of `source` and states its call.
 *
 * @throws {PveValidationError} for a locked source, a linked clone of a non-template or with
 *   `storage`, a cross-node clone of local disks, a storage without room, a missing pool or a
 *   taken VMID.
 */
export async function planClone(
  ctx: ToolContext,
  source: GuestRef,
  options: CloneOptions,
): Promise<ClonePlan> {
  const title = guestTitle(source);
  const full = options.full ?? !source.template;
  if (!full && !source.template) {
    throw new PveValidationError(
      `A linked clone needs a template, and ${title} is not one: pass full: true for an independent copy, or convert it with guest_template first.`,
      { errors: { full: "linked clones only from templates" } },
    );
  }
  if (options.storage !== undefined && !full) {
    throw new PveValidationError(
      `storage applies to full clones only (a linked clone shares the template's disks): drop storage, or pass full: true.`,
      { errors: { storage: "parameter 'storage' not allowed for linked clones" } },
    );
  }
  const config = await readConfig(ctx, source);
  // "lock": "" (a key present but empty) means unlocked.
  const lock = lockOf(config.lock);
  if (lock !== undefined) {
    throw new PveValidationError(lockMessage(source, lock, await findRunningTask(source, ctx)));
  }
  const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
  requirePool(resources, options.pool);
  const node = options.targetNode ?? source.node;
  if (node !== source.node) requireOnlineNode(resources, node);

  const disks = configDisks(source.type, config);
  const storages = await nodeStorages(ctx, source.node);
  const shared = new Set(storages.filter((s) => s.shared).map((s) => s.storage));
  if (node !== source.node) {
    const local = disks.filter((d) => !shared.has(d.storage));
    const onto = options.storage === undefined
      ? undefined
      : storages.find((s) => s.storage === options.storage);
    if (local.length > 0 && !(full && onto?.shared)) {
      throw new PveValidationError(
        `${title} has disks on local storage (${
          local.map((d) => d.volid).join(", ")
        }), so PVE can clone it to ${node} only as a full clone onto shared storage: pass full: true and a shared storage, or clone on ${source.node} and move it with guest_migrate.`,
        { errors: { target: "VM uses local storage" } },
      );
    }
  }
  const content = source.type === "qemu" ? "images" : "rootdir";
  if (full) {
    const perStorage = new Map<string, number>();
    for (const disk of disks) {
      const storage = options.storage ?? disk.storage;
      perStorage.set(storage, (perStorage.get(storage) ?? 0) + disk.bytes);
    }
    for (const [storage, bytes] of perStorage) {
      requireStorage(storages, { storage, node: source.node, content, bytes });
      if (node !== source.node) {
        requireStorage(await nodeStorages(ctx, node), { storage, node, content, bytes: 0 });
      }
    }
  }
  const newid = await chooseVmid(ctx, resources, options.newVmid);
  const scope: ScopeTarget = { vmid: newid, node, tags: splitTags(config.tags) };
  if (options.pool !== undefined) scope.pool = options.pool;

  const params: Record<string, string | number> = { newid, full: full ? 1 : 0 };
  if (options.newName !== undefined) {
    params[source.type === "qemu" ? "name" : "hostname"] = options.newName;
  }
  if (options.storage !== undefined) params.storage = options.storage;
  if (node !== source.node) params.target = node;
  if (options.pool !== undefined) params.pool = options.pool;
  const name = options.newName ??
    (source.type === "qemu" ? `Copy-of-VM-${source.name || source.vmid}` : undefined);
  const plan: ClonePlan = {
    source,
    config,
    disks,
    newid,
    node,
    full,
    bytes: disks.reduce((sum, d) => sum + d.bytes, 0),
    call: {
      method: "POST",
      path: `/nodes/${encodeURIComponent(source.node)}/${source.type}/${source.vmid}/clone`,
      params,
    },
    scope,
  };
  if (name !== undefined) plan.name = name;
  return plan;
}

/** Cloud-init settings of a clone, as config keys (the password apart). */
export interface CloneCloudInit {
  params: Record<string, string>;
  password?: string;
  /** The storage of the cloud-init drive added beside the disks, when the source has none. */
  addsDriveOn?: string;
}

/**
 * The config keys that give a clone of a VM its cloud-init settings, adding a cloud-init drive
 * when the source config has none (on `storage`, else beside the first disk).
 *
 * @throws {PveValidationError} for a container, bad settings, no disk to put the drive beside, or
 *   no `net0` to configure.
 */
export function cloneCloudInit(
  source: GuestRef,
  config: GuestConfig,
  options: { cloudInit: CloudInit; storage?: string | undefined },
): CloneCloudInit {
  const title = guestTitle(source);
  if (source.type !== "qemu") {
    throw new PveValidationError(
      `cloud_init is for VMs, and ${title} is a container: drop cloud_init.`,
      { errors: { cloud_init: "not a VM" } },
    );
  }
  const keys = cloudInitKeys(options.cloudInit);
  const params: Record<string, string> = { ...keys.params };
  const out: CloneCloudInit = { params };
  if (cloudinitKey(config) === undefined) {
    const storage = options.storage ?? configDisks(source.type, config)[0]?.storage;
    if (storage === undefined) {
      throw new PveValidationError(
        `${title} has no disk to put a cloud-init drive beside: pass storage.`,
      );
    }
    params[freeCloudinitSlot(config)] = `${storage}:cloudinit`;
    out.addsDriveOn = storage;
  }
  if (config.net0 === undefined) {
    throw new PveValidationError(
      `${title} has no net0, so cloud-init has no NIC to configure: add one first or drop cloud_init.ip.`,
    );
  }
  if (keys.password !== undefined) out.password = keys.password;
  return out;
}
