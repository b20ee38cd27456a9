/**
 * Backup retention as PVE computes it (`PVE::Storage::prune_mark_backup_group`): the
 * `keep-last`, `keep-hourly`, `keep-daily`, `keep-weekly`, `keep-monthly` and `keep-yearly`
 * options mark the newest backup of each period to keep, one option after the other, per
 * guest; protected backups are never removed and backups without vzdump's standard name are
 * `renamed`. Serves `GET|DELETE /nodes/{node}/storage/{storage}/prunebackups` and is used by
 * vzdump's `remove` step. Times are read in UTC (the simulator's local time).
 *
 * @module
 */

import { dieError } from "../errors.ts";
import { type AuthInfo, type Params, type Route, route, type Sim } from "../router.ts";
import type { StorageConfig, Volume } from "../state.ts";
import { getStorage, storageActive, storageOnNode, volumesOn } from "./storage.ts";

/** A retention policy: option → count (`keep-all` → 1). */
export type Retention = Record<string, number>;

/** One entry of a prune listing. */
export interface PruneEntry {
  volid: string;
  ctime: number;
  mark: "keep" | "remove" | "protected" | "renamed";
  type: string;
  vmid?: number;
}

const OPTIONS = ["keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly"] as const;

/** Parses a `prune-backups` property string (`keep-last=3,keep-daily=7`). */
export function parseRetention(text: string): Retention {
  const out: Retention = {};
  for (const part of text.split(/[,;\s]+/)) {
    const [key, value] = part.split("=");
    if (key !== undefined && key !== "" && value !== undefined) out[key] = Number(value);
  }
  return out;
}

/** `keep-daily=7, keep-weekly=4`, as vzdump logs a retention. */
export function formatRetention(keep: Retention): string {
  return Object.keys(keep).sort().map((key) => `${key}=${keep[key]}`).join(", ");
}

/** ISO 8601 week and week-year of a UTC time (`strftime("%V/%G")`). */
function isoWeek(epoch: number): string {
  const date = new Date(epoch * 1000);
  const day = (date.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = new Date(
    Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3),
  );
  const year = thursday.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(year, 0, 4));
  const firstDay = (firstThursday.getUTCDay() + 6) % 7;
  const week1 = Date.UTC(year, 0, 4 - firstDay + 3);
  const week = 1 + Math.round((thursday.getTime() - week1) / (7 * 86400_000));
  return `${week}/${year}`;
}

function periodOf(option: string, epoch: number): string {
  const d = new Date(epoch * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (option) {
    case "keep-last":
      return String(epoch);
    case "keep-hourly":
      return `${d.getUTCHours()}/${d.getUTCDate()}/${m}/${y}`;
    case "keep-daily":
      return `${d.getUTCDate()}/${m}/${y}`;
    case "keep-weekly":
      return isoWeek(epoch);
    case "keep-monthly":
      return `${m}/${y}`;
    default:
      return `${y}`;
  }
}

/** Marks one guest's backups (newest first) as PVE's `$prune_mark` does, option by option. */
function markGroup(group: PruneEntry[], keep: Retention): void {
  const positive = Object.keys(keep).filter((k) => k !== "keep-all" && (keep[k] ?? 0) > 0);
  if (keep["keep-all"] || positive.length === 0) {
    for (const entry of group) if (entry.mark === "remove") entry.mark = "keep";
    return;
  }
  const list = [...group].sort((a, b) => b.ctime - a.ctime);
  const marked = new Map<PruneEntry, PruneEntry["mark"]>();
  for (const entry of list) {
    if (entry.mark === "protected" || entry.mark === "renamed") marked.set(entry, entry.mark);
  }
  for (const option of [...OPTIONS, "keep-yearly"]) {
    const count = keep[option] ?? 0;
    if (count <= 0) continue;
    const already = new Set<string>();
    for (const entry of list) {
      if (marked.get(entry) === "keep") already.add(periodOf(option, entry.ctime));
    }
    const fresh = new Set<string>();
    for (const entry of list) {
      if (marked.has(entry)) continue;
      const id = periodOf(option, entry.ctime);
      if (already.has(id)) continue;
      if (!fresh.has(id)) {
        if (fresh.size >= count) break;
        fresh.add(id);
        marked.set(entry, "keep");
      } else {
        marked.set(entry, "remove");
      }
    }
  }
  for (const entry of list) entry.mark = marked.get(entry) ?? "remove";
}

const STD_NAME =
  /(?:^|\/)vzdump-(lxc|qemu|openvz)-([1-9][0-9]{2,8})-(\d{4})_(\d\d)_(\d\d)-(\d\d)_(\d\d)_(\d\d)\./;
const PBS_NAME = /:backup\/(vm|ct)\/(\d+)\/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/;

/** A backup volume as a prune entry (type, vmid and ctime from its name, as `archive_info`). */
function entryOf(volume: Volume): PruneEntry & { group?: string } {
  const pbs = PBS_NAME.exec(volume.volid);
  if (pbs !== null) {
    const type = pbs[1] === "vm" ? "qemu" : "lxc";
    const entry: PruneEntry & { group?: string } = {
      volid: volume.volid,
      ctime: volume.ctime,
      mark: volume.protected === 1 ? "protected" : "remove",
      type,
      vmid: Number(pbs[2]),
    };
    entry.group = `${type}/${pbs[2]}`;
    return entry;
  }
  const std = STD_NAME.exec(volume.volid);
  if (std === null) {
    const entry: PruneEntry = {
      volid: volume.volid,
      ctime: volume.ctime,
      mark: volume.protected === 1 ? "protected" : "renamed",
      type: volume.subtype ?? "unknown",
    };
    if (volume.vmid !== undefined) entry.vmid = volume.vmid;
    return entry;
  }
  const [, type = "unknown", vmid = "0", y, mo, d, h, mi, s] = std;
  const ctime = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) /
    1000;
  return {
    volid: volume.volid,
    ctime,
    mark: volume.protected === 1 ? "protected" : "remove",
    type,
    vmid: Number(vmid),
    group: `${type}/${vmid}`,
  };
}

/** The prune listing of backup volumes under a retention policy, optionally for one guest. */
export function pruneList(
  volumes: readonly Volume[],
  keep: Retention,
  filter: { vmid?: number; type?: string } = {},
): PruneEntry[] {
  const out: PruneEntry[] = [];
  const groups = new Map<string, PruneEntry[]>();
  for (const volume of volumes) {
    if (volume.content !== "backup") continue;
    if (filter.vmid !== undefined && volume.vmid !== filter.vmid) continue;
    const { group, ...entry } = entryOf(volume);
    if (filter.type !== undefined && entry.type !== filter.type) continue;
    out.push(entry);
    if (group !== undefined) {
      const list = groups.get(group) ?? [];
      list.push(entry);
      groups.set(group, list);
    }
  }
  for (const group of groups.values()) markGroup(group, keep);
  return out;
}

/** The retention a storage is configured with (every backup storage here keeps all). */
export function storageRetention(storage: StorageConfig): Retention | undefined {
  return storage.content.includes("backup") ? { "keep-all": 1 } : undefined;
}

function pruneTarget(sim: Sim, params: Params): {
  node: string;
  storage: StorageConfig;
  keep: Retention;
  filter: { vmid?: number; type?: string };
} {
  const node = String(params.node);
  const storage = getStorage(sim.state, String(params.storage));
  if (!storageOnNode(storage, node)) {
    throw dieError(`storage '${storage.storage}' is not available on node '${node}'`);
  }
  if (!storage.content.includes("backup")) {
    throw dieError(`storage '${storage.storage}' does not support backups`);
  }
  const given = params["prune-backups"];
  const keep = typeof given === "string" ? parseRetention(given) : storageRetention(storage);
  if (keep === undefined) {
    throw dieError(`no prune-backups options configured for storage '${storage.storage}'`);
  }
  if (!storageActive(sim.state, storage, node)) {
    throw dieError(`storage '${storage.storage}' is not online`);
  }
  const filter: { vmid?: number; type?: string } = {};
  if (typeof params.vmid === "number") filter.vmid = params.vmid;
  if (typeof params.type === "string") filter.type = params.type;
  return { node, storage, keep, filter };
}

function prunePreview(sim: Sim, params: Params): PruneEntry[] {
  const { node, storage, keep, filter } = pruneTarget(sim, params);
  return pruneList(volumesOn(sim.state, storage, node), keep, filter);
}

function pruneNow(sim: Sim, auth: AuthInfo, params: Params): string {
  const { node, storage, keep, filter } = pruneTarget(sim, params);
  if (filter.vmid !== undefined) {
    sim.require(auth, `/storage/${storage.storage}`, "Datastore.AllocateSpace");
    sim.require(auth, `/vms/${filter.vmid}`, "VM.Backup");
  } else {
    sim.require(auth, `/storage/${storage.storage}`, "Datastore.Allocate");
  }
  const id = `${filter.vmid !== undefined ? `${filter.vmid}@` : ""}${storage.storage}`;
  return sim.startTask(auth, { node, type: "prunebackups", id }, async (task) => {
    await task.sleep(1);
    const list = volumesOn(sim.state, storage, node);
    const entries = pruneList(list, keep, filter);
    if (storage.type === "pbs") {
      const groups = [
        ...new Set(entries.map((e) => `${e.type === "qemu" ? "vm" : "ct"}/${e.vmid}`)),
      ];
      for (const group of groups.sort()) {
        task.log(`running 'proxmox-backup-client prune' for '${group}'`);
      }
    }
    for (const entry of entries) {
      if (entry.mark !== "remove") continue;
      if (storage.type !== "pbs") task.log(`removing backup '${entry.volid}'`);
      const at = list.findIndex((v) => v.volid === entry.volid);
      if (at >= 0) list.splice(at, 1);
    }
  });
}

/** The prune endpoints. */
export const routes: Route[] = [
  route(
    "GET",
    "/nodes/{node}/storage/{storage}/prunebackups",
    ({ sim, params }) => prunePreview(sim, params),
  ),
  route(
    "DELETE",
    "/nodes/{node}/storage/{storage}/prunebackups",
    ({ sim, auth, params }) => pruneNow(sim, auth, params),
  ),
];
