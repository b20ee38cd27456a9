/**
 * Simulated PVE endpoints: storage configuration (`/storage`), per-node storage status and
 * content (`/nodes/{node}/storage/...`), volume deletion and `download-url`, for the storage
 * types dir, nfs, lvmthin and Proxmox Backup Server (`pbs`: backups only, volids
 * `<storage>:backup/vm/<vmid>/<RFC 3339 time>`, with `verification`).
 *
 * Usage is the sum of the volumes on a storage; {@linkcode assertRoom} refuses a write that
 * does not fit, in the words of the tool that would fail. Deleting a guest image whose guest
 * still exists fails synchronously (500, before the worker is forked) with PVE's
 * `Cannot remove image, a guest with VMID '<id>' exists!`; deleting a protected backup fails
 * inside the `imgdel` task.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dieError, paramError, permError, TaskFailure } from "../errors.ts";
import { type AuthInfo, type Params, type Route, route, type Sim } from "../router.ts";
import {
  type NodeState,
  type SimState,
  type StorageConfig,
  type Volume,
  volumeKey,
} from "../state.ts";

/** Whether a storage is configured for `node` (its `nodes` restriction). */
export function storageOnNode(storage: StorageConfig, node: string): boolean {
  return storage.nodes === undefined || storage.nodes.includes(node);
}

/** The volumes of a storage as seen from `node` (the shared list for shared storage). */
export function volumesOn(state: SimState, storage: StorageConfig, node: string): Volume[] {
  const key = volumeKey(storage, node);
  let list = state.volumes.get(key);
  if (list === undefined) {
    list = [];
    state.volumes.set(key, list);
  }
  return list;
}

/** A storage's capacity on a node: its `nodeTotals` entry, else `total`. */
export function storageTotal(storage: StorageConfig, node: string): number {
  return storage.nodeTotals?.[node] ?? storage.total;
}

/**
 * What a storage holds on a node before capping at its capacity: the sum of its volumes plus
 * its `usedOffset` (never below 0).
 */
export function storageHeld(state: SimState, storage: StorageConfig, node: string): number {
  let used = storage.usedOffset?.[volumeKey(storage, node)] ?? 0;
  for (const volume of volumesOn(state, storage, node)) used += volume.size;
  return Math.max(0, used);
}

/**
 * Capacity of a storage on a node: `used` is the sum of its volumes (plus its `usedOffset`),
 * capped at the total.
 */
export function storageUsage(
  state: SimState,
  storage: StorageConfig,
  node: string,
): { total: number; used: number; avail: number } {
  const total = storageTotal(storage, node);
  const used = Math.min(storageHeld(state, storage, node), total);
  return { total, used, avail: total - used };
}

/**
 * Whether a storage is active on a node: enabled, reachable (no simulated outage) and the
 * node is online.
 */
export function storageActive(state: SimState, storage: StorageConfig, node: string): boolean {
  if (storage.disable || storage.offline) return false;
  return state.nodes.get(node)?.online ?? false;
}

/** Whether a storage keeps files under a path (dir, nfs): only those take uploads and downloads. */
export function isFileBased(storage: StorageConfig): boolean {
  return storage.type === "dir" || storage.type === "nfs";
}

/** Bytes still free on a storage as seen from `node`. */
export function freeBytes(state: SimState, storage: StorageConfig, node: string): number {
  return storageUsage(state, storage, node).avail;
}

/**
 * Throws (with the message of the program that would fail) unless `size` bytes fit on the
 * storage: a full storage refuses allocations, downloads and archives.
 */
export function assertRoom(
  state: SimState,
  storage: StorageConfig,
  node: string,
  size: number,
  what: { volname: string; path?: string },
): void {
  const avail = freeBytes(state, storage, node);
  if (size <= avail) return;
  switch (storage.type) {
    case "lvmthin":
      throw new Error(
        `lvcreate '${storage.vgname ?? "pve"}/${what.volname}' error:   Cannot create new thin ` +
          `volume, free space in thin pool ${storage.vgname ?? "pve"}/${
            storage.thinpool ?? "data"
          } reached threshold.`,
      );
    case "lvm":
      throw new Error(
        `lvcreate '${storage.vgname ?? "pve"}/${what.volname}' error:   Volume group "${
          storage.vgname ?? "pve"
        }" has insufficient free space (${Math.floor(avail / 4194304)} extents): ${
          Math.ceil(size / 4194304)
        } required.`,
      );
    case "zfspool":
      throw new Error(`zfs error: cannot create '${what.volname}': out of space`);
    case "pbs":
      throw new Error(
        `proxmox-backup-client failed: Error: backup failed: datastore '${
          storage.datastore ?? storage.storage
        }' is full (ENOSPC: No space left on device)`,
      );
    default:
      throw new Error(
        `unable to create image: qemu-img: ${what.path ?? what.volname}: Could not create '${
          what.path ?? what.volname
        }': No space left on device`,
      );
  }
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the time in a PBS snapshot name. */
export function pbsTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The volid of a PBS backup snapshot: `<storage>:backup/vm/105/2026-01-02T03:04:05Z`. */
export function pbsVolid(
  storage: StorageConfig,
  type: "qemu" | "lxc",
  vmid: number,
  epoch: number,
): string {
  return `${storage.storage}:backup/${type === "qemu" ? "vm" : "ct"}/${vmid}/${pbsTime(epoch)}`;
}

/** A PBS repository as PVE prints it: `user@realm@server:datastore`. */
export function pbsRepository(storage: StorageConfig): string {
  return `${storage.username ?? "root@pam"}@${storage.server ?? "localhost"}:${
    storage.datastore ?? storage.storage
  }`;
}

/** A `/cluster/resources` storage entry. */
export function storageResource(
  state: SimState,
  storage: StorageConfig,
  node: NodeState,
): Record<string, unknown> {
  const active = storageActive(state, storage, node.name);
  const entry: Record<string, unknown> = {
    id: `storage/${node.name}/${storage.storage}`,
    storage: storage.storage,
    node: node.name,
    type: "storage",
    plugintype: storage.type,
    status: active ? "available" : "unknown",
    shared: storage.shared ? 1 : 0,
    content: storage.content.join(","),
  };
  if (active) {
    const usage = storageUsage(state, storage, node.name);
    entry.disk = usage.used;
    entry.maxdisk = usage.total;
  }
  return entry;
}

/** A `GET /nodes/{node}/storage` status entry. */
export function storageStatus(
  state: SimState,
  storage: StorageConfig,
  node: string,
): Record<string, unknown> {
  const active = storageActive(state, storage, node);
  const entry: Record<string, unknown> = {
    storage: storage.storage,
    type: storage.type,
    content: storage.content.join(","),
    shared: storage.shared ? 1 : 0,
    active: active ? 1 : 0,
    enabled: storage.disable ? 0 : 1,
  };
  if (active) {
    const usage = storageUsage(state, storage, node);
    entry.total = usage.total;
    entry.used = usage.used;
    entry.avail = usage.avail;
    entry.used_fraction = usage.total > 0 ? Math.round((usage.used / usage.total) * 1e6) / 1e6 : 0;
  } else {
    entry.total = 0;
    entry.used = 0;
    entry.avail = 0;
  }
  return entry;
}

/** The mount/base path of a file-based storage (`/var/lib/vz`, `/mnt/pve/<id>`). */
export function storageBasePath(storage: StorageConfig): string {
  if (storage.path !== undefined) return storage.path;
  return `/mnt/pve/${storage.storage}`;
}

/** The directory vzdump writes archives to on this storage. */
export function dumpDir(storage: StorageConfig): string {
  return `${storageBasePath(storage)}/dump`;
}

/** The path of a volume as `GET .../content/{volume}` reports it. */
export function volumePath(storage: StorageConfig, volid: string): string {
  const volname = volid.slice(volid.indexOf(":") + 1);
  if (storage.type === "pbs") {
    return `pbs://${pbsRepository(storage)}/${volname.replace(/^backup\//, "")}`;
  }
  if (storage.type === "lvmthin" || storage.type === "lvm") {
    return `/dev/${storage.vgname ?? "pve"}/${volname}`;
  }
  const base = storageBasePath(storage);
  if (volname.startsWith("iso/")) return `${base}/template/iso/${volname.slice(4)}`;
  if (volname.startsWith("vztmpl/")) return `${base}/template/cache/${volname.slice(7)}`;
  if (volname.startsWith("backup/")) return `${base}/dump/${volname.slice(7)}`;
  if (volname.startsWith("snippets/")) return `${base}/snippets/${volname.slice(9)}`;
  if (volname.startsWith("import/")) return `${base}/import/${volname.slice(7)}`;
  return `${base}/images/${volname}`;
}

/** Looks up a storage by id or fails like PVE (`storage '<id>' does not exist`). */
export function getStorage(state: SimState, id: string): StorageConfig {
  const storage = state.storages.get(id);
  if (storage === undefined) throw dieError(`storage '${id}' does not exist`);
  return storage;
}

function storageConfigEntry(storage: StorageConfig): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    storage: storage.storage,
    type: storage.type,
    content: storage.content.join(","),
  };
  if (storage.path !== undefined) entry.path = storage.path;
  if (storage.thinpool !== undefined) entry.thinpool = storage.thinpool;
  if (storage.vgname !== undefined) entry.vgname = storage.vgname;
  if (storage.server !== undefined) entry.server = storage.server;
  if (storage.export !== undefined) entry.export = storage.export;
  if (storage.datastore !== undefined) entry.datastore = storage.datastore;
  if (storage.username !== undefined) entry.username = storage.username;
  if (storage.fingerprint !== undefined) entry.fingerprint = storage.fingerprint;
  if (storage.type === "nfs") entry.options = "vers=4.2";
  // nfs and pbs are shared by their type; storage.cfg carries `shared` only for the others.
  if (storage.shared && storage.type !== "nfs" && storage.type !== "pbs") entry.shared = 1;
  if (storage.disable) entry.disable = 1;
  if (storage.nodes !== undefined) entry.nodes = storage.nodes.join(",");
  if (storage.content.includes("backup")) entry["prune-backups"] = "keep-all=1";
  return entry;
}

function storageDigest(state: SimState): string {
  const text = JSON.stringify([...state.storages.values()].map(storageConfigEntry));
  return createHash("sha1").update(text).digest("hex");
}

function canSeeStorage(sim: Sim, auth: AuthInfo, id: string): boolean {
  return sim.can(auth, `/storage/${id}`, "Datastore.Audit") ||
    sim.can(auth, `/storage/${id}`, "Datastore.AllocateSpace");
}

function listStatus(sim: Sim, auth: AuthInfo, params: Params): unknown[] {
  const state = sim.state;
  const node = String(params.node);
  const wanted = typeof params.storage === "string" ? params.storage : undefined;
  const content = typeof params.content === "string"
    ? params.content.split(/[,;\s]+/).filter((c) => c !== "")
    : undefined;
  const target = typeof params.target === "string" ? params.target : undefined;
  const out: Record<string, unknown>[] = [];
  for (const storage of state.storages.values()) {
    if (wanted !== undefined && storage.storage !== wanted) continue;
    if (!storageOnNode(storage, node)) continue;
    if (!canSeeStorage(sim, auth, storage.storage)) continue;
    if (params.enabled === 1 && storage.disable) continue;
    if (content !== undefined && !content.some((c) => storage.content.includes(c))) continue;
    if (target !== undefined && target !== node) {
      if (!storage.shared || !storageOnNode(storage, target)) continue;
    }
    const entry = storageStatus(state, storage, node);
    if (params.format === 1) {
      entry.format = storage.type === "lvmthin" || storage.type === "lvm"
        ? [{ raw: 1 }, "raw"]
        : [{ raw: 1, qcow2: 1, vmdk: 1 }, "qcow2"];
    }
    out.push(entry);
  }
  if (wanted !== undefined && out.length === 0) {
    throw paramError({ storage: "No such storage." });
  }
  return out;
}

function requireOnNode(storage: StorageConfig, node: string): void {
  if (!storageOnNode(storage, node)) {
    throw dieError(`storage '${storage.storage}' is not available on node '${node}'`);
  }
}

/** Resolves the `volume` path parameter (`<storage>:<volname>` or a bare volname). */
function resolveVolume(
  state: SimState,
  storage: StorageConfig,
  node: string,
  volume: string,
): { volid: string; list: Volume[]; index: number } {
  const volid = volume.includes(":") ? volume : `${storage.storage}:${volume}`;
  const owner = volid.slice(0, volid.indexOf(":"));
  if (owner !== storage.storage) {
    throw paramError({ volume: `storage ID mismatch (${owner} != ${storage.storage})` });
  }
  const list = volumesOn(state, storage, node);
  const index = list.findIndex((v) => v.volid === volid);
  return { volid, list, index };
}

function canAccessVolume(
  sim: Sim,
  auth: AuthInfo,
  storage: StorageConfig,
  volume: Volume | undefined,
): boolean {
  const path = `/storage/${storage.storage}`;
  if (sim.can(auth, path, "Datastore.Allocate")) return true;
  const content = volume?.content;
  if (content === "iso" || content === "vztmpl" || content === "import" || content === "snippets") {
    return sim.can(auth, path, "Datastore.Audit") || sim.can(auth, path, "Datastore.AllocateSpace");
  }
  if (volume?.vmid !== undefined && sim.can(auth, path, "Datastore.AllocateSpace")) {
    const vms = `/vms/${volume.vmid}`;
    return content === "backup"
      ? sim.can(auth, vms, "VM.Backup")
      : sim.can(auth, vms, "VM.Config.Disk");
  }
  return false;
}

function contentItem(volume: Volume): Record<string, unknown> {
  const item: Record<string, unknown> = {
    volid: volume.volid,
    content: volume.content,
    format: volume.format,
    size: volume.size,
    ctime: volume.ctime,
  };
  if (volume.vmid !== undefined) item.vmid = volume.vmid;
  if (volume.content === "images" || volume.content === "rootdir") item.used = volume.size;
  if (volume.parent !== undefined) item.parent = volume.parent;
  if (volume.subtype !== undefined) item.subtype = volume.subtype;
  if (volume.notes !== undefined) item.notes = volume.notes.split("\n")[0];
  // Storage plugins report `protected` only for protected backups (Plugin.pm list_volumes).
  if (volume.content === "backup" && volume.protected === 1) item.protected = 1;
  if (volume.verification !== undefined) item.verification = { ...volume.verification };
  return item;
}

function listContent(sim: Sim, auth: AuthInfo, params: Params): unknown[] {
  const state = sim.state;
  const node = String(params.node);
  const storage = getStorage(state, String(params.storage));
  checkEnabled(storage, node);
  checkOnline(state, storage, node);
  const content = typeof params.content === "string" ? params.content : undefined;
  const vmid = typeof params.vmid === "number" ? params.vmid : undefined;
  const allocate = sim.can(auth, `/storage/${storage.storage}`, "Datastore.Allocate");
  const out: Record<string, unknown>[] = [];
  for (const volume of volumesOn(state, storage, node)) {
    if (content !== undefined && volume.content !== content) continue;
    if (vmid !== undefined && volume.vmid !== vmid) continue;
    if (!allocate && volume.vmid !== undefined) {
      if (!sim.can(auth, `/vms/${volume.vmid}`, "VM.Audit")) continue;
    }
    out.push(contentItem(volume));
  }
  out.sort((a, b) => String(a.volid).localeCompare(String(b.volid)));
  return out;
}

/**
 * The volume a `…/content/{volume}` request names, on a storage of the node, with PVE's
 * errors: 403 when the caller may not see it, `does not exist` when there is none.
 */
function findVolumeOf(sim: Sim, auth: AuthInfo, params: Params): {
  node: string;
  storage: StorageConfig;
  volid: string;
  list: Volume[];
  volume: Volume;
} {
  const state = sim.state;
  const node = String(params.node);
  const storage = getStorage(state, String(params.storage));
  requireOnNode(storage, node);
  const { volid, list, index } = resolveVolume(state, storage, node, String(params.volume));
  const volume = list[index];
  if (!canAccessVolume(sim, auth, storage, volume)) throw permError();
  if (volume === undefined) throw dieError(`volume '${volid}' does not exist`);
  return { node, storage, volid, list, volume };
}

function volumeInfo(sim: Sim, auth: AuthInfo, params: Params): Record<string, unknown> {
  const { storage, volid, volume } = findVolumeOf(sim, auth, params);
  const info: Record<string, unknown> = {
    path: volumePath(storage, volid),
    size: volume.size,
    used: volume.size,
    format: volume.format,
  };
  if (volume.notes !== undefined) info.notes = volume.notes;
  if (volume.content === "backup") info.protected = volume.protected ?? 0;
  return info;
}

function updateVolume(sim: Sim, auth: AuthInfo, params: Params): null {
  const { storage, volid, volume } = findVolumeOf(sim, auth, params);
  if (typeof params.notes === "string") {
    if (volume.content !== "backup") {
      throw dieError(`volume notes are not supported for ${storage.type} '${volid}'`);
    }
    if (params.notes === "") delete volume.notes;
    else volume.notes = params.notes;
  }
  if (params.protected !== undefined) {
    if (volume.content !== "backup") {
      throw dieError(`volume protection is not supported for ${storage.type} '${volid}'`);
    }
    volume.protected = params.protected === 1 ? 1 : 0;
  }
  return null;
}

function deleteVolume(sim: Sim, auth: AuthInfo, params: Params): unknown {
  const state = sim.state;
  const { node, storage, volid, list, volume } = findVolumeOf(sim, auth, params);
  if (
    (volume.content === "images" || volume.content === "rootdir") && volume.vmid !== undefined &&
    state.guests.has(volume.vmid)
  ) {
    throw dieError(
      `Cannot remove image, a guest with VMID '${volume.vmid}' exists!\n` +
        "You can delete the image from the guest's hardware pane",
    );
  }
  const id = volume.vmid !== undefined ? `${volume.vmid}@${storage.storage}` : storage.storage;
  return sim.startTask(auth, { node, type: "imgdel", id }, async (task) => {
    await task.sleep(1);
    const at = list.findIndex((v) => v.volid === volid);
    const current = list[at];
    if (current === undefined) throw new TaskFailure(`volume '${volid}' does not exist`);
    if (current.protected === 1) {
      // PBSPlugin free_image runs `proxmox-backup-client forget`, which the server refuses;
      // the file plugins check the protection attribute first (Plugin.pm free_image).
      throw new TaskFailure(
        storage.type === "pbs"
          ? "proxmox-backup-client failed: Error: cannot remove protected snapshot"
          : `cannot remove protected volume '${
            volid.slice(volid.indexOf(":") + 1)
          }' on '${storage.storage}'`,
      );
    }
    list.splice(at, 1);
    task.log(`Removed volume '${volid}'`);
  });
}

/** ISO images (`.iso`, `.img`), as `PVE::Storage::ISO_EXT_RE_0`. */
const ISO_EXT = /[^/]+\.(?:iso|img)$/i;
/** Container templates, as `PVE::Storage::VZTMPL_EXT_RE_1`. */
const VZTMPL_EXT = /[^/]+\.(?:tar|tar\.(?:gz|xz|zst|bz2))$/i;
/** Importable images and appliances (`SAFE_CHAR_CLASS_RE` + `UPLOAD_IMPORT_EXT_RE_1`). */
const IMPORT_EXT = /^[a-zA-Z0-9_.+-]+\.(?:ova|qcow2|raw|vmdk)$/;

/** `PVE::Storage::normalize_content_filename`: no directories, unsafe characters become `_`. */
export function normalizeFilename(filename: string): string {
  return filename.replace(/\n$/, "").replace(/^.*[/\\]/, "").replace(/[^a-zA-Z0-9_.-]/g, "_");
}

/**
 * The checksum of the file the simulator "downloads" from `url`: the digest of the URL text
 * itself, so a test (or a demo) can compute the right value and a wrong one fails the task.
 */
export function simulatedChecksum(url: string, algorithm: string): string {
  return createHash(algorithm).update(url).digest("hex");
}

function templateFormat(filename: string): string {
  if (/\.tar\.zst$/i.test(filename)) return "tzst";
  if (/\.tar\.gz$/i.test(filename)) return "tgz";
  if (/\.tar\.xz$/i.test(filename)) return "txz";
  if (/\.tar\.bz2$/i.test(filename)) return "tbz2";
  if (/\.tar$/i.test(filename)) return "tar";
  if (/\.img$/i.test(filename)) return "img";
  if (/\.qcow2$/i.test(filename)) return "qcow2";
  if (/\.vmdk$/i.test(filename)) return "vmdk";
  if (/\.raw$/i.test(filename)) return "raw";
  if (/\.ova$/i.test(filename)) return "ova";
  return "iso";
}

function fakeSize(url: string, content: string): number {
  const digest = createHash("sha1").update(url).digest();
  const n = digest.readUInt32BE(0);
  const mib = content === "iso"
    ? 300 + (n % 2800)
    : content === "vztmpl"
    ? 90 + (n % 160)
    : 400 + (n % 1600);
  return mib * 1024 * 1024 + (n % 1048576);
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)}M`;
}

/** The storage checks of `storage_check_enabled`: configured on the node and not disabled. */
function checkEnabled(storage: StorageConfig, node: string): void {
  if (storage.disable) throw dieError(`storage '${storage.storage}' is disabled`);
  requireOnNode(storage, node);
}

/** `activate_storage`: an unreachable NFS export or backup server is not online. */
function checkOnline(state: SimState, storage: StorageConfig, node: string): void {
  if (!storageActive(state, storage, node)) {
    throw dieError(`storage '${storage.storage}' is not online`);
  }
}

function downloadUrl(sim: Sim, auth: AuthInfo, params: Params): string {
  const state = sim.state;
  const node = String(params.node);
  const storage = getStorage(state, String(params.storage));
  checkEnabled(storage, node);
  if (!isFileBased(storage)) {
    throw dieError(`can't upload to storage type '${storage.type}', not a file based storage!`);
  }
  const content = String(params.content);
  const url = String(params.url);
  if (!storage.content.includes(content)) {
    throw dieError(`storage '${storage.storage}' is not configured for content-type '${content}'`);
  }
  const filename = normalizeFilename(String(params.filename));
  if (content === "iso" && !ISO_EXT.test(filename)) {
    throw paramError({ filename: "wrong file extension" });
  }
  if (content === "vztmpl" && !VZTMPL_EXT.test(filename)) {
    throw paramError({ filename: "wrong file extension" });
  }
  if (content === "import" && !IMPORT_EXT.test(filename)) {
    throw paramError({ filename: "invalid filename or wrong extension" });
  }
  checkOnline(state, storage, node);
  const checksum = typeof params.checksum === "string" ? params.checksum : undefined;
  const algorithm = typeof params["checksum-algorithm"] === "string"
    ? params["checksum-algorithm"]
    : undefined;
  const compression = typeof params.compression === "string" ? params.compression : undefined;
  const dir = content === "iso" ? "iso" : content === "vztmpl" ? "vztmpl" : "import";
  const volid = `${storage.storage}:${dir}/${filename}`;
  const path = volumePath(storage, volid);
  const size = fakeSize(url, content);
  return sim.startTask(auth, { node, type: "download", id: filename }, async (task) => {
    if (compression !== undefined && content !== "iso") {
      throw new TaskFailure(`decompression not supported for ${content}`);
    }
    const list = volumesOn(state, storage, node);
    const expected = checksum?.toLowerCase();
    const got = algorithm === undefined ? undefined : simulatedChecksum(url, algorithm);
    task.log(`downloading ${url} to ${path}`);
    if (list.some((v) => v.volid === volid)) {
      if (expected === undefined) {
        throw new TaskFailure(`refusing to override existing file '${path}'`);
      }
      if (got === expected) {
        task.log(
          "calculating checksum of existing file...OK, got correct file already, no need to download",
        );
        return;
      }
      task.log("calculating checksum of existing file...");
      throw new TaskFailure(`checksum mismatch: got '${got}' != expect '${checksum}', aborting`);
    }
    const tmp = `${path}.tmp_dwnl.${parseInt(task.upid.split(":")[2] ?? "0", 16)}`;
    task.log(
      `--${new Date(sim.clock.nowMs()).toISOString().slice(0, 19).replace("T", " ")}--  ${url}`,
    );
    task.log(`Length: ${size} (${formatMiB(size)}) [application/octet-stream]`);
    task.log(`Saving to: '${tmp}'`);
    const room = freeBytes(state, storage, node);
    const steps = 5;
    for (let i = 1; i <= steps; i++) {
      await task.sleep(1);
      const done = Math.round((size * i) / steps);
      if (done > room) {
        task.log(`Cannot write to '${tmp}' (No space left on device).`);
        throw new TaskFailure(
          `download failed: command 'wget --progress=dot:giga -O ${tmp} ${url}' failed: exit code 3`,
        );
      }
      const kib = Math.floor(done / 1024);
      task.log(
        `${String(kib).padStart(9)}K ........ ........ ........ ........ ${
          String(Math.round((100 * i) / steps)).padStart(3)
        }% ${(size / steps / 1024 / 1024).toFixed(0)}M 1s`,
      );
    }
    task.log(`'${tmp}' saved [${size}/${size}]`);
    if (expected !== undefined && got !== undefined) {
      if (got !== expected) {
        task.log("calculating checksum...");
        throw new TaskFailure(`checksum mismatch: got '${got}' != expect '${checksum}'`);
      }
      task.log("calculating checksum...OK, checksum verified");
    }
    let stored = size;
    if (compression !== undefined) {
      task.log(`decompressing ${tmp} to ${path}.tmp_dcom.${tmp.split(".").pop()}`);
      stored = Math.round(size * 2.6);
    }
    if (list.some((v) => v.volid === volid)) {
      throw new TaskFailure(`refusing to override existing file '${path}'`);
    }
    list.push({
      volid,
      content,
      format: templateFormat(filename),
      size: stored,
      ctime: sim.clock.now(),
    });
    task.log(`download of '${url}' to '${path}' finished`);
  });
}

const NODE_STORAGE_INDEX = [
  "content",
  "download-url",
  "file-restore",
  "import-metadata",
  "oci-registry-pull",
  "prunebackups",
  "rrd",
  "rrddata",
  "status",
  "upload",
].map((subdir) => ({ subdir }));

/** The storage endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/storage", ({ sim, auth, params }) => {
    const type = typeof params.type === "string" ? params.type : undefined;
    const digest = storageDigest(sim.state);
    const out: unknown[] = [];
    for (const storage of sim.state.storages.values()) {
      if (type !== undefined && storage.type !== type) continue;
      if (!canSeeStorage(sim, auth, storage.storage)) continue;
      out.push({ ...storageConfigEntry(storage), digest });
    }
    return out;
  }),
  route("GET", "/storage/{storage}", ({ sim, params }) => {
    const storage = getStorage(sim.state, String(params.storage));
    return { ...storageConfigEntry(storage), digest: storageDigest(sim.state) };
  }),
  route("GET", "/nodes/{node}/storage", ({ sim, auth, params }) => listStatus(sim, auth, params)),
  route("GET", "/nodes/{node}/storage/{storage}", ({ sim, params }) => {
    const storage = getStorage(sim.state, String(params.storage));
    requireOnNode(storage, String(params.node));
    return NODE_STORAGE_INDEX;
  }),
  route("GET", "/nodes/{node}/storage/{storage}/status", ({ sim, params }) => {
    const node = String(params.node);
    const storage = sim.state.storages.get(String(params.storage));
    if (storage === undefined || !storageOnNode(storage, node)) {
      throw paramError({ storage: "No such storage." });
    }
    return storageStatus(sim.state, storage, node);
  }),
  route(
    "GET",
    "/nodes/{node}/storage/{storage}/content",
    ({ sim, auth, params }) => listContent(sim, auth, params),
  ),
  route(
    "GET",
    "/nodes/{node}/storage/{storage}/content/{volume}",
    ({ sim, auth, params }) => volumeInfo(sim, auth, params),
  ),
  route(
    "PUT",
    "/nodes/{node}/storage/{storage}/content/{volume}",
    ({ sim, auth, params }) => updateVolume(sim, auth, params),
  ),
  route(
    "DELETE",
    "/nodes/{node}/storage/{storage}/content/{volume}",
    ({ sim, auth, params }) => deleteVolume(sim, auth, params),
  ),
  route(
    "POST",
    "/nodes/{node}/storage/{storage}/download-url",
    ({ sim, auth, params }) => downloadUrl(sim, auth, params),
  ),
];
