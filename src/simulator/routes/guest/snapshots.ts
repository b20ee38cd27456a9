/**
 * Snapshots: list, create, delete, rollback and the snapshot config, shared by QEMU and LXC.
 *
 * @module
 */

import { dieError } from "../../errors.ts";
import type { RouteContext, Sim, TaskRunner } from "../../router.ts";
import type { GuestConfig, Snapshot } from "../../state.ts";
import { configDigest, shapeConfig, snapshotConfigView } from "./config.ts";
import { guestDisks } from "./disks.ts";
import type { Kind } from "./kind.ts";
import { assertUnlockedTask, withLock } from "./locks.ts";
import { findGuest, guestInTask } from "./lookup.ts";
import { pbool, pstr } from "./params.ts";
import { markRunning, markStopped } from "./power.ts";
import { renderBytes } from "./sizes.ts";
import { configMemory } from "./stats.ts";
import { storageOf } from "./volumes.ts";

/** `GET …/snapshot`: real snapshots, then the `current` pseudo entry. */
export function listSnapshots(ctx: RouteContext, kind: Kind): Record<string, unknown>[] {
  const guest = findGuest(ctx, kind);
  const out: Record<string, unknown>[] = [];
  for (const snap of guest.snapshots.values()) {
    const item: Record<string, unknown> = {
      name: snap.name,
      snaptime: snap.snaptime,
      description: snap.description,
    };
    if (kind.type === "qemu") item.vmstate = snap.vmstate;
    if (snap.parent !== undefined) item.parent = snap.parent;
    out.push(item);
  }
  const current: Record<string, unknown> = {
    name: "current",
    digest: configDigest(guest),
    running: guest.status === "running" ? 1 : 0,
    description: "You are here!",
  };
  if (guest.config.parent !== undefined) current.parent = String(guest.config.parent);
  out.push(current);
  return out;
}

/** Config keys that are not copied into a snapshot. */
export const SNAPSHOT_SKIP = new Set(["lock", "parent", "snaptime", "vmstate"]);

/** Sync part of snapshot creation: reserved names (500). */
export function checkSnapshotName(snapname: string): void {
  if (snapname === "current" || snapname === "pending") {
    throw dieError(`unable to use snapshot name '${snapname}' (reserved name)`);
  }
}

/** The task body of a snapshot creation. */
export async function createSnapshotTask(
  sim: Sim,
  task: TaskRunner,
  options: {
    kind: Kind;
    node: string;
    vmid: number;
    snapname: string;
    description: string;
    vmstate: boolean;
  },
): Promise<void> {
  const { kind, node, vmid, snapname } = options;
  const guest = guestInTask(sim.state, kind, node, vmid);
  assertUnlockedTask(kind, guest);
  if (guest.snapshots.has(snapname)) throw new Error(`snapshot name '${snapname}' already used`);
  if (Number(guest.config.template ?? 0) === 1) {
    throw new Error("you can't take a snapshot if it's a template");
  }
  for (const [, volid] of guestDisks(kind, guest.config)) {
    const storage = storageOf(sim.state, volid);
    if (storage?.type === "lvm" || (storage !== undefined && /\.raw$/.test(volid))) {
      throw new Error("snapshot feature is not available");
    }
  }
  await withLock(guest, "snapshot", async () => {
    const withState = kind.type === "qemu" && options.vmstate && guest.status === "running";
    if (withState) {
      const storage = String(guest.config.vmstatestorage ?? "local-lvm");
      task.log(`saving VM state and RAM using storage '${storage}'`);
      await task.sleep(1);
      const mem = configMemory(guest.config) * 0.45;
      task.log(`${renderBytes(mem / 2)} in 1s`);
      await task.sleep(1);
      task.log(`completed saving the VM state in 2s, saved ${renderBytes(mem)}`);
    }
    for (const [key, volid] of guestDisks(kind, guest.config)) {
      if (/^unused\d+$/.test(key)) continue;
      task.log(
        kind.type === "qemu"
          ? `snapshotting 'drive-${key}' (${volid})`
          : `snapshotting '${key}' (${volid})`,
      );
      const storage = storageOf(sim.state, volid);
      if (storage?.type === "lvmthin") {
        const vol = volid.slice(volid.indexOf(":") + 1).split("/").pop();
        task.log(`  Logical volume "snap_${vol}_${snapname}" created.`);
      }
      await task.sleep(0.5);
    }
    const config: GuestConfig = {};
    for (const [k, v] of Object.entries(guest.config)) if (!SNAPSHOT_SKIP.has(k)) config[k] = v;
    const snap: Snapshot = {
      name: snapname,
      snaptime: sim.clock.now(),
      vmstate: withState ? 1 : 0,
      description: options.description,
      config,
    };
    if (guest.config.parent !== undefined) snap.parent = String(guest.config.parent);
    guest.snapshots.set(snapname, snap);
    guest.config.parent = snapname;
  });
}

/** The task body of a snapshot deletion. */
export async function deleteSnapshotTask(
  sim: Sim,
  task: TaskRunner,
  options: { kind: Kind; node: string; vmid: number; snapname: string; force: boolean },
): Promise<void> {
  const { kind, node, vmid, snapname, force } = options;
  const guest = guestInTask(sim.state, kind, node, vmid);
  const snap = guest.snapshots.get(snapname);
  if (snap === undefined) throw new Error(`snapshot '${snapname}' does not exist`);
  assertUnlockedTask(kind, guest, force);
  await withLock(guest, "snapshot-delete", async () => {
    for (const [key, volid] of guestDisks(kind, snap.config)) {
      if (/^unused\d+$/.test(key)) continue;
      const storage = storageOf(sim.state, volid);
      if (storage?.type === "lvmthin") {
        const vol = volid.slice(volid.indexOf(":") + 1).split("/").pop();
        task.log(`  Logical volume "snap_${vol}_${snapname}" successfully removed.`);
      }
      await task.sleep(0.5);
    }
    for (const other of guest.snapshots.values()) {
      if (other.parent === snapname) {
        if (snap.parent !== undefined) other.parent = snap.parent;
        else delete other.parent;
      }
    }
    if (guest.config.parent === snapname) {
      if (snap.parent !== undefined) guest.config.parent = snap.parent;
      else delete guest.config.parent;
    }
    guest.snapshots.delete(snapname);
  });
}

/** `GET|PUT …/snapshot/{snap}/config`. */
export function snapshotConfig(ctx: RouteContext, kind: Kind): unknown {
  const guest = findGuest(ctx, kind);
  const snapname = String(ctx.params.snapname);
  const snap = guest.snapshots.get(snapname);
  if (snap === undefined) throw dieError(`snapshot '${snapname}' does not exist`);
  if (ctx.method === "PUT") {
    const description = pstr(ctx.params, "description");
    if (description !== undefined) snap.description = description;
    return null;
  }
  return shapeConfig(kind, snapshotConfigView(snap));
}

/** `GET …/snapshot/{snap}`: the command index. */
export function snapshotIndex(ctx: RouteContext, kind: Kind): unknown {
  const guest = findGuest(ctx, kind);
  const snapname = String(ctx.params.snapname);
  if (!guest.snapshots.has(snapname)) throw dieError(`snapshot '${snapname}' does not exist`);
  return [{ cmd: "rollback" }, { cmd: "config" }];
}

/** `POST …/snapshot`. */
export function postSnapshot(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const snapname = String(ctx.params.snapname);
  checkSnapshotName(snapname);
  const options = {
    kind,
    node: guest.node,
    vmid: guest.vmid,
    snapname,
    description: pstr(ctx.params, "description") ?? "",
    vmstate: pbool(ctx.params, "vmstate"),
  };
  return ctx.sim.startTask(
    ctx.auth,
    { node: guest.node, type: `${kind.prefix}snapshot`, id: String(guest.vmid) },
    (task) => createSnapshotTask(ctx.sim, task, options),
  );
}

/** `DELETE …/snapshot/{snap}`. */
export function deleteSnapshot(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const options = {
    kind,
    node: guest.node,
    vmid: guest.vmid,
    snapname: String(ctx.params.snapname),
    force: pbool(ctx.params, "force"),
  };
  return ctx.sim.startTask(
    ctx.auth,
    { node: guest.node, type: `${kind.prefix}delsnapshot`, id: String(guest.vmid) },
    (task) => deleteSnapshotTask(ctx.sim, task, options),
  );
}

/** `POST …/snapshot/{snap}/rollback`. */
export function rollbackSnapshot(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const { sim } = ctx;
  const node = guest.node;
  const vmid = guest.vmid;
  const snapname = String(ctx.params.snapname);
  const start = pbool(ctx.params, "start");
  return sim.startTask(
    ctx.auth,
    { node, type: `${kind.prefix}rollback`, id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      const snap = g.snapshots.get(snapname);
      if (snap === undefined) throw new Error(`snapshot '${snapname}' does not exist`);
      assertUnlockedTask(kind, g);
      await withLock(g, "rollback", async () => {
        if (g.status === "running") {
          task.log(kind.type === "qemu" ? `stopping VM ${vmid}` : `stopping CT ${vmid}`);
          await task.sleep(1);
          markStopped(g);
        }
        for (const [key, volid] of guestDisks(kind, snap.config)) {
          if (/^unused\d+$/.test(key)) continue;
          const storage = storageOf(sim.state, volid);
          if (storage?.type === "lvmthin") {
            const vol = volid.slice(volid.indexOf(":") + 1).split("/").pop();
            task.log(`  Logical volume "${vol}" successfully removed.`);
            task.log(`  Logical volume "${vol}" created.`);
          }
          await task.sleep(0.5);
        }
        const config: GuestConfig = { ...snap.config, parent: snapname };
        g.config = config;
        g.pending = {};
        g.pendingDelete = [];
      });
      if (kind.type === "qemu" && snap.vmstate === 1) {
        task.log("restoring VM state from snapshot");
        await task.sleep(1);
        markRunning(sim, g);
      } else if (start) {
        await task.sleep(1);
        markRunning(sim, g);
      }
    },
  );
}
