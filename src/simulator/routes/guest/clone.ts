/**
 * `POST …/clone`: full and linked clones, with the `clone` lock and progress in the log.
 *
 * @module
 */

import { dieError, paramError } from "../../errors.ts";
import { checkStorageEnabled } from "./volumes.ts";
import type { RouteContext } from "../../router.ts";
import type { GuestConfig } from "../../state.ts";
import { cloudinitVolumes, driveSize, guestDisks, parseDrive, printDrive } from "./disks.ts";
import { CLOUDINIT_DISK_SIZE } from "./cloudinit.ts";
import { pseudoUuid } from "./hash.ts";
import type { Kind } from "./kind.ts";
import { assertUnlockedSync } from "./locks.ts";
import { findGuest, newGuest } from "./lookup.ts";
import { regenerateMacs } from "./network.ts";
import { pbool, pstr } from "./params.ts";
import { addToPool, checkPool } from "./pools.ts";
import { formatSize, renderBytes } from "./sizes.ts";
import { SNAPSHOT_SKIP } from "./snapshots.ts";
import {
  allocateVolume,
  createdLine,
  findVolume,
  removeVolume,
  requireStorage,
  storageOf,
} from "./volumes.ts";

const GIB = 1024 ** 3;

/** `POST …/clone`. */
export function cloneGuest(ctx: RouteContext, kind: Kind): string {
  const src = findGuest(ctx, kind);
  const { sim, params } = ctx;
  const state = sim.state;
  const node = src.node;
  const vmid = src.vmid;
  const newid = Number(params.newid);
  const snapname = pstr(params, "snapname");
  const isTemplate = Number(src.config.template ?? 0) === 1;
  const full = params.full === undefined ? !isTemplate : pbool(params, "full");
  const storageParam = pstr(params, "storage");
  const format = pstr(params, "format");
  const pool = pstr(params, "pool");
  let target = pstr(params, "target");
  if (target === node) target = undefined;
  if (storageParam !== undefined && !full) {
    throw dieError("parameter 'storage' not allowed for linked clones");
  }
  if (format !== undefined && !full) {
    throw dieError("parameter 'format' not allowed for linked clones");
  }
  assertUnlockedSync(kind, src);
  if (state.guests.has(newid)) {
    throw dieError(`unable to create ${kind.label} ${newid}: config file already exists`);
  }
  let baseConfig: GuestConfig = src.config;
  if (snapname !== undefined) {
    const snap = src.snapshots.get(snapname);
    if (snap === undefined) throw dieError(`snapshot '${snapname}' does not exist`);
    baseConfig = snap.config;
  }
  const targetStorage = storageParam === undefined
    ? undefined
    : requireStorage(state, storageParam);
  if (targetStorage !== undefined) {
    checkStorageEnabled(targetStorage, node);
    if (!targetStorage.content.includes(kind.type === "qemu" ? "images" : "rootdir")) {
      throw kind.type === "qemu"
        ? paramError({ storage: `storage '${targetStorage.storage}' does not support vm images` })
        : dieError(`storage '${targetStorage.storage}' does not support CT rootdirs`);
    }
    if (target !== undefined) {
      checkStorageEnabled(targetStorage, target);
      if (!targetStorage.shared) {
        throw dieError(`can't clone to non-shared storage '${targetStorage.storage}'`);
      }
    }
  }
  if (target !== undefined) {
    if (!state.nodes.has(target)) throw dieError(`no such cluster node '${target}'`);
    const local = guestDisks(kind, baseConfig).filter(([k, v]) =>
      !/^unused\d+$/.test(k) && !(storageOf(state, v)?.shared ?? false)
    );
    if (local.length > 0 && !(targetStorage?.shared ?? false)) {
      throw dieError(
        `can't clone ${kind.label} to node '${target}' (${kind.label} uses local storage)`,
      );
    }
  }
  checkPool(state, pool);
  const newNode = target ?? node;

  const newConfig: GuestConfig = {};
  for (const [k, v] of Object.entries(baseConfig)) {
    if (SNAPSHOT_SKIP.has(k) || k === "template" || /^unused\d+$/.test(k)) continue;
    newConfig[k] = v;
  }
  if (kind.type === "qemu") {
    const srcName = String(baseConfig.name ?? `VM-${vmid}`);
    newConfig.name = pstr(params, "name") ?? `Copy-of-VM-${srcName}`;
    if (newConfig.smbios1 !== undefined) {
      newConfig.smbios1 = String(newConfig.smbios1).replace(
        /uuid=[0-9a-f-]+/i,
        `uuid=${pseudoUuid(`smbios/${newid}`)}`,
      );
    }
    if (newConfig.vmgenid !== undefined) newConfig.vmgenid = pseudoUuid(`vmgenid/${newid}`);
  } else {
    const hostname = pstr(params, "hostname");
    if (hostname !== undefined) newConfig.hostname = hostname;
  }
  const description = pstr(params, "description");
  if (description !== undefined) newConfig.description = description;
  regenerateMacs(kind, state, newid, newConfig);
  newConfig.lock = "clone";
  const disks = guestDisks(kind, baseConfig).filter(([k]) => !/^unused\d+$/.test(k));
  for (const [key] of disks) delete newConfig[key];
  // A cloud-init drive is always cloned full: a fresh `vm-<newid>-cloudinit`, generated later.
  const cloudinit = kind.type === "qemu" ? cloudinitVolumes(baseConfig) : [];
  for (const [key] of cloudinit) delete newConfig[key];
  const clone = newGuest(kind, newid, newNode, newConfig);
  state.guests.set(newid, clone);

  return sim.startTask(
    ctx.auth,
    { node, type: `${kind.prefix}clone`, id: String(vmid) },
    async (task) => {
      // The worker repeats `load_and_check`: a volume that cannot be linked fails it, before
      // anything is allocated (so without the `clone failed:` prefix).
      if (!full) {
        for (const [key, volid] of disks) {
          const volname = volid.slice(volid.indexOf(":") + 1);
          if (!/^(base|basevol)-\d+-disk-\d+/.test(volname.split("/").pop() ?? "")) {
            if (state.guests.get(newid) === clone) state.guests.delete(newid);
            throw new Error(`Linked clone feature is not supported for '${volid}' (${key})`);
          }
        }
      }
      const created: string[] = [];
      if (kind.type === "qemu") task.log(`creating a clone of VM ${vmid} with ID ${newid}`);
      try {
        for (const [key, volid, value] of disks) {
          const srcStorage = storageOf(state, volid);
          const size = findVolume(state, volid, node)?.volume.size ?? driveSize(value);
          const opts = parseDrive(value).opts.filter(([k]) => k !== "size");
          const what = kind.type === "qemu" ? `drive ${key}` : `mountpoint ${key}`;
          if (!full) {
            task.log(`create linked clone of ${what} (${volid})`);
            if (srcStorage === undefined) {
              throw new Error(`storage '${volid.split(":")[0]}' does not exist`);
            }
            const newVolid = allocateVolume(sim, {
              storage: srcStorage,
              node: newNode,
              vmid: newid,
              size,
              content: kind.type === "qemu" ? "images" : "rootdir",
              base: volid,
            });
            created.push(newVolid);
            task.log(createdLine(newVolid, srcStorage));
            await task.sleep(1);
            clone.config[key] = printDrive(newVolid, [...opts, ["size", formatSize(size)]]);
            continue;
          }
          const storage = targetStorage ?? srcStorage;
          if (storage === undefined) {
            throw new Error(`storage '${volid.split(":")[0]}' does not exist`);
          }
          task.log(`create full clone of ${what} (${volid})`);
          const newVolid = allocateVolume(sim, {
            storage,
            node: newNode,
            vmid: newid,
            size,
            content: kind.type === "qemu" ? "images" : "rootdir",
            ...(format !== undefined ? { format } : {}),
          });
          created.push(newVolid);
          task.log(createdLine(newVolid, storage));
          task.log(`allocated target volume '${newVolid}'`);
          const steps = 5;
          const prefix = kind.type === "qemu" ? `drive-${key}` : key;
          for (let i = 1; i <= steps; i++) {
            await task.sleep(1);
            const done = i === steps ? size : Math.round((size * i) / steps / GIB * 10) / 10 * GIB;
            const pct = size === 0 ? 100 : (done / size) * 100;
            task.log(
              `${prefix}: transferred ${renderBytes(done)} of ${renderBytes(size)} (${
                pct.toFixed(2)
              }%) in ${i}s${i === steps ? ", ready" : ""}`,
            );
          }
          clone.config[key] = printDrive(newVolid, [...opts, ["size", formatSize(size)]]);
        }
        for (const [key, volid] of cloudinit) {
          const storage = targetStorage ?? storageOf(state, volid);
          if (storage === undefined) {
            throw new Error(`storage '${volid.split(":")[0]}' does not exist`);
          }
          task.log(`create full clone of drive ${key} (${volid})`);
          const newVolid = allocateVolume(sim, {
            storage,
            node: newNode,
            vmid: newid,
            size: CLOUDINIT_DISK_SIZE,
            content: "images",
            name: `vm-${newid}-cloudinit`,
          });
          created.push(newVolid);
          task.log(createdLine(newVolid, storage));
          task.log(`allocated target volume '${newVolid}'`);
          const opts = parseDrive(String(baseConfig[key])).opts.filter(([k]) => k !== "size");
          clone.config[key] = printDrive(newVolid, opts);
        }
        if (kind.type === "qemu" && src.status === "running" && full && disks.length > 0) {
          task.log("all 'mirror' jobs are ready");
        }
        addToPool(state, pool, newid);
        if (clone.config.lock === "clone") delete clone.config.lock;
      } catch (e) {
        for (const volid of created) removeVolume(state, volid, newNode);
        if (state.guests.get(newid) === clone) state.guests.delete(newid);
        throw kind.type === "qemu"
          ? new Error(`clone failed: ${e instanceof Error ? e.message : String(e)}`)
          : e;
      }
    },
  );
}
