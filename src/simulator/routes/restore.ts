/**
 * Restoring a backup archive (`POST /nodes/{node}/qemu` with `archive`, `POST …/lxc` with
 * `ostemplate` + `restore=1`): what PVE checks before the worker forks, what fails inside the
 * `qmrestore`/`vzrestore` task, and the log lines that differ by archive kind. The create
 * handlers in `qemu.ts` and `lxc.ts` call these.
 *
 * The split follows qemu-server's `create_vm` and pve-container's `create`:
 *
 * | check                                   | VM (`qmrestore`)                         | CT (`vzrestore`)                              |
 * | --------------------------------------- | ---------------------------------------- | --------------------------------------------- |
 * | volume is not a backup                  | sync `unable to use volume … - content type needs to be 'backup'` | same                   |
 * | file archive missing / storage offline  | sync `can't find file '<volid>'` / `storage '<id>' is not online` | task `unable to restore CT n - can't find file …` |
 * | archive of the other guest type         | task `ERROR: file '<path>' does not look like a QemuServer vzdump backup` (PBS: `got unexpected backup format 'pbs-ct'`) | task `unable to restore CT n - ERROR: archive contains no configuration file` (PBS: `… got unexpected backup format 'pbs-vm'`) |
 * | overwritten guest running               | task `unable to restore VM n - vm is running` | sync `can't overwrite running container`   |
 * | overwritten guest protected             | task `unable to restore VM n - protection mode enabled` | sync `unable to restore CT n - protection mode enabled` |
 *
 * A VM restore that fails leaves the (empty) config behind, as qemu-server warns ("state is
 * NOT cleaned up"); a container restore that fails before touching disks removes it.
 *
 * @module
 */

import { dieError } from "../errors.ts";
import type { Sim, TaskRunner } from "../router.ts";
import type { Guest, GuestConfig, SimState, StorageConfig, Volume } from "../state.ts";
import { isFileBased, pbsRepository, storageActive, volumePath, volumesOn } from "./storage.ts";

/** The archive of a restore request, as far as the request names it. */
export interface RestoreArchive {
  volid: string;
  storage: StorageConfig;
  /** The volume, when it exists on a storage the node reaches. */
  volume?: Volume;
  /** Guest type of the archive, from its name or format. */
  type?: "qemu" | "lxc";
  pbs: boolean;
}

function archiveType(volname: string, volume: Volume | undefined): "qemu" | "lxc" | undefined {
  if (volume?.subtype !== undefined) return volume.subtype;
  if (/^backup\/vm\//.test(volname) || /vzdump-qemu-/.test(volname)) return "qemu";
  if (/^backup\/ct\//.test(volname) || /vzdump-(lxc|openvz)-/.test(volname)) return "lxc";
  return undefined;
}

/**
 * The checks both create handlers make before forking (`check_volume_access` with content
 * `backup`, and for VMs `classify_restore_archive`'s file lookup). Throws PVE's 500s.
 */
export function checkRestoreArchive(
  sim: Sim,
  kind: "qemu" | "lxc",
  request: { archive: string; node: string },
): RestoreArchive {
  const { archive, node } = request;
  const colon = archive.indexOf(":");
  if (colon < 0) {
    throw dieError("Only root can pass arbitrary filesystem paths.");
  }
  const storeid = archive.slice(0, colon);
  const volname = archive.slice(colon + 1);
  const storage = sim.state.storages.get(storeid);
  if (storage === undefined) throw dieError(`storage '${storeid}' does not exist`);
  if (!volname.startsWith("backup/")) {
    throw dieError(`unable to use volume ${archive} - content type needs to be 'backup'`);
  }
  const pbs = storage.type === "pbs";
  const volume = volumesOn(sim.state, storage, node).find((v) => v.volid === archive);
  const out: RestoreArchive = { volid: archive, storage, pbs };
  if (volume !== undefined) out.volume = volume;
  const type = archiveType(volname, volume);
  if (type !== undefined) out.type = type;
  if (kind === "qemu" && !pbs && isFileBased(storage)) {
    if (!storageActive(sim.state, storage, node)) {
      throw dieError(`storage '${storage.storage}' is not online`);
    }
    if (volume === undefined) throw dieError(`can't find file '${archive}'`);
  }
  return out;
}

/** Sync refusals of a container restore over an existing CT (pve-container `create`). */
export function checkCtOverwrite(existing: Guest): void {
  if (existing.status === "running") throw dieError("can't overwrite running container");
  if (existing.config.protection === 1 || existing.config.protection === "1") {
    throw dieError(`unable to restore CT ${existing.vmid} - protection mode enabled`);
  }
}

/**
 * Why the restore task fails before any data is restored, or `undefined`. `old` is the guest
 * being overwritten (`force=1`), if any.
 */
export function restoreTaskFailure(
  sim: Sim,
  kind: "qemu" | "lxc",
  request: { archive: RestoreArchive; vmid: number; node: string; old?: Guest | undefined },
): string | undefined {
  const { archive, vmid, node, old } = request;
  if (kind === "qemu") {
    if (old !== undefined && old.status === "running") {
      return `unable to restore VM ${vmid} - vm is running`;
    }
    if (old !== undefined && (old.config.protection === 1 || old.config.protection === "1")) {
      return `unable to restore VM ${vmid} - protection mode enabled`;
    }
    if (archive.pbs) {
      if (!storageActive(sim.state, archive.storage, node)) {
        return `storage '${archive.storage.storage}' is not online`;
      }
      if (archive.volume === undefined) {
        return `proxmox-backup-client failed: Error: unable to access snapshot '${
          archive.volid.replace(/^[^:]+:backup\//, "")
        }' - no such snapshot`;
      }
      if (archive.type === "lxc") return "got unexpected backup format 'pbs-ct'";
      return undefined;
    }
    if (archive.type === "lxc") {
      return `ERROR: file '${
        volumePath(archive.storage, archive.volid)
      }' does not look like a QemuServer vzdump backup`;
    }
    return undefined;
  }
  const prefix = `unable to restore CT ${vmid} -`;
  if (!storageActive(sim.state, archive.storage, node)) {
    return `${prefix} storage '${archive.storage.storage}' is not online`;
  }
  if (archive.volume === undefined) {
    return archive.pbs
      ? `${prefix} proxmox-backup-client failed: Error: unable to access snapshot '${
        archive.volid.replace(/^[^:]+:backup\//, "")
      }' - no such snapshot`
      : `${prefix} can't find file '${archive.volid}'`;
  }
  if (archive.type === "qemu") {
    return archive.pbs
      ? `${prefix} got unexpected backup format 'pbs-vm'`
      : `${prefix} ERROR: archive contains no configuration file`;
  }
  return undefined;
}

/**
 * A restore task failing before any data is restored ({@linkcode restoreTaskFailure}): logs
 * what PVE logs and leaves the state as PVE leaves it. An overwritten guest (`old`) is back as
 * it was; a new VM keeps its empty config (qemu-server: "state is NOT cleaned up"); a new
 * container's config is removed.
 */
export function failRestoreEarly(
  state: SimState,
  task: TaskRunner,
  restore: { kind: "qemu" | "lxc"; guest: Guest; old?: Guest | undefined; archive: string },
): void {
  const { kind, guest, old, archive } = restore;
  if (kind === "qemu") {
    task.warn(
      "error before or during data restore, some or all disks were not completely restored. " +
        `VM ${guest.vmid} state is NOT cleaned up.`,
    );
  } else {
    task.log(`recovering backed-up configuration from '${archive}'`);
  }
  if (old !== undefined) state.guests.set(old.vmid, old);
  else if (kind === "qemu") guest.config = {};
  else if (state.guests.get(guest.vmid) === guest) state.guests.delete(guest.vmid);
}

/** The guest config a restore starts from. */
export function backupConfigOf(archive: RestoreArchive): GuestConfig {
  return archive.volume?.backupConfig ?? {};
}

/** The first lines of a VM restore: the `vma extract` pipe, or `pbs-restore` for PBS. */
export function logVmRestoreStart(task: TaskRunner, archive: RestoreArchive, vmid: number): void {
  if (archive.pbs) {
    const snapshot = archive.volid.replace(/^[^:]+:backup\//, "");
    task.log(
      `restore proxmox backup image: /usr/bin/pbs-restore --repository ${
        pbsRepository(archive.storage)
      } ${snapshot} --verbose --format raw --skip-zero`,
    );
    task.log(`connecting to repository '${pbsRepository(archive.storage)}'`);
    task.log(`starting to restore snapshot '${snapshot}'`);
    task.log("download and verify backup index");
    return;
  }
  const path = volumePath(archive.storage, archive.volid);
  const decompress = /\.zst$/.test(path)
    ? "zstd -q -d -c"
    : /\.gz$/.test(path)
    ? "zcat"
    : /\.lzo$/.test(path)
    ? "lzop -d -c"
    : "cat";
  task.log(
    `restore vma archive: ${decompress} ${path} | vma extract -v -r /var/tmp/vzdumptmp${vmid}.fifo - /var/tmp/vzdumptmp${vmid}`,
  );
}
