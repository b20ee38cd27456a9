/**
 * The twin file: one JSON document holding a cluster's shape as Proxmox VE's own GET answers
 * describe it, slimmed to what a copy of the cluster needs and with every secret replaced.
 * `src/twin` writes it; the simulator's twin seed (`src/simulator/seeds/twin.ts`) reads it.
 * Neither imports the other: this file and `README.md` beside it are the contract, and the
 * round-trip tests hold both sides to it.
 *
 * Field names and values are PVE's wherever PVE has one (`maxmem`, `cpu`, config keys, content
 * entries); units are PVE's (bytes, seconds, CPU fractions).
 *
 * @module
 */

/** The `format` field of every twin file. */
export const TWIN_FORMAT = "proxmox-mcp-twin";

/** The format version this program writes and reads. */
export const TWIN_VERSION = 1;

/** What replaces a secret in a twin file. */
export const TWIN_REDACTED = "[redacted]";

/** A config value as PVE's JSON carries it. */
export type TwinValue = string | number;

/** A node: identity and usage (`/cluster/status`, `/cluster/resources`) and what its status says. */
export interface TwinNode {
  name: string;
  /** Corosync node id (0 on a standalone node). */
  nodeid: number;
  ip: string;
  online: boolean;
  /** Subscription level (`""` without one). */
  level: string;
  /** Usage at capture time (absent for an offline node). */
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  disk?: number;
  maxdisk?: number;
  uptime?: number;
  /** From `GET /nodes/{node}/status` (absent when the node could not be asked). */
  status?: {
    loadavg: string[];
    kversion: string;
    /** `pve-manager/9.1.1/<repoid>`. */
    pveversion: string;
    cpu_model: string;
    sockets: number;
    cores: number;
    swap_total: number;
    swap_used: number;
  };
  /** `GET /nodes/{node}/network` (the pending configuration when `network_changes` is set). */
  network?: Record<string, unknown>[];
  /** The `changes` of the network answer: edits written but not applied (a `diff -u`). */
  network_changes?: string;
  /** `GET /nodes/{node}/services`: `{service, state, "active-state", "unit-state"}`. */
  services?: Record<string, unknown>[];
  /** `GET /nodes/{node}/subscription`, its `key` replaced. */
  subscription?: Record<string, unknown>;
  /** The node's `host.fw`: options and rules. */
  firewall?: { options: Record<string, unknown>; rules: Record<string, unknown>[] };
}

/** A storage on one node as `/cluster/resources` saw it. */
export interface TwinStorageStatus {
  /** `available`, or `unknown` when the storage did not answer there. */
  status: string;
  total?: number;
  used?: number;
}

/** A volume: a content entry of `GET /nodes/{node}/storage/{storage}/content`. */
export interface TwinVolume {
  volid: string;
  content: string;
  format: string;
  size: number;
  ctime: number;
  vmid?: number;
  subtype?: string;
  /** First line of the notes (backups). */
  notes?: string;
  protected?: number;
  parent?: string;
  verification?: { state: string; upid?: string };
  /** The node whose listing it came from (local storage only). */
  node?: string;
}

/** A storage: its `storage.cfg` entry, usage per node and content (metadata only). */
export interface TwinStorage {
  /** The entry of `GET /storage` (without `digest`). */
  config: Record<string, unknown>;
  /** Usage per node name. */
  nodes: Record<string, TwinStorageStatus>;
  /** Volumes (images, container volumes, ISOs, templates, backups); not read when absent. */
  volumes?: TwinVolume[];
}

/** A snapshot with the config frozen in it. */
export interface TwinSnapshot {
  name: string;
  snaptime: number;
  description: string;
  /** 1 when the RAM state was saved (QEMU). */
  vmstate?: number;
  parent?: string;
  config: Record<string, TwinValue>;
}

/** A guest's firewall (`<vmid>.fw`). */
export interface TwinFirewall {
  options: Record<string, unknown>;
  rules: Record<string, unknown>[];
  aliases: Record<string, unknown>[];
  ipsets: { name: string; comment?: string; entries: Record<string, unknown>[] }[];
}

/** A QEMU VM or LXC container. */
export interface TwinGuest {
  vmid: number;
  type: "qemu" | "lxc";
  node: string;
  /** `running`, `stopped`, or `unknown` (its node was offline). */
  status: string;
  name?: string;
  /** Live usage at capture time (running guests). */
  uptime?: number;
  cpu?: number;
  mem?: number;
  disk?: number;
  netin?: number;
  netout?: number;
  diskread?: number;
  diskwrite?: number;
  /** The current config (`GET …/pending` values; `digest` left out). */
  config: Record<string, TwinValue>;
  /** Values set but not applied yet (a running guest's pending changes). */
  pending?: Record<string, TwinValue>;
  /** Keys whose deletion is pending. */
  pending_delete?: string[];
  snapshots?: TwinSnapshot[];
  firewall?: TwinFirewall;
}

/** A resource pool and its members. */
export interface TwinPool {
  poolid: string;
  comment: string;
  vms: number[];
  storage: string[];
}

/** The whole twin file. */
export interface TwinFile {
  format: typeof TWIN_FORMAT;
  version: typeof TWIN_VERSION;
  /** A random id of this capture (a running twin names it, so a client can tell which it is). */
  id: string;
  /** ISO 8601 UTC time of the capture. */
  captured_at: string;
  /** The same, in epoch seconds (what uptimes and ages count from). */
  captured_epoch: number;
  source: {
    /** PVE cluster name, or null for a standalone node. */
    cluster: string | null;
    /** `host:port` of the API that was read (no credentials). */
    host: string;
    /** Who read it (`user@realm` or `user@realm!token`; never a secret). */
    principal: string;
    /** `GET /version`. */
    pve: { version: string; release: string; repoid: string };
    /** The program and version that wrote the file. */
    tool: string;
  };
  /** What was replaced, and a sentence saying so. */
  secrets: { notice: string; replaced_with: string; count: number; where: string[] };
  /** What could not be read (permissions, offline nodes, vanished guests), one sentence each. */
  gaps: string[];
  nodes: TwinNode[];
  storages: TwinStorage[];
  guests: TwinGuest[];
  pools: TwinPool[];
  ha: {
    resources: Record<string, unknown>[];
    rules: Record<string, unknown>[];
    groups: Record<string, unknown>[];
    /** CRM state per service id when it is not what the request state implies (`error`, `fence`…). */
    crm_states: Record<string, string>;
  };
  firewall: {
    options: Record<string, unknown>;
    rules: Record<string, unknown>[];
    aliases: Record<string, unknown>[];
    ipsets: { name: string; comment?: string; entries: Record<string, unknown>[] }[];
    groups: { group: string; comment?: string; rules: Record<string, unknown>[] }[];
  };
  /** `GET /cluster/backup` (without `next-run`). */
  backup_jobs: Record<string, unknown>[];
  /** `GET /cluster/replication`. */
  replication: Record<string, unknown>[];
}

/** Why a document is not a twin this program reads, or undefined when it is. */
export function twinProblem(doc: unknown): string | undefined {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return "expected a JSON object";
  }
  const record = doc as Record<string, unknown>;
  if (record.format !== TWIN_FORMAT) {
    return `expected "format": "${TWIN_FORMAT}" (is it a file written by twin capture?)`;
  }
  if (record.version !== TWIN_VERSION) {
    return `version ${
      JSON.stringify(record.version)
    } is not supported: this program reads version ${TWIN_VERSION}; capture the cluster again`;
  }
  for (const key of ["nodes", "storages", "guests"]) {
    if (!Array.isArray(record[key])) return `"${key}" must be a list`;
  }
  return undefined;
}
