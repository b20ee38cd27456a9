/**
 * Migration: the `GET …/migrate` precondition check and `POST …/migrate` (offline, online,
 * restart, HA).
 *
 * @module
 */

import { dieError, paramError } from "../../errors.ts";
import type { RouteContext } from "../../router.ts";
import type { Guest, SimState } from "../../state.ts";
import { storageOnNode, volumesOn } from "../storage.ts";
import { cloudinitVolumes, guestDisks } from "./disks.ts";
import { haSid } from "./ha.ts";
import type { Kind } from "./kind.ts";
import { assertUnlockedSync, assertUnlockedTask, withLock } from "./locks.ts";
import { findGuest, guestInTask } from "./lookup.ts";
import { pbool } from "./params.ts";
import { markRunning, markStopped } from "./power.ts";
import { renderBytes } from "./sizes.ts";
import { configMemory } from "./stats.ts";
import { findVolume, ownedVolumes, storageOf } from "./volumes.ts";

/** Whether a guest is (at least partly) on storage local to its node. */
export function localDisks(state: SimState, kind: Kind, guest: Guest): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, volid] of guestDisks(kind, guest.config)) {
    const storage = storageOf(state, volid);
    if (storage !== undefined && !storage.shared) out.push([key, volid]);
  }
  return out;
}

/** Moves the local volumes of a guest to another node's lists (migration). */
export function moveLocalVolumes(state: SimState, kind: Kind, guest: Guest, target: string): void {
  const volids = new Set(ownedVolumes(kind, guest.config));
  for (const snap of guest.snapshots.values()) {
    for (const v of ownedVolumes(kind, snap.config)) volids.add(v);
  }
  for (const volid of volids) {
    const storage = storageOf(state, volid);
    if (storage === undefined || storage.shared) continue;
    const found = findVolume(state, volid, guest.node);
    if (found === undefined) continue;
    found.list.splice(found.list.indexOf(found.volume), 1);
    volumesOn(state, storage, target).push(found.volume);
  }
}

/** `GET …/migrate`: the precondition check. */
export function migratePrecondition(ctx: RouteContext, kind: Kind): Record<string, unknown> {
  const guest = findGuest(ctx, kind);
  const state = ctx.sim.state;
  const local = localDisks(state, kind, guest);
  const allowed: string[] = [];
  const notAllowed: Record<string, unknown> = {};
  for (const node of state.nodes.values()) {
    if (node.name === guest.node) continue;
    const unavailable = [...new Set(local.map(([, v]) => v.split(":")[0] ?? ""))].filter((s) => {
      const st = state.storages.get(s);
      return st === undefined || (st.nodes !== undefined && !st.nodes.includes(node.name));
    });
    if (!node.online) notAllowed[node.name] = { unavailable_storages: [], offline: 1 };
    else if (unavailable.length > 0) notAllowed[node.name] = { unavailable_storages: unavailable };
    else allowed.push(node.name);
  }
  const out: Record<string, unknown> = {
    running: guest.status === "running" ? 1 : 0,
    allowed_nodes: allowed,
    not_allowed_nodes: notAllowed,
  };
  if (kind.type === "qemu") {
    out.local_disks = local.map(([key, volid]) => ({
      volid,
      drivename: key,
      size: findVolume(state, volid, guest.node)?.volume.size ?? 0,
    }));
    out.local_resources = localResources(guest);
    out["mapped-resources"] = [];
    out["mapped-resource-info"] = {};
  }
  return out;
}

/** `check_local_resources`: devices that tie a VM to its node (PCI/USB passthrough, ivshmem). */
export function localResources(guest: Guest): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(guest.config)) {
    const text = String(value);
    if (/^hostpci\d+$/.test(key) && !/(^|,)mapping=/.test(text)) out.push(key);
    if (/^usb\d+$/.test(key) && !/(^|,)(mapping=|host=spice)/i.test(text)) out.push(key);
    if (key === "ivshmem") out.push(key);
  }
  return out.sort();
}

/** Bridges of a guest's NICs that a node does not have. */
export function missingBridges(state: SimState, guest: Guest, node: string): string[] {
  const have = new Set(
    (state.nodes.get(node)?.network ?? []).filter((i) => String(i.type).includes("bridge"))
      .map((i) => String(i.iface)),
  );
  const out = new Set<string>();
  for (const [key, value] of Object.entries(guest.config)) {
    if (!/^net\d+$/.test(key)) continue;
    const bridge = /(?:^|,)bridge=([^,]+)/.exec(String(value))?.[1];
    if (bridge !== undefined && !have.has(bridge)) out.add(bridge);
  }
  return [...out].sort();
}

/** `check_storage_availability`: every storage the guest's volumes use must be on the target. */
function unavailableStorage(
  state: SimState,
  kind: Kind,
  guest: Guest,
  target: string,
): string | undefined {
  for (const volid of ownedVolumes(kind, guest.config)) {
    const storage = storageOf(state, volid);
    if (storage === undefined) continue;
    if (storage.disable || !storageOnNode(storage, target)) {
      return `storage '${storage.storage}' is not available on node '${target}'`;
    }
  }
  return undefined;
}

/** `POST …/migrate`. */
export function migrateGuest(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const { sim, params } = ctx;
  const target = String(params.target);
  const node = guest.node;
  const vmid = guest.vmid;
  if (target === node) throw paramError({ target: "target is local node." });
  const targetNode = sim.state.nodes.get(target);
  if (targetNode === undefined) throw dieError(`no such cluster node '${target}'`);
  if (!targetNode.online) throw dieError(`target node '${target}' is not online`);
  const online = pbool(params, "online");
  const restart = kind.type === "lxc" && pbool(params, "restart");
  const withLocalDisks = pbool(params, "with-local-disks");
  if (guest.status === "running") {
    if (kind.type === "qemu" && !online) {
      throw dieError("can't migrate running VM without --online");
    }
    if (kind.type === "lxc" && !online && !restart) {
      throw dieError("can't migrate running container without --online or --restart");
    }
  }
  assertUnlockedSync(kind, guest);
  if (kind.type === "qemu") {
    const missing = unavailableStorage(sim.state, kind, guest, target);
    if (missing !== undefined) throw dieError(missing);
  }
  const sid = haSid(kind, vmid);
  if (sim.state.ha.has(sid)) {
    return sim.startTask(ctx.auth, { node, type: "hamigrate", id: String(vmid) }, async (task) => {
      task.log(`Requesting HA migration for ${kind.label} ${vmid} to node ${target}`);
      await task.sleep(1);
      const g = guestInTask(sim.state, kind, node, vmid);
      moveLocalVolumes(sim.state, kind, g, target);
      g.node = target;
    });
  }
  return sim.startTask(
    ctx.auth,
    { node, type: kind.type === "qemu" ? "qmigrate" : "vzmigrate", id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      assertUnlockedTask(kind, g);
      if (kind.type === "lxc" && g.status === "running" && online && !restart) {
        throw new Error("lxc live migration is currently not implemented");
      }
      const started = sim.clock.now();
      const stamp = () => new Date(sim.clock.nowMs()).toISOString().slice(0, 19).replace("T", " ");
      const duration = () => {
        const secs = Math.max(0, sim.clock.now() - started);
        const hh = String(Math.floor(secs / 3600)).padStart(2, "0");
        const mm = String(Math.floor((secs % 3600) / 60)).padStart(2, "0");
        const ss = String(secs % 60).padStart(2, "0");
        return `${hh}:${mm}:${ss}`;
      };
      /** AbstractMigrate: an error in prepare or phase 1 aborts the migration. */
      const abort = (reason: string): never => {
        task.log(`${stamp()} ERROR: migration aborted (duration ${duration()}): ${reason}`);
        throw new Error("migration aborted");
      };
      task.log(
        `${stamp()} starting migration of ${kind.label} ${vmid} to node '${target}' (${targetNode.ip})`,
      );
      const wasRunning = g.status === "running";
      if (kind.type === "qemu") {
        const devices = localResources(g);
        if (devices.length > 0) {
          abort(`can't migrate VM which uses local devices: ${devices.join(", ")}`);
        }
      } else {
        const missing = unavailableStorage(sim.state, kind, g, target);
        if (missing !== undefined) abort(missing);
      }
      const local = localDisks(sim.state, kind, g);
      if (kind.type === "qemu") {
        for (const [, volid] of local) {
          task.log(`${stamp()} found local disk '${volid}' (attached)`);
        }
        for (const [, volid] of cloudinitVolumes(g.config)) {
          const storage = storageOf(sim.state, volid);
          if (storage !== undefined && !storage.shared) {
            task.log(`${stamp()} found generated disk '${volid}' (in current VM config)`);
          }
        }
        if (wasRunning && local.length > 0 && !withLocalDisks) {
          for (const [, volid] of local) {
            task.log(
              `${stamp()} can't migrate local disk '${volid}': can't live migrate attached local disks without with-local-disks option`,
            );
          }
          const reason = "Problem found while scanning volumes - can't migrate VM - check log";
          task.log(`${stamp()} ERROR: ${reason}`);
          task.log(`${stamp()} aborting phase 1 - cleanup resources`);
          abort(reason);
        }
      }
      await withLock(g, "migrate", async () => {
        if (kind.type === "lxc" && wasRunning) {
          task.log(`${stamp()} shutdown CT ${vmid}`);
          await task.sleep(1);
          markStopped(g);
        }
        if (kind.type === "qemu" && wasRunning) {
          const bridges = missingBridges(sim.state, g, target);
          if (bridges.length > 0) {
            // The VM cannot start on the target (`tap_plug`), so phase 2 fails and it stays here.
            task.log(`${stamp()} starting VM ${vmid} on remote node '${target}'`);
            task.log(`${stamp()} [${target}] bridge '${bridges[0]}' does not exist`);
            task.log(
              `${stamp()} [${target}] start failed: QEMU exited with code 1`,
            );
            task.log(
              `${stamp()} ERROR: online migrate failure - remote command failed with exit code 255`,
            );
            task.log(`${stamp()} aborting phase 2 - cleanup resources`);
            task.log(`${stamp()} migrate_cancel`);
            task.log(`${stamp()} ERROR: migration finished with problems (duration ${duration()})`);
            throw new Error("migration problems");
          }
        }
        if (kind.type === "lxc") {
          for (const [, volid] of local) {
            task.log(`${stamp()} found local volume '${volid}' (in current VM config)`);
          }
        }
        for (const [key, volid] of local) {
          const size = findVolume(sim.state, volid, node)?.volume.size ?? 0;
          for (let i = 1; i <= 3; i++) {
            await task.sleep(1);
            const done = Math.round((size * i) / 3);
            task.log(
              `${stamp()} ${key}: transferred ${renderBytes(done)} of ${renderBytes(size)} (${
                ((done / Math.max(size, 1)) * 100).toFixed(2)
              }%) in ${i}s`,
            );
          }
        }
        if (kind.type === "qemu" && wasRunning) {
          task.log(`${stamp()} starting online/live migration on tcp:${targetNode.ip}:60000`);
          const mem = configMemory(g.config);
          for (let i = 1; i <= 3; i++) {
            await task.sleep(1);
            task.log(
              `${stamp()} migration active, transferred ${renderBytes((mem * i) / 4)} of ${
                renderBytes(mem)
              } VM-state, ${renderBytes(mem / 4)}/s`,
            );
          }
          task.log(`${stamp()} migration status: completed`);
        } else {
          await task.sleep(1);
        }
        moveLocalVolumes(sim.state, kind, g, target);
        g.node = target;
        if (kind.type === "lxc" && wasRunning) {
          task.log(`${stamp()} start container on target node`);
          await task.sleep(1);
          markRunning(sim, g);
        }
        task.log(`${stamp()} migration finished successfully (duration ${duration()})`);
      });
    },
  );
}
