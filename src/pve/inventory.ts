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
import { type ResourceEntry, resourceEntrySchema, toTags } from "./coerce.ts";
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
  /** The coerced raw entries (all kinds, including ones not normalized above). */
  raw: ResourceEntry[];
}

/** Schema of the `data` of `/cluster/resources`. */
export const clusterResourcesSchema = z.array(resourceEntrySchema);

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Normalizes coerced `/cluster/resources` entries. */
export function normalizeResources(entries: ResourceEntry[]): ClusterResources {
  const nodes: ClusterNode[] = [];
  const storage: ClusterStorage[] = [];
  const pools: string[] = [];
  const guestEntries: ResourceEntry[] = [];
  for (const e of entries) {
    if (e.type === "node") {
      const name = e.node ?? String(e.id ?? "").replace(/^node\//, "");
      nodes.push({
        node: name,
        status: e.status ?? "unknown",
        ...opt("cpu", e.cpu),
        ...opt("maxcpu", e.maxcpu),
        ...opt("mem", e.mem),
        ...opt("maxmem", e.maxmem),
        ...opt("uptime", e.uptime),
        ...opt("level", e.level),
      });
    } else if (e.type === "qemu" || e.type === "lxc") {
      guestEntries.push(e);
    } else if (e.type === "storage") {
      storage.push({
        storage: e.storage ?? String(e.id ?? "").split("/").pop() ?? "",
        node: e.node ?? "",
        ...opt("plugintype", e.plugintype),
        status: e.status ?? "unknown",
        shared: e.shared ?? false,
        content: (e.content ?? "").split(",").filter((c) => c !== ""),
        ...opt("disk", e.disk),
        ...opt("maxdisk", e.maxdisk),
      });
    } else if (e.type === "pool") {
      const pool = typeof e.pool === "string"
        ? e.pool
        : String(e.id ?? "").replace(/^\/pool\//, "");
      if (pool !== "") pools.push(pool);
    }
  }
  const online = new Set(nodes.filter((n) => n.status === "online").map((n) => n.node));
  const knowsNodes = nodes.length > 0;
  const guests: Guest[] = [];
  for (const e of guestEntries) {
    const vmid = e.vmid ?? Number(String(e.id ?? "").split("/").pop());
    if (!Number.isInteger(vmid)) continue;
    const node = e.node ?? "";
    guests.push({
      vmid,
      type: e.type as "qemu" | "lxc",
      node,
      name: e.name ?? "",
      status: e.status ?? "unknown",
      template: e.template ?? false,
      ...opt("pool", e.pool),
      ...opt("lock", e.lock),
      tags: toTags(e.tags),
      ...opt("hastate", e.hastate),
      nodeOnline: knowsNodes ? online.has(node) : true,
      ...opt("cpu", e.cpu),
      ...opt("maxcpu", e.maxcpu),
      ...opt("mem", e.mem),
      ...opt("maxmem", e.maxmem),
      ...opt("memhost", e.memhost),
      ...opt("disk", e.disk),
      ...opt("maxdisk", e.maxdisk),
      ...opt("uptime", e.uptime),
    });
  }
  guests.sort((a, b) => a.vmid - b.vmid);
  nodes.sort((a, b) => a.node.localeCompare(b.node));
  return {
    guests,
    nodes,
    storage,
    pools,
    offlineNodes: nodes.filter((n) => n.status !== "online").map((n) => n.node),
    raw: entries,
  };
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

/**
 * Finds a guest by vmid (number or numeric string) or by unique name in `guests`.
 * Returns `undefined` when there is no such guest.
 *
 * @throws {PveValidationError} when the name matches several guests (lists their vmids),
 *   or the reference is neither a vmid nor a name.
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
  const name = ref.trim();
  if (name === "") {
    throw new PveValidationError(
      "Cannot find a guest by an empty name: give a vmid or a VM/CT name",
      { errors: { guest: "empty reference" } },
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
