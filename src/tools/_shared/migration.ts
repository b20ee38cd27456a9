/**
 * Whether and where a guest can move, checked before anything is sent — the one migration
 * precondition check, shared by `guest_migrate` (one guest, one named node) and `node_drain`
 * (every guest of a node, a destination chosen per guest).
 *
 * What PVE refuses is refused here first, with the fix: a lock; disks on local storage without
 * the caller's permission to copy them; devices of the node (`local_resources`); a CD-ROM image
 * on local storage (`local cdrom image`); a linked clone on local storage; local volumes with
 * snapshots (only ZFS and qcow2 keep them); a template whose local base volume linked clones
 * use; and per target: its storages (with room for the local disks), its bridges and PVE's own
 * precondition check (`GET …/migrate`). Nothing here writes.
 *
 * @module
 */

import { PveValidationError } from "../../pve/errors.ts";
import type { GuestRef } from "../../pve/mod.ts";
import type { PlannedCall, ToolContext } from "../types.ts";
import {
  configDisks,
  type DiskInfo,
  driveVolid,
  type GuestConfig,
  isCdrom,
  isCloudinitDrive,
  readConfig,
} from "./disks.ts";
import { formatBytes, num, truthy } from "./format.ts";
import { findRunningTask, guestPath, guestTitle, lockMessage, lockOf } from "./guest.ts";
import {
  type NodeFacts,
  type NodeInfo,
  rankNodes,
  requireBridge,
  requireStorage,
  type StorageFacts,
} from "./placement.ts";

/** How a guest moves: live (running VM), restart (running container), offline (stopped). */
export type MigrationMode = "live" | "restart" | "offline";

/** The modes in words, for plans and results. */
export const MODE_WORDS: Readonly<Record<MigrationMode, string>> = {
  live: "live (the VM keeps running)",
  restart: "restart migration (the container stops here and starts on the target)",
  offline: "offline",
};

/** What is read about a guest once, before any target is judged. */
export interface MigrationSource {
  guest: GuestRef;
  running: boolean;
  /** HA-managed: the HA manager carries the move out. */
  ha: boolean;
  lock?: string;
  config: GuestConfig;
  /** Volume-backed disks (not CD-ROMs, not the cloud-init drive). */
  disks: DiskInfo[];
  /** Disks on storage that is not shared: a migration copies them. */
  local: DiskInfo[];
  /** Storages a target must have, with the bytes copied onto each (0 for shared ones). */
  needs: Map<string, number>;
  /** Bridges of the guest's NICs. */
  bridges: string[];
  /** Memory the guest takes on its node while running, bytes. */
  memoryBytes: number;
  /** PVE's precondition answer (`GET …/migrate`, VMs only). */
  precondition?: Record<string, unknown>;
}

/** A target that fits. */
export interface MigrationTarget {
  node: string;
  mode: MigrationMode;
  /** Parameters of `POST …/migrate`. */
  params: Record<string, string | number>;
}

/**
 * Reads what judging a migration needs: the guest's state (`status/current`), its config, the
 * storages of its node and, for a VM, PVE's precondition check (for one `target`, or for every
 * node).
 */
export async function readMigrationSource(
  ctx: ToolContext,
  guest: GuestRef,
  options: { target?: string; info: NodeInfo },
): Promise<MigrationSource> {
  const status = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
    signal: ctx.signal,
  }) as Record<string, unknown>;
  const config = await readConfig(ctx, guest, { current: true });
  const here = await options.info.storages(guest.node);
  const shared = new Set(here.filter((s) => s.shared).map((s) => s.storage));
  const disks = configDisks(guest.type, config);
  const local = disks.filter((d) => !shared.has(d.storage));
  const needs = new Map<string, number>();
  for (const disk of disks) {
    const bytes = shared.has(disk.storage) ? 0 : disk.bytes;
    needs.set(disk.storage, (needs.get(disk.storage) ?? 0) + bytes);
  }
  for (const [key, raw] of Object.entries(config)) {
    if (/^(ide|sata|scsi|virtio)\d+$/.test(key) && typeof raw === "string") {
      if (isCloudinitDrive(raw)) {
        const volid = driveVolid(raw);
        const storage = volid.slice(0, volid.indexOf(":"));
        needs.set(storage, needs.get(storage) ?? 0);
      }
    }
  }
  const bridges: string[] = [];
  for (const [key, raw] of Object.entries(config)) {
    if (!/^net\d+$/.test(key) || typeof raw !== "string") continue;
    const bridge = /(?:^|,)bridge=([^,]+)/.exec(raw)?.[1];
    if (bridge !== undefined && !bridges.includes(bridge)) bridges.push(bridge);
  }
  const source: MigrationSource = {
    guest,
    running: status.status === "running",
    ha: truthy((status.ha as Record<string, unknown> | undefined)?.managed),
    config,
    disks,
    local,
    needs,
    bridges,
    memoryBytes: num(status.maxmem) ?? 0,
  };
  const lock = lockOf(status.lock);
  if (lock !== undefined) source.lock = lock;
  if (guest.type === "qemu") {
    source.precondition = await ctx.client.get(
      `${guestPath(guest)}/migrate`,
      options.target === undefined ? undefined : { target: options.target },
      { signal: ctx.signal },
    ) as Record<string, unknown>;
  }
  return source;
}

/** Whether a storage keeps snapshots across a migration (ZFS, or qcow2 files). */
function keepsSnapshots(storage: StorageFacts | undefined, volid: string): boolean {
  return storage?.type === "zfspool" || volid.endsWith(".qcow2");
}

/**
 * The checks that do not depend on the target node.
 *
 * @throws {PveValidationError} naming what keeps the guest on its node and the fix.
 */
export async function checkMovable(
  ctx: ToolContext,
  source: MigrationSource,
  options: { withLocalDisks: boolean; info: NodeInfo },
): Promise<void> {
  const { guest, config, local } = source;
  const title = guestTitle(guest);
  if (source.lock !== undefined) {
    throw new PveValidationError(
      lockMessage(guest, source.lock, await findRunningTask(guest, ctx)),
    );
  }
  const devices = Array.isArray(source.precondition?.local_resources)
    ? source.precondition.local_resources.map(String)
    : [];
  if (devices.length > 0) {
    throw new PveValidationError(
      `${title} uses devices of ${guest.node} (${
        devices.join(", ")
      }), so PVE will not migrate it: remove them from its config first (guest_config_update delete).`,
      { errors: { target: "can't migrate VM which uses local devices" } },
    );
  }
  const here = await options.info.storages(guest.node);
  if (guest.type === "qemu") {
    const shared = new Set(here.filter((s) => s.shared).map((s) => s.storage));
    for (const [key, raw] of Object.entries(config)) {
      if (!/^(ide|sata|scsi)\d+$/.test(key) || typeof raw !== "string") continue;
      if (!isCdrom(raw) || isCloudinitDrive(raw)) continue;
      const volid = driveVolid(raw);
      if (volid === "none" || (volid.includes(":") && shared.has(volid.split(":")[0] ?? ""))) {
        continue;
      }
      throw new PveValidationError(
        `${title} has ${
          volid === "cdrom" ? "the host's CD-ROM drive" : `the CD-ROM image ${volid}`
        } in ${key}, on storage only ${guest.node} has, so PVE will not migrate it: eject it first (guest_config_update set ${key}: "none,media=cdrom"), or use an ISO on shared storage.`,
        { errors: { target: "local cdrom image" } },
      );
    }
    const linked = local.find((d) => /^[^:]+:base-\d+-disk-\d+\//.test(d.volid));
    if (linked !== undefined) {
      const base = /^[^:]+:(base-\d+-disk-\d+)\//.exec(linked.volid)?.[1] ?? "";
      throw new PveValidationError(
        `${title} is a linked clone of ${base} on local storage (${linked.volid}), and PVE cannot migrate linked clones off their template's node: keep it on ${guest.node}, or make a full clone (guest_clone full: true) on the target node.`,
        { errors: { target: `clone of '${base}'` } },
      );
    }
    if (typeof config.parent === "string" && config.parent !== "") {
      const stuck = source.running
        ? local
        : local.filter((d) => !keepsSnapshots(here.find((s) => s.storage === d.storage), d.volid));
      if (stuck.length > 0) {
        throw new PveValidationError(
          `${title} has snapshots and disks on local storage (${
            stuck.map((d) => d.volid).join(", ")
          }), which PVE cannot migrate with their snapshots (never while running; stopped, only on ZFS or qcow2): delete its snapshots first (snapshot_delete), or keep it on ${guest.node}.`,
          { errors: { target: "non-migratable snapshot exists" } },
        );
      }
    }
    if (guest.template && local.length > 0) {
      const users = await linkedCloneUsers(ctx, guest.node, local);
      if (users.length > 0) {
        throw new PveValidationError(
          `Template ${title} has local disks that linked clones use (${
            users.join(", ")
          }), so PVE will not move it: leave it on ${guest.node}.`,
          { errors: { target: "referenced by linked clone(s)" } },
        );
      }
    }
  }
  if (local.length > 0 && !options.withLocalDisks) {
    throw new PveValidationError(
      `${title} has disks on local storage (${
        local.map((d) => `${d.key} ${d.volid}, ${formatBytes(d.bytes)}`).join("; ")
      }): pass with_local_disks: true to copy them to the target (this takes a while), or move them to shared storage first.`,
      { errors: { "with-local-disks": "local disks need with_local_disks" } },
    );
  }
}

/** The vmids of linked clones whose volumes are based on these template volumes. */
async function linkedCloneUsers(
  ctx: ToolContext,
  node: string,
  disks: readonly DiskInfo[],
): Promise<string[]> {
  const users = new Set<string>();
  for (const storage of new Set(disks.map((d) => d.storage))) {
    const list = await ctx.client.get(
      `/nodes/${encodeURIComponent(node)}/storage/${encodeURIComponent(storage)}/content`,
      { content: "images" },
      { signal: ctx.signal },
    ) as Record<string, unknown>[];
    const bases = new Set(
      disks.filter((d) => d.storage === storage).map((d) =>
        d.volid.slice(d.volid.indexOf(":") + 1)
      ),
    );
    for (const volume of Array.isArray(list) ? list : []) {
      if (typeof volume.parent === "string" && bases.has(volume.parent)) {
        users.add(volume.vmid === undefined ? String(volume.volid) : `VM ${volume.vmid}`);
      }
    }
  }
  return [...users].sort();
}

/**
 * Checks one target node: its storages (with room for the local disks), its bridges and PVE's
 * precondition answer for it.
 *
 * @throws {PveValidationError} naming what the node lacks.
 */
export async function checkMigrationTarget(
  source: MigrationSource,
  to: string,
  info: NodeInfo,
): Promise<MigrationTarget> {
  const { guest } = source;
  const title = guestTitle(guest);
  if (to === guest.node) {
    throw new PveValidationError(
      `${title} is already on ${to}: nothing to migrate. To move it, name another node.`,
      { errors: { target: "target is local node." } },
    );
  }
  const [there, bridges] = await Promise.all([info.storages(to), info.bridges(to)]);
  for (const [storage, bytes] of source.needs) {
    requireStorage(there, {
      storage,
      node: to,
      content: guest.type === "qemu" ? "images" : "rootdir",
      bytes,
      argument: "target_node",
    });
  }
  for (const bridge of source.bridges) requireBridge(bridges, bridge, to);
  const refused = (source.precondition?.not_allowed_nodes as
    | Record<string, Record<string, unknown>>
    | undefined)?.[to];
  if (refused !== undefined) {
    const storages = Array.isArray(refused.unavailable_storages)
      ? refused.unavailable_storages.map(String)
      : [];
    const allowed = Array.isArray(source.precondition?.allowed_nodes)
      ? source.precondition.allowed_nodes.map(String)
      : [];
    throw new PveValidationError(
      `PVE's precondition check refuses ${to} for ${title}${
        storages.length > 0 ? ` (storage not available there: ${storages.join(", ")})` : ""
      }: choose one of ${
        allowed.length > 0 ? allowed.join(", ") : "the nodes it allows (none now)"
      }.`,
      { errors: { target: "not allowed" } },
    );
  }
  const mode: MigrationMode = !source.running
    ? "offline"
    : guest.type === "qemu"
    ? "live"
    : "restart";
  const params: Record<string, string | number> = { target: to };
  if (mode === "live") params.online = 1;
  if (mode === "restart") params.restart = 1;
  if (source.local.length > 0 && guest.type === "qemu") params["with-local-disks"] = 1;
  return { node: to, mode, params };
}

/** A destination chosen for a guest, and why. */
export interface ChosenTarget extends MigrationTarget {
  facts: NodeFacts;
  /** Why this node: for the plan. */
  reason: string;
}

/**
 * Picks the destination of a guest among `candidates`: the node that passes
 * {@linkcode checkMigrationTarget} with the most free memory, counting memory already promised
 * to other guests moving there in the same call (`promised`, bytes per node).
 *
 * @throws {PveValidationError} when no candidate fits, with each node's reason.
 */
export async function chooseMigrationTarget(
  source: MigrationSource,
  candidates: readonly string[],
  options: { info: NodeInfo; promised: ReadonlyMap<string, number> },
): Promise<ChosenTarget> {
  const { fits, misfits } = await rankNodes(candidates, async (node) => {
    const target = await checkMigrationTarget(source, node, options.info);
    const facts = await options.info.facts(node);
    return { memFree: facts.memFree - (options.promised.get(node) ?? 0), value: { target, facts } };
  });
  const best = fits[0];
  if (best === undefined) {
    throw new PveValidationError(
      `No node can take ${guestTitle(source.guest)} (${
        misfits.join("; ") || "no other node is online"
      }).`,
      { errors: { target: "no node fits" } },
    );
  }
  const tight = source.running && source.memoryBytes > best.memFree;
  return {
    ...best.value.target,
    facts: best.value.facts,
    reason: `the most free memory (${
      formatBytes(Math.max(0, best.memFree))
    }) of ${fits.length} fitting node(s)${
      tight ? `, though less than the ${formatBytes(source.memoryBytes)} it uses` : ""
    }`,
  };
}

/** The `POST …/migrate` call of a move. */
export function migrateCall(source: MigrationSource, target: MigrationTarget): PlannedCall {
  return { method: "POST", path: `${guestPath(source.guest)}/migrate`, params: target.params };
}

/**
 * The HA API call that asks the HA manager to move an HA-managed guest: a VM migrates live with
 * its disks, a container is relocated (stopped, moved, started) — as PVE's HA manager does.
 */
export function haMigrateCall(source: MigrationSource, node: string): PlannedCall {
  const sid = `${source.guest.type === "qemu" ? "vm" : "ct"}:${source.guest.vmid}`;
  return {
    method: "POST",
    // `vm:101`: digits and a colon, which a path segment may hold as it is.
    path: `/cluster/ha/resources/${sid}/migrate`,
    params: { node },
  };
}
