/**
 * The `twin` seed: a cluster built from a twin file (`proxmox-mcp twin capture`), so the
 * simulator behaves like PVE on a copy of a real cluster. The file is data in the format
 * `src/twin/README.md` describes (format `proxmox-mcp-twin`, version 1); this module reads it
 * without importing `src/twin`, checking each part it uses and naming the part that is wrong.
 *
 * What the file does not hold is filled in the simulator's way: users are `root@pam` and its
 * `mcp` token only; there is no task history; no guest agent answers; a backup's archived
 * config (which capture does not read) is the guest's config at capture time. Times count from
 * the capture: a guest up for an hour then is up an hour plus the time since.
 *
 * @module
 */

import {
  type BackupJob,
  emptyFirewall,
  emptyState,
  type FirewallConfig,
  type FirewallIpset,
  type FirewallRule,
  type Guest,
  type GuestConfig,
  type HaResource,
  type HaRule,
  type NodeState,
  type ServiceState,
  type SimState,
  type Snapshot,
  type StorageConfig,
  type Subscription,
  type Volume,
  volumeKey,
} from "../state.ts";
import { addRoot, KVERSION } from "./_common.ts";

/** The `format` of a twin file. */
export const TWIN_FORMAT = "proxmox-mcp-twin";
/** The twin file version this seed reads. */
export const TWIN_VERSION = 1;

/** Options of the twin seed. */
export interface TwinOptions {
  /** The parsed twin file. */
  twin: unknown;
  rootPassword: string;
  tokenSecret: string;
}

/** A twin file that cannot be loaded, with the part that is wrong. */
export class TwinFileError extends Error {
  /** An error naming where in the file the problem is. */
  constructor(message: string) {
    super(message);
    this.name = "TwinFileError";
  }
}

/** Who the twin is: shown by `GET /_sim/twin`, so a client can tell which file it was booted from. */
export interface TwinIdentity {
  id: string;
  cluster: string | null;
  captured_at: string;
}

type Raw = Record<string, unknown>;

function isRaw(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function obj(value: unknown, where: string): Raw {
  if (!isRaw(value)) throw new TwinFileError(`Invalid twin file: ${where} must be an object`);
  return value;
}

function list(value: unknown, where: string): Raw[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isRaw)) {
    throw new TwinFileError(`Invalid twin file: ${where} must be a list of objects`);
  }
  return value;
}

function str(value: unknown, where: string): string {
  if (typeof value !== "string") {
    throw new TwinFileError(`Invalid twin file: ${where} must be a string`);
  }
  return value;
}

function int(value: unknown, where: string): number {
  const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new TwinFileError(`Invalid twin file: ${where} must be a number`);
  }
  return n;
}

function optNum(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

function optStr(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function bit(value: unknown): 0 | 1 {
  return value === 1 || value === true || value === "1" ? 1 : 0;
}

function splitList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== "string") return [];
  return value.split(/[,;\s]+/).filter((item) => item !== "");
}

/** A config value as the simulator stores it. */
function configValue(value: unknown): string | number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return String(value);
}

function configOf(value: unknown, where: string): GuestConfig {
  const out: GuestConfig = {};
  for (const [key, item] of Object.entries(obj(value ?? {}, where))) {
    if (item === undefined || item === null || key === "digest") continue;
    out[key] = configValue(item);
  }
  return out;
}

/** The identity of a twin document (checked: format, version). */
export function twinIdentity(doc: unknown): TwinIdentity {
  const root = obj(doc, "the document");
  if (root.format !== TWIN_FORMAT) {
    throw new TwinFileError(
      `Not a twin file: expected "format": "${TWIN_FORMAT}" (write one with twin capture)`,
    );
  }
  if (root.version !== TWIN_VERSION) {
    throw new TwinFileError(
      `Unsupported twin file version ${
        JSON.stringify(root.version)
      }: this simulator reads version ${TWIN_VERSION}; capture the cluster again`,
    );
  }
  const source = obj(root.source ?? {}, "source");
  return {
    id: str(root.id, "id"),
    cluster: source.cluster === null || source.cluster === undefined
      ? null
      : str(source.cluster, "source.cluster"),
    captured_at: str(root.captured_at, "captured_at"),
  };
}

/** Storage types the simulator does not model, served as the nearest one it does. */
const STORAGE_TYPES: Readonly<Record<string, StorageConfig["type"]>> = {
  dir: "dir",
  lvmthin: "lvmthin",
  nfs: "nfs",
  zfspool: "zfspool",
  lvm: "lvm",
  pbs: "pbs",
  cifs: "nfs",
  cephfs: "nfs",
  glusterfs: "nfs",
  btrfs: "dir",
  esxi: "dir",
  zfs: "zfspool",
  rbd: "lvmthin",
  iscsi: "lvm",
  iscsidirect: "lvm",
};

/** Storage types that are shared whatever `storage.cfg` says. */
const SHARED_TYPES = new Set(["nfs", "cifs", "pbs", "glusterfs", "cephfs", "rbd", "iscsi", "esxi"]);

/** Builds the simulated cluster a twin file describes. */
export function buildTwin(options: TwinOptions): SimState {
  const identity = twinIdentity(options.twin);
  const root = options.twin as Raw;
  const captured = int(root.captured_epoch, "captured_epoch");
  const state = emptyState();
  state.clusterName = identity.cluster;
  const pve = obj(obj(root.source ?? {}, "source").pve ?? {}, "source.pve");
  if (typeof pve.version === "string" && pve.version !== "") {
    state.version = {
      version: pve.version,
      release: optStr(pve.release) ?? pve.version.split(".").slice(0, 2).join("."),
      repoid: optStr(pve.repoid) ?? state.version.repoid,
    };
  }

  list(root.nodes, "nodes").forEach((raw, i) => addNode(state, raw, `nodes[${i}]`, captured));
  // Several nodes are a cluster even when the capture could not read its name (no Sys.Audit).
  if (state.clusterName === null && state.nodes.size > 1) state.clusterName = "twin";
  list(root.storages, "storages").forEach((raw, i) => addStorage(state, raw, `storages[${i}]`));
  list(root.guests, "guests").forEach((raw, i) => addGuest(state, raw, `guests[${i}]`, captured));
  addVolumesAndUsage(state, list(root.storages, "storages"));
  addPools(state, list(root.pools, "pools"));
  addHa(state, obj(root.ha ?? {}, "ha"));
  addClusterFirewall(state, obj(root.firewall ?? {}, "firewall"));
  addBackupJobs(state, list(root.backup_jobs, "backup_jobs"));
  list(root.replication, "replication").forEach((raw, i) => {
    const id = str(raw.id, `replication[${i}].id`);
    const [guest = "0", jobnum = "0"] = id.split("-");
    state.replication.set(id, {
      id,
      type: "local",
      guest: optNum(raw.guest) ?? Number(guest),
      jobnum: optNum(raw.jobnum) ?? Number(jobnum),
      target: str(raw.target, `replication[${i}].target`),
      ...(typeof raw.schedule === "string" ? { schedule: raw.schedule } : {}),
      ...(typeof raw.comment === "string" ? { comment: raw.comment } : {}),
      ...(raw.disable !== undefined ? { disable: bit(raw.disable) } : {}),
      ...(typeof raw.source === "string" ? { source: raw.source } : {}),
    });
  });
  addRoot(state, options);
  return state;
}

function addNode(state: SimState, raw: Raw, where: string, captured: number): void {
  const name = str(raw.name, `${where}.name`);
  const status = isRaw(raw.status) ? raw.status : undefined;
  const pveversion = optStr(status?.pveversion) ?? "";
  const node: NodeState = {
    name,
    nodeid: optNum(raw.nodeid) ?? 0,
    ip: optStr(raw.ip) ?? "",
    online: raw.online !== false,
    maxcpu: optNum(raw.maxcpu) ?? 1,
    cpu: optNum(raw.cpu) ?? 0,
    maxmem: optNum(raw.maxmem) ?? 0,
    mem: optNum(raw.mem) ?? 0,
    maxdisk: optNum(raw.maxdisk) ?? 0,
    disk: optNum(raw.disk) ?? 0,
    swaptotal: optNum(status?.swap_total) ?? 0,
    swapused: optNum(status?.swap_used) ?? 0,
    bootTime: captured - (optNum(raw.uptime) ?? 0),
    loadavg: loadavgOf(status?.loadavg),
    cpuModel: optStr(status?.cpu_model) ?? "",
    sockets: optNum(status?.sockets) ?? 1,
    cores: optNum(status?.cores) ?? optNum(raw.maxcpu) ?? 1,
    kversion: optStr(status?.kversion) || KVERSION,
    pveVersion: /^pve-manager\/([^/]+)/.exec(pveversion)?.[1] ?? state.version.version,
    level: optStr(raw.level) ?? "",
    network: [],
  };
  setNetwork(node, list(raw.network, `${where}.network`), optStr(raw.network_changes));
  const services = list(raw.services, `${where}.services`);
  if (services.length > 0) {
    node.services = {};
    for (const service of services) {
      const id = optStr(service.service);
      if (id === undefined || id === "") continue;
      node.services[id] = {
        state: optStr(service.state) ?? "running",
        "active-state": optStr(service["active-state"]) ?? "active",
        "unit-state": optStr(service["unit-state"]) ?? "enabled",
      } satisfies ServiceState;
    }
  }
  const subscription = subscriptionOf(raw.subscription);
  if (subscription !== undefined) node.subscription = subscription;
  if (isRaw(raw.firewall)) {
    const fw = emptyFirewall();
    fw.options = optionsOf(raw.firewall.options);
    fw.rules = list(raw.firewall.rules, `${where}.firewall.rules`).map(ruleOf);
    state.firewall.nodes.set(name, fw);
  }
  state.nodes.set(name, node);
}

/**
 * The node's interfaces. With pending edits PVE lists the pending file and a diff against the
 * running one; interfaces the diff adds (`+iface X` without `-iface X`) are pending only, so the
 * running configuration is the list without them. Edits to existing interfaces cannot be read
 * back from the list and are served as running.
 */
function setNetwork(node: NodeState, ifaces: Raw[], changes: string | undefined): void {
  const copy = ifaces.map((iface) => ({ ...iface })) as NodeState["network"];
  node.network = copy;
  if (changes === undefined || changes === "") return;
  const named = (sign: "+" | "-") =>
    new Set(
      changes.split("\n")
        .filter((line) => line.startsWith(`${sign}iface `))
        .map((line) => line.slice(7).split(/\s/)[0] ?? ""),
    );
  const removed = named("-");
  const added = [...named("+")].filter((name) => !removed.has(name));
  if (added.length === 0) return;
  node.network = copy.filter((iface) => !added.includes(String(iface.iface)));
  node.networkPending = copy;
  // The captured diff names when interfaces.new was written; the twin keeps that time.
  const written = /^\+\+\+ \/etc\/network\/interfaces\.new\t(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/m.exec(
    changes,
  )?.[1];
  if (written !== undefined) {
    const epoch = Date.parse(`${written.replace(" ", "T")}Z`);
    if (!Number.isNaN(epoch)) node.networkPendingSince = Math.floor(epoch / 1000);
  }
}

function loadavgOf(value: unknown): [string, string, string] {
  const items = Array.isArray(value) ? value.map(String) : [];
  return [items[0] ?? "0.00", items[1] ?? "0.00", items[2] ?? "0.00"];
}

const SUBSCRIPTION_STATUSES = new Set(["new", "active", "invalid", "expired", "suspended"]);

function subscriptionOf(value: unknown): Subscription | undefined {
  if (!isRaw(value)) return undefined;
  const status = String(value.status ?? "").toLowerCase();
  if (!SUBSCRIPTION_STATUSES.has(status)) return undefined;
  const sub: Subscription = {
    status: status as Subscription["status"],
    key: optStr(value.key) ?? "",
    level: optStr(value.level) ?? "",
    productname: optStr(value.productname) ?? "",
    regdate: optStr(value.regdate) ?? "",
    nextduedate: optStr(value.nextduedate) ?? "",
    checktime: optNum(value.checktime) ?? 0,
  };
  if (typeof value.message === "string") sub.message = value.message;
  return sub;
}

function addStorage(state: SimState, raw: Raw, where: string): void {
  const config = obj(raw.config, `${where}.config`);
  const id = str(config.storage, `${where}.config.storage`);
  const pveType = str(config.type, `${where}.config.type`);
  const storage: StorageConfig = {
    storage: id,
    type: STORAGE_TYPES[pveType] ?? "dir",
    content: splitList(config.content),
    shared: bit(config.shared) === 1 || SHARED_TYPES.has(pveType),
    total: 0,
  };
  if (config.nodes !== undefined) storage.nodes = splitList(config.nodes);
  if (bit(config.disable) === 1) storage.disable = true;
  for (
    const key of [
      "path",
      "thinpool",
      "vgname",
      "server",
      "export",
      "datastore",
      "username",
    ] as const
  ) {
    const value = optStr(config[key]);
    if (value !== undefined) storage[key] = value;
  }
  const fingerprint = optStr(config.fingerprint);
  if (fingerprint !== undefined) storage.fingerprint = fingerprint;
  const nodes = obj(raw.nodes ?? {}, `${where}.nodes`);
  const totals: Record<string, number> = {};
  for (const [node, status] of Object.entries(nodes)) {
    const total = isRaw(status) ? optNum(status.total) : undefined;
    if (total !== undefined && total > 0) totals[node] = total;
  }
  const values = Object.values(totals);
  storage.total = values.length === 0 ? 0 : Math.max(...values);
  if (!storage.shared && new Set(values).size > 1) storage.nodeTotals = totals;
  const available = Object.values(nodes).some((s) => isRaw(s) && s.status === "available");
  if (Object.keys(nodes).length > 0 && !available && storage.disable !== true) {
    storage.offline = true;
  }
  state.storages.set(id, storage);
}

function volumeOf(raw: Raw, where: string): Volume {
  const volume: Volume = {
    volid: str(raw.volid, `${where}.volid`),
    content: str(raw.content, `${where}.content`),
    format: optStr(raw.format) ?? "raw",
    size: optNum(raw.size) ?? 0,
    ctime: optNum(raw.ctime) ?? 0,
  };
  const vmid = optNum(raw.vmid);
  if (vmid !== undefined) volume.vmid = vmid;
  if (raw.subtype === "qemu" || raw.subtype === "lxc") volume.subtype = raw.subtype;
  if (typeof raw.notes === "string") volume.notes = raw.notes;
  if (raw.protected !== undefined && bit(raw.protected) === 1) volume.protected = 1;
  if (typeof raw.parent === "string") volume.parent = raw.parent;
  if (isRaw(raw.verification) && typeof raw.verification.state === "string") {
    volume.verification = {
      state: raw.verification.state === "ok" ? "ok" : "failed",
      upid: optStr(raw.verification.upid) ?? "",
    };
  }
  return volume;
}

/**
 * Volumes, and each storage's `usedOffset`: what the storage reported as used minus what its
 * listed volumes add up to, so its usage reads as it did when captured.
 */
function addVolumesAndUsage(state: SimState, storages: Raw[]): void {
  storages.forEach((raw, i) => {
    const config = obj(raw.config, `storages[${i}].config`);
    const storage = state.storages.get(String(config.storage));
    if (storage === undefined) return;
    const volumes = raw.volumes === undefined ? [] : list(raw.volumes, `storages[${i}].volumes`);
    volumes.forEach((item, j) => {
      const volume = volumeOf(item, `storages[${i}].volumes[${j}]`);
      if (volume.content === "backup" && volume.vmid !== undefined) {
        const guest = state.guests.get(volume.vmid);
        if (guest !== undefined) {
          const config = { ...guest.config };
          delete config.lock;
          volume.backupConfig = config;
        }
      }
      const node = optStr(item.node) ?? "";
      const key = volumeKey(storage, node);
      let listed = state.volumes.get(key);
      if (listed === undefined) state.volumes.set(key, listed = []);
      listed.push(volume);
    });
    const offsets: Record<string, number> = {};
    for (const [node, status] of Object.entries(obj(raw.nodes ?? {}, `storages[${i}].nodes`))) {
      const used = isRaw(status) ? optNum(status.used) : undefined;
      if (used === undefined) continue;
      const key = volumeKey(storage, node);
      if (key in offsets) continue;
      let sum = 0;
      for (const volume of state.volumes.get(key) ?? []) sum += volume.size;
      if (used !== sum) offsets[key] = used - sum;
    }
    if (Object.keys(offsets).length > 0) storage.usedOffset = offsets;
  });
}

function addGuest(state: SimState, raw: Raw, where: string, captured: number): void {
  const vmid = int(raw.vmid, `${where}.vmid`);
  const type = raw.type === "lxc" ? "lxc" : raw.type === "qemu" ? "qemu" : undefined;
  if (type === undefined) {
    throw new TwinFileError(`Invalid twin file: ${where}.type must be "qemu" or "lxc"`);
  }
  const node = str(raw.node, `${where}.node`);
  if (!state.nodes.has(node)) {
    throw new TwinFileError(
      `Invalid twin file: ${where} is on node "${node}", which is not in nodes`,
    );
  }
  const running = raw.status === "running";
  const uptime = optNum(raw.uptime) ?? 0;
  const guest: Guest = {
    vmid,
    type,
    node,
    config: configOf(raw.config, `${where}.config`),
    pending: configOf(raw.pending, `${where}.pending`),
    pendingDelete: splitList(raw.pending_delete),
    snapshots: new Map(),
    status: running ? "running" : "stopped",
    qmpstatus: running ? "running" : "stopped",
    startedAt: running ? captured - uptime : 0,
    pid: running ? state.nextPid++ : 0,
    stats: {
      cpu: running ? optNum(raw.cpu) ?? 0 : 0,
      mem: running ? optNum(raw.mem) ?? 0 : 0,
      disk: running ? optNum(raw.disk) ?? 0 : 0,
      netin: running ? optNum(raw.netin) ?? 0 : 0,
      netout: running ? optNum(raw.netout) ?? 0 : 0,
      diskread: running ? optNum(raw.diskread) ?? 0 : 0,
      diskwrite: running ? optNum(raw.diskwrite) ?? 0 : 0,
    },
    execs: new Map(),
  };
  list(raw.snapshots, `${where}.snapshots`).forEach((snap, i) => {
    const snapshot = snapshotOf(snap, `${where}.snapshots[${i}]`);
    guest.snapshots.set(snapshot.name, snapshot);
  });
  if (isRaw(raw.firewall)) guest.firewall = firewallOf(raw.firewall, `${where}.firewall`);
  state.guests.set(vmid, guest);
}

/** Keys of a snapshot's config view that are the snapshot's own fields, not the guest's. */
const SNAPSHOT_OWN = new Set(["snaptime", "vmstate", "parent", "digest"]);

function snapshotOf(raw: Raw, where: string): Snapshot {
  const description = optStr(raw.description) ?? "";
  const config: GuestConfig = {};
  for (const [key, value] of Object.entries(configOf(raw.config, `${where}.config`))) {
    if (SNAPSHOT_OWN.has(key)) continue;
    // The view shows the snapshot's description in place of the guest's, when it has one.
    if (key === "description" && description !== "") continue;
    config[key] = value;
  }
  const snapshot: Snapshot = {
    name: str(raw.name, `${where}.name`),
    snaptime: optNum(raw.snaptime) ?? 0,
    vmstate: bit(raw.vmstate),
    description,
    config,
  };
  if (typeof raw.parent === "string") snapshot.parent = raw.parent;
  return snapshot;
}

function optionsOf(value: unknown): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!isRaw(value)) return out;
  for (const [key, item] of Object.entries(value)) {
    if (key === "digest") continue;
    if (typeof item === "number" || typeof item === "string") out[key] = item;
    else if (typeof item === "boolean") out[key] = item ? 1 : 0;
  }
  return out;
}

const RULE_TYPES = new Set(["in", "out", "forward", "group"]);

function ruleOf(raw: Raw): FirewallRule {
  const rule: FirewallRule = {
    type: (RULE_TYPES.has(String(raw.type)) ? raw.type : "in") as FirewallRule["type"],
    action: String(raw.action ?? "ACCEPT"),
    enable: raw.enable === undefined ? 1 : bit(raw.enable),
  };
  for (
    const key of [
      "macro",
      "source",
      "dest",
      "proto",
      "dport",
      "sport",
      "iface",
      "log",
      "icmp-type",
      "comment",
    ] as const
  ) {
    if (raw[key] !== undefined && raw[key] !== null) rule[key] = String(raw[key]);
  }
  return rule;
}

function ipsetsOf(value: unknown, where: string): FirewallIpset[] {
  return list(value, where).map((raw, i) => {
    const set: FirewallIpset = {
      name: str(raw.name, `${where}[${i}].name`),
      entries: list(raw.entries, `${where}[${i}].entries`).map((entry) => {
        const item: FirewallIpset["entries"][number] = { cidr: String(entry.cidr ?? "") };
        if (entry.nomatch !== undefined) item.nomatch = bit(entry.nomatch);
        if (typeof entry.comment === "string") item.comment = entry.comment;
        return item;
      }),
    };
    if (typeof raw.comment === "string") set.comment = raw.comment;
    return set;
  });
}

function firewallOf(raw: Raw, where: string): FirewallConfig {
  return {
    options: optionsOf(raw.options),
    rules: list(raw.rules, `${where}.rules`).map(ruleOf),
    aliases: list(raw.aliases, `${where}.aliases`).map((alias, i) => ({
      name: str(alias.name, `${where}.aliases[${i}].name`),
      cidr: String(alias.cidr ?? ""),
      ...(typeof alias.comment === "string" ? { comment: alias.comment } : {}),
    })),
    ipsets: ipsetsOf(raw.ipsets, `${where}.ipsets`),
  };
}

function addClusterFirewall(state: SimState, raw: Raw): void {
  const fw = firewallOf(raw, "firewall");
  state.firewall.cluster = fw;
  list(raw.groups, "firewall.groups").forEach((group, i) => {
    state.firewall.groups.set(str(group.group, `firewall.groups[${i}].group`), {
      ...(typeof group.comment === "string" ? { comment: group.comment } : {}),
      rules: list(group.rules, `firewall.groups[${i}].rules`).map(ruleOf),
    });
  });
}

function addPools(state: SimState, pools: Raw[]): void {
  pools.forEach((raw, i) => {
    const poolid = str(raw.poolid, `pools[${i}].poolid`);
    state.pools.set(poolid, {
      poolid,
      comment: optStr(raw.comment) ?? "",
      vms: new Set(
        (Array.isArray(raw.vms) ? raw.vms : []).map(Number).filter((vmid) =>
          state.guests.has(vmid)
        ),
      ),
      storage: new Set(
        (Array.isArray(raw.storage) ? raw.storage : []).map(String).filter((id) =>
          state.storages.has(id)
        ),
      ),
    });
  });
}

const HA_STATES = new Set(["started", "stopped", "enabled", "disabled", "ignored"]);

function addHa(state: SimState, raw: Raw): void {
  const crm = isRaw(raw.crm_states) ? raw.crm_states : {};
  list(raw.resources, "ha.resources").forEach((res, i) => {
    const sid = str(res.sid, `ha.resources[${i}].sid`);
    const resource: HaResource = {
      sid,
      type: sid.startsWith("ct:") || res.type === "ct" ? "ct" : "vm",
      state: (HA_STATES.has(String(res.state)) ? res.state : "started") as HaResource["state"],
      max_restart: optNum(res.max_restart) ?? 1,
      max_relocate: optNum(res.max_relocate) ?? 1,
    };
    if (typeof res.group === "string") resource.group = res.group;
    if (typeof res.comment === "string") resource.comment = res.comment;
    if (typeof crm[sid] === "string") resource.crmState = crm[sid];
    state.ha.set(sid, resource);
  });
  list(raw.rules, "ha.rules").forEach((res, i) => {
    const id = str(res.rule, `ha.rules[${i}].rule`);
    const rule: HaRule = {
      rule: id,
      type: res.type === "resource-affinity" ? "resource-affinity" : "node-affinity",
      resources: splitList(res.resources),
    };
    if (rule.type === "node-affinity") {
      rule.nodes = splitList(res.nodes);
      rule.strict = bit(res.strict);
    } else {
      rule.affinity = res.affinity === "negative" ? "negative" : "positive";
    }
    if (res.disable !== undefined) rule.disable = bit(res.disable);
    if (typeof res.comment === "string") rule.comment = res.comment;
    state.haRules.set(id, rule);
  });
}

/** `keep-last=3,keep-daily=7` (or an object) as the numbers a job keeps. */
function pruneOf(value: unknown): Record<string, number> | undefined {
  if (isRaw(value)) {
    const out: Record<string, number> = {};
    for (const [key, item] of Object.entries(value)) {
      const n = optNum(item);
      if (n !== undefined) out[key] = n;
    }
    return out;
  }
  if (typeof value !== "string") return undefined;
  const out: Record<string, number> = {};
  for (const part of value.split(",")) {
    const [key, item] = part.split("=");
    const n = optNum(item);
    if (key !== undefined && key !== "" && n !== undefined) out[key.trim()] = n;
  }
  return out;
}

function addBackupJobs(state: SimState, jobs: Raw[]): void {
  jobs.forEach((raw, i) => {
    const id = str(raw.id, `backup_jobs[${i}].id`);
    const job: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (key === "type" || key === "next-run" || key === "digest") continue;
      if (value !== undefined && value !== null) job[key] = value;
    }
    job.id = id;
    job.schedule = optStr(raw.schedule) ?? "00:00";
    job.enabled = raw.enabled === undefined ? 1 : bit(raw.enabled);
    job.storage = optStr(raw.storage) ?? "local";
    job.mode = raw.mode === "suspend" || raw.mode === "stop" ? raw.mode : "snapshot";
    job.compress = optStr(raw.compress) ?? "zstd";
    const prune = pruneOf(raw["prune-backups"]);
    if (prune !== undefined) job["prune-backups"] = prune;
    else delete job["prune-backups"];
    // The job keeps every key PVE listed; the ones the simulator reads are checked above.
    state.backupJobs.set(id, job as unknown as BackupJob);
  });
}
