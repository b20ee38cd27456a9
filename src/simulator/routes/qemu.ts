/**
 * Simulated PVE endpoints: QEMU VMs under `/nodes/{node}/qemu`, after `qemu-server
 * PVE/API2/Qemu.pm` — including which failures are synchronous HTTP errors and which end
 * the forked task (FACTS §6.2).
 *
 * @module
 */

import { dieError, paramError, TaskFailure } from "../errors.ts";
import { blockstat } from "./guest/blockstat.ts";
import type { Route, RouteContext, Sim, TaskRunner } from "../router.ts";
import { route } from "../router.ts";
import type { Guest, GuestConfig } from "../state.ts";
import {
  backupConfigOf,
  checkRestoreArchive,
  failRestoreEarly,
  logVmRestoreStart,
  type RestoreArchive,
  restoreTaskFailure,
} from "./restore.ts";
import {
  addHaResource,
  addToPool,
  agentEnabled,
  allocateCloudinitDrive,
  allocateVolume,
  applyConfigUpdate,
  applyPending,
  assertUnlockedSync,
  assertUnlockedTask,
  checkConfigUpdate,
  checkPool,
  checkSkiplock,
  completeNic,
  configMemory,
  createdLine,
  discardCreatedGuest,
  driveSize,
  findGuest,
  formatSize,
  getCloudinit,
  getCloudinitDump,
  guestDisks,
  guestInTask,
  guestName,
  guestRoutes,
  haStatus,
  haTask,
  isCdrom,
  isDiskKey,
  isHaManaged,
  isNewCloudinitDrive,
  listGuests,
  liveStats,
  logStamp,
  lookupGuest,
  markRunning,
  markStopped,
  materializeDisk,
  missingBridges,
  newGuest,
  overruleShutdown,
  parseDrive,
  pbool,
  plantedStartFailure,
  pnum,
  printDrive,
  pseudoUuid,
  pstr,
  putCloudinit,
  QEMU,
  regenerateCloudinit,
  regenerateMacs,
  removeVolume,
  renderBytes,
  requireStorage,
  requireStorageInTask,
  vmidInUseMessage,
  waitForTask,
  withLock,
} from "./guest/mod.ts";

const MIB = 1024 ** 2;

function vmid(ctx: RouteContext): number {
  return Number(ctx.params.vmid);
}

function node(ctx: RouteContext): string {
  return String(ctx.params.node);
}

/** `vmstatus()` of one VM (FACTS §5.7/§5.8). */
function vmStatus(sim: Sim, guest: Guest, full: boolean): Record<string, unknown> {
  const s = liveStats(QEMU, sim.state, guest, sim.clock.now());
  const running = guest.status === "running";
  const d: Record<string, unknown> = {
    vmid: guest.vmid,
    status: guest.status,
    name: guestName(QEMU, guest),
    cpus: s.cpus,
    cpu: s.cpu,
    maxmem: s.maxmem,
    mem: s.mem,
    memhost: running ? Math.min(s.maxmem, Math.round(s.mem * 1.06)) : 0,
    maxdisk: s.maxdisk,
    disk: 0,
    uptime: s.uptime,
    netin: s.netin,
    netout: s.netout,
    diskread: s.diskread,
    diskwrite: s.diskwrite,
  };
  if (running) d.pid = guest.pid;
  if (Number(guest.config.template ?? 0) === 1) d.template = 1;
  if (guest.config.lock !== undefined) d.lock = String(guest.config.lock);
  if (guest.config.tags !== undefined) d.tags = String(guest.config.tags);
  if (Object.keys(guest.config).some((k) => /^serial\d+$/.test(k))) d.serial = 1;
  if (guest.config.balloon !== undefined && Number(guest.config.balloon) > 0) {
    d.balloon_min = Number(guest.config.balloon) * MIB;
    if (guest.config.shares !== undefined) d.shares = Number(guest.config.shares);
  }
  if (running) {
    for (const kind of ["cpu", "io", "memory"]) {
      d[`pressure${kind}some`] = 0;
      d[`pressure${kind}full`] = 0;
    }
  }
  if (full && running) {
    d.qmpstatus = guest.qmpstatus;
    const nics: Record<string, { netin: number; netout: number }> = {};
    const netKeys = Object.keys(guest.config).filter((k) => /^net\d+$/.test(k)).sort();
    netKeys.forEach((key, i) => {
      const share = i === 0 ? 1 : 0;
      nics[`tap${guest.vmid}i${key.slice(3)}`] = {
        netin: s.netin * share,
        netout: s.netout * share,
      };
    });
    d.nics = nics;
    d.blockstat = blockstat(guest, s.diskread, s.diskwrite);
    d.balloon = s.maxmem;
    d.ballooninfo = {
      actual: s.maxmem,
      max_mem: s.maxmem,
      total_mem: s.maxmem - 64 * MIB,
      free_mem: s.freemem,
      mem_swapped_in: 0,
      mem_swapped_out: 0,
      major_page_faults: 0,
      minor_page_faults: 0,
      last_update: sim.clock.now(),
    };
    d.freemem = s.freemem;
    d["running-machine"] = "pc-i440fx-9.2+pve1";
    d["running-qemu"] = "9.2.0";
    d["proxmox-support"] = {
      "pbs-dirty-bitmap": true,
      "pbs-dirty-bitmap-migration": true,
      "pbs-masterkey": true,
      "query-bitmap-info": true,
      "backup-max-workers": true,
    };
  }
  return d;
}

function listVms(ctx: RouteContext): unknown {
  const full = pbool(ctx.params, "full");
  return listGuests(ctx, QEMU, (guest) => vmStatus(ctx.sim, guest, full));
}

function currentStatus(ctx: RouteContext): unknown {
  const guest = findGuest(ctx, QEMU);
  const d = vmStatus(ctx.sim, guest, true);
  d.qmpstatus = guest.status === "running" ? guest.qmpstatus : "stopped";
  d.ha = haStatus(ctx.sim.state, QEMU, guest.vmid);
  if (agentEnabled(guest.config)) d.agent = 1;
  return d;
}

function vmIndex(ctx: RouteContext): unknown {
  findGuest(ctx, QEMU);
  return [
    "config",
    "pending",
    "status",
    "unlink",
    "vncproxy",
    "termproxy",
    "migrate",
    "resize",
    "move",
    "rrd",
    "rrddata",
    "monitor",
    "agent",
    "snapshot",
    "spiceproxy",
    "sendkey",
    "firewall",
    "mtunnel",
    "remote_migrate",
  ].map((subdir) => ({ subdir }));
}

function statusIndex(ctx: RouteContext): unknown {
  findGuest(ctx, QEMU);
  return ["current", "start", "stop", "reset", "shutdown", "suspend", "reboot", "resume"].map((
    subdir,
  ) => ({ subdir }));
}

// ---------------------------------------------------------------------------------------
// Config

function putConfig(ctx: RouteContext): unknown {
  const guest = findGuest(ctx, QEMU);
  checkConfigUpdate(ctx, QEMU, guest);
  applyConfigUpdate(ctx, QEMU, guest);
  return null;
}

async function postConfig(ctx: RouteContext): Promise<unknown> {
  const guest = findGuest(ctx, QEMU);
  checkConfigUpdate(ctx, QEMU, guest);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  const upid = sim.startTask(ctx.auth, { node: n, type: "qmconfig", id: String(id) }, (task) => {
    const g = guestInTask(sim.state, QEMU, n, id);
    applyConfigUpdate(ctx, QEMU, g, task);
    return Promise.resolve();
  });
  const delay = pnum(ctx.params, "background_delay");
  if (delay !== undefined && await waitForTask(sim, upid, delay)) return null;
  return upid;
}

// ---------------------------------------------------------------------------------------
// Create and restore

/**
 * `check_storage_access` for one drive parameter: a new disk (`<storage>:<GiB>`) needs
 * `Datastore.AllocateSpace` and a storage whose content includes `images` (400 under
 * `storage` otherwise); a cloud-init drive (`<storage>:cloudinit`) is not checked here.
 */
function checkNewDiskStorage(ctx: RouteContext, value: string): void {
  if (isCdrom(value) || isNewCloudinitDrive(value)) return;
  const volid = parseDrive(value).volid;
  const m = /^([^:]+):\d+(\.\d+)?$/.exec(volid);
  if (m?.[1] === undefined) return;
  ctx.sim.require(ctx.auth, `/storage/${m[1]}`, "Datastore.AllocateSpace");
  const storage = requireStorage(ctx.sim.state, m[1]);
  if (!storage.content.includes("images")) {
    throw paramError({ storage: `storage '${m[1]}' does not support vm images` });
  }
}

const CREATE_META = new Set([
  "node",
  "vmid",
  "archive",
  "force",
  "pool",
  "start",
  "storage",
  "unique",
  "bwlimit",
  "ha-managed",
  "live-restore",
  "import-working-storage",
]);

function createVm(ctx: RouteContext): string {
  const { sim, params } = ctx;
  const state = sim.state;
  const n = node(ctx);
  const id = vmid(ctx);
  const archive = pstr(params, "archive");
  const force = pbool(params, "force");
  const pool = pstr(params, "pool");
  const storageParam = pstr(params, "storage");
  const existing = state.guests.get(id);
  if (existing !== undefined) {
    if (archive === undefined || !force || existing.node !== n || existing.type !== "qemu") {
      const message = vmidInUseMessage(QEMU, existing);
      throw dieError(archive === undefined ? message : message.replace("create", "restore"));
    }
    // Running and protected are checked inside the qmrestore worker (restore.ts).
    assertUnlockedSync(QEMU, existing);
  }
  checkPool(state, pool);
  if (storageParam !== undefined) requireStorage(state, storageParam);
  let backupConfig: GuestConfig | undefined;
  let source: RestoreArchive | undefined;
  if (archive !== undefined) {
    source = checkRestoreArchive(sim, "qemu", { archive, node: n });
    backupConfig = backupConfigOf(source);
  } else {
    for (const [key, value] of Object.entries(params)) {
      if (!isDiskKey(QEMU, key)) continue;
      checkNewDiskStorage(ctx, String(value));
    }
  }
  const old = existing;
  const guest = newGuest(QEMU, id, n, { lock: "create" });
  if (old !== undefined) guest.snapshots = new Map();
  state.guests.set(id, guest);
  const type = archive !== undefined ? "qmrestore" : "qmcreate";
  return sim.startTask(ctx.auth, { node: n, type, id: String(id) }, async (task) => {
    if (source !== undefined && archive !== undefined) {
      const failure = restoreTaskFailure(sim, "qemu", { archive: source, vmid: id, node: n, old });
      if (failure !== undefined) {
        failRestoreEarly(state, task, { kind: "qemu", guest, old, archive });
        throw new TaskFailure(failure);
      }
    }
    try {
      if (backupConfig !== undefined && source !== undefined) {
        await restoreBody(sim, task, { guest, source, backupConfig, old, params: ctx.params });
      } else {
        await createBody(sim, task, guest, ctx);
      }
    } catch (e) {
      discardCreatedGuest(state, QEMU, guest);
      if (archive !== undefined) throw e;
      // `create_vm` dies with "$emsg $err" when allocating or writing the config fails.
      throw new Error(`unable to create VM ${id} - ${e instanceof Error ? e.message : String(e)}`);
    }
    addToPool(state, pool, id);
    if (pbool(params, "ha-managed")) addHaResource(state, QEMU, id);
    if (guest.config.lock === "create") delete guest.config.lock;
    if (pbool(params, "start")) {
      task.log("Execute autostart");
      await task.sleep(1);
      applyPending(sim, QEMU, guest);
      regenerateCloudinit(guest, task);
      markRunning(sim, guest);
    }
  });
}

async function createBody(
  sim: Sim,
  task: TaskRunner,
  guest: Guest,
  ctx: RouteContext,
): Promise<void> {
  const config: GuestConfig = { lock: "create" };
  guest.config = config;
  for (const [key, raw] of Object.entries(ctx.params)) {
    if (CREATE_META.has(key)) continue;
    let value = Array.isArray(raw) ? raw.join(",") : raw;
    if (key === "cdrom") {
      config.ide2 = `${value},media=cdrom`;
      continue;
    }
    if (/^net\d+$/.test(key)) {
      value = completeNic(QEMU, sim.state, `${guest.vmid}/${key}`, String(value));
    } else if (isDiskKey(QEMU, key) && isNewCloudinitDrive(String(value))) {
      value = allocateCloudinitDrive(sim, task, {
        guest,
        key,
        value: String(value),
        others: config,
      });
    } else if (isDiskKey(QEMU, key)) {
      await task.sleep(0.5);
      value = materializeDisk(sim, task, {
        kind: QEMU,
        node: guest.node,
        vmid: guest.vmid,
        key,
        value: String(value),
      });
    }
    config[key] = value;
  }
  config.smbios1 ??= `uuid=${pseudoUuid(`smbios/${guest.vmid}/${sim.clock.now()}`)}`;
  config.vmgenid ??= pseudoUuid(`vmgenid/${guest.vmid}/${sim.clock.now()}`);
  config.meta = `creation-qemu=9.2.0,ctime=${sim.clock.now()}`;
  await task.sleep(1);
}

async function restoreBody(
  sim: Sim,
  task: TaskRunner,
  options: {
    guest: Guest;
    source: RestoreArchive;
    backupConfig: GuestConfig;
    old: Guest | undefined;
    params: RouteContext["params"];
  },
): Promise<void> {
  const { guest, source, backupConfig, old, params } = options;
  const state = sim.state;
  const storageParam = pstr(params, "storage");
  if (old !== undefined) {
    for (const [, volid] of guestDisks(QEMU, old.config)) {
      removeVolume(state, volid, guest.node);
      task.log(`  Logical volume "${volid.split(":").pop()}" successfully removed.`);
    }
  }
  logVmRestoreStart(task, source, guest.vmid);
  task.log(`CFG: size: ${String(Object.keys(backupConfig).length * 32)} name: qemu-server.conf`);
  const config: GuestConfig = { lock: "create" };
  guest.config = config;
  let total = 0;
  for (const [key, raw] of Object.entries(backupConfig)) {
    if (key === "lock" || key === "parent") continue;
    const value = String(raw);
    if (isDiskKey(QEMU, key) && !isCdrom(value)) {
      const { volid, opts } = parseDrive(value);
      const size = driveSize(value) || 4 * 1024 ** 3;
      const storeid = storageParam ?? volid.split(":")[0] ?? "local-lvm";
      const storage = requireStorageInTask(sim, storeid);
      task.log(`DEV: dev_id=${Object.keys(config).length} size: ${size} devname: drive-${key}`);
      const newVolid = allocateVolume(sim, {
        storage,
        node: guest.node,
        vmid: guest.vmid,
        size,
        content: "images",
      });
      task.log(createdLine(newVolid, storage));
      task.log(`new volume ID is '${newVolid}'`);
      config[key] = printDrive(newVolid, [...opts.filter(([k]) => k !== "size"), [
        "size",
        formatSize(size),
      ]]);
      total += size;
      continue;
    }
    if (/^unused\d+$/.test(key)) continue;
    config[key] = raw;
  }
  task.log(`map 'drive-scsi0' to '/dev/pve/vm-${guest.vmid}-disk-0' (write zeros = 0)`);
  for (let pct = 20; pct <= 100; pct += 20) {
    await task.sleep(1);
    task.log(
      `progress ${pct}% (read ${Math.round((total * pct) / 100)} bytes, duration ${pct / 20} sec)`,
    );
  }
  task.log(`total bytes read ${total}, sparse bytes ${Math.round(total * 0.6)} (60%)`);
  task.log(`space reduction due to 4K zero blocks ${renderBytes(total * 0.01)}`);
  task.log(`rescan volumes...`);
  if (pbool(params, "unique")) regenerateMacs(QEMU, state, guest.vmid, config);
}

// ---------------------------------------------------------------------------------------
// Power state (FACTS §6.2)

function isHa(ctx: RouteContext): boolean {
  return isHaManaged(ctx.sim.state, QEMU, vmid(ctx));
}

/** Start or resume of a VM suspended to disk: load the saved state, drop it, unlock. */
async function resumeFromDisk(sim: Sim, task: TaskRunner, guest: Guest): Promise<void> {
  task.log("Resuming suspended VM");
  await task.sleep(1);
  const state = guest.config.vmstate;
  if (state !== undefined) removeVolume(sim.state, String(state), guest.node);
  delete guest.config.vmstate;
  delete guest.config.lock;
  markRunning(sim, guest);
  task.log("Resumed VM, removing state");
}

function startVm(ctx: RouteContext): string {
  const skiplock = checkSkiplock(ctx);
  const { sim } = ctx;
  const n = node(ctx);
  const id = vmid(ctx);
  const guest = lookupGuest(sim.state, QEMU, n, id);
  if (guest !== undefined && isHa(ctx)) return haTask(ctx, QEMU, { guest, type: "hastart" });
  return sim.startTask(ctx.auth, { node: n, type: "qmstart", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, QEMU, n, id);
    if (Number(g.config.template ?? 0) === 1) {
      throw new Error("you can't start a vm if it's a template");
    }
    const suspended = g.config.lock === "suspended";
    const running = g.status === "running";
    if (running && g.config.lock === "backup") {
      if (g.qmpstatus === "paused") g.qmpstatus = "running";
      return;
    }
    if (!(skiplock || suspended)) assertUnlockedTask(QEMU, g);
    if (running) throw new Error(`VM ${id} already running`);
    if (suspended) {
      await resumeFromDisk(sim, task, g);
      return;
    }
    await task.sleep(1);
    applyPending(sim, QEMU, g);
    const bridges = missingBridges(sim.state, g, n);
    // `tap_plug` while QEMU starts: a NIC on a bridge the node lacks fails the start.
    if (bridges.length > 0) throw new Error(`bridge '${bridges[0]}' does not exist`);
    regenerateCloudinit(g, task);
    const failure = plantedStartFailure(g);
    if (failure !== undefined) throw new Error(failure);
    markRunning(sim, g);
    await task.sleep(0.5);
  });
}

function stopVm(ctx: RouteContext): string {
  const skiplock = checkSkiplock(ctx);
  const { sim } = ctx;
  const n = node(ctx);
  const id = vmid(ctx);
  const guest = lookupGuest(sim.state, QEMU, n, id);
  if (guest !== undefined && isHa(ctx)) return haTask(ctx, QEMU, { guest, type: "hastop" });
  const overrule = pbool(ctx.params, "overrule-shutdown");
  return sim.startTask(ctx.auth, { node: n, type: "qmstop", id: String(id) }, async (task) => {
    if (overrule) overruleShutdown(sim, task, QEMU, id);
    const g = guestInTask(sim.state, QEMU, n, id);
    if (g.status !== "running") return;
    assertUnlockedTask(QEMU, g, skiplock);
    await task.sleep(1);
    markStopped(g);
  });
}

/** Simulated seconds a guest OS needs to power down cleanly. */
function shutdownSeconds(guest: Guest): number {
  return String(guest.config.ostype ?? "").startsWith("win") ? 8 : 3;
}

function shutdownVm(ctx: RouteContext): string {
  const skiplock = checkSkiplock(ctx);
  const { sim } = ctx;
  const n = node(ctx);
  const id = vmid(ctx);
  const forceStop = pbool(ctx.params, "forceStop");
  const timeout = pnum(ctx.params, "timeout");
  const guest = lookupGuest(sim.state, QEMU, n, id);
  if (
    guest !== undefined && guest.status === "running" && guest.qmpstatus === "paused" && !forceStop
  ) {
    throw dieError("VM is paused - cannot shutdown");
  }
  if (guest !== undefined && isHa(ctx)) return haTask(ctx, QEMU, { guest, type: "hastop" });
  return sim.startTask(ctx.auth, { node: n, type: "qmshutdown", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, QEMU, n, id);
    if (g.status !== "running") return;
    assertUnlockedTask(QEMU, g, skiplock);
    const needed = g.qmpstatus === "paused" ? Infinity : shutdownSeconds(g);
    const limit = timeout ?? 180;
    if (limit < needed) {
      await task.sleep(limit);
      if (!forceStop) throw new Error("VM quit/powerdown failed - got timeout");
      task.log("VM still running - terminating now with SIGTERM");
      await task.sleep(0.5);
      markStopped(g);
      return;
    }
    await task.sleep(needed);
    markStopped(g);
  });
}

function requireRunning(ctx: RouteContext): Guest {
  const guest = findGuest(ctx, QEMU);
  if (guest.status !== "running") throw dieError(`VM ${guest.vmid} not running`);
  return guest;
}

function rebootVm(ctx: RouteContext): string {
  const guest = requireRunning(ctx);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  const timeout = pnum(ctx.params, "timeout");
  return sim.startTask(ctx.auth, { node: n, type: "qmreboot", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, QEMU, n, id);
    assertUnlockedTask(QEMU, g);
    if (g.status !== "running") throw new Error(`VM ${id} not running`);
    const needed = shutdownSeconds(g);
    if ((timeout ?? 180) < needed) {
      await task.sleep(timeout ?? 0);
      throw new Error("VM quit/powerdown failed - got timeout");
    }
    await task.sleep(needed);
    markStopped(g);
    applyPending(sim, QEMU, g);
    regenerateCloudinit(g, task);
    await task.sleep(1);
    const failure = plantedStartFailure(g);
    if (failure !== undefined) throw new Error(failure);
    markRunning(sim, g);
  });
}

function resetVm(ctx: RouteContext): string {
  const skiplock = checkSkiplock(ctx);
  const guest = requireRunning(ctx);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  return sim.startTask(ctx.auth, { node: n, type: "qmreset", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, QEMU, n, id);
    assertUnlockedTask(QEMU, g, skiplock);
    await task.sleep(0.5);
    g.startedAt = sim.clock.now();
    g.qmpstatus = "running";
  });
}

/**
 * The sync checks of `vm_suspend` with `todisk` (qemu-server): not for an HA-managed VM, not with
 * a passed-through PCI device, and the caller needs `VM.Config.Disk` on the VM and
 * `Datastore.AllocateSpace` on the storage the state goes to.
 */
function checkSuspendToDisk(ctx: RouteContext, guest: Guest, statestorage: string): void {
  const { sim, auth } = ctx;
  if (isHaManaged(sim.state, QEMU, guest.vmid)) {
    throw dieError("Cannot suspend HA managed VM to disk");
  }
  sim.require(auth, `/vms/${guest.vmid}`, "VM.Config.Disk");
  if (Object.keys(guest.config).some((key) => /^hostpci\d+$/.test(key))) {
    throw dieError(
      "cannot suspend VM to disk due to passed-through PCI device(s), which lack the " +
        "possibility to save/restore their internal state",
    );
  }
  sim.require(auth, `/storage/${statestorage}`, "Datastore.AllocateSpace");
}

function suspendVm(ctx: RouteContext): string {
  const skiplock = checkSkiplock(ctx);
  const guest = requireRunning(ctx);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  const todisk = pbool(ctx.params, "todisk");
  const statestorage = pstr(ctx.params, "statestorage");
  if (todisk) {
    checkSuspendToDisk(
      ctx,
      guest,
      statestorage ?? String(guest.config.vmstatestorage ?? "local-lvm"),
    );
  }
  if (statestorage !== undefined) requireStorage(sim.state, statestorage);
  const type = todisk ? "qmsuspend" : "qmpause";
  return sim.startTask(ctx.auth, { node: n, type, id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, QEMU, n, id);
    assertUnlockedTask(QEMU, g, skiplock);
    if (!todisk) {
      await task.sleep(0.5);
      g.qmpstatus = "paused";
      return;
    }
    await withLock(g, "suspending", async () => {
      const storeid = statestorage ?? String(g.config.vmstatestorage ?? "local-lvm");
      const storage = sim.state.storages.get(storeid);
      task.log(`suspend VM ${id} to disk`);
      task.log(`saving VM state and RAM using storage '${storeid}'`);
      const mem = configMemory(g.config) * 0.4;
      await task.sleep(1);
      task.log(`${renderBytes(mem / 2)} in 1s`);
      await task.sleep(1);
      task.log(`completed saving the VM state in 2s, saved ${renderBytes(mem)}`);
      if (storage !== undefined) {
        const stamp = logStamp(sim).replace(" ", "-").replace(/:/g, "");
        const volid = `${storeid}:vm-${id}-state-suspend-${stamp}`;
        const list = sim.state.volumes.get(storage.shared ? storeid : `${n}/${storeid}`) ?? [];
        list.push({
          volid,
          content: "images",
          format: "raw",
          size: Math.round(mem),
          ctime: sim.clock.now(),
          vmid: id,
        });
        sim.state.volumes.set(storage.shared ? storeid : `${n}/${storeid}`, list);
        g.config.vmstate = volid;
      }
    });
    markStopped(g);
    g.config.lock = "suspended";
  });
}

function resumeVm(ctx: RouteContext): string {
  const skiplock = checkSkiplock(ctx);
  const guest = findGuest(ctx, QEMU);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  const hibernated = guest.config.lock === "suspended";
  if (!hibernated && guest.status !== "running") throw dieError(`VM ${id} not running`);
  const nocheck = pbool(ctx.params, "nocheck");
  return sim.startTask(ctx.auth, { node: n, type: "qmresume", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, QEMU, n, id);
    if (g.config.lock === "suspended" && g.status !== "running") {
      await resumeFromDisk(sim, task, g);
      return;
    }
    if (!(skiplock || nocheck)) assertUnlockedTask(QEMU, g);
    if (g.status !== "running") throw new Error(`VM ${id} not running`);
    await task.sleep(0.5);
    if (g.qmpstatus === "paused" || g.qmpstatus === "suspended") g.qmpstatus = "running";
  });
}

// ---------------------------------------------------------------------------------------

const base = "/nodes/{node}/qemu/{vmid}";

/** The qemu endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/nodes/{node}/qemu", listVms),
  route("POST", "/nodes/{node}/qemu", createVm),
  route("GET", base, vmIndex),
  route("GET", `${base}/status`, statusIndex),
  route("GET", `${base}/status/current`, currentStatus),
  route("POST", `${base}/status/start`, startVm),
  route("POST", `${base}/status/stop`, stopVm),
  route("POST", `${base}/status/shutdown`, shutdownVm),
  route("POST", `${base}/status/reboot`, rebootVm),
  route("POST", `${base}/status/reset`, resetVm),
  route("POST", `${base}/status/suspend`, suspendVm),
  route("POST", `${base}/status/resume`, resumeVm),
  route("PUT", `${base}/config`, putConfig),
  route("POST", `${base}/config`, postConfig),
  route("GET", `${base}/cloudinit`, getCloudinit),
  route("PUT", `${base}/cloudinit`, putCloudinit),
  route("GET", `${base}/cloudinit/dump`, getCloudinitDump),
  ...guestRoutes(QEMU),
];
