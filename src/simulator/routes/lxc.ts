/**
 * Simulated PVE endpoints: LXC containers under `/nodes/{node}/lxc`, after `pve-container
 * PVE/API2/LXC.pm` and `LXC/Status.pm`. Unlike QEMU, most power-state errors are checked
 * before forking (FACTS §6.2 "LXC differs").
 *
 * @module
 */

import { dieError, paramError, TaskFailure } from "../errors.ts";
import type { Route, RouteContext, Sim, TaskRunner } from "../router.ts";
import { route } from "../router.ts";
import type { Guest, GuestConfig } from "../state.ts";
import {
  backupConfigOf,
  checkCtOverwrite,
  checkRestoreArchive,
  failRestoreEarly,
  restoreTaskFailure,
} from "./restore.ts";
import {
  addHaResource,
  addToPool,
  allocateVolume,
  applyConfigUpdate,
  applyPending,
  assertUnlockedSync,
  assertUnlockedTask,
  checkConfigUpdate,
  checkPool,
  checkSkiplock,
  checkStorageEnabled,
  completeNic,
  createdLine,
  discardCreatedGuest,
  driveSize,
  findGuest,
  findVolume,
  formatSize,
  guestDisks,
  guestInTask,
  guestName,
  guestRoutes,
  haStatus,
  haTask,
  isDiskKey,
  isHaManaged,
  listGuests,
  liveStats,
  LXC,
  markRunning,
  markStopped,
  materializeDisk,
  newGuest,
  overruleShutdown,
  parseDrive,
  pbool,
  plantedStartFailure,
  pnum,
  printDrive,
  pstr,
  regenerateMacs,
  removeVolume,
  requireStorage,
  requireStorageInTask,
  vmidInUseMessage,
} from "./guest/mod.ts";

const MIB = 1024 ** 2;

function node(ctx: RouteContext): string {
  return String(ctx.params.node);
}

/** `PVE::LXC::vmstatus` of one container. */
function ctStatus(sim: Sim, guest: Guest): Record<string, unknown> {
  const s = liveStats(LXC, sim.state, guest, sim.clock.now());
  const running = guest.status === "running";
  const maxswap = Number(guest.config.swap ?? 512) * MIB;
  const d: Record<string, unknown> = {
    vmid: guest.vmid,
    type: "lxc",
    status: guest.status,
    name: guestName(LXC, guest),
    cpus: s.cpus,
    cpu: s.cpu,
    maxmem: s.maxmem,
    mem: s.mem,
    maxswap,
    swap: running ? Math.round(maxswap * 0.02) : 0,
    maxdisk: s.maxdisk,
    disk: s.disk,
    uptime: s.uptime,
    netin: s.netin,
    netout: s.netout,
    diskread: s.diskread,
    diskwrite: s.diskwrite,
  };
  if (running) d.pid = guest.pid;
  if (guest.config.lock !== undefined) d.lock = String(guest.config.lock);
  if (guest.config.tags !== undefined) d.tags = String(guest.config.tags);
  if (Number(guest.config.template ?? 0) === 1) d.template = 1;
  if (running) {
    for (const kind of ["cpu", "io", "memory"]) {
      d[`pressure${kind}some`] = 0;
      d[`pressure${kind}full`] = 0;
    }
  }
  return d;
}

function listCts(ctx: RouteContext): unknown {
  return listGuests(ctx, LXC, (guest) => ctStatus(ctx.sim, guest));
}

function currentStatus(ctx: RouteContext): unknown {
  const guest = findGuest(ctx, LXC);
  return { ...ctStatus(ctx.sim, guest), ha: haStatus(ctx.sim.state, LXC, guest.vmid) };
}

function ctIndex(ctx: RouteContext): unknown {
  findGuest(ctx, LXC);
  return [
    "config",
    "status",
    "vncproxy",
    "termproxy",
    "vncwebsocket",
    "spiceproxy",
    "migrate",
    "clone",
    "rrd",
    "rrddata",
    "firewall",
    "snapshot",
    "resize",
    "interfaces",
    "pending",
  ].map((subdir) => ({ subdir }));
}

function statusIndex(ctx: RouteContext): unknown {
  findGuest(ctx, LXC);
  return ["current", "start", "stop", "shutdown", "reboot", "suspend", "resume"].map((subdir) => ({
    subdir,
  }));
}

function putConfig(ctx: RouteContext): unknown {
  const guest = findGuest(ctx, LXC);
  checkConfigUpdate(ctx, LXC, guest);
  applyConfigUpdate(ctx, LXC, guest);
  return null;
}

/** `GET …/interfaces` (running containers only). */
function interfaces(ctx: RouteContext): unknown {
  const guest = findGuest(ctx, LXC);
  if (guest.status !== "running") throw dieError(`CT ${guest.vmid} not running`);
  const out: Record<string, string>[] = [{
    name: "lo",
    hwaddr: "00:00:00:00:00:00",
    inet: "127.0.0.1/8",
    inet6: "::1/128",
  }];
  for (const key of Object.keys(guest.config).filter((k) => /^net\d+$/.test(k)).sort()) {
    const opts = new Map(
      String(guest.config[key]).split(",").map((p) => p.split("=", 2) as [string, string]),
    );
    const item: Record<string, string> = {
      name: opts.get("name") ?? `eth${key.slice(3)}`,
      hwaddr: (opts.get("hwaddr") ?? "").toLowerCase(),
    };
    const ip = opts.get("ip");
    item.inet = ip !== undefined && ip !== "dhcp" && ip !== "manual"
      ? ip
      : `10.0.${guest.vmid % 250}.${10 + Number(key.slice(3))}/24`;
    out.push(item);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Create and restore

const CREATE_META = new Set([
  "node",
  "vmid",
  "ostemplate",
  "password",
  "ssh-public-keys",
  "storage",
  "force",
  "restore",
  "unique",
  "pool",
  "start",
  "ignore-unpack-errors",
  "bwlimit",
  "ha-managed",
  "unprivileged",
]);

function ostypeOf(template: string): string {
  const file = template.slice(template.lastIndexOf("/") + 1).toLowerCase();
  for (
    const os of [
      "debian",
      "ubuntu",
      "alpine",
      "centos",
      "fedora",
      "archlinux",
      "opensuse",
      "gentoo",
      "devuan",
      "nixos",
    ]
  ) {
    if (file.startsWith(os)) return os;
  }
  if (file.startsWith("rockylinux") || file.startsWith("almalinux")) return "centos";
  return "unmanaged";
}

function createCt(ctx: RouteContext): string {
  const { sim, params } = ctx;
  const state = sim.state;
  const n = node(ctx);
  const id = Number(params.vmid);
  const ostemplate = String(params.ostemplate);
  const restore = pbool(params, "restore");
  const force = pbool(params, "force");
  const pool = pstr(params, "pool");
  const storeid = pstr(params, "storage") ?? "local";
  const existing = state.guests.get(id);
  if (existing !== undefined) {
    if (!restore || !force || existing.node !== n || existing.type !== "lxc") {
      const message = vmidInUseMessage(LXC, existing);
      throw dieError(restore ? message.replace("create", "restore") : message);
    }
    checkCtOverwrite(existing);
    assertUnlockedSync(LXC, existing);
  }
  checkPool(state, pool);
  requireStorage(state, storeid);
  if (params.unprivileged === 0) sim.require(ctx.auth, "/", "Sys.Modify");
  // A restore archive is looked at inside the vzrestore worker (restore.ts); a template here.
  const source = restore
    ? checkRestoreArchive(sim, "lxc", { archive: ostemplate, node: n })
    : undefined;
  const found = restore ? undefined : findVolume(state, ostemplate, n);
  if (!restore && found === undefined) throw dieError(`volume '${ostemplate}' does not exist`);
  const rootfs = pstr(params, "rootfs");
  const rootfsStorage = rootfs === undefined
    ? storeid
    : /^([^:,]+):\d+(\.\d+)?$/.exec(parseDrive(rootfs).volid)?.[1];
  if (rootfsStorage !== undefined && restore) requireStorage(state, rootfsStorage);
  else if (rootfsStorage !== undefined) {
    // `check_and_activate_storage` of pve-container's create_vm (restores keep their storage).
    const storage = requireStorage(state, rootfsStorage);
    checkStorageEnabled(storage, n);
    if (!storage.content.includes("rootdir")) {
      throw paramError({
        storage: `storage '${rootfsStorage}' does not support container directories`,
      });
    }
  }
  const backupConfig = source === undefined ? undefined : backupConfigOf(source);
  const old = existing;
  const guest = newGuest(LXC, id, n, { lock: "create" });
  state.guests.set(id, guest);
  const type = restore ? "vzrestore" : "vzcreate";
  return sim.startTask(ctx.auth, { node: n, type, id: String(id) }, async (task) => {
    if (source !== undefined) {
      const failure = restoreTaskFailure(sim, "lxc", { archive: source, vmid: id, node: n, old });
      if (failure !== undefined) {
        failRestoreEarly(state, task, { kind: "lxc", guest, old, archive: ostemplate });
        throw new TaskFailure(failure);
      }
    }
    try {
      if (old !== undefined) {
        for (const [, volid] of guestDisks(LXC, old.config)) removeVolume(state, volid, n);
      }
      if (backupConfig !== undefined) {
        await restoreBody(sim, task, { guest, archive: ostemplate, backupConfig, ctx });
      } else {
        await createBody(sim, task, { guest, ostemplate, ctx, size: found?.volume.size ?? 0 });
      }
    } catch (e) {
      discardCreatedGuest(state, LXC, guest);
      throw e;
    }
    addToPool(state, pool, id);
    if (pbool(params, "ha-managed")) addHaResource(state, LXC, id);
    if (guest.config.lock === "create") delete guest.config.lock;
    if (pbool(params, "start")) {
      await task.sleep(1);
      markRunning(sim, guest);
    }
  });
}

/** The `Total bytes read` line that tar prints at the end of an extract. */
function logBytesRead(task: TaskRunner, bytes: number): void {
  task.log(
    `Total bytes read: ${bytes} (${Math.round(bytes / MIB)}MiB, ${
      Math.round(bytes / MIB / 2)
    }MiB/s)`,
  );
}

async function createBody(
  sim: Sim,
  task: TaskRunner,
  options: { guest: Guest; ostemplate: string; ctx: RouteContext; size: number },
): Promise<void> {
  const { guest, ostemplate, ctx } = options;
  const params = ctx.params;
  const storeid = pstr(params, "storage") ?? "local";
  const config: GuestConfig = {
    lock: "create",
    arch: "amd64",
    ostype: ostypeOf(ostemplate),
    hostname: pstr(params, "hostname") ?? `CT${guest.vmid}`,
    memory: pnum(params, "memory") ?? 512,
    swap: pnum(params, "swap") ?? 512,
  };
  guest.config = config;
  const rootfs = pstr(params, "rootfs") ?? `${storeid}:4`;
  config.rootfs = materializeDisk(sim, task, {
    kind: LXC,
    node: guest.node,
    vmid: guest.vmid,
    key: "rootfs",
    value: rootfs,
  });
  for (const [key, raw] of Object.entries(params)) {
    if (CREATE_META.has(key) || key in config) continue;
    let value = Array.isArray(raw) ? raw.join(",") : raw;
    if (/^net\d+$/.test(key)) {
      value = completeNic(LXC, sim.state, `${guest.vmid}/${key}`, String(value));
    } else if (isDiskKey(LXC, key)) {
      value = materializeDisk(sim, task, {
        kind: LXC,
        node: guest.node,
        vmid: guest.vmid,
        key,
        value: String(value),
      });
    }
    config[key] = value;
  }
  // pve-container writes `unprivileged: 1` only; a privileged container has no such key.
  if ((pnum(params, "unprivileged") ?? 1) === 1) config.unprivileged = 1;
  const file = ostemplate.slice(ostemplate.indexOf(":") + 1).replace(/^vztmpl\//, "");
  task.log(`extracting archive '/var/lib/vz/template/cache/${file}'`);
  await task.sleep(2);
  const bytes = Math.max(options.size * 4, 400 * MIB);
  logBytesRead(task, bytes);
  task.log("Detected container architecture: amd64");
  for (const key of ["rsa", "ecdsa", "ed25519"]) {
    task.log(`Creating SSH host key 'ssh_host_${key}_key' - this may take some time ...`);
    await task.sleep(0.5);
    task.log(
      `done: SHA256:${btoa(`${guest.vmid}/${key}`).replace(/=+$/, "")} root@${config.hostname}`,
    );
  }
}

async function restoreBody(
  sim: Sim,
  task: TaskRunner,
  options: { guest: Guest; archive: string; backupConfig: GuestConfig; ctx: RouteContext },
): Promise<void> {
  const { guest, archive, backupConfig, ctx } = options;
  const params = ctx.params;
  const storageParam = pstr(params, "storage");
  const config: GuestConfig = { lock: "create" };
  guest.config = config;
  const file = archive.slice(archive.indexOf(":") + 1).replace(/^backup\//, "");
  task.log(`recovering backed-up configuration from '${archive}'`);
  let total = 0;
  for (const [key, raw] of Object.entries(backupConfig)) {
    if (key === "lock" || key === "parent" || /^unused\d+$/.test(key)) continue;
    if (isDiskKey(LXC, key)) {
      const value = String(raw);
      const { volid, opts } = parseDrive(value);
      const size = driveSize(value) || 4 * 1024 ** 3;
      const storeid = storageParam ?? volid.split(":")[0] ?? "local";
      const storage = requireStorageInTask(sim, storeid);
      const newVolid = allocateVolume(sim, {
        storage,
        node: guest.node,
        vmid: guest.vmid,
        size,
        content: "rootdir",
      });
      task.log(createdLine(newVolid, storage));
      config[key] = printDrive(newVolid, [...opts.filter(([k]) => k !== "size"), [
        "size",
        formatSize(size),
      ]]);
      total += size;
      continue;
    }
    config[key] = raw;
  }
  task.log(`restoring '${archive}' now..`);
  await task.sleep(2);
  const bytes = Math.round(total * 0.3);
  logBytesRead(task, bytes);
  task.log("merging backed-up and given configuration..");
  task.log(`restored from /var/lib/vz/dump/${file}`);
  if (pbool(params, "unique")) regenerateMacs(LXC, sim.state, guest.vmid, config);
}

// ---------------------------------------------------------------------------------------
// Power state (checked before forking, LXC/Status.pm)

function isHa(ctx: RouteContext, guest: Guest): boolean {
  return isHaManaged(ctx.sim.state, LXC, guest.vmid);
}

function startCt(ctx: RouteContext): string {
  const skiplock = checkSkiplock(ctx);
  const guest = findGuest(ctx, LXC);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  if (guest.status === "running") throw dieError(`CT ${id} already running`);
  if (isHa(ctx, guest)) return haTask(ctx, LXC, { guest, type: "hastart" });
  return sim.startTask(ctx.auth, { node: n, type: "vzstart", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, LXC, n, id);
    if (Number(g.config.template ?? 0) === 1) {
      throw new Error("you can't start a CT if it's a template");
    }
    if (!skiplock && g.config.lock !== "mounted") assertUnlockedTask(LXC, g);
    await task.sleep(1);
    applyPending(sim, LXC, g);
    const failure = plantedStartFailure(g);
    if (failure !== undefined) throw new Error(failure);
    markRunning(sim, g);
  });
}

function requireRunningCt(ctx: RouteContext, message: (id: number) => string): Guest {
  const guest = findGuest(ctx, LXC);
  if (guest.status !== "running") throw dieError(message(guest.vmid));
  return guest;
}

function stopCt(ctx: RouteContext): string {
  const skiplock = checkSkiplock(ctx);
  const guest = requireRunningCt(ctx, (id) => `CT ${id} not running`);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  if (isHa(ctx, guest)) return haTask(ctx, LXC, { guest, type: "hastop" });
  const overrule = pbool(ctx.params, "overrule-shutdown");
  return sim.startTask(ctx.auth, { node: n, type: "vzstop", id: String(id) }, async (task) => {
    if (overrule) overruleShutdown(sim, task, LXC, id);
    const g = guestInTask(sim.state, LXC, n, id);
    if (!skiplock && g.config.lock !== "mounted") assertUnlockedTask(LXC, g);
    await task.sleep(1);
    markStopped(g);
  });
}

const CT_SHUTDOWN_SECONDS = 2;

function shutdownCt(ctx: RouteContext): string {
  const guest = requireRunningCt(ctx, (id) => `CT ${id} not running`);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  if (isHa(ctx, guest)) return haTask(ctx, LXC, { guest, type: "hastop" });
  const timeout = pnum(ctx.params, "timeout") ?? 60;
  const forceStop = pbool(ctx.params, "forceStop");
  return sim.startTask(ctx.auth, { node: n, type: "vzshutdown", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, LXC, n, id);
    assertUnlockedTask(LXC, g);
    if (timeout < CT_SHUTDOWN_SECONDS) {
      await task.sleep(timeout);
      if (!forceStop) throw new Error("container did not stop");
      task.log("shutdown timed out, stopping container");
      await task.sleep(0.5);
      markStopped(g);
      return;
    }
    await task.sleep(CT_SHUTDOWN_SECONDS);
    markStopped(g);
  });
}

function rebootCt(ctx: RouteContext): string {
  const guest = requireRunningCt(ctx, (id) => `VM ${id} not running`);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  const timeout = pnum(ctx.params, "timeout");
  return sim.startTask(ctx.auth, { node: n, type: "vzreboot", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, LXC, n, id);
    if (timeout !== undefined && timeout < CT_SHUTDOWN_SECONDS) {
      await task.sleep(timeout);
      throw new Error("container did not stop");
    }
    await task.sleep(CT_SHUTDOWN_SECONDS);
    markStopped(g);
    applyPending(sim, LXC, g);
    await task.sleep(1);
    const failure = plantedStartFailure(g);
    if (failure !== undefined) throw new Error(failure);
    markRunning(sim, g);
  });
}

function suspendCt(ctx: RouteContext): string {
  const guest = requireRunningCt(ctx, (id) => `CT ${id} not running`);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  return sim.startTask(ctx.auth, { node: n, type: "vzsuspend", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, LXC, n, id);
    assertUnlockedTask(LXC, g);
    await task.sleep(1);
    markStopped(g);
    g.qmpstatus = "suspended";
  });
}

function resumeCt(ctx: RouteContext): string {
  const guest = findGuest(ctx, LXC);
  const { sim } = ctx;
  const n = guest.node;
  const id = guest.vmid;
  if (guest.status === "running") throw dieError(`CT ${id} already running`);
  return sim.startTask(ctx.auth, { node: n, type: "vzresume", id: String(id) }, async (task) => {
    const g = guestInTask(sim.state, LXC, n, id);
    if (g.qmpstatus !== "suspended") {
      throw new Error(
        `command 'lxc-checkpoint -n ${id} -r --foreground -D /var/lib/vz/dump' failed: exit code 1`,
      );
    }
    await task.sleep(1);
    markRunning(sim, g);
  });
}

// ---------------------------------------------------------------------------------------

const base = "/nodes/{node}/lxc/{vmid}";

/** The lxc endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/nodes/{node}/lxc", listCts),
  route("POST", "/nodes/{node}/lxc", createCt),
  route("GET", base, ctIndex),
  route("GET", `${base}/status`, statusIndex),
  route("GET", `${base}/status/current`, currentStatus),
  route("POST", `${base}/status/start`, startCt),
  route("POST", `${base}/status/stop`, stopCt),
  route("POST", `${base}/status/shutdown`, shutdownCt),
  route("POST", `${base}/status/reboot`, rebootCt),
  route("POST", `${base}/status/suspend`, suspendCt),
  route("POST", `${base}/status/resume`, resumeCt),
  route("PUT", `${base}/config`, putConfig),
  route("GET", `${base}/interfaces`, interfaces),
  ...guestRoutes(LXC),
];
