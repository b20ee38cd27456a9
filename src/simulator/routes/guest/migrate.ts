/**
 * Migration: the `GET …/migrate` precondition check and `POST …/migrate` (offline, online,
 * restart, HA).
 *
 * @module
 */

import { dieError, paramError } from "../../errors.ts";
import type { RouteContext } from "../../router.ts";
import type { Guest, SimState } from "../../state.ts";
import { volumesOn } from "../storage.ts";
import { guestDisks } from "./disks.ts";
import { haSid } from "./ha.ts";
import type { Kind } from "./kind.ts";
import { assertUnlockedSync, assertUnlockedTask, withLock } from "./locks.ts";
import { findGuest, guestInTask } from "./lookup.ts";
import { pbool } from "./params.ts";
import { markRunning, markStopped } from "./power.ts";
import { renderBytes } from "./sizes.ts";
import { configMemory } from "./stats.ts";
import { findVolume, storageOf } from "./volumes.ts";

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
  const volids = new Set(guestDisks(kind, guest.config).map(([, v]) => v));
  for (const snap of guest.snapshots.values()) {
    for (const [, v] of guestDisks(kind, snap.config)) volids.add(v);
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
    out.local_resources = [];
    out["mapped-resources"] = [];
    out["mapped-resource-info"] = {};
  }
  return out;
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
  if (guest.status === "running") {
    if (kind.type === "qemu" && !online) {
      throw dieError("can't migrate running VM without --online");
    }
    if (kind.type === "lxc" && !online && !restart) {
      throw dieError("can't migrate running container without --online or --restart");
    }
  }
  assertUnlockedSync(kind, guest);
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
      await withLock(g, "migrate", async () => {
        task.log(
          `${stamp()} starting migration of ${kind.label} ${vmid} to node '${target}' (${targetNode.ip})`,
        );
        const wasRunning = g.status === "running";
        if (kind.type === "lxc" && wasRunning) {
          task.log(`${stamp()} shutdown CT ${vmid}`);
          await task.sleep(1);
          markStopped(g);
        }
        for (const [key, volid] of localDisks(sim.state, kind, g)) {
          task.log(`${stamp()} found local volume '${volid}' (in current VM config)`);
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
        const secs = Math.max(0, sim.clock.now() - started);
        const hh = String(Math.floor(secs / 3600)).padStart(2, "0");
        const mm = String(Math.floor((secs % 3600) / 60)).padStart(2, "0");
        const ss = String(secs % 60).padStart(2, "0");
        task.log(`${stamp()} migration finished successfully (duration ${hh}:${mm}:${ss})`);
      });
    },
  );
}
