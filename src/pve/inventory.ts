/**
 * The cluster inventory from one `GET /cluster/resources` call (FACTS §5.4): which guests
 * exist, on which node, in what state; nodes and their status; storage per node.
 * Entries of an offline node are kept (PVE still lists the node's guests from the cluster
 * configuration) and flagged, so an offline node yields a partial inventory, never a
 * failed one.
 *
 * @module
 */

import { z } from "zod";
import { type ResourceEntry, resourceEntrySchema, toBool, toNumber, toTags } from "./coerce.ts";
import { PveNotFoundError, PveValidationError } from "./errors.ts";

/** A guest (QEMU VM or LXC container). */
export interface Guest {
  /** The vmid. */
  vmid: number;
  /** `qemu` or `lxc`. */
  type: "qemu" | "lxc";
  /** Node the guest lives on. */
  node: string;
  /** Name (VM name or CT hostname); `""` when PVE has none yet. */
  name: string;
  /** `running`, `stopped`, `paused`, or `unknown` (e.g. node offline). */
  status: string;
  /** Whether the guest is a template. */
  template: boolean;
  /** Pool, when the guest is in one. */
  pool?: string;
  /** Config lock (`backup`, `clone`, `migrate`, …), when set. */
  lock?: string;
  /** Tags. */
  tags: string[];
  /** HA state, when HA-managed. */
  hastate?: string;
  /** Whether the guest's node is online (false ⇒ status and usage are stale or unknown). */
  nodeOnline: boolean;
  /** Usage, when PVE reports it. */
  cpu?: number;
  /** Number of CPUs. */
  maxcpu?: number;
  /** Memory used, bytes. */
  mem?: number;
  /** Memory configured, bytes. */
  maxmem?: number;
  /** Host memory used (PVE 9), bytes. */
  memhost?: number;
  /** Disk used, bytes. */
  disk?: number;
  /** Disk size, bytes. */
  maxdisk?: number;
  /** Uptime, seconds. */
  uptime?: number;
}

/** Where a guest is, as {@linkcode resolveGuestIn} answers. */
export interface GuestRef {
  /** The vmid. */
  vmid: number;
  /** Node the guest lives on. */
  node: string;
  /** `qemu` or `lxc`. */
  type: "qemu" | "lxc";
  /** Name or hostname. */
  name: string;
  /** Guest status. */
  status: string;
  /** Pool, when set. */
  pool?: string;
  /** Tags. */
  tags: string[];
  /** Whether it is a template. */
  template: boolean;
  /** Config lock, when set. */
  lock?: string;
  /** Whether the guest's node is online. */
  nodeOnline: boolean;
}

/** A cluster node. */
export interface ClusterNode {
  /** Node name. */
  node: string;
  /** `online`, `offline` or `unknown`. */
  status: string;
  /** CPU usage fraction. */
  cpu?: number;
  /** Number of CPUs. */
  maxcpu?: number;
  /** Memory used, bytes. */
  mem?: number;
  /** Memory total, bytes. */
  maxmem?: number;
  /** Uptime, seconds. */
  uptime?: number;
  /** Subscription level (`""` when none). */
  level?: string;
}

/** A storage on one node. */
export interface ClusterStorage {
  /** Storage id. */
  storage: string;
  /** Node. */
  node: string;
  /** Plugin type (`dir`, `lvmthin`, `zfspool`, …). */
  plugintype?: string;
  /** `available` or `unknown`. */
  status: string;
  /** Whether the storage is shared between nodes. */
  shared: boolean;
  /** Content types it holds. */
  content: string[];
  /** Used, bytes. */
  disk?: number;
  /** Size, bytes. */
  maxdisk?: number;
}

/** The normalized answer of `/cluster/resources`. */
export interface ClusterResources {
  /** All guests (sorted by vmid). */
  guests: Guest[];
  /** All nodes (sorted by name). */
  nodes: ClusterNode[];
  /** Storage entries (one per storage and node). */
  storage: ClusterStorage[];
  /** Pool ids. */
  pools: string[];
  /** Names of nodes that are not online; their guests are listed with `nodeOnline: false`. */
  offlineNodes: string[];
}

/**
 * Schema of the `data` of `/cluster/resources`. {@linkcode readResources} accepts exactly
 * what it accepts; the client runs it only on an answer `readResources` rejects, for the
 * error message.
 */
export const clusterResourcesSchema = z.array(resourceEntrySchema);

/** Thrown inside {@linkcode readResources} at the first value the schema would reject. */
class Mismatch {}
const MISMATCH = new Mismatch();

// One reader per field kind of `resourceEntrySchema`. Each returns the coerced value
// (`undefined` when the key is absent) or throws MISMATCH where the schema reports an issue.

/** `z.string().optional()` */
function str(value: unknown): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  throw MISMATCH;
}

/** `pveString.optional()`: a string, or a finite number as its string. */
function text(value: unknown): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw MISMATCH;
}

/** `pveNumber.optional()` */
function num(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = toNumber(value);
  if (n === undefined) throw MISMATCH;
  return n;
}

/** `pveInt.optional()` */
function int(value: unknown): number | undefined {
  const n = num(value);
  if (n !== undefined && !Number.isInteger(n)) throw MISMATCH;
  return n;
}

/** `pveBool.optional()` */
function bool(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  const b = toBool(value);
  if (b === undefined) throw MISMATCH;
  return b;
}

/**
 * Reads the `data` of `GET /cluster/resources` in one pass: each entry is checked and
 * coerced exactly as `clusterResourcesSchema` does (numeric strings, `0`/`1`/`"1"`
 * booleans, missing fields, unknown kinds and extra fields all accepted) and turned
 * straight into guests, nodes, storage and pools, without a validated copy of the
 * entries. For a 10,000-guest cluster this is several times faster than the schema and
 * allocates only the normalized result.
 *
 * Returns `undefined` when the schema would reject the answer (not an array, an entry
 * that is not an object or has no string `type`, a field of the wrong kind); run
 * `clusterResourcesSchema` on it then for the reason.
 */
export function readResources(data: unknown): ClusterResources | undefined {
  if (!Array.isArray(data)) return undefined;
  const nodes: ClusterNode[] = [];
  const storage: ClusterStorage[] = [];
  const pools: string[] = [];
  const guests: Guest[] = [];
  try {
    for (const entry of data) {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return undefined;
      readEntry(entry as Record<string, unknown>, { nodes, storage, pools, guests });
    }
  } catch (error) {
    if (error === MISMATCH) return undefined;
    throw error;
  }
  const online = new Set<string>();
  for (const n of nodes) if (n.status === "online") online.add(n.node);
  // Without any node entry (a `?type=vm` read) nothing says a node is offline.
  if (nodes.length > 0) { for (const g of guests) g.nodeOnline = online.has(g.node); }
  guests.sort((a, b) => a.vmid - b.vmid);
  nodes.sort((a, b) => a.node.localeCompare(b.node));
  return {
    guests,
    nodes,
    storage,
    pools,
    offlineNodes: nodes.filter((n) => n.status !== "online").map((n) => n.node),
  };
}

/**
 * Checks and coerces every field `resourceEntrySchema` declares, in its order, then adds
 * the entry to the list of its kind (other kinds, e.g. 9.x `network`, are checked and
 * dropped). Optional keys are assigned in the order the interfaces declare them, so a
 * normalized object serializes the same whichever fields PVE sent.
 */
function readEntry(
  e: Record<string, unknown>,
  out: Pick<ClusterResources, "nodes" | "storage" | "pools" | "guests">,
): void {
  const id = text(e.id);
  const type = e.type;
  if (typeof type !== "string") throw MISMATCH;
  const node = str(e.node);
  const status = str(e.status);
  const vmid = int(e.vmid);
  const name = text(e.name);
  const template = bool(e.template);
  const pool = str(e.pool);
  const lock = str(e.lock);
  const tags = str(e.tags);
  const hastate = str(e.hastate);
  const uptime = num(e.uptime);
  const cpu = num(e.cpu);
  const maxcpu = num(e.maxcpu);
  const mem = num(e.mem);
  const maxmem = num(e.maxmem);
  const memhost = num(e.memhost);
  const disk = num(e.disk);
  const maxdisk = num(e.maxdisk);
  num(e.netin);
  num(e.netout);
  num(e.diskread);
  num(e.diskwrite);
  const storageId = str(e.storage);
  const plugintype = str(e.plugintype);
  const shared = bool(e.shared);
  const content = str(e.content);
  const level = str(e.level);
  str(e.sdn);

  if (type === "node") {
    const n: ClusterNode = {
      node: node ?? String(id ?? "").replace(/^node\//, ""),
      status: status ?? "unknown",
    };
    if (cpu !== undefined) n.cpu = cpu;
    if (maxcpu !== undefined) n.maxcpu = maxcpu;
    if (mem !== undefined) n.mem = mem;
    if (maxmem !== undefined) n.maxmem = maxmem;
    if (uptime !== undefined) n.uptime = uptime;
    if (level !== undefined) n.level = level;
    out.nodes.push(n);
  } else if (type === "qemu" || type === "lxc") {
    const guestId = vmid ?? Number(String(id ?? "").split("/").pop());
    if (!Number.isInteger(guestId)) return;
    // The two required fields still missing here are set below, in declaration order.
    const g = {
      vmid: guestId,
      type,
      node: node ?? "",
      name: name ?? "",
      status: status ?? "unknown",
      template: template ?? false,
    } as Guest;
    if (pool !== undefined) g.pool = pool;
    // `"lock": ""` (a key present but empty, as some servers send it) means unlocked.
    if (lock !== undefined && lock !== "") g.lock = lock;
    g.tags = toTags(tags);
    if (hastate !== undefined) g.hastate = hastate;
    g.nodeOnline = true; // corrected once every node entry is read
    if (cpu !== undefined) g.cpu = cpu;
    if (maxcpu !== undefined) g.maxcpu = maxcpu;
    if (mem !== undefined) g.mem = mem;
    if (maxmem !== undefined) g.maxmem = maxmem;
    if (memhost !== undefined) g.memhost = memhost;
    if (disk !== undefined) g.disk = disk;
    if (maxdisk !== undefined) g.maxdisk = maxdisk;
    if (uptime !== undefined) g.uptime = uptime;
    out.guests.push(g);
  } else if (type === "storage") {
    // The three required fields still missing here are set below, in declaration order.
    const s = {
      storage: storageId ?? String(id ?? "").split("/").pop() ?? "",
      node: node ?? "",
    } as ClusterStorage;
    if (plugintype !== undefined) s.plugintype = plugintype;
    s.status = status ?? "unknown";
    s.shared = shared ?? false;
    s.content = (content ?? "").split(",").filter((c) => c !== "");
    if (disk !== undefined) s.disk = disk;
    if (maxdisk !== undefined) s.maxdisk = maxdisk;
    out.storage.push(s);
  } else if (type === "pool") {
    const poolId = pool ?? String(id ?? "").replace(/^\/pool\//, "");
    if (poolId !== "") out.pools.push(poolId);
  }
}

/**
 * Normalizes `/cluster/resources` entries already coerced by `clusterResourcesSchema`
 * (the same pass as {@linkcode readResources}).
 *
 * @throws {TypeError} when an entry does not have the coerced shape (never for the
 *   schema's output).
 */
export function normalizeResources(entries: readonly ResourceEntry[]): ClusterResources {
  const resources = readResources(entries);
  if (resources === undefined) {
    throw new TypeError(
      "Cannot normalize /cluster/resources entries that clusterResourcesSchema rejects: " +
        "parse them with the schema first",
    );
  }
  return resources;
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function toRef(g: Guest): GuestRef {
  return {
    vmid: g.vmid,
    node: g.node,
    type: g.type,
    name: g.name,
    status: g.status,
    ...opt("pool", g.pool),
    tags: g.tags,
    template: g.template,
    ...opt("lock", g.lock),
    nodeOnline: g.nodeOnline,
  };
}

/** Control characters (C0, DEL) and the Unicode line separators. */
// deno-lint-ignore no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f\u2028\u2029]/;

/**
 * Finds a guest by vmid (number or numeric string) or by unique name in `guests`.
 * Returns `undefined` when there is no such guest.
 *
 * @throws {PveValidationError} when the name matches several guests (lists their vmids),
 *   or the reference is neither a vmid nor a name (empty, spaces around it, control characters).
 */
export function resolveGuestIn(
  guests: readonly Guest[],
  ref: number | string,
): GuestRef | undefined {
  if (typeof ref === "number" || /^\s*\d+\s*$/.test(ref)) {
    const vmid = Number(ref);
    const found = guests.find((g) => g.vmid === vmid);
    return found === undefined ? undefined : toRef(found);
  }
  const name = ref;
  if (name.trim() === "") {
    throw new PveValidationError(
      "Cannot find a guest by an empty name: give a vmid or a VM/CT name",
      { errors: { guest: "empty reference" } },
    );
  }
  // No guest name holds spaces or control characters: trimming "web01\n" into "web01" would
  // act on a guest the caller did not name.
  if (name !== name.trim() || CONTROL_RE.test(name)) {
    throw new PveValidationError(
      `No guest can be named ${
        JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name)
      } (spaces around it or control characters): give the name exactly as the guest list shows it, or the vmid`,
      { errors: { guest: "not a guest name" } },
    );
  }
  let matches = guests.filter((g) => g.name === name);
  if (matches.length === 0) {
    matches = guests.filter((g) => g.name.toLowerCase() === name.toLowerCase());
  }
  if (matches.length > 1) {
    const list = matches.map((g) => `${g.vmid} (${g.type} on ${g.node})`).join(", ");
    throw new PveValidationError(
      `Guest name "${name}" is ambiguous: it matches vmids ${list}. Use the vmid instead`,
      {
        errors: {
          guest: `ambiguous name, matching vmids ${matches.map((g) => g.vmid).join(", ")}`,
        },
      },
    );
  }
  const found = matches[0];
  return found === undefined ? undefined : toRef(found);
}

/** The error for a guest that is not in the inventory. */
export function guestNotFound(ref: number | string, cluster: string): PveNotFoundError {
  const what = typeof ref === "number" || /^\s*\d+\s*$/.test(ref)
    ? `vmid ${String(ref).trim()}`
    : `name "${ref}"`;
  return new PveNotFoundError(
    `No guest with ${what} in cluster ${cluster}: list the guests to find the right vmid or name ` +
      "(the caller may also lack VM.Audit on it)",
  );
}
