/**
 * Volumes on storages for guest disks: finding, allocating (`<storage>:<GiB>`), removing, the
 * storage plugins' log lines, and discarding a failed create's volumes.
 *
 * @module
 */

import { dieError } from "../../errors.ts";
import type { Sim, TaskRunner } from "../../router.ts";
import type { Guest, GuestConfig, SimState, StorageConfig, Volume } from "../../state.ts";
import { storageBasePath, storageOnNode, storageUsage, volumesOn } from "../storage.ts";
import { cloudinitVolumes, guestDisks, isCdrom, parseDrive, printDrive } from "./disks.ts";
import type { Kind } from "./kind.ts";
import { formatSize, renderBytes } from "./sizes.ts";

const GIB = 1024 ** 3;

/** The storage config of a volid's storage, or undefined. */
export function storageOf(state: SimState, volid: string): StorageConfig | undefined {
  return state.storages.get(volid.split(":")[0] ?? "");
}

/** Finds a volume entry (and its list) by volid on a node (local) or cluster-wide (shared). */
export function findVolume(
  state: SimState,
  volid: string,
  node?: string,
): { list: Volume[]; volume: Volume; key: string } | undefined {
  for (const [key, list] of state.volumes) {
    if (node !== undefined && key.includes("/") && !key.startsWith(`${node}/`)) continue;
    const volume = list.find((v) => v.volid === volid);
    if (volume !== undefined) return { list, volume, key };
  }
  return undefined;
}

/** Removes a volume from the storage lists. */
export function removeVolume(state: SimState, volid: string, node: string): void {
  const found = findVolume(state, volid, node);
  if (found === undefined) return;
  const i = found.list.indexOf(found.volume);
  if (i >= 0) found.list.splice(i, 1);
}

/** Next free disk number of a vmid on a storage. */
function nextDiskIndex(
  state: SimState,
  storage: StorageConfig,
  node: string,
  vmid: number,
): number {
  const list = volumesOn(state, storage, node);
  let n = 0;
  const taken = new Set(list.map((v) => v.volid));
  for (;;) {
    const names = [
      `${storage.storage}:vm-${vmid}-disk-${n}`,
      `${storage.storage}:base-${vmid}-disk-${n}`,
      `${storage.storage}:subvol-${vmid}-disk-${n}`,
      `${storage.storage}:${vmid}/vm-${vmid}-disk-${n}.qcow2`,
      `${storage.storage}:${vmid}/vm-${vmid}-disk-${n}.raw`,
      `${storage.storage}:${vmid}/base-${vmid}-disk-${n}.qcow2`,
    ];
    if (
      !names.some((name) =>
        taken.has(name) || [...taken].some((t) => t.endsWith(`/vm-${vmid}-disk-${n}`))
      )
    ) {
      return n;
    }
    n++;
  }
}

/**
 * `storage_check_enabled`: 500 `storage 'x' is disabled` or `storage 'x' is not available on
 * node 'y'` (a storage limited to other nodes).
 */
export function checkStorageEnabled(storage: StorageConfig, node: string): void {
  if (storage.disable) throw dieError(`storage '${storage.storage}' is disabled`);
  if (!storageOnNode(storage, node)) {
    throw dieError(`storage '${storage.storage}' is not available on node '${node}'`);
  }
}

/** Looks up a storage by id; 500 `storage 'x' does not exist`. */
export function requireStorage(state: SimState, storeid: string): StorageConfig {
  const storage = state.storages.get(storeid);
  if (storage === undefined) throw dieError(`storage '${storeid}' does not exist`);
  return storage;
}

/** The storage a task body allocates on; a missing one ends the task. */
export function requireStorageInTask(sim: Sim, storeid: string): StorageConfig {
  const storage = sim.state.storages.get(storeid);
  if (storage === undefined) throw new Error(`storage '${storeid}' does not exist`);
  return storage;
}

/**
 * What the storage plugin's `alloc_image` does when the storage cannot hold `size` more bytes
 * (FACTS §5.17; `used` is the sum of the volumes): LVM refuses with `not enough free space`
 * (free bytes against KiB, as `alloc_lvm_image` compares them), ZFS with `out of space`, an
 * LVM-thin pool only once it is completely full (thin volumes may overcommit it, with LVM's
 * warning), a directory only when not even an empty image fits. Throws PVE's message.
 */
function checkRoom(
  sim: Sim,
  options: { storage: StorageConfig; node: string; volname: string; size: number },
  log: ((line: string) => void) | undefined,
): void {
  const { storage, node, volname, size } = options;
  const { total, used, avail } = storageUsage(sim.state, storage, node);
  const vg = storage.vgname ?? "pve";
  switch (storage.type) {
    case "lvm":
      if (avail < size) {
        throw new Error(`not enough free space (${avail} < ${Math.ceil(size / 1024)})`);
      }
      return;
    case "zfspool":
      if (avail < size) {
        throw new Error(`zfs error: cannot create 'rpool/data/${volname}': out of space`);
      }
      return;
    case "lvmthin": {
      const pool = `${vg}/${storage.thinpool ?? "data"}`;
      if (used >= total) {
        throw new Error(
          `lvcreate '${vg}/${volname}' error:   Cannot create new thin volume, free space in thin pool ${pool} reached threshold.`,
        );
      }
      if (avail < size) {
        log?.(
          `  WARNING: Sum of all thin volume sizes (${
            renderBytes(used + size)
          }) exceeds the size of thin pool ${pool} (${renderBytes(total)}).`,
        );
      }
      return;
    }
    case "dir":
    case "nfs":
      if (avail < 1024 * 1024) {
        const path = `${storageBasePath(storage)}/images/${volname}`;
        throw new Error(
          `unable to create image: qemu-img: ${path}: Could not create '${path}': No space left on device`,
        );
      }
      return;
    default:
      return;
  }
}

/**
 * Allocates a new volume for a guest disk (`vm-<vmid>-disk-<n>`, or `name` such as
 * `vm-<vmid>-cloudinit`); returns its volid. Fails with the plugin's message when the storage
 * is full (`log` receives the warnings the plugin prints).
 */
export function allocateVolume(
  sim: Sim,
  options: {
    storage: StorageConfig;
    node: string;
    vmid: number;
    size: number;
    content: "images" | "rootdir";
    format?: string;
    base?: string;
    name?: string;
    log?: (line: string) => void;
  },
): string {
  const { storage, node, vmid, size, content } = options;
  const fileBased = storage.type === "dir" || storage.type === "nfs";
  const format = options.format ?? (fileBased ? (content === "rootdir" ? "raw" : "qcow2") : "raw");
  let volname: string;
  if (options.name !== undefined) {
    volname = fileBased ? `${vmid}/${options.name}.${format}` : options.name;
  } else {
    const n = nextDiskIndex(sim.state, storage, node, vmid);
    if (fileBased) volname = `${vmid}/vm-${vmid}-disk-${n}.${format}`;
    else if (storage.type === "zfspool" && content === "rootdir") {
      volname = `subvol-${vmid}-disk-${n}`;
    } else volname = `vm-${vmid}-disk-${n}`;
  }
  if (options.base === undefined) {
    checkRoom(sim, { storage, node, volname, size }, options.log);
  } else {
    const baseName = options.base.slice(options.base.indexOf(":") + 1);
    volname = `${baseName}/${volname}`;
  }
  const volid = `${storage.storage}:${volname}`;
  const volume: Volume = {
    volid,
    content,
    format: storage.type === "zfspool" && content === "rootdir" ? "subvol" : format,
    size,
    ctime: sim.clock.now(),
    vmid,
  };
  if (options.base !== undefined) volume.parent = options.base.slice(options.base.indexOf(":") + 1);
  volumesOn(sim.state, storage, node).push(volume);
  return volid;
}

/** The log line PVE's storage plugins print when a volume is created. */
export function createdLine(volid: string, storage: StorageConfig | undefined): string {
  const volname = volid.slice(volid.indexOf(":") + 1);
  if (storage?.type === "lvmthin" || storage?.type === "lvm") {
    return `  Logical volume "${volname.split("/").pop()}" created.`;
  }
  if (storage?.type === "dir" || storage?.type === "nfs") {
    const base = storage.path ??
      (storage.type === "nfs" ? `/mnt/pve/${storage.storage}` : "/var/lib/vz");
    return `Formatting '${base}/images/${volname}', fmt=${
      volname.split(".").pop()
    } size=0 preallocation=off`;
  }
  return `successfully created '${volid}'`;
}

/** The log line printed when a volume is removed. */
export function removedLine(volid: string, storage: StorageConfig | undefined): string {
  const volname = volid.slice(volid.indexOf(":") + 1).split("/").pop() ?? volid;
  if (storage?.type === "lvmthin" || storage?.type === "lvm") {
    return `  Logical volume "${volname}" successfully removed.`;
  }
  return `Removing image: 100% complete...done.`;
}

/**
 * Turns a disk parameter of a create/update into a stored disk: `<storage>:<GiB>` allocates a
 * new volume (logged), anything else is kept. Returns the config value.
 */
export function materializeDisk(
  sim: Sim,
  task: TaskRunner | undefined,
  options: { kind: Kind; node: string; vmid: number; key: string; value: string },
): string {
  const { kind, node, vmid, key, value } = options;
  if (kind.type === "qemu" && isCdrom(value)) return value;
  const { volid, opts } = parseDrive(value);
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$/i.exec(volid);
  if (m === null) return value;
  const storage = requireStorage(sim.state, m[1] ?? "");
  let size = Math.round(Number(m[2]) * GIB);
  const rest = opts.filter(([k]) => k !== "size" && k !== "import-from" && k !== "format");
  const importFrom = opts.find(([k]) => k === "import-from")?.[1];
  if (importFrom !== undefined) {
    const src = findVolume(sim.state, importFrom, node);
    size = src?.volume.size ?? 2 * GIB;
  }
  const format = opts.find(([k]) => k === "format")?.[1];
  const newVolid = allocateVolume(sim, {
    storage,
    node,
    vmid,
    size,
    content: kind.type === "lxc" ? "rootdir" : "images",
    ...(format !== undefined ? { format } : {}),
    ...(task !== undefined ? { log: (line: string) => task.log(line) } : {}),
  });
  const stored = printDrive(newVolid, [...rest, ["size", formatSize(size)]]);
  if (task !== undefined) {
    task.log(createdLine(newVolid, storage));
    if (kind.type === "qemu") task.log(`${key}: successfully created disk '${stored}'`);
  }
  return stored;
}

/** A create or restore task failed: its volumes go, and the placeholder guest with them. */
export function discardCreatedGuest(state: SimState, kind: Kind, guest: Guest): void {
  for (const volid of ownedVolumes(kind, guest.config)) removeVolume(state, volid, guest.node);
  if (state.guests.get(guest.vmid) === guest) state.guests.delete(guest.vmid);
}

/** Every volume a config references that the guest owns: its disks, `unusedN` and cloud-init drive. */
export function ownedVolumes(kind: Kind, config: GuestConfig): string[] {
  return [
    ...guestDisks(kind, config).map(([, volid]) => volid),
    ...cloudinitVolumes(config).map(([, volid]) => volid),
  ];
}
