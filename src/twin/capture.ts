/**
 * `captureTwin`: read a cluster's shape through a GET-only client view and return it as a
 * twin file (`format.ts`): nodes with their usage, network, services and subscription; storages
 * with usage and content (metadata only); every guest with its config, pending changes,
 * snapshots and firewall; pools, HA, the firewall, backup and replication jobs. Secrets are
 * replaced on the way in (`redact.ts`); what could not be read is listed in `gaps`.
 *
 * Only `/version` and `/cluster/resources` are required; any other read that
 * fails (a permission the credential lacks, an offline node, a guest removed meanwhile) leaves
 * a gap instead of failing the capture. Authentication failures always fail it.
 *
 * Per guest it costs one request for the config, one for the snapshots (plus one per
 * snapshot) and four for the firewall (plus one per IP set), at most `concurrency` in flight.
 *
 * @module
 */

import { PveAuthError, type PveEnvelope, PveError, type PveParams } from "../pve/mod.ts";
import { SERVER_NAME, VERSION } from "../version.ts";
import {
  TWIN_FORMAT,
  TWIN_REDACTED,
  TWIN_VERSION,
  type TwinFile,
  type TwinFirewall,
  type TwinGuest,
  type TwinNode,
  type TwinPool,
  type TwinSnapshot,
  type TwinStorage,
  type TwinValue,
  type TwinVolume,
} from "./format.ts";
import { Gaps } from "./gaps.ts";
import type { ReadOnlyPve } from "./read_only.ts";
import { Redactor, scrubText, SECRETS_NOTICE } from "./redact.ts";

/** How far a capture has come (for a progress line). */
export interface CaptureProgress {
  /** `cluster`, `nodes`, `storage` or `guests`. */
  phase: string;
  done: number;
  total: number;
}

/** Options of {@linkcode captureTwin}. */
export interface CaptureOptions {
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called as each phase advances. */
  onProgress?: (progress: CaptureProgress) => void;
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
}

type Raw = Record<string, unknown>;

const DEFAULT_CONCURRENCY = 8;

function rows(value: unknown): Raw[] {
  return Array.isArray(value)
    ? value.filter((item): item is Raw => typeof item === "object" && item !== null)
    : [];
}

function record(value: unknown): Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Raw : {};
}

function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

function flag(value: unknown): boolean {
  return value === 1 || value === true || value === "1";
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A copy without the keys PVE adds to every answer item (`digest`, `pos`). */
function without(item: Raw, ...keys: string[]): Raw {
  const out: Raw = {};
  for (const [key, value] of Object.entries(item)) if (!keys.includes(key)) out[key] = value;
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function segment(value: string | number): string {
  return encodeURIComponent(String(value));
}

/** A config value as the file keeps it: numbers stay numbers, booleans become 0/1. */
function configValue(value: unknown): TwinValue {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

class Capture {
  readonly #pve: ReadOnlyPve;
  readonly #limit: number;
  readonly #signal: AbortSignal | undefined;
  readonly #progress: ((progress: CaptureProgress) => void) | undefined;
  readonly secrets = new Redactor();
  readonly gaps = new Gaps();

  constructor(pve: ReadOnlyPve, options: CaptureOptions) {
    this.#pve = pve;
    this.#limit = Math.max(1, Math.min(64, options.concurrency ?? DEFAULT_CONCURRENCY));
    this.#signal = options.signal;
    this.#progress = options.onProgress;
  }

  progress(phase: string, done: number, total: number): void {
    this.#progress?.({ phase, done, total });
  }

  get(path: string, params?: PveParams): Promise<unknown> {
    return this.#pve.get(path, params, this.#signal === undefined ? {} : { signal: this.#signal });
  }

  envelope(path: string): Promise<PveEnvelope> {
    return this.#pve.getEnvelope(
      path,
      undefined,
      this.#signal === undefined ? {} : { signal: this.#signal },
    );
  }

  /**
   * A read that may fail without failing the capture: undefined (and a gap) on failure.
   * Authentication failures and cancellation still throw.
   */
  async optional<T>(what: string, subject: string, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof PveAuthError || !(error instanceof PveError)) throw error;
      this.gaps.add(what, subject, error);
      return undefined;
    }
  }

  each<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    return forEachLimit(items, this.#limit, fn);
  }

  /** An object as it goes into the file, secrets replaced. */
  clean(path: string, value: Raw): Raw {
    return this.secrets.object(path, value);
  }
}

/** Reads the cluster behind `pve` into a twin file. */
export async function captureTwin(
  pve: ReadOnlyPve,
  options: CaptureOptions = {},
): Promise<TwinFile> {
  const now = options.now ?? Date.now;
  const startedMs = now();
  const c = new Capture(pve, options);

  c.progress("cluster", 0, 1);
  const [versionData, statusData, resourceData] = await Promise.all([
    c.get("/version"),
    c.optional(
      "cluster status (node ids, addresses, the cluster name)",
      "the cluster",
      () => c.get("/cluster/status"),
    ),
    c.get("/cluster/resources"),
  ]);
  const version = record(versionData);
  const status = rows(statusData);
  const resources = rows(resourceData);
  const cluster = status.find((entry) => entry.type === "cluster");

  const [storageConfig, pools, ha, firewall, backupJobs, replication] = await Promise.all([
    c.optional("storage configuration", "the cluster", () => c.get("/storage")),
    readPools(c),
    readHa(c),
    readClusterFirewall(c),
    c.optional("backup jobs", "the cluster", () => c.get("/cluster/backup")),
    c.optional("replication jobs", "the cluster", () => c.get("/cluster/replication")),
  ]);
  c.progress("cluster", 1, 1);

  const nodes = await readNodes(c, status, resources);
  const storages = await readStorages(c, rows(storageConfig), resources, nodes);
  const guests = await readGuests(c, resources, nodes);

  return {
    format: TWIN_FORMAT,
    version: TWIN_VERSION,
    id: crypto.randomUUID(),
    captured_at: new Date(startedMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
    captured_epoch: Math.floor(startedMs / 1000),
    source: {
      cluster: cluster === undefined ? null : String(cluster.name ?? ""),
      host: pve.host,
      principal: pve.principal,
      pve: {
        version: String(version.version ?? ""),
        release: String(version.release ?? ""),
        repoid: String(version.repoid ?? ""),
      },
      tool: `${SERVER_NAME} ${VERSION}`,
    },
    secrets: {
      notice: SECRETS_NOTICE,
      replaced_with: TWIN_REDACTED,
      count: c.secrets.count,
      where: c.secrets.where,
    },
    gaps: c.gaps.lines().map(scrubText),
    nodes,
    storages,
    guests,
    pools,
    ha,
    firewall,
    backup_jobs: rows(backupJobs).map((job, i) =>
      c.clean(`backup_jobs/${i}`, without(job, "next-run", "digest"))
    ),
    replication: rows(replication).map((job, i) =>
      c.clean(`replication/${i}`, without(job, "digest"))
    ),
  };
}

async function readPools(c: Capture): Promise<TwinPool[]> {
  const list = rows(await c.optional("pools", "the cluster", () => c.get("/pools")));
  const out: TwinPool[] = [];
  await c.each(list, async (entry) => {
    const poolid = String(entry.poolid);
    const detail = record(
      await c.optional("pool members", poolid, () => c.get(`/pools/${segment(poolid)}`)),
    );
    const members = rows(detail.members);
    out.push({
      poolid,
      comment: String(c.secrets.value(`pools/${poolid}/comment`, "comment", entry.comment ?? "")),
      vms: members.filter((m) => m.type === "qemu" || m.type === "lxc")
        .map((m) => num(m.vmid) ?? 0).filter((vmid) => vmid > 0).sort((a, b) => a - b),
      storage: [
        ...new Set(members.filter((m) => m.type === "storage").map((m) => String(m.storage))),
      ].sort(),
    });
  });
  return out.sort((a, b) => a.poolid.localeCompare(b.poolid));
}

async function readHa(c: Capture): Promise<TwinFile["ha"]> {
  const [resources, rules, groups, status] = await Promise.all([
    c.optional("HA resources", "the cluster", () => c.get("/cluster/ha/resources")),
    c.optional("HA rules", "the cluster", () => c.get("/cluster/ha/rules")),
    c.optional("HA groups", "the cluster", () => c.get("/cluster/ha/groups")),
    c.optional("HA status", "the cluster", () => c.get("/cluster/ha/status/current")),
  ]);
  const crm: Record<string, string> = {};
  for (const entry of rows(status)) {
    if (entry.type !== "service" || typeof entry.sid !== "string") continue;
    const state = text(entry.crm_state);
    if (state === undefined) continue;
    const wanted = entry.request_state === "started" || entry.request_state === "enabled"
      ? "started"
      : "stopped";
    if (state !== wanted) crm[entry.sid] = state;
  }
  return {
    resources: rows(resources).map((r, i) => c.clean(`ha/resources/${i}`, without(r, "digest"))),
    rules: rows(rules).map((r, i) => c.clean(`ha/rules/${i}`, without(r, "digest", "order"))),
    groups: rows(groups).map((g, i) => c.clean(`ha/groups/${i}`, without(g, "digest"))),
    crm_states: crm,
  };
}

async function readIpsets(
  c: Capture,
  base: string,
  path: string,
  subject: string,
): Promise<TwinFirewall["ipsets"]> {
  const list = rows(await c.optional("firewall IP sets", subject, () => c.get(`${base}/ipset`)));
  const out: TwinFirewall["ipsets"] = [];
  for (const set of list) {
    const name = String(set.name);
    const entries = rows(
      await c.optional(
        "firewall IP set entries",
        `${subject} ${name}`,
        () => c.get(`${base}/ipset/${segment(name)}`),
      ),
    );
    const item: TwinFirewall["ipsets"][number] = {
      name,
      entries: entries.map((e, i) => c.clean(`${path}/ipsets/${name}/${i}`, without(e, "digest"))),
    };
    if (typeof set.comment === "string") {
      item.comment = String(
        c.secrets.value(`${path}/ipsets/${name}/comment`, "comment", set.comment),
      );
    }
    out.push(item);
  }
  return out;
}

/** Options, rules, aliases and IP sets of a `.fw` file below `base`. */
async function readFirewall(
  c: Capture,
  base: string,
  path: string,
  subject: string,
): Promise<TwinFirewall> {
  const [options, rules, aliases, ipsets] = await Promise.all([
    c.optional("firewall options", subject, () => c.get(`${base}/options`)),
    c.optional("firewall rules", subject, () => c.get(`${base}/rules`)),
    c.optional("firewall aliases", subject, () => c.get(`${base}/aliases`)),
    readIpsets(c, base, path, subject),
  ]);
  return {
    options: c.clean(`${path}/options`, without(record(options), "digest")),
    rules: rows(rules).map((r, i) => c.clean(`${path}/rules/${i}`, without(r, "digest", "pos"))),
    aliases: rows(aliases).map((a, i) => c.clean(`${path}/aliases/${i}`, without(a, "digest"))),
    ipsets,
  };
}

async function readClusterFirewall(c: Capture): Promise<TwinFile["firewall"]> {
  const base = "/cluster/firewall";
  const [own, groupList] = await Promise.all([
    readFirewall(c, base, "firewall", "the cluster"),
    c.optional("firewall security groups", "the cluster", () => c.get(`${base}/groups`)),
  ]);
  const groups: TwinFile["firewall"]["groups"] = [];
  for (const entry of rows(groupList)) {
    const group = String(entry.group);
    const rules = rows(
      await c.optional(
        "firewall security group rules",
        group,
        () => c.get(`${base}/groups/${segment(group)}`),
      ),
    );
    const item: TwinFile["firewall"]["groups"][number] = {
      group,
      rules: rules.map((r, i) =>
        c.clean(`firewall/groups/${group}/${i}`, without(r, "digest", "pos"))
      ),
    };
    if (typeof entry.comment === "string") {
      item.comment = String(
        c.secrets.value(`firewall/groups/${group}/comment`, "comment", entry.comment),
      );
    }
    groups.push(item);
  }
  return { ...own, groups };
}

async function readNodes(c: Capture, status: Raw[], resources: Raw[]): Promise<TwinNode[]> {
  const usage = new Map(
    resources.filter((r) => r.type === "node").map((r) => [String(r.node), r]),
  );
  let members = status.filter((entry) => entry.type === "node");
  if (members.length === 0) {
    members = [...usage.values()].map((r) => ({
      name: r.node,
      nodeid: 0,
      ip: "",
      online: r.status === "online" ? 1 : 0,
      level: r.level,
    }));
  }
  const nodes: TwinNode[] = [];
  let done = 0;
  c.progress("nodes", 0, members.length);
  await c.each(members, async (member) => {
    const name = String(member.name);
    const res = usage.get(name) ?? {};
    const online = flag(member.online) && res.status !== "offline";
    const node: TwinNode = {
      name,
      nodeid: num(member.nodeid) ?? 0,
      ip: String(member.ip ?? ""),
      online,
      level: String(member.level ?? res.level ?? ""),
    };
    for (const key of ["cpu", "maxcpu", "mem", "maxmem", "disk", "maxdisk", "uptime"] as const) {
      const value = num(res[key]);
      if (value !== undefined) node[key] = value;
    }
    if (!online) {
      c.gaps.note(
        `Node ${name} was offline: its status, network, services and firewall were not read.`,
      );
    } else {
      await readNodeDetails(c, node);
    }
    nodes.push(node);
    c.progress("nodes", ++done, members.length);
  });
  return nodes.sort((a, b) => a.name.localeCompare(b.name));
}

async function readNodeDetails(c: Capture, node: TwinNode): Promise<void> {
  const base = `/nodes/${segment(node.name)}`;
  const path = `nodes/${node.name}`;
  const [status, network, services, subscription, fwOptions, fwRules] = await Promise.all([
    c.optional("node status", node.name, () => c.get(`${base}/status`)),
    // The network answer's `changes` (edits not applied yet) lives beside `data`.
    c.optional("node network", node.name, () => c.envelope(`${base}/network`)),
    c.optional("node services", node.name, () => c.get(`${base}/services`)),
    c.optional("node subscription", node.name, () => c.get(`${base}/subscription`)),
    c.optional("node firewall options", node.name, () => c.get(`${base}/firewall/options`)),
    c.optional("node firewall rules", node.name, () => c.get(`${base}/firewall/rules`)),
  ]);
  if (status !== undefined) {
    const s = record(status);
    const cpuinfo = record(s.cpuinfo);
    const swap = record(s.swap);
    node.status = {
      loadavg: Array.isArray(s.loadavg) ? s.loadavg.map(String) : [],
      kversion: String(s.kversion ?? ""),
      pveversion: String(s.pveversion ?? ""),
      cpu_model: String(cpuinfo.model ?? ""),
      sockets: num(cpuinfo.sockets) ?? 1,
      cores: num(cpuinfo.cores) ?? num(cpuinfo.cpus) ?? 1,
      swap_total: num(swap.total) ?? 0,
      swap_used: num(swap.used) ?? 0,
    };
  }
  if (network !== undefined) {
    node.network = rows(network.data).map((iface, i) => c.clean(`${path}/network/${i}`, iface));
    if (typeof network.changes === "string" && network.changes !== "") {
      node.network_changes = String(
        c.secrets.value(`${path}/network_changes`, "changes", network.changes),
      );
    }
  }
  if (services !== undefined) {
    node.services = rows(services).map((s) => ({
      service: String(s.service ?? s.name ?? ""),
      state: String(s.state ?? ""),
      "active-state": String(s["active-state"] ?? ""),
      "unit-state": String(s["unit-state"] ?? ""),
    }));
  }
  if (subscription !== undefined) {
    const sub = without(record(subscription), "key", "url", "serverid");
    node.subscription = c.clean(`${path}/subscription`, sub);
    if (record(subscription).key !== undefined) {
      node.subscription.key = c.secrets.secret(`${path}/subscription/key`);
    }
  }
  if (fwOptions !== undefined || fwRules !== undefined) {
    const options = c.clean(`${path}/firewall/options`, without(record(fwOptions), "digest"));
    const rules = rows(fwRules).map((r, i) =>
      c.clean(`${path}/firewall/rules/${i}`, without(r, "digest", "pos"))
    );
    if (Object.keys(options).length > 0 || rules.length > 0) node.firewall = { options, rules };
  }
}

async function readStorages(
  c: Capture,
  configs: Raw[],
  resources: Raw[],
  nodes: readonly TwinNode[],
): Promise<TwinStorage[]> {
  const online = new Set(nodes.filter((n) => n.online).map((n) => n.name));
  const storages: TwinStorage[] = configs.map((entry) => ({
    config: c.clean(`storages/${String(entry.storage)}/config`, without(entry, "digest")),
    nodes: {},
  }));
  const byId = new Map(storages.map((s) => [String(s.config.storage), s]));
  for (const r of resources) {
    if (r.type !== "storage") continue;
    const id = String(r.storage);
    let storage = byId.get(id);
    if (storage === undefined) {
      // Listed in the resources but not in /storage (the credential may not audit it).
      storage = {
        config: {
          storage: id,
          type: String(r.plugintype ?? "dir"),
          content: String(r.content ?? ""),
          ...(flag(r.shared) ? { shared: 1 } : {}),
        },
        nodes: {},
      };
      storages.push(storage);
      byId.set(id, storage);
    }
    const status: TwinFile["storages"][number]["nodes"][string] = {
      status: String(r.status ?? "unknown"),
    };
    const total = num(r.maxdisk);
    const used = num(r.disk);
    if (total !== undefined) status.total = total;
    if (used !== undefined) status.used = used;
    storage.nodes[String(r.node)] = status;
  }

  // Content: a shared storage once (from the first node where it answers), local ones per node.
  const reads: { storage: TwinStorage; node: string; shared: boolean }[] = [];
  for (const storage of storages) {
    const id = String(storage.config.storage);
    const shared = isShared(storage, resources);
    const where = Object.entries(storage.nodes)
      .filter(([node, s]) => s.status === "available" && online.has(node))
      .map(([node]) => node)
      .sort();
    if (where.length === 0) {
      if (Object.keys(storage.nodes).length > 0) {
        c.gaps.add("storage content", id, new Error("not available on any online node"));
      }
      continue;
    }
    storage.volumes = [];
    for (const node of shared ? where.slice(0, 1) : where) reads.push({ storage, node, shared });
  }
  let done = 0;
  c.progress("storage", 0, reads.length);
  await c.each(reads, async ({ storage, node, shared }) => {
    const id = String(storage.config.storage);
    const content = await c.optional(
      "storage content",
      `${id} on ${node}`,
      () => c.get(`/nodes/${segment(node)}/storage/${segment(id)}/content`),
    );
    for (const entry of rows(content)) {
      const volume = volumeOf(c, entry, `storages/${id}/volumes`);
      if (!shared) volume.node = node;
      storage.volumes?.push(volume);
    }
    c.progress("storage", ++done, reads.length);
  });
  for (const storage of storages) {
    storage.volumes?.sort((a, b) =>
      a.volid.localeCompare(b.volid) || (a.node ?? "").localeCompare(b.node ?? "")
    );
  }
  return storages.sort((a, b) => String(a.config.storage).localeCompare(String(b.config.storage)));
}

function isShared(storage: TwinStorage, resources: Raw[]): boolean {
  if (flag(storage.config.shared)) return true;
  const type = String(storage.config.type ?? "");
  if (["nfs", "cifs", "pbs", "glusterfs", "cephfs", "rbd", "iscsi", "esxi"].includes(type)) {
    return true;
  }
  return resources.some((r) =>
    r.type === "storage" && r.storage === storage.config.storage && flag(r.shared)
  );
}

function volumeOf(c: Capture, entry: Raw, path: string): TwinVolume {
  const volid = String(entry.volid ?? "");
  const volume: TwinVolume = {
    volid,
    content: String(entry.content ?? ""),
    format: String(entry.format ?? ""),
    size: num(entry.size) ?? 0,
    ctime: num(entry.ctime) ?? 0,
  };
  const vmid = num(entry.vmid);
  if (vmid !== undefined) volume.vmid = vmid;
  if (typeof entry.subtype === "string") volume.subtype = entry.subtype;
  if (typeof entry.notes === "string") {
    volume.notes = String(c.secrets.value(`${path}/${volid}/notes`, "notes", entry.notes));
  }
  if (entry.protected !== undefined && flag(entry.protected)) volume.protected = 1;
  if (typeof entry.parent === "string") volume.parent = entry.parent;
  const verification = record(entry.verification);
  if (typeof verification.state === "string") {
    volume.verification = { state: verification.state };
    if (typeof verification.upid === "string") volume.verification.upid = verification.upid;
  }
  return volume;
}

async function readGuests(c: Capture, resources: Raw[], nodes: readonly TwinNode[]): Promise<
  TwinGuest[]
> {
  const online = new Set(nodes.filter((n) => n.online).map((n) => n.name));
  const entries = resources
    .filter((r) => (r.type === "qemu" || r.type === "lxc") && num(r.vmid) !== undefined)
    .sort((a, b) => (num(a.vmid) ?? 0) - (num(b.vmid) ?? 0));
  const guests = new Map<number, TwinGuest>();
  let done = 0;
  c.progress("guests", 0, entries.length);
  await c.each(entries, async (entry) => {
    const guest = guestOf(entry);
    if (!online.has(guest.node)) {
      c.gaps.add(
        "guest config, snapshots and firewall",
        String(guest.vmid),
        new Error("their node was offline"),
      );
      guests.set(guest.vmid, guest);
    } else if (await readGuestDetails(c, guest)) {
      guests.set(guest.vmid, guest);
    }
    c.progress("guests", ++done, entries.length);
  });
  return [...guests.values()].sort((a, b) => a.vmid - b.vmid);
}

/** What the resources say of a guest's config (its name, whether a template). */
function resourceConfig(entry: Raw, type: "qemu" | "lxc"): Record<string, TwinValue> {
  const config: Record<string, TwinValue> = {};
  if (typeof entry.name === "string") config[type === "qemu" ? "name" : "hostname"] = entry.name;
  if (flag(entry.template)) config.template = 1;
  return config;
}

function guestOf(entry: Raw): TwinGuest {
  const guest: TwinGuest = {
    vmid: num(entry.vmid) ?? 0,
    type: entry.type === "lxc" ? "lxc" : "qemu",
    node: String(entry.node),
    status: String(entry.status ?? "unknown"),
    config: resourceConfig(entry, entry.type === "lxc" ? "lxc" : "qemu"),
  };
  if (typeof entry.name === "string") guest.name = entry.name;
  for (
    const key of [
      "uptime",
      "cpu",
      "mem",
      "disk",
      "netin",
      "netout",
      "diskread",
      "diskwrite",
    ] as const
  ) {
    const value = num(entry[key]);
    if (value !== undefined && guest.status === "running") guest[key] = value;
  }
  return guest;
}

/** Reads config, snapshots and firewall; false when the guest is gone. */
async function readGuestDetails(c: Capture, guest: TwinGuest): Promise<boolean> {
  const base = `/nodes/${segment(guest.node)}/${guest.type}/${guest.vmid}`;
  const path = `guests/${guest.vmid}`;
  const subject = String(guest.vmid);
  let items: Raw[];
  try {
    items = rows(await c.get(`${base}/pending`));
  } catch (error) {
    if (error instanceof PveAuthError || !(error instanceof PveError)) throw error;
    if (/does not exist/i.test(error.pveMessage ?? error.message)) {
      c.gaps.add("guest (removed during the capture)", subject, error);
      return false;
    }
    c.gaps.add("guest config", subject, error);
    return true;
  }
  guest.config = {};
  for (const item of items) {
    const key = String(item.key ?? "");
    if (key === "" || key === "digest") continue;
    if ("value" in item) {
      guest.config[key] = configValue(c.secrets.value(`${path}/config/${key}`, key, item.value));
    }
    if ("pending" in item) {
      guest.pending ??= {};
      guest.pending[key] = configValue(
        c.secrets.value(`${path}/pending/${key}`, key, item.pending),
      );
    }
    if (flag(item.delete)) (guest.pending_delete ??= []).push(key);
  }
  const [snapshots, firewall] = await Promise.all([
    readSnapshots(c, guest, base, path),
    readFirewall(c, `${base}/firewall`, `${path}/firewall`, subject),
  ]);
  if (snapshots.length > 0) guest.snapshots = snapshots;
  if (
    Object.keys(firewall.options).length > 0 || firewall.rules.length > 0 ||
    firewall.aliases.length > 0 || firewall.ipsets.length > 0
  ) {
    guest.firewall = firewall;
  }
  return true;
}

async function readSnapshots(
  c: Capture,
  guest: TwinGuest,
  base: string,
  path: string,
): Promise<TwinSnapshot[]> {
  const subject = String(guest.vmid);
  const list = rows(
    await c.optional("guest snapshots", subject, () => c.get(`${base}/snapshot`)),
  ).filter((s) => s.name !== "current" && typeof s.name === "string");
  const out: TwinSnapshot[] = [];
  for (const item of list) {
    const name = String(item.name);
    const where = `${path}/snapshots/${name}`;
    const config = record(
      await c.optional(
        "snapshot config",
        `${subject} ${name}`,
        () => c.get(`${base}/snapshot/${segment(name)}/config`),
      ),
    );
    const snapshot: TwinSnapshot = {
      name,
      snaptime: num(item.snaptime) ?? 0,
      description: String(
        c.secrets.value(`${where}/description`, "description", item.description ?? ""),
      ),
      config: {},
    };
    const vmstate = num(item.vmstate);
    if (vmstate !== undefined) snapshot.vmstate = vmstate;
    if (typeof item.parent === "string") snapshot.parent = item.parent;
    for (const [key, value] of Object.entries(config)) {
      if (key === "digest") continue;
      snapshot.config[key] = configValue(c.secrets.value(`${where}/config/${key}`, key, value));
    }
    out.push(snapshot);
  }
  return out.sort((a, b) => a.snaptime - b.snaptime || a.name.localeCompare(b.name));
}
