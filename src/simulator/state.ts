/**
 * The simulated cluster's state: plain data, as PVE keeps it in its config files.
 * Route modules read and mutate it; seeds build it. Nothing here speaks HTTP.
 *
 * @module
 */

import type { UpidFields } from "./upid.ts";

/** A config value as PVE stores it: strings, integers, and 0/1 for booleans. */
export type ConfigValue = string | number;

/** A guest config (the `[current]` section of `<vmid>.conf`), keyed as PVE keys it. */
export type GuestConfig = Record<string, ConfigValue>;

/** A node of the cluster. */
export interface NodeState {
  name: string;
  /** Corosync node id (1-based). */
  nodeid: number;
  ip: string;
  online: boolean;
  /** CPU threads. */
  maxcpu: number;
  /** Current CPU load as a fraction 0..1. */
  cpu: number;
  maxmem: number;
  mem: number;
  maxdisk: number;
  disk: number;
  swaptotal: number;
  swapused: number;
  /** Boot time in simulated epoch seconds (uptime = now - bootTime). */
  bootTime: number;
  /** `loadavg` as PVE prints it (strings). */
  loadavg: [string, string, string];
  cpuModel: string;
  sockets: number;
  cores: number;
  kversion: string;
  /** pve-manager version on this node, e.g. `9.1.1`. */
  pveVersion: string;
  /** Subscription level (`""` if none). */
  level: string;
  /** Network interfaces, as `GET /nodes/{node}/network` returns them. */
  network: Record<string, ConfigValue | string[]>[];
  /**
   * The interfaces as `/etc/network/interfaces.new` has them: edits not applied yet (PVE lists
   * these and puts the diff in the answer's `changes`). Undefined when nothing is pending.
   */
  networkPending?: Record<string, ConfigValue | string[]>[];
  /** When `interfaces.new` was written (epoch seconds; the `changes` diff shows it). */
  networkPendingSince?: number;
  /** Services whose state differs from "running, enabled" (a failed unit, a stopped one). */
  services?: Record<string, ServiceState>;
  /** The subscription (`/etc/subscription`); undefined when no key is set. */
  subscription?: Subscription;
}

/** A systemd unit's state as `GET /nodes/{node}/services` reports it. */
export interface ServiceState {
  /** systemd SubState: `running`, `dead`, `failed`, `exited`… */
  state: string;
  /** systemd ActiveState: `active`, `inactive`, `failed`… */
  "active-state": string;
  /** systemd UnitFileState: `enabled`, `disabled`, `masked`… */
  "unit-state": string;
}

/** A node's subscription key and its last check. */
export interface Subscription {
  status: "new" | "active" | "invalid" | "expired" | "suspended";
  key: string;
  /** `c` (community), `b` (basic), `s` (standard), `p` (premium). */
  level: string;
  productname: string;
  regdate: string;
  nextduedate: string;
  /** Epoch seconds of the last check against the shop. */
  checktime: number;
  message?: string;
}

/** A guest snapshot (a `[name]` section of the config). */
export interface Snapshot {
  name: string;
  snaptime: number;
  /** 1 if RAM state was saved (QEMU only). */
  vmstate: 0 | 1;
  description: string;
  parent?: string;
  /** The guest config frozen in the snapshot. */
  config: GuestConfig;
}

/** What the QEMU guest agent reports, when the guest has one running. */
export interface AgentState {
  /** Whether the agent answers (it needs the VM running, too). */
  running: boolean;
  osinfo: Record<string, string>;
  interfaces: Record<string, unknown>[];
  fsinfo: Record<string, unknown>[];
  hostname: string;
  /** Files readable through `file-read`: path → content. */
  files: Record<string, string>;
}

/** A running `exec` inside a guest (agent `exec` / `exec-status`). */
export interface AgentExec {
  pid: number;
  command: string[];
  exited: boolean;
  exitcode: number;
  out: string;
  err: string;
}

/** Live (non-config) usage counters of a guest. */
export interface GuestStats {
  cpu: number;
  mem: number;
  disk: number;
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
}

/** A QEMU VM or an LXC container. */
export interface Guest {
  vmid: number;
  type: "qemu" | "lxc";
  node: string;
  /** Current config as stored; includes `name`/`hostname`, `tags`, `lock`, `template`, `protection`, `parent`. */
  config: GuestConfig;
  /** Pending changes (values not yet applied to a running guest). */
  pending: GuestConfig;
  /** Pending deletions. */
  pendingDelete: string[];
  snapshots: Map<string, Snapshot>;
  status: "running" | "stopped";
  /** QMP status (`running`, `paused`, `prelaunch`, `suspended`…); LXC uses `status`. */
  qmpstatus: string;
  /** Simulated epoch seconds when the guest was started (0 when stopped). */
  startedAt: number;
  pid: number;
  stats: GuestStats;
  agent?: AgentState;
  execs: Map<number, AgentExec>;
  /**
   * QEMU's `[special:cloudinit]` section: cloud-init values changed on a running VM since its
   * cloud-init drive was last generated (the old value per key, `added` lists new keys).
   */
  cloudinit?: Record<string, string>;
  /** `/etc/pve/firewall/<vmid>.fw`, when the guest has one. */
  firewall?: FirewallConfig;
  /**
   * Planted through the control API: the next starts fail with this message (QEMU or the
   * container does not come up), `remaining` times.
   */
  startFailure?: { message: string; remaining: number };
}

/** Storage config (an entry of `storage.cfg`). */
export interface StorageConfig {
  storage: string;
  type: "dir" | "lvmthin" | "nfs" | "zfspool" | "lvm" | "pbs";
  /** Content types, e.g. `["iso","vztmpl","backup"]`. */
  content: string[];
  shared: boolean;
  /** Restrict to these nodes (all nodes when undefined). */
  nodes?: string[];
  disable?: boolean;
  path?: string;
  thinpool?: string;
  vgname?: string;
  server?: string;
  export?: string;
  /** PBS: the datastore on the backup server. */
  datastore?: string;
  /** PBS: the user (`user@realm`) the storage logs in as. */
  username?: string;
  /** PBS: the server certificate's SHA-256 fingerprint. */
  fingerprint?: string;
  /**
   * Simulated outage: the NFS export or backup server does not answer, so the storage is
   * inactive everywhere (`/_sim/storage/{storage}/offline`).
   */
  offline?: boolean;
  /** Capacity in bytes (per node for local storage, once for shared). */
  total: number;
  /**
   * Capacity per node where a local storage's size differs between nodes (a twin of a real
   * cluster); `total` for the nodes not listed.
   */
  nodeTotals?: Record<string, number>;
  /**
   * Bytes to add to the sum of the volumes to get what the storage reports as used, by volume
   * list key (`volumeKey`): positive for files the simulator does not list, negative on thin
   * pools whose volumes use less than their size (a twin of a real cluster).
   */
  usedOffset?: Record<string, number>;
}

/** A volume on a storage (an entry of `GET .../storage/{storage}/content`). */
export interface Volume {
  volid: string;
  content: string;
  format: string;
  size: number;
  ctime: number;
  vmid?: number;
  /** `qemu` | `lxc` for backups. */
  subtype?: "qemu" | "lxc";
  notes?: string;
  protected?: 0 | 1;
  parent?: string;
  /** PBS backups: the last verification job's result. */
  verification?: { state: "ok" | "failed"; upid: string };
  /** Guest config captured in a backup archive (used by restore). */
  backupConfig?: GuestConfig;
}

/** A resource pool. */
export interface Pool {
  poolid: string;
  comment: string;
  vms: Set<number>;
  storage: Set<string>;
}

/** An API token of a user. */
export interface ApiToken {
  /** The token name (the part after `!`). */
  name: string;
  secret: string;
  privsep: 0 | 1;
  /** Expiry in epoch seconds (0 = never). */
  expire: number;
  comment: string;
}

/** A user (`user@realm`). */
export interface User {
  userid: string;
  password?: string;
  enable: 0 | 1;
  expire: number;
  firstname?: string;
  lastname?: string;
  email?: string;
  comment?: string;
  groups: string[];
  tokens: Map<string, ApiToken>;
  /** A TOTP secret's current code, when the user has TFA (login then needs a second step). */
  totp?: string;
}

/** An ACL entry (`acl:` line of `user.cfg`). */
export interface AclEntry {
  path: string;
  /** `user@realm`, `user@realm!token` or `@group`. */
  ugid: string;
  type: "user" | "token" | "group";
  roleid: string;
  propagate: 0 | 1;
}

/** A scheduled backup job (`jobs.cfg`). */
export interface BackupJob {
  id: string;
  schedule: string;
  enabled: 0 | 1;
  storage: string;
  mode: "snapshot" | "suspend" | "stop";
  compress: string;
  vmid?: string;
  all?: 0 | 1;
  pool?: string;
  comment?: string;
  "notes-template"?: string;
  "prune-backups"?: Record<string, number>;
}

/** An HA resource (`ha/resources.cfg`). */
export interface HaResource {
  sid: string;
  type: "vm" | "ct";
  state: "started" | "stopped" | "enabled" | "disabled" | "ignored";
  group?: string;
  max_restart: number;
  max_relocate: number;
  comment?: string;
  /**
   * The CRM's service state when it is not what the request state implies (`error`, `fence`,
   * `recovery`, `migrate`…); planted through the control API. A resource on an offline node is
   * `fence` without it.
   */
  crmState?: string;
  /**
   * A migration or relocation the HA manager is carrying out (`migrate`/`relocate` requested
   * through the HA API or an `hamigrate` task): the service shows this state until the LRM's
   * migration task ends.
   */
  motion?: { state: "migrate" | "relocate"; target: string };
}

/** A PVE 9 HA rule (`ha/rules.cfg`). */
export interface HaRule {
  rule: string;
  type: "node-affinity" | "resource-affinity";
  /** Service ids, e.g. `vm:100`. */
  resources: string[];
  /** Node-affinity: node names, optionally `name:priority`. */
  nodes?: string[];
  /** Node-affinity: only these nodes (1), or preferred (0). */
  strict?: 0 | 1;
  /** Resource-affinity: keep together (`positive`) or apart (`negative`). */
  affinity?: "positive" | "negative";
  disable?: 0 | 1;
  comment?: string;
}

/** One firewall rule (a line of a `.fw` file's `[RULES]` or a group). */
export interface FirewallRule {
  /** `in`, `out`, `forward`, or `group` (then `action` names the security group). */
  type: "in" | "out" | "forward" | "group";
  action: string;
  /** 0 for a disabled rule (`|IN …`), 1 otherwise. */
  enable: 0 | 1;
  macro?: string;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  iface?: string;
  log?: string;
  "icmp-type"?: string;
  comment?: string;
}

/** An IP set and its entries. */
export interface FirewallIpset {
  name: string;
  comment?: string;
  entries: { cidr: string; nomatch?: 0 | 1; comment?: string }[];
}

/** An alias: a name for an address or network. */
export interface FirewallAlias {
  name: string;
  cidr: string;
  comment?: string;
}

/** The content of one `.fw` file: options, rules, aliases and IP sets. */
export interface FirewallConfig {
  /** `[OPTIONS]` as set (defaults are not stored). */
  options: Record<string, string | number>;
  rules: FirewallRule[];
  aliases: FirewallAlias[];
  ipsets: FirewallIpset[];
}

/** The cluster's firewall: `cluster.fw` with its security groups, and each `host.fw`. */
export interface FirewallState {
  cluster: FirewallConfig;
  groups: Map<string, { comment?: string; rules: FirewallRule[] }>;
  /** `host.fw` per node (options and rules). */
  nodes: Map<string, FirewallConfig>;
}

/** An empty `.fw` file. */
export function emptyFirewall(): FirewallConfig {
  return { options: {}, rules: [], aliases: [], ipsets: [] };
}

/** A storage replication job (`replication.cfg`). */
export interface ReplicationJob {
  /** `<guest>-<jobnum>`. */
  id: string;
  type: "local";
  guest: number;
  jobnum: number;
  target: string;
  schedule?: string;
  comment?: string;
  disable?: 0 | 1;
  source?: string;
}

/** One line of a task log. */
export interface TaskLogLine {
  n: number;
  t: string;
}

/** A task (a forked worker): its UPID and the fields the UPID encodes, plus its state. */
export interface Task extends UpidFields {
  upid: string;
  status: "running" | "stopped";
  /** `OK`, `WARNINGS: n`, or the error text, once stopped. */
  exitstatus?: string;
  endtime?: number;
  log: string[];
  /** Set by `DELETE .../tasks/{upid}`: the task body should stop at its next step. */
  abort: AbortController;
}

/** The whole simulated cluster. */
export interface SimState {
  /** Cluster name, or null for a standalone node. */
  clusterName: string | null;
  /** `/version` of the cluster (all nodes share it). */
  version: { version: string; release: string; repoid: string; console?: string };
  nodes: Map<string, NodeState>;
  guests: Map<number, Guest>;
  storages: Map<string, StorageConfig>;
  /** Volumes keyed by `<node>/<storage>` for local storage and `<storage>` for shared storage. */
  volumes: Map<string, Volume[]>;
  pools: Map<string, Pool>;
  users: Map<string, User>;
  groups: Map<string, { groupid: string; comment: string }>;
  acls: AclEntry[];
  /** All tasks, in start order. */
  tasks: Task[];
  backupJobs: Map<string, BackupJob>;
  ha: Map<string, HaResource>;
  /** Storage replication jobs by id. */
  replication: Map<string, ReplicationJob>;
  /** PVE 9 HA rules by id. */
  haRules: Map<string, HaRule>;
  firewall: FirewallState;
  /** Next simulated process id for tasks and guests. */
  nextPid: number;
  /** Variants of odd but real servers, switched on through `POST /_sim/quirks`. */
  quirks: Quirks;
  /** Warnings the next successful tasks of a type end with (`POST /_sim/tasks/warnings`). */
  taskWarnings: TaskWarnings[];
}

/** Warning lines injected into the next `count` successful tasks of `type` (`*`: any). */
export interface TaskWarnings {
  type: string;
  lines: string[];
  /** How many more tasks get them (`null`: until cleared). */
  remaining: number | null;
}

/**
 * Ways some real servers answer that PVE itself does not, served on request so clients can be
 * tested against them (an independent implementation of the PVE API showed each).
 */
export interface Quirks {
  /** Task list rows carry only `upid`, `node`, `id` and `pid`/`pstart` (no type, start, status, user). */
  sparseTaskRows: boolean;
  /** Booleans PVE sends as `0`/`1` (`template`, `shared`, `protection`, …) arrive as JSON `true`/`false`. */
  jsonBooleans: boolean;
}

/** Creates an empty state (seeds fill it). */
export function emptyState(): SimState {
  return {
    clusterName: null,
    version: { version: "9.1.1", release: "9.1", repoid: "42db4a6cf33dac83" },
    nodes: new Map(),
    guests: new Map(),
    storages: new Map(),
    volumes: new Map(),
    pools: new Map(),
    users: new Map(),
    groups: new Map(),
    acls: [],
    tasks: [],
    backupJobs: new Map(),
    ha: new Map(),
    replication: new Map(),
    haRules: new Map(),
    firewall: { cluster: emptyFirewall(), groups: new Map(), nodes: new Map() },
    nextPid: 10_000,
    quirks: { sparseTaskRows: false, jsonBooleans: false },
    taskWarnings: [],
  };
}

/** The volume list key of a storage on a node (shared storage has one list for all nodes). */
export function volumeKey(storage: StorageConfig, node: string): string {
  return storage.shared ? storage.storage : `${node}/${storage.storage}`;
}

/** The pool a guest belongs to, if any. */
export function poolOf(state: SimState, vmid: number): string | undefined {
  for (const pool of state.pools.values()) if (pool.vms.has(vmid)) return pool.poolid;
  return undefined;
}
