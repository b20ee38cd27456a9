/**
 * Where a new or moved guest goes, checked before anything is sent: the node (exists, online,
 * enough CPUs and memory), the storage (exists, enabled on that node, allows the content type,
 * has room), the bridge (exists on that node), ISO and template volumes (exist), the VMID (free
 * and in range, or the next free one) and names (`dns-name`, as PVE checks them). Each refusal
 * is a {@linkcode PveValidationError} whose message names the fix; nothing here writes.
 *
 * @module
 */

import { PveError, PveValidationError } from "../../pve/errors.ts";
import type { ClusterResources } from "../../pve/mod.ts";
import type { ToolContext } from "../types.ts";
import { formatBytes, num, truthy } from "./format.ts";
import { guestTitle } from "./guest.ts";

/** `dns-name` of pve-common (FACTS §7): labels of letters, digits and inner hyphens. */
const DNS_NAME_RE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

/** A tag as PVE accepts it (FACTS §7). */
const TAG_RE = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

/** What a node offers a new guest. */
export interface NodeFacts {
  node: string;
  /** CPU threads. */
  cpus: number;
  /** Memory, bytes. */
  memTotal: number;
  /** Memory not in use (`total - used`), bytes. */
  memFree: number;
}

/** A storage as one node sees it (`GET /nodes/{node}/storage`). */
export interface StorageFacts {
  storage: string;
  type: string;
  content: string[];
  shared: boolean;
  enabled: boolean;
  active: boolean;
  /** Free bytes. */
  avail: number;
  /** Size, bytes. */
  total: number;
}

/**
 * Checks a guest name or CT hostname as PVE's `dns-name` format does.
 *
 * @throws {PveValidationError} with the rule and a corrected suggestion.
 */
export function checkDnsName(name: string, argument: string): void {
  if (DNS_NAME_RE.test(name)) return;
  const suggestion = name.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "")
    .replace(/-*\.-*/g, ".") || "guest1";
  throw new PveValidationError(
    `${argument} "${name}" is not a valid DNS name (letters, digits and inner hyphens, labels separated by dots): use a name like "${suggestion}".`,
    { errors: { [argument]: "value does not look like a valid DNS name" } },
  );
}

/** @throws {PveValidationError} naming the first tag PVE would refuse. */
export function checkTags(tags: readonly string[]): void {
  const bad = tags.find((tag) => !TAG_RE.test(tag));
  if (bad === undefined) return;
  const suggestion = bad.replace(/[^A-Za-z0-9_+.-]+/g, "-").replace(/^[-+.]+/, "") || "tag1";
  throw new PveValidationError(
    `Tag "${bad}" is not valid: a tag starts with a letter, digit or _ and holds only letters, digits, _, -, + and dots, so use one like "${suggestion}".`,
    { errors: { tags: `invalid tag '${bad}'` } },
  );
}

/**
 * The node, known to the cluster and online.
 *
 * @throws {PveValidationError} for an unknown node (listing the nodes) or an offline one.
 */
export function requireOnlineNode(resources: ClusterResources, node: string): void {
  const found = resources.nodes.find((n) => n.node === node);
  const online = resources.nodes.filter((n) => n.status === "online").map((n) => n.node);
  if (found === undefined) {
    throw new PveValidationError(
      `Node "${node}" is not in this cluster: use one of ${online.join(", ") || "(none online)"}.`,
      { errors: { node: `no such cluster node '${node}'` } },
    );
  }
  if (found.status !== "online") {
    throw new PveError(
      `Node "${node}" is ${found.status}: use an online node (${
        online.join(", ") || "none is online"
      }) or bring ${node} back first.`,
      { node },
    );
  }
}

/** CPUs and memory of a node (`GET /nodes/{node}/status`). */
export async function nodeFacts(ctx: ToolContext, node: string): Promise<NodeFacts> {
  const status = await ctx.client.get(
    `/nodes/${encodeURIComponent(node)}/status`,
    undefined,
    { signal: ctx.signal },
  ) as Record<string, unknown>;
  const cpuinfo = (status.cpuinfo ?? {}) as Record<string, unknown>;
  const memory = (status.memory ?? {}) as Record<string, unknown>;
  const memTotal = num(memory.total) ?? 0;
  const used = num(memory.used) ?? 0;
  return {
    node,
    cpus: num(cpuinfo.cpus) ?? 0,
    memTotal,
    memFree: num(memory.available) ?? num(memory.free) ?? Math.max(0, memTotal - used),
  };
}

/**
 * Checks cores and memory against a node: more cores than it has, or more memory than it has
 * in total, is refused; more memory than is free is allowed (overcommit is legitimate) and
 * returned as a warning sentence.
 *
 * @throws {PveValidationError} naming the node's CPUs or memory.
 */
export function checkResources(
  facts: NodeFacts,
  wants: { cores: number; memoryBytes: number },
): string | undefined {
  if (facts.cpus > 0 && wants.cores > facts.cpus) {
    throw new PveValidationError(
      `${wants.cores} cores is more than node ${facts.node} has (${facts.cpus} CPUs): ask for at most ${facts.cpus}.`,
      { errors: { cores: `value must have a maximum value of ${facts.cpus}` } },
    );
  }
  if (facts.memTotal > 0 && wants.memoryBytes > facts.memTotal) {
    throw new PveValidationError(
      `${formatBytes(wants.memoryBytes)} of memory is more than node ${facts.node} has in total (${
        formatBytes(facts.memTotal)
      }): ask for less or choose another node.`,
      { errors: { memory: "more than the node's total memory" } },
    );
  }
  if (wants.memoryBytes > facts.memFree) {
    return `${formatBytes(wants.memoryBytes)} of memory is more than node ${facts.node} has free (${
      formatBytes(facts.memFree)
    }): the node will overcommit memory, which works while guests do not use all of theirs.`;
  }
  return undefined;
}

/** The storages of a node with their status. */
export async function nodeStorages(ctx: ToolContext, node: string): Promise<StorageFacts[]> {
  const list = await ctx.client.get(
    `/nodes/${encodeURIComponent(node)}/storage`,
    undefined,
    { signal: ctx.signal },
  ) as Record<string, unknown>[];
  return (Array.isArray(list) ? list : []).map((s) => ({
    storage: String(s.storage),
    type: String(s.type ?? ""),
    content: String(s.content ?? "").split(",").filter((c) => c !== ""),
    shared: truthy(s.shared),
    enabled: s.enabled === undefined ? true : truthy(s.enabled),
    active: truthy(s.active),
    avail: num(s.avail) ?? 0,
    total: num(s.total) ?? 0,
  }));
}

const CONTENT_WORDS: Record<string, string> = {
  images: "VM disks",
  rootdir: "container volumes",
  iso: "ISO images",
  vztmpl: "container templates",
};

/**
 * The storage a disk goes to, checked on one node: it exists there, is enabled and active,
 * allows the content type and has `bytes` free.
 *
 * @throws {PveValidationError} naming the storages that would do.
 */
export function requireStorage(
  storages: readonly StorageFacts[],
  wants: { storage: string; node: string; content: string; bytes: number; argument?: string },
): StorageFacts {
  const { storage, node, content, bytes } = wants;
  const argument = wants.argument ?? "storage";
  const fitting = storages.filter((s) => s.enabled && s.active && s.content.includes(content))
    .map((s) => `${s.storage} (${formatBytes(s.avail)} free)`);
  const alternatives = fitting.length > 0
    ? `use one that holds ${CONTENT_WORDS[content] ?? content} there: ${fitting.join(", ")}`
    : `no storage on ${node} holds ${CONTENT_WORDS[content] ?? content}; choose another node`;
  const found = storages.find((s) => s.storage === storage);
  if (found === undefined) {
    throw new PveValidationError(
      `Storage "${storage}" is not available on node ${node}: ${alternatives}.`,
      { errors: { [argument]: `storage '${storage}' is not available on node '${node}'` } },
    );
  }
  if (!found.enabled || !found.active) {
    throw new PveValidationError(
      `Storage "${storage}" is ${
        found.enabled ? "not active" : "disabled"
      } on node ${node}: ${alternatives}.`,
      { errors: { [argument]: `storage '${storage}' is disabled` } },
    );
  }
  if (!found.content.includes(content)) {
    throw new PveValidationError(
      `Storage "${storage}" does not hold ${CONTENT_WORDS[content] ?? content} (its content is ${
        found.content.join(", ")
      }): ${alternatives}.`,
      { errors: { [argument]: `storage '${storage}' does not support content '${content}'` } },
    );
  }
  if (bytes > found.avail) {
    throw new PveValidationError(
      `Storage "${storage}" on ${node} has ${formatBytes(found.avail)} free, less than the ${
        formatBytes(bytes)
      } needed: free space there, ask for less, or ${
        fitting.length > 1 ? alternatives : "choose another storage"
      }.`,
      { errors: { [argument]: "not enough free space" } },
    );
  }
  return found;
}

/** The bridges of a node (`GET /nodes/{node}/network?type=any_bridge`). */
async function nodeBridges(ctx: ToolContext, node: string): Promise<string[]> {
  const list = await ctx.client.get(
    `/nodes/${encodeURIComponent(node)}/network`,
    { type: "any_bridge" },
    { signal: ctx.signal },
  ) as Record<string, unknown>[];
  return (Array.isArray(list) ? list : []).map((i) => String(i.iface)).sort();
}

/** @throws {PveValidationError} when the node has no such bridge, listing the ones it has. */
export function requireBridge(bridges: readonly string[], bridge: string, node: string): void {
  if (bridges.includes(bridge)) return;
  throw new PveValidationError(
    `Bridge "${bridge}" does not exist on node ${node}: use ${
      bridges.length > 0 ? `one of ${bridges.join(", ")}` : "a node that has a bridge"
    }.`,
    { errors: { bridge: `bridge '${bridge}' does not exist` } },
  );
}

/**
 * Checks that a volume (`storage:iso/…`, `storage:vztmpl/…`) exists on a node, by listing
 * that storage's content of that type.
 *
 * @throws {PveValidationError} listing up to five volumes of that type that do exist.
 */
export async function requireVolume(
  ctx: ToolContext,
  options: { node: string; volid: string; content: "iso" | "vztmpl"; argument: string },
): Promise<void> {
  const { node, volid, content, argument } = options;
  const storage = volid.includes(":") ? volid.slice(0, volid.indexOf(":")) : "";
  let volids: string[] = [];
  if (storage !== "") {
    try {
      const list = await ctx.client.get(
        `/nodes/${encodeURIComponent(node)}/storage/${encodeURIComponent(storage)}/content`,
        { content },
        { signal: ctx.signal },
      ) as Record<string, unknown>[];
      volids = (Array.isArray(list) ? list : []).map((v) => String(v.volid));
    } catch (error) {
      if (!(error instanceof PveError) || (error.status !== 400 && error.status !== 500)) {
        throw error;
      }
    }
  }
  if (volids.includes(volid)) return;
  const what = content === "iso" ? "ISO image" : "container template";
  const known = volids.slice(0, 5);
  throw new PveValidationError(
    `The ${what} "${volid}" does not exist on node ${node}: ${
      known.length > 0
        ? `use one that does (${known.join(", ")}${volids.length > 5 ? ", …" : ""})`
        : `upload or download it to a storage of ${node} first`
    }.`,
    { errors: { [argument]: `volume '${volid}' does not exist` } },
  );
}

/**
 * The VMID a new guest gets: the one asked for when it is free, else PVE's next free one
 * (`GET /cluster/nextid`).
 *
 * @throws {PveValidationError} when the asked-for VMID is taken (naming its guest).
 */
export async function chooseVmid(
  ctx: ToolContext,
  resources: ClusterResources,
  vmid: number | undefined,
): Promise<number> {
  if (vmid !== undefined) {
    const taken = resources.guests.find((g) => g.vmid === vmid);
    if (taken !== undefined) {
      throw new PveValidationError(
        `VMID ${vmid} is already used by ${
          guestTitle(taken)
        } on ${taken.node}: choose another, or omit vmid to get the next free one.`,
        { errors: { vmid: `VM ${vmid} already exists` } },
      );
    }
    return vmid;
  }
  const next = await ctx.client.get("/cluster/nextid", undefined, { signal: ctx.signal });
  const id = num(next);
  if (id === undefined) throw new PveError(`/cluster/nextid answered "${String(next)}"`);
  return id;
}

/** @throws {PveValidationError} when the pool does not exist, listing those that do. */
export function requirePool(resources: ClusterResources, pool: string | undefined): void {
  if (pool === undefined || resources.pools.includes(pool)) return;
  throw new PveValidationError(
    `Pool "${pool}" does not exist: use ${
      resources.pools.length > 0 ? `one of ${resources.pools.join(", ")}` : "no pool"
    } or have an admin create it first.`,
    { errors: { pool: `pool '${pool}' does not exist` } },
  );
}

/** What a new guest needs from the node it lands on. */
export interface PlacementNeeds {
  storage: string;
  content: "images" | "rootdir";
  bytes: number;
  bridge: string;
  cores: number;
  memoryBytes: number;
}

/** A node picked for a new guest, and why. */
export interface Placement {
  node: string;
  facts: NodeFacts;
  storage: StorageFacts;
  bridges: string[];
  /** Why this node, for the plan's summary; absent when the node was given. */
  reason?: string;
  /** The memory overcommit warning, when the guest wants more than is free. */
  warning?: string;
}

/** Candidate nodes ranked by {@linkcode rankNodes}. */
export interface RankedNodes<T> {
  /** The nodes that fit, most free memory first (ties by name). */
  fits: { node: string; memFree: number; value: T }[];
  /** `node: why not`, one per node that does not fit (the refusal's first clause). */
  misfits: string[];
}

/**
 * The one destination chooser: checks each candidate node with `check` (which throws a
 * {@linkcode PveValidationError} naming why a node does not fit) and ranks the nodes that fit by
 * free memory, most first. New guests (`placeGuest`) and moved guests (`chooseMigrationTarget`)
 * both pick the first.
 */
export async function rankNodes<T>(
  nodes: readonly string[],
  check: (node: string) => Promise<{ memFree: number; value: T }>,
): Promise<RankedNodes<T>> {
  const fits: RankedNodes<T>["fits"] = [];
  const misfits: string[] = [];
  for (const node of nodes) {
    try {
      fits.push({ node, ...await check(node) });
    } catch (error) {
      if (!(error instanceof PveValidationError)) throw error;
      misfits.push(`${node}: ${error.message.replace(/:.*$/s, "")}`);
    }
  }
  fits.sort((a, b) => b.memFree - a.memFree || a.node.localeCompare(b.node));
  return { fits, misfits };
}

/**
 * What a node offers, read once per tool call however many guests ask: its CPUs and memory,
 * its storages and its bridges.
 */
export interface NodeInfo {
  facts(node: string): Promise<NodeFacts>;
  storages(node: string): Promise<StorageFacts[]>;
  bridges(node: string): Promise<string[]>;
}

/** A {@linkcode NodeInfo} that reads each node's facts at most once. */
export function nodeInfo(ctx: ToolContext): NodeInfo {
  const memo = <T>(read: (node: string) => Promise<T>) => {
    const seen = new Map<string, Promise<T>>();
    return (node: string): Promise<T> => {
      let value = seen.get(node);
      if (value === undefined) {
        value = read(node);
        seen.set(node, value);
      }
      return value;
    };
  };
  return {
    facts: memo((node) => nodeFacts(ctx, node)),
    storages: memo((node) => nodeStorages(ctx, node)),
    bridges: memo((node) => nodeBridges(ctx, node)),
  };
}

/**
 * Checks a node for a new guest (storage, bridge, CPUs, memory), or — without a node — picks
 * the online node that has the storage with room and the bridge and the most free memory.
 *
 * @throws {PveValidationError} for a node that does not fit, or when no node fits (with why).
 */
export async function placeGuest(
  ctx: ToolContext,
  resources: ClusterResources,
  node: string | undefined,
  needs: PlacementNeeds,
): Promise<Placement> {
  const check = async (name: string): Promise<Placement> => {
    const [facts, storages, bridges] = await Promise.all([
      nodeFacts(ctx, name),
      nodeStorages(ctx, name),
      nodeBridges(ctx, name),
    ]);
    const storage = requireStorage(storages, { ...needs, node: name });
    requireBridge(bridges, needs.bridge, name);
    const warning = checkResources(facts, needs);
    return warning === undefined
      ? { node: name, facts, storage, bridges }
      : { node: name, facts, storage, bridges, warning };
  };
  if (node !== undefined) {
    requireOnlineNode(resources, node);
    return await check(node);
  }
  const online = resources.nodes.filter((n) => n.status === "online").map((n) => n.node);
  const { fits, misfits } = await rankNodes(online, async (name) => {
    const placement = await check(name);
    return { memFree: placement.facts.memFree, value: placement };
  });
  const best = fits[0]?.value;
  if (best === undefined) {
    throw new PveValidationError(
      `No online node fits (${
        misfits.join("; ") || "no node is online"
      }): give node and a storage and bridge that exist there.`,
      { errors: { node: "no node fits" } },
    );
  }
  best.reason = `picked node ${best.node}: it has storage ${needs.storage} with ${
    formatBytes(best.storage.avail)
  } free and bridge ${needs.bridge}, and the most free memory (${
    formatBytes(best.facts.memFree)
  }) of ${fits.length} fitting node(s)`;
  return best;
}
