/**
 * `DELETE /nodes/{node}/{qemu|lxc}/{vmid}`: destroying a guest and its volumes, with `purge`.
 *
 * @module
 */

import { dieError } from "../../errors.ts";
import type { RouteContext } from "../../router.ts";
import { poolOf, type SimState } from "../../state.ts";
import { haSid } from "./ha.ts";
import type { Kind } from "./kind.ts";
import { assertUnlockedSync, assertUnlockedTask } from "./locks.ts";
import { findGuest, guestInTask } from "./lookup.ts";
import { checkSkiplock, pbool } from "./params.ts";
import { markStopped } from "./power.ts";
import { ownedVolumes, removedLine, removeVolume, storageOf } from "./volumes.ts";

/** Removes a guest from its pool, backup jobs and HA (destroy with `purge`). */
export function purgeGuestReferences(
  state: SimState,
  kind: Kind,
  vmid: number,
  purge: boolean,
): void {
  const pool = poolOf(state, vmid);
  if (pool !== undefined) state.pools.get(pool)?.vms.delete(vmid);
  if (!purge) return;
  state.ha.delete(haSid(kind, vmid));
  for (const [id, job] of state.replication) if (job.guest === vmid) state.replication.delete(id);
  for (const job of state.backupJobs.values()) {
    if (job.vmid === undefined) continue;
    const ids = job.vmid.split(/[,;\s]+/).filter((v) => v !== "" && v !== String(vmid));
    job.vmid = ids.join(",");
  }
}

/** `DELETE /nodes/{node}/{qemu|lxc}/{vmid}`. */
export function destroyGuest(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const { sim, params } = ctx;
  const skiplock = kind.type === "qemu" ? checkSkiplock(ctx) : false;
  const purge = pbool(params, "purge");
  const force = kind.type === "lxc" && pbool(params, "force");
  const vmid = guest.vmid;
  const node = guest.node;
  // The early checks in qemu-server's and pve-container's order: protection, (LXC: lock), HA
  // and replication without purge, running. QEMU checks the lock in the worker.
  if (Number(guest.config.protection ?? 0) === 1) {
    throw dieError(`can't remove ${kind.label} ${vmid} - protection mode enabled`);
  }
  if (kind.type === "lxc") assertUnlockedSync(kind, guest);
  if (!purge && sim.state.ha.has(haSid(kind, vmid))) {
    throw dieError(
      `unable to remove ${kind.label} ${vmid} - used in HA resources and purge parameter not set.`,
    );
  }
  if (!purge) {
    // `check_for_existing_jobs` of pve-guest-common's ReplicationConfig.
    const job = [...sim.state.replication.values()].find((j) => j.guest === vmid);
    if (job !== undefined) {
      throw dieError(
        `There is a replication job '${job.id}' for guest '${vmid}' - Please remove that first.`,
      );
    }
  }
  if (guest.status === "running" && !force) {
    throw dieError(
      kind.type === "qemu"
        ? `VM ${vmid} is running - destroy failed`
        : `unable to destroy CT ${vmid} - container is running`,
    );
  }
  const unreferenced = pbool(params, "destroy-unreferenced-disks");
  return sim.startTask(
    ctx.auth,
    { node, type: `${kind.prefix}destroy`, id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      assertUnlockedTask(kind, g, skiplock);
      if (g.status === "running") {
        if (!force) throw new Error(`${kind.label} ${vmid} is running - destroy failed`);
        await task.sleep(1);
        markStopped(g);
      }
      g.config.lock = "destroyed";
      const volids = new Set(ownedVolumes(kind, g.config));
      if (typeof g.config.vmstate === "string" && g.config.vmstate.includes(":")) {
        volids.add(g.config.vmstate);
      }
      for (const snap of g.snapshots.values()) {
        for (const v of ownedVolumes(kind, snap.config)) volids.add(v);
      }
      if (unreferenced) {
        for (const [key, list] of sim.state.volumes) {
          if (key.includes("/") && !key.startsWith(`${node}/`)) continue;
          for (const v of list) {
            if (v.vmid === vmid && (v.content === "images" || v.content === "rootdir")) {
              volids.add(v.volid);
            }
          }
        }
      }
      for (const volid of [...volids].sort()) {
        await task.sleep(0.5);
        removeVolume(sim.state, volid, node);
        task.log(removedLine(volid, storageOf(sim.state, volid)));
      }
      const ha = sim.state.ha.has(haSid(kind, vmid));
      if (purge) task.log(`purging ${kind.label} ${vmid} from related configurations..`);
      purgeGuestReferences(sim.state, kind, vmid, purge);
      if (purge && ha) {
        task.log(`NOTE: removed ${kind.label} ${vmid} from HA resource configuration.`);
      }
      sim.state.guests.delete(vmid);
    },
  );
}
