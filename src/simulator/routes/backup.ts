/**
 * Simulated PVE endpoints: backup jobs (`/cluster/backup`), backup info and
 * `POST /nodes/{node}/vzdump`, whose `vzdump` task locks each guest (`lock: backup`),
 * logs like vzdump does and leaves an archive volume (with the guest config for restore)
 * on the target storage: a `vzdump-…` file on dir/nfs, a `backup/vm|ct/<vmid>/<time>`
 * snapshot on Proxmox Backup Server. A guest whose archive does not fit fails with
 * `No space left on device`; the job then ends `job errors`. Retention (`remove`) prunes
 * as `prune.ts` marks.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dieError, paramError, TaskFailure } from "../errors.ts";
import {
  type AuthInfo,
  type Params,
  type Route,
  route,
  type Sim,
  type TaskRunner,
} from "../router.ts";
import type { BackupJob, Guest, GuestConfig, SimState, StorageConfig } from "../state.ts";
import { diskSize, guestName } from "./cluster.ts";
import { formatRetention, parseRetention, pruneList } from "./prune.ts";
import {
  dumpDir,
  freeBytes,
  getStorage,
  pbsRepository,
  pbsVolid,
  storageActive,
  storageOnNode,
  volumesOn,
} from "./storage.ts";

type JobRecord = BackupJob & Record<string, unknown>;

const DOW = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/**
 * The next run (epoch seconds, UTC) of a calendar event of the form `[dow[,dow|..dow]] HH:MM`
 * (e.g. `02:00`, `sat 02:00`, `mon..fri 21:30`); other forms run in one day.
 */
export function nextRun(schedule: string, now: number): number {
  const m = /^(?:([a-z.,]+)\s+)?(\d{1,2}):(\d{2})$/.exec(schedule.trim().toLowerCase());
  if (m === null) return now + 86400;
  const days = new Set<number>();
  if (m[1] === undefined) { for (let d = 0; d < 7; d++) days.add(d); }
  else {
    for (const part of m[1].split(",")) {
      const range = part.split("..");
      const from = DOW.indexOf(range[0] ?? "");
      const to = DOW.indexOf(range[1] ?? range[0] ?? "");
      if (from < 0 || to < 0) return now + 86400;
      for (let d = from; d !== (to + 1) % 7; d = (d + 1) % 7) days.add(d);
      days.add(to);
    }
  }
  const minute = Number(m[2]) * 60 + Number(m[3]);
  const dayStart = Math.floor(now / 86400) * 86400;
  for (let i = 0; i < 8; i++) {
    const candidate = dayStart + i * 86400 + minute * 60;
    if (candidate <= now) continue;
    if (days.has(new Date(candidate * 1000).getUTCDay())) return candidate;
  }
  return now + 86400;
}

function splitList(value: string | number | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(",") : String(value);
  return text.split(/[,;\s]+/).filter((item) => item !== "");
}

function jobEntry(job: JobRecord, now: number): Record<string, unknown> {
  const entry: Record<string, unknown> = { id: job.id, type: "vzdump" };
  for (const [key, value] of Object.entries(job)) {
    if (key === "id" || value === undefined) continue;
    if (key === "prune-backups" && typeof value === "object" && value !== null) {
      entry[key] = { ...value };
      continue;
    }
    entry[key] = value;
  }
  if (job.enabled === 1) entry["next-run"] = nextRun(job.schedule, now);
  return entry;
}

function getJob(state: SimState, id: string): JobRecord {
  const job = state.backupJobs.get(id);
  if (job === undefined) throw dieError(`job '${id}' not found`);
  return job as JobRecord;
}

const JOB_SKIP = new Set(["id", "delete", "digest"]);

function verifyParams(params: Params, checkMissing: boolean): void {
  if (params.all === 1 && params.vmid !== undefined) {
    throw paramError({ all: "option conflicts with option 'vmid'" });
  }
  if (params.exclude !== undefined && params.vmid !== undefined) {
    throw paramError({ exclude: "option conflicts with option 'vmid'" });
  }
  if (params.pool !== undefined && params.vmid !== undefined) {
    throw paramError({ pool: "option conflicts with option 'vmid'" });
  }
  const notes = params["notes-template"];
  if (typeof notes === "string" && notes.includes("\n")) {
    throw paramError({ "notes-template": "contains a line feed" });
  }
  if (!checkMissing) return;
  const all = params.all === 1 || params.exclude !== undefined;
  if (!all && params.stop !== 1 && params.pool === undefined && params.vmid === undefined) {
    throw paramError({ vmid: "property is missing" });
  }
}

function applyJobParams(job: JobRecord, params: Params): void {
  for (const [key, value] of Object.entries(params)) {
    if (JOB_SKIP.has(key)) continue;
    if (key === "prune-backups") job[key] = parseRetention(String(value));
    else job[key] = value;
  }
  if (params.exclude !== undefined && params.pool === undefined) job.all = 1;
}

function createJob(sim: Sim, params: Params): null {
  const state = sim.state;
  verifyParams(params, true);
  const id = typeof params.id === "string"
    ? params.id
    : `backup-${crypto.randomUUID().slice(0, 13)}`;
  if (state.backupJobs.has(id)) throw dieError(`Job '${id}' already exists`);
  let schedule = typeof params.schedule === "string" ? params.schedule : undefined;
  if (schedule === undefined && typeof params.starttime === "string") {
    schedule = typeof params.dow === "string"
      ? `${params.dow} ${params.starttime}`
      : params.starttime;
  }
  if (schedule === undefined) {
    throw paramError({ schedule: "property is missing and it is not optional" });
  }
  if (typeof params.storage === "string") getStorage(state, params.storage);
  const job: JobRecord = {
    id,
    schedule,
    enabled: 1,
    storage: "local",
    mode: "snapshot",
    compress: "0",
  };
  applyJobParams(job, params);
  delete job.starttime;
  delete job.dow;
  job.schedule = schedule;
  state.backupJobs.set(id, job);
  return null;
}

function updateJob(sim: Sim, params: Params): null {
  const state = sim.state;
  const job = getJob(state, String(params.id));
  verifyParams(params, false);
  if (typeof params.storage === "string") getStorage(state, params.storage);
  for (const key of splitList(params.delete)) {
    if (key === "schedule" || key === "id") continue;
    delete job[key];
  }
  if (params.vmid !== undefined) {
    delete job.all;
    delete job.pool;
    delete job.exclude;
  } else if (params.pool !== undefined) {
    delete job.all;
    delete job.vmid;
  } else if (params.all === 1) {
    delete job.vmid;
    delete job.pool;
  }
  applyJobParams(job, params);
  return null;
}

function jobGuests(state: SimState, job: JobRecord): number[] {
  let vmids: number[];
  if (typeof job.pool === "string") {
    vmids = [...(state.pools.get(job.pool)?.vms ?? [])];
  } else if (typeof job.vmid === "string") {
    vmids = splitList(job.vmid).map(Number);
  } else if (job.all === 1) {
    const exclude = new Set(splitList(job.exclude as string | undefined).map(Number));
    vmids = [...state.guests.keys()].filter((id) => !exclude.has(id));
  } else {
    vmids = [];
  }
  const node = typeof job.node === "string" ? job.node : undefined;
  return vmids
    .filter((id) => node === undefined || state.guests.get(id)?.node === node)
    .sort((a, b) => a - b);
}

const QEMU_DISK = /^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$/;
const LXC_MP = /^mp\d+$/;

function optionOf(value: string, key: string): string | undefined {
  return new RegExp(`(?:^|,)${key}=([^,]+)`).exec(value)?.[1];
}

function volumeOf(value: string): string {
  const first = value.split(",")[0] ?? "";
  return first.startsWith("volume=") ? first.slice(7) : first;
}

function includedDisks(
  guest: Guest,
): { id: string; name: string; included: boolean; reason: string }[] {
  const out: { id: string; name: string; included: boolean; reason: string }[] = [];
  for (const [key, raw] of Object.entries(guest.config)) {
    const value = String(raw);
    if (guest.type === "qemu") {
      if (!QEMU_DISK.test(key) || value.includes("media=cdrom")) continue;
      const excluded = optionOf(value, "backup") === "0";
      out.push({
        id: key,
        name: volumeOf(value),
        included: !excluded,
        reason: excluded ? "disabled" : "enabled",
      });
    } else {
      if (key === "rootfs") {
        out.push({ id: key, name: volumeOf(value), included: true, reason: "rootfs" });
      } else if (LXC_MP.test(key)) {
        const included = optionOf(value, "backup") === "1";
        out.push({
          id: key,
          name: volumeOf(value),
          included,
          reason: included ? "enabled" : "disabled",
        });
      }
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

function includedVolumes(sim: Sim, id: string): unknown {
  const state = sim.state;
  const job = getJob(state, id);
  const children: unknown[] = [];
  for (const vmid of jobGuests(state, job)) {
    const guest = state.guests.get(vmid);
    if (guest === undefined) {
      children.push({ id: vmid, type: "unknown", children: [] });
      continue;
    }
    children.push({
      id: vmid,
      name: guestName(guest),
      type: guest.type,
      children: includedDisks(guest).map((d) => ({ ...d, included: d.included ? 1 : 0 })),
    });
  }
  return { children };
}

function notBackedUp(sim: Sim, auth: AuthInfo): unknown[] {
  const state = sim.state;
  const covered = new Set<number>();
  for (const job of state.backupJobs.values()) {
    for (const vmid of jobGuests(state, job as JobRecord)) covered.add(vmid);
  }
  const out: { vmid: number; type: string; name: string }[] = [];
  for (const guest of state.guests.values()) {
    if (covered.has(guest.vmid) || guest.config.template === 1) continue;
    if (!sim.can(auth, `/vms/${guest.vmid}`, "VM.Audit")) continue;
    out.push({ vmid: guest.vmid, type: guest.type, name: guestName(guest) });
  }
  return out.sort((a, b) => a.vmid - b.vmid);
}

// ---------------------------------------------------------------------------------------
// vzdump

function formatTime(seconds: number): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(Math.floor(seconds / 3600))}:${p(Math.floor(seconds / 60) % 60)}:${p(seconds % 60)}`;
}

function formatSize(bytes: number): string {
  const kb = bytes / 1024;
  if (kb < 1024) return `${Math.floor(kb)}KB`;
  const mb = kb / 1024;
  if (mb < 1024) return `${Math.floor(mb)}MB`;
  const gb = mb / 1024;
  if (gb < 1024) return `${gb.toFixed(2)}GB`;
  return `${(gb / 1024).toFixed(2)}TB`;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function localTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().slice(0, 19).replace("T", " ");
}

/** `YYYY_MM_DD-HH_MM_SS` as in vzdump archive names. */
function stamp(epoch: number): string {
  const iso = new Date(epoch * 1000).toISOString();
  return `${iso.slice(0, 10).replaceAll("-", "_")}-${iso.slice(11, 19).replaceAll(":", "_")}`;
}

function compression(compress: string): { ext: string; label: string } {
  switch (compress) {
    case "1":
    case "lzo":
      return { ext: ".lzo", label: "lzo" };
    case "gzip":
      return { ext: ".gz", label: "gzip" };
    case "zstd":
      return { ext: ".zst", label: "zstd" };
    default:
      return { ext: "", label: "none" };
  }
}

function guestDisks(guest: Guest): { key: string; volid: string; size: number }[] {
  const out: { key: string; volid: string; size: number }[] = [];
  for (const [key, raw] of Object.entries(guest.config)) {
    const value = String(raw);
    const isDisk = guest.type === "qemu"
      ? QEMU_DISK.test(key) && !value.includes("media=cdrom")
      : key === "rootfs" || (LXC_MP.test(key) && optionOf(value, "backup") === "1");
    if (!isDisk || optionOf(value, "backup") === "0") continue;
    out.push({ key, volid: volumeOf(value), size: diskSize(value) });
  }
  return out;
}

function notesFrom(template: string, guest: Guest, node: string, state: SimState): string {
  return template
    .replaceAll("{{guestname}}", guestName(guest))
    .replaceAll("{{node}}", node)
    .replaceAll("{{vmid}}", String(guest.vmid))
    .replaceAll("{{cluster}}", state.clusterName ?? "");
}

function cmdline(params: Params, vmids: number[]): string {
  const parts = ["vzdump"];
  if (params.vmid !== undefined) parts.push(...vmids.map(String));
  const keys = Object.keys(params).filter((k) => k !== "vmid" && k !== "node").sort();
  for (const key of keys) {
    const value = params[key];
    parts.push(`--${key}`, Array.isArray(value) ? value.join(",") : String(value));
  }
  return parts.join(" ");
}

interface VzdumpPlan {
  node: string;
  vmids: number[];
  skipped: number[];
  storage: StorageConfig;
  mode: string;
  compress: string;
  notesTemplate: string | undefined;
  protect: boolean;
  /** Retention applied after each archive (`remove`), or undefined with `remove=0`. */
  retention: Record<string, number> | undefined;
  line: string;
}

async function backupOne(
  sim: Sim,
  task: TaskRunner,
  plan: VzdumpPlan,
  vmid: number,
): Promise<boolean> {
  const state = sim.state;
  const started = sim.clock.now();
  const guest = state.guests.get(vmid);
  const kind = guest?.type ?? "qemu";
  task.log(`INFO: Starting Backup of VM ${vmid} (${kind})`);
  task.log(`INFO: Backup started at ${localTime(started)}`);
  const fail = (reason: string) => {
    task.log(`ERROR: Backup of VM ${vmid} failed - ${reason}`);
    task.log(`INFO: Failed at ${localTime(sim.clock.now())}`);
    return false;
  };
  if (guest === undefined || guest.node !== plan.node) {
    return fail(`unable to find configuration file for VM ${vmid} on node '${plan.node}'`);
  }
  const running = guest.status === "running";
  task.log(`INFO: status = ${running ? "running" : "stopped"}`);
  const lock = guest.config.lock;
  // An empty lock is no lock, as in PVE's check_lock (Perl's false "").
  if (lock !== undefined && lock !== "") {
    return fail(`${guest.type === "qemu" ? "VM" : "CT"} is locked (${lock})`);
  }
  guest.config.lock = "backup";
  try {
    const mode = running ? plan.mode : "stop";
    const disks = guestDisks(guest);
    const total = disks.reduce((sum, d) => sum + d.size, 0) || 1024 ** 3;
    const { ext } = compression(plan.compress);
    const storage = plan.storage;
    const pbs = storage.type === "pbs";
    const list = volumesOn(state, storage, guest.node);
    // Simulated time may stand still (instant speed): keep archive names unique.
    let when = started;
    const nameAt = (t: number) =>
      `vzdump-${guest.type}-${vmid}-${stamp(t)}.${guest.type === "qemu" ? "vma" : "tar"}${ext}`;
    const volidAt = (t: number) =>
      pbs ? pbsVolid(storage, guest.type, vmid, t) : `${storage.storage}:backup/${nameAt(t)}`;
    while (list.some((v) => v.volid === volidAt(when))) when++;
    const volid = volidAt(when);
    const archive = pbs ? volid.slice(volid.indexOf(":") + 8) : nameAt(when);
    const target = pbs ? archive : `${dumpDir(storage)}/${archive}`;
    if (guest.type === "qemu") {
      if (guest.config.template === 1) task.log("INFO: VM is a template");
      task.log(`INFO: VM Name: ${guestName(guest)}`);
      for (const d of disks) {
        task.log(
          `INFO: include disk '${d.key}' '${d.volid}' ${gib(d.size).replace(".0 GiB", "G")}`,
        );
      }
    } else {
      task.log(`INFO: CT Name: ${guestName(guest)}`);
      task.log(`INFO: including mount point rootfs ('/') in backup`);
    }
    task.log(`INFO: backup mode: ${mode}`);
    task.log("INFO: ionice priority: 7");
    if (mode === "stop" && running) task.log("INFO: stopping virtual guest");
    if (mode === "suspend") task.log("INFO: suspending guest");
    if (pbs) {
      task.log(`INFO: creating Proxmox Backup Server archive '${archive}'`);
      if (guest.type === "lxc") {
        task.log(
          `INFO: run: /usr/bin/proxmox-backup-client backup --crypt-mode=none pct.conf:/var/tmp/vzdumptmp${vmid}/etc/vzdump/pct.conf root.pxar:/mnt/vzsnap0 --backup-type ct --backup-id ${vmid} --backup-time ${when} --repository ${
            pbsRepository(storage)
          }`,
        );
      }
    } else {
      task.log(`INFO: creating vzdump archive '${target}'`);
    }
    // PBS keeps the guest's full logical size (deduplicated on the server); files are compressed.
    const size = pbs
      ? (guest.type === "qemu" ? total : Math.round(total * 0.3))
      : Math.max(1024 * 1024, Math.round(total * (guest.type === "qemu" ? 0.04 : 0.12)));
    const room = freeBytes(state, storage, guest.node);
    const steps = [10, 25, 50, 75, 100];
    let elapsed = 0;
    for (const pct of steps) {
      await task.sleep(3);
      elapsed += 3;
      if ((size * pct) / 100 > room) {
        if (guest.type === "qemu") return fail("job failed with err -28 - No space left on device");
        task.log(
          "INFO: zstd: error 70 : Write error : cannot write block : No space left on device",
        );
        return fail(
          `command 'set -o pipefail && tar cpf - --totals --one-file-system ./ | zstd --threads=1 >${target}.dat' failed: exit code 70`,
        );
      }
      const done = (total * pct) / 100;
      const rate = done / elapsed;
      if (guest.type === "qemu") {
        task.log(
          `INFO: ${String(pct).padStart(3)}% (${gib(done)} of ${gib(total)}) in ${elapsed}s, ` +
            `read: ${gib(rate)}/s, write: ${gib(rate * 0.93)}/s`,
        );
      }
    }
    if (guest.type === "qemu") {
      task.log(`INFO: backup is sparse: ${gib(total * 0.78)} (78%) total zero data`);
      task.log(`INFO: transferred ${gib(total)} in ${elapsed} seconds (${gib(total / elapsed)}/s)`);
    } else if (pbs) {
      task.log(`INFO: root.pxar: had to backup ${gib(size)} of ${gib(size)} in ${elapsed}.00 s`);
      task.log(`INFO: Duration: ${elapsed}.00s`);
    } else {
      task.log(`INFO: Total bytes written: ${size} (${gib(size)}, ${gib(size / elapsed)}/s)`);
    }
    if (mode === "stop" && running) task.log("INFO: restarting vm");
    if (mode === "suspend") task.log("INFO: resume vm");
    if (!pbs) task.log(`INFO: archive file size: ${formatSize(size)}`);
    const config: GuestConfig = { ...guest.config };
    delete config.lock;
    const entry: (typeof list)[number] = {
      volid,
      content: "backup",
      format: pbs
        ? `pbs-${guest.type === "qemu" ? "vm" : "ct"}`
        : `${guest.type === "qemu" ? "vma" : "tar"}${ext}`,
      size,
      ctime: when,
      vmid,
      subtype: guest.type,
      backupConfig: config,
    };
    if (plan.notesTemplate !== undefined && plan.notesTemplate !== "") {
      task.log("INFO: adding notes to backup");
      entry.notes = notesFrom(plan.notesTemplate, guest, plan.node, state);
    }
    if (plan.protect) {
      task.log("INFO: marking backup as protected");
      entry.protected = 1;
    }
    list.push(entry);
    if (plan.retention !== undefined) {
      const keep = plan.retention;
      task.log(`INFO: prune older backups with retention: ${formatRetention(keep)}`);
      const marks = pruneList(list, keep, { vmid, type: guest.type });
      let pruned = 0;
      for (const mark of marks) {
        if (mark.mark !== "remove") continue;
        task.log(`INFO: removing backup '${mark.volid}'`);
        const at = list.findIndex((v) => v.volid === mark.volid);
        if (at >= 0) list.splice(at, 1);
        pruned++;
      }
      const extra = pruned > 0 ? " not covered by keep-retention policy" : "";
      task.log(`INFO: pruned ${pruned} backup(s)${extra}`);
    }
    task.log(`INFO: Finished Backup of VM ${vmid} (${formatTime(sim.clock.now() - started)})`);
    task.log(`INFO: Backup finished at ${localTime(sim.clock.now())}`);
    return true;
  } catch (error) {
    if (task.signal.aborted) throw error;
    return fail(error instanceof Error ? error.message : String(error));
  } finally {
    if (guest.config.lock === "backup") delete guest.config.lock;
  }
}

function planVzdump(sim: Sim, auth: AuthInfo, params: Params): VzdumpPlan {
  const state = sim.state;
  const node = String(params.node);
  verifyParams(params, true);
  const storageId = typeof params.storage === "string" ? params.storage : "local";
  const storage = getStorage(state, storageId);
  if (!storageOnNode(storage, node)) {
    throw dieError(`storage '${storageId}' is not available on node '${node}'`);
  }
  if (!storage.content.includes("backup")) {
    throw dieError(`storage '${storageId}' does not support backups`);
  }
  sim.require(auth, `/storage/${storageId}`, "Datastore.AllocateSpace");
  let candidates: number[];
  const all = params.all === 1 || (params.exclude !== undefined && params.pool === undefined);
  if (typeof params.pool === "string") {
    const pool = state.pools.get(params.pool);
    if (pool === undefined) throw dieError(`pool '${params.pool}' does not exist`);
    candidates = [...pool.vms];
  } else if (all) {
    const exclude = new Set(splitList(params.exclude).map(Number));
    candidates = [...state.guests.keys()].filter((id) => !exclude.has(id));
  } else {
    candidates = splitList(params.vmid).map(Number);
    for (const vmid of candidates) {
      if (!state.guests.has(vmid)) throw dieError(`Unable to find VMID '${vmid}'`);
    }
  }
  const vmids: number[] = [];
  const skipped: number[] = [];
  for (const vmid of [...new Set(candidates)].sort((a, b) => a - b)) {
    const guest = state.guests.get(vmid);
    if (guest === undefined) continue;
    if (guest.node !== node) {
      skipped.push(vmid);
      continue;
    }
    if (all || typeof params.pool === "string") {
      if (!sim.can(auth, `/vms/${vmid}`, "VM.Backup")) continue;
    } else {
      sim.require(auth, `/vms/${vmid}`, "VM.Backup");
    }
    vmids.push(vmid);
  }
  if (!all && typeof params.pool !== "string" && vmids.length === 0) {
    throw dieError(`No local guests to backup on node '${node}'`);
  }
  const prune = typeof params["prune-backups"] === "string"
    ? parseRetention(params["prune-backups"])
    : undefined;
  const notes = params["notes-template"];
  return {
    node,
    vmids,
    skipped,
    storage,
    mode: typeof params.mode === "string" ? params.mode : "snapshot",
    compress: params.compress === undefined ? "0" : String(params.compress),
    notesTemplate: typeof notes === "string" ? notes : undefined,
    protect: params.protected === 1,
    retention: params.remove === 0 ? undefined : prune ?? { "keep-all": 1 },
    line: cmdline(params, vmids),
  };
}

function vzdump(sim: Sim, auth: AuthInfo, params: Params): string {
  const plan = planVzdump(sim, auth, params);
  const id = plan.vmids.length === 1 && plan.skipped.length === 0 ? String(plan.vmids[0]) : "";
  return sim.startTask(auth, { node: plan.node, type: "vzdump", id }, async (task) => {
    const storeid = plan.storage.storage;
    if (!storageActive(sim.state, plan.storage, plan.node)) {
      throw new TaskFailure(
        `could not activate storage '${storeid}': storage '${storeid}' is not online`,
      );
    }
    task.log(`INFO: starting new backup job: ${plan.line}`);
    if (plan.skipped.length > 0) task.log(`INFO: skip external VMs: ${plan.skipped.join(", ")}`);
    let errors = 0;
    for (const vmid of plan.vmids) {
      if (!(await backupOne(sim, task, plan, vmid))) errors++;
    }
    if (errors > 0) {
      task.log("INFO: Backup job finished with errors");
      throw new TaskFailure("job errors");
    }
    task.log("INFO: Backup job finished successfully");
  });
}

function configDigest(state: SimState): string {
  return createHash("sha1").update(JSON.stringify([...state.backupJobs.values()])).digest("hex");
}

/** The backup endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/cluster/backup", ({ sim }) => {
    const now = sim.clock.now();
    return [...sim.state.backupJobs.values()].map((job) => jobEntry(job as JobRecord, now));
  }),
  route("POST", "/cluster/backup", ({ sim, params }) => createJob(sim, params)),
  route("GET", "/cluster/backup/{id}", ({ sim, params }) => {
    const job = getJob(sim.state, String(params.id));
    const entry = jobEntry(job, sim.clock.now());
    delete entry["next-run"];
    entry.digest = configDigest(sim.state);
    return entry;
  }),
  route("PUT", "/cluster/backup/{id}", ({ sim, params }) => updateJob(sim, params)),
  route("DELETE", "/cluster/backup/{id}", ({ sim, params }) => {
    getJob(sim.state, String(params.id));
    sim.state.backupJobs.delete(String(params.id));
    return null;
  }),
  route(
    "GET",
    "/cluster/backup/{id}/included_volumes",
    ({ sim, params }) => includedVolumes(sim, String(params.id)),
  ),
  route("GET", "/cluster/backup-info", () => [{ subdir: "not-backed-up" }]),
  route("GET", "/cluster/backup-info/not-backed-up", ({ sim, auth }) => notBackedUp(sim, auth)),
  route("POST", "/nodes/{node}/vzdump", ({ sim, auth, params }) => vzdump(sim, auth, params)),
];
