/**
 * Migration: the `GET …/migrate` precondition check and `POST …/migrate` (offline, online,
 * restart, HA), and the migration worker the HA manager runs too. Phase 1 refuses what
 * `QemuMigrate::scan_local_volumes` refuses: a CD-ROM image on local storage, the host's CD-ROM
 * drive, local disks of a running VM without `with-local-disks`, local volumes with snapshots
 * (unless ZFS or qcow2), a template volume that linked clones use, and a linked clone on local
 * storage.
 *
 * @module
 */

import { dieError, paramError } from "../../errors.ts";
import type { RouteContext, Sim, TaskRunner } from "../../router.ts";
import type { Guest, HaResource, SimState } from "../../state.ts";
import { storageOnNode, volumesOn } from "../storage.ts";
import { cloudinitVolumes, guestDisks, isCdrom, isCloudinitDrive, parseDrive } from "./disks.ts";
import { haSid } from "./ha.ts";
import { type Kind, LXC, QEMU as QEMU_KIND } from "./kind.ts";
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
    out.local_disks = [
      ...local.map(([key, volid]) => ({
        volid,
        drivename: key,
        is_attached: 1,
        size: findVolume(state, volid, guest.node)?.volume.size ?? 0,
      })),
      ...localCdroms(state, guest).map(([key, volid]) => ({
        volid,
        drivename: key,
        is_attached: 1,
        cdrom: 1,
        ...(volid === "cdrom"
          ? {}
          : { size: findVolume(state, volid, guest.node)?.volume.size ?? 0 }),
      })),
    ];
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

/**
 * CD-ROM drives of a VM that tie it to its node: an image on storage that is not shared (not the
 * generated cloud-init drive), or the host's own drive (`cdrom`). `[key, volid]`, by key.
 */
export function localCdroms(state: SimState, guest: Guest): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, raw] of Object.entries(guest.config)) {
    if (!/^(ide|sata|scsi)\d+$/.test(key) || !isCdrom(String(raw))) continue;
    if (isCloudinitDrive(String(raw))) continue;
    const volid = parseDrive(String(raw)).volid;
    if (volid === "none" || volid === "") continue;
    if (volid === "cdrom") {
      out.push([key, volid]);
      continue;
    }
    const storage = storageOf(state, volid);
    if (storage !== undefined && !storage.shared) out.push([key, volid]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/**
 * `QemuMigrate::scan_local_volumes`, for a VM's volumes on local storage: the lines it logs and
 * the errors that abort the migration (`can't migrate local disk '<volid>': <why>`, the host's
 * CD-ROM drive, a linked clone), in PVE's wording.
 */
function scanLocalVolumes(
  state: SimState,
  guest: Guest,
  options: { running: boolean; withLocalDisks: boolean },
): { found: string[]; errors: string[]; fatal?: string } {
  const found: string[] = [];
  const other: string[] = [];
  const local = new Map(localDisks(state, QEMU_KIND, guest).map(([k, v]) => [v, k]));
  const snapshotted = new Set<string>();
  for (const snap of guest.snapshots.values()) {
    for (const [, volid] of guestDisks(QEMU_KIND, snap.config)) snapshotted.add(volid);
  }
  const cdroms = localCdroms(state, guest);
  const volumeErrors = new Map<string, string>();
  for (const [, volid] of cdroms) {
    if (volid === "cdrom") other.push("can't migrate local cdrom drive");
    else volumeErrors.set(volid, "local cdrom image");
  }
  for (const volid of local.keys()) {
    const storage = storageOf(state, volid);
    if (snapshotted.has(volid)) {
      const keepsSnapshots = storage?.type === "zfspool" || volid.endsWith(".qcow2");
      if (options.running) {
        volumeErrors.set(
          volid,
          "online storage migration not possible if non-replicated snapshot exists",
        );
      } else if (!keepsSnapshots) {
        volumeErrors.set(volid, "non-migratable snapshot exists");
      }
    }
    const volname = volid.slice(volid.indexOf(":") + 1);
    if (/^base-\d+-disk-\d+$/.test(volname) && linkedClones(state, volid, guest.node) > 0) {
      volumeErrors.set(volid, "referenced by linked clone(s)");
    }
  }
  const attached = [...local.keys(), ...cdroms.map(([, v]) => v).filter((v) => v !== "cdrom")]
    .sort();
  for (const volid of attached) {
    if (options.running && !options.withLocalDisks) {
      // One error per volume: this one replaces what the scan found (PVE keeps the last).
      volumeErrors.set(
        volid,
        "can't live migrate attached local disks without with-local-disks option",
      );
    }
    found.push(`found local disk '${volid}' (attached)`);
  }
  const errors = [
    ...[...volumeErrors.keys()].sort().map((volid) =>
      `can't migrate local disk '${volid}': ${volumeErrors.get(volid)}`
    ),
    ...other,
  ];
  if (errors.length > 0) return { found, errors };
  for (const volid of [...local.keys()].sort()) {
    const base = /^[^:]+:(base-\d+-disk-\d+)\//.exec(volid)?.[1];
    if (base !== undefined) {
      return { found, errors, fatal: `can't migrate '${volid}' as it's a clone of '${base}'` };
    }
  }
  return { found, errors };
}

/** How many linked clones on a node are based on a template's volume (`volume_is_base_and_used`). */
function linkedClones(state: SimState, baseVolid: string, node: string): number {
  const storage = storageOf(state, baseVolid);
  if (storage === undefined) return 0;
  const base = baseVolid.slice(baseVolid.indexOf(":") + 1);
  return volumesOn(state, storage, node).filter((v) => v.parent === base).length;
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

/** What a migration worker is asked to do. */
export interface MigrationJob {
  /** The node the guest is on. */
  node: string;
  vmid: number;
  target: string;
  /** Live migration (`online`). */
  online: boolean;
  /** Restart migration of a running container. */
  restart: boolean;
  withLocalDisks: boolean;
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
  const res = sim.state.ha.get(haSid(kind, vmid));
  if (res !== undefined) {
    return sim.startTask(ctx.auth, { node, type: "hamigrate", id: String(vmid) }, async (task) => {
      task.log(`Requesting HA migration for ${kind.label} ${vmid} to node ${target}`);
      queueHaMotion(sim, res, "migrate", target);
      await task.sleep(0.2);
    });
  }
  return sim.startTask(
    ctx.auth,
    { node, type: kind.type === "qemu" ? "qmigrate" : "vzmigrate", id: String(vmid) },
    (task) =>
      runMigration(sim, task, kind, { node, vmid, target, online, restart, withLocalDisks }),
  );
}

/**
 * The body of a migration worker (`qmigrate`, `vzmigrate`): PVE's log lines, the checks of
 * phase 1 (local devices, local volumes, storages), the copy of local disks and memory, and the
 * move. Also what the HA manager's LRM runs for an HA-managed guest.
 */
export async function runMigration(
  sim: Sim,
  task: TaskRunner,
  kind: Kind,
  job: MigrationJob,
): Promise<void> {
  const { node, vmid, target, online, restart, withLocalDisks } = job;
  const targetNode = sim.state.nodes.get(target);
  if (targetNode === undefined) throw new Error(`no such cluster node '${target}'`);
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
    const scan = scanLocalVolumes(sim.state, g, { running: wasRunning, withLocalDisks });
    for (const line of scan.found) task.log(`${stamp()} ${line}`);
    for (const [, volid] of cloudinitVolumes(g.config)) {
      const storage = storageOf(sim.state, volid);
      if (storage !== undefined && !storage.shared) {
        task.log(`${stamp()} found generated disk '${volid}' (in current VM config)`);
      }
    }
    for (const line of scan.errors) task.log(`${stamp()} ${line}`);
    const problem = scan.errors.length > 0 ? "can't migrate VM - check log" : scan.fatal;
    if (problem !== undefined) {
      const reason = `Problem found while scanning volumes - ${problem}`;
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
}

/** Seconds the simulated CRM takes to pick up a queued command (PVE's CRM runs every 10 s). */
export const CRM_ROUND_SECONDS = 10;

/** The LRM works as root. */
const LRM_AUTH = { kind: "ticket", userid: "root@pam" } as const;

/**
 * The HA manager carries out `migrate <sid> <node>` / `relocate <sid> <node>` (queued by
 * `POST /cluster/ha/resources/{sid}/migrate|relocate` or an `hamigrate` task): the service
 * shows `migrate` (VMs) or `relocate` (containers, which HA always relocates) while the LRM of
 * the guest's node runs the migration as root — live with its local disks for a running VM
 * (`PVE::HA::Resources::PVEVM::migrate` passes `with-local-disks`), stop, move and start for a
 * container or a relocation. A command for a node that is offline, or for the node the guest is
 * already on, is dropped as the CRM drops it (it only logs). Failing, the service stays where
 * it was.
 */
export function queueHaMotion(
  sim: Sim,
  res: HaResource,
  command: "migrate" | "relocate",
  target: string,
): void {
  const vmid = Number(res.sid.split(":")[1]);
  const guest = sim.state.guests.get(vmid);
  if (guest === undefined || guest.node === target) return;
  if (sim.state.nodes.get(target)?.online !== true) return;
  if (res.motion !== undefined) return;
  const kind = guest.type === "qemu" ? QEMU_KIND : LXC;
  const state = kind.type === "lxc" ? "relocate" : command;
  const node = guest.node;
  res.motion = { state, target };
  sim.startTask(
    LRM_AUTH,
    { node, type: kind.type === "qemu" ? "qmigrate" : "vzmigrate", id: String(vmid) },
    async (task) => {
      try {
        await task.sleep(CRM_ROUND_SECONDS);
        const g = guestInTask(sim.state, kind, node, vmid);
        const running = g.status === "running";
        if (state === "relocate" && running && kind.type === "qemu") {
          task.log(`shutdown VM ${vmid}`);
          await task.sleep(1);
          markStopped(g);
        }
        await runMigration(sim, task, kind, {
          node,
          vmid,
          target,
          online: state === "migrate" && running,
          restart: kind.type === "lxc" && running,
          withLocalDisks: true,
        });
        if (state === "relocate" && running && kind.type === "qemu") {
          task.log(`start VM ${vmid} on node '${target}'`);
          await task.sleep(1);
          markRunning(sim, g);
        }
      } finally {
        delete res.motion;
      }
    },
  );
}
