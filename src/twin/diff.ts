/**
 * `diffTwins`: what changed between two twins of the same cluster — usually its capture and the
 * twin after a rehearsal — in the terms a reviewer cares about: guests added, removed, moved,
 * started or stopped, config keys changed, snapshots taken or removed; volumes created,
 * deleted, resized or moved between nodes; pools, HA, backup jobs and the firewall changed.
 * Live counters (CPU, memory, uptime, traffic) and storage usage are not compared: they move on
 * their own. `formatDiff` renders it as one page.
 *
 * @module
 */

import type { TwinFile, TwinGuest, TwinValue, TwinVolume } from "./format.ts";

/** One config key that differs. */
export interface ConfigChange {
  key: string;
  before?: TwinValue;
  after?: TwinValue;
}

/** How one guest differs. */
export interface GuestChange {
  vmid: number;
  name: string;
  type: "qemu" | "lxc";
  /** `[before, after]` node when it moved. */
  node?: [string, string];
  /** `[before, after]` status when it changed. */
  status?: [string, string];
  config: ConfigChange[];
  /** Pending (not yet applied) changes that differ. */
  pending: ConfigChange[];
  snapshots_added: string[];
  snapshots_removed: string[];
  /** `[before, after]` pool (`""` for none) when membership changed. */
  pool?: [string, string];
  /** `[before, after]` HA state (`""` for not HA-managed) when it changed. */
  ha?: [string, string];
  /** The guest firewall changed (options, rules, aliases or IP sets). */
  firewall: boolean;
}

/** A guest present on one side only. */
export interface GuestSummary {
  vmid: number;
  name: string;
  type: "qemu" | "lxc";
  node: string;
  status: string;
}

/** A volume, where it lives. */
export interface VolumeSummary {
  storage: string;
  volid: string;
  /** For volumes of local storage. */
  node?: string;
  content: string;
  size: number;
}

/** The difference between two twins. */
export interface TwinDiff {
  before: { id: string; captured_at: string; cluster: string | null };
  after: { id: string; captured_at: string; cluster: string | null };
  /** The two twins describe different clusters (the comparison may mean little). */
  different_clusters: boolean;
  guests: { added: GuestSummary[]; removed: GuestSummary[]; changed: GuestChange[] };
  volumes: {
    added: VolumeSummary[];
    removed: VolumeSummary[];
    /** Same volume, another size. */
    resized: (VolumeSummary & { size_before: number })[];
    /** A local volume that left one node and appeared on another (a migration). */
    moved: (VolumeSummary & { node_before: string })[];
  };
  /** Nodes that went offline or came back: `[name, before, after]`. */
  nodes: { name: string; online: [boolean, boolean] }[];
  /** Other parts that differ, by name (`pools`, `ha rules`, `backup jobs`, `firewall`, …). */
  other: string[];
  /** Nothing differs. */
  unchanged: boolean;
}

function guestName(guest: TwinGuest): string {
  const name = guest.config[guest.type === "qemu" ? "name" : "hostname"] ?? guest.name;
  return name === undefined ? "" : String(name);
}

function summary(guest: TwinGuest): GuestSummary {
  return {
    vmid: guest.vmid,
    name: guestName(guest),
    type: guest.type,
    node: guest.node,
    status: guest.status,
  };
}

function configChanges(
  before: Record<string, TwinValue> = {},
  after: Record<string, TwinValue> = {},
): ConfigChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: ConfigChange[] = [];
  for (const key of keys) {
    const a = before[key];
    const b = after[key];
    if (a !== undefined && b !== undefined && String(a) === String(b)) continue;
    const change: ConfigChange = { key };
    if (a !== undefined) change.before = a;
    if (b !== undefined) change.after = b;
    out.push(change);
  }
  return out;
}

/** JSON with object keys sorted, so that key order never counts as a difference. */
function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item) =>
      typeof item === "object" && item !== null && !Array.isArray(item)
        ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
        : item,
  );
}

function poolIndex(twin: TwinFile): Map<number, string> {
  const index = new Map<number, string>();
  for (const pool of twin.pools ?? []) for (const vmid of pool.vms) index.set(vmid, pool.poolid);
  return index;
}

function haIndex(twin: TwinFile): Map<string, string> {
  return new Map(
    (twin.ha?.resources ?? []).map((r) => [String(r.sid), String(r.state ?? "started")]),
  );
}

function sid(guest: TwinGuest): string {
  return `${guest.type === "qemu" ? "vm" : "ct"}:${guest.vmid}`;
}

function guestChange(
  a: TwinGuest,
  b: TwinGuest,
  context: {
    pools: [Map<number, string>, Map<number, string>];
    ha: [Map<string, string>, Map<string, string>];
  },
): GuestChange | undefined {
  const change: GuestChange = {
    vmid: b.vmid,
    name: guestName(b) || guestName(a),
    type: b.type,
    config: configChanges(a.config, b.config),
    pending: configChanges(
      { ...a.pending, ...Object.fromEntries((a.pending_delete ?? []).map((k) => [k, "(delete)"])) },
      { ...b.pending, ...Object.fromEntries((b.pending_delete ?? []).map((k) => [k, "(delete)"])) },
    ),
    snapshots_added: [],
    snapshots_removed: [],
    firewall: canonical(a.firewall ?? null) !== canonical(b.firewall ?? null),
  };
  if (a.node !== b.node) change.node = [a.node, b.node];
  if (a.status !== b.status) change.status = [a.status, b.status];
  const snapsA = new Set((a.snapshots ?? []).map((s) => s.name));
  const snapsB = new Set((b.snapshots ?? []).map((s) => s.name));
  change.snapshots_added = [...snapsB].filter((name) => !snapsA.has(name)).sort();
  change.snapshots_removed = [...snapsA].filter((name) => !snapsB.has(name)).sort();
  const poolA = context.pools[0].get(a.vmid) ?? "";
  const poolB = context.pools[1].get(b.vmid) ?? "";
  if (poolA !== poolB) change.pool = [poolA, poolB];
  const haA = context.ha[0].get(sid(a)) ?? "";
  const haB = context.ha[1].get(sid(b)) ?? "";
  if (haA !== haB) change.ha = [haA, haB];
  const changed = change.node !== undefined || change.status !== undefined ||
    change.config.length > 0 || change.pending.length > 0 || change.snapshots_added.length > 0 ||
    change.snapshots_removed.length > 0 || change.pool !== undefined || change.ha !== undefined ||
    change.firewall;
  return changed ? change : undefined;
}

function volumes(twin: TwinFile): Map<string, VolumeSummary> {
  const out = new Map<string, VolumeSummary>();
  for (const storage of twin.storages) {
    const id = String(storage.config.storage);
    for (const volume of storage.volumes ?? []) {
      out.set(volumeKey(id, volume), summaryOf(id, volume));
    }
  }
  return out;
}

function volumeKey(storage: string, volume: TwinVolume): string {
  return `${storage}\u0000${volume.node ?? ""}\u0000${volume.volid}`;
}

function summaryOf(storage: string, volume: TwinVolume): VolumeSummary {
  const out: VolumeSummary = {
    storage,
    volid: volume.volid,
    content: volume.content,
    size: volume.size,
  };
  if (volume.node !== undefined) out.node = volume.node;
  return out;
}

function byVolid(a: VolumeSummary, b: VolumeSummary): number {
  return a.volid.localeCompare(b.volid) || (a.node ?? "").localeCompare(b.node ?? "");
}

function diffVolumes(before: TwinFile, after: TwinFile): TwinDiff["volumes"] {
  const a = volumes(before);
  const b = volumes(after);
  const added: VolumeSummary[] = [];
  const removed: VolumeSummary[] = [];
  const resized: TwinDiff["volumes"]["resized"] = [];
  for (const [key, volume] of b) {
    const old = a.get(key);
    if (old === undefined) added.push(volume);
    else if (old.size !== volume.size) resized.push({ ...volume, size_before: old.size });
  }
  for (const [key, volume] of a) if (!b.has(key)) removed.push(volume);
  // A local volume removed from one node and added on another under the same volid moved.
  const moved: TwinDiff["volumes"]["moved"] = [];
  for (const volume of [...added]) {
    if (volume.node === undefined) continue;
    const gone = removed.find((r) =>
      r.storage === volume.storage && r.volid === volume.volid && r.node !== undefined
    );
    if (gone === undefined) continue;
    moved.push({ ...volume, node_before: gone.node ?? "" });
    added.splice(added.indexOf(volume), 1);
    removed.splice(removed.indexOf(gone), 1);
  }
  return {
    added: added.sort(byVolid),
    removed: removed.sort(byVolid),
    resized: resized.sort(byVolid),
    moved: moved.sort(byVolid),
  };
}

/** What changed from `before` to `after`. */
export function diffTwins(before: TwinFile, after: TwinFile): TwinDiff {
  const guestsA = new Map(before.guests.map((g) => [g.vmid, g]));
  const guestsB = new Map(after.guests.map((g) => [g.vmid, g]));
  const context = {
    pools: [poolIndex(before), poolIndex(after)] as [Map<number, string>, Map<number, string>],
    ha: [haIndex(before), haIndex(after)] as [Map<string, string>, Map<string, string>],
  };
  const added: GuestSummary[] = [];
  const removed: GuestSummary[] = [];
  const changed: GuestChange[] = [];
  for (const [vmid, guest] of guestsB) {
    const old = guestsA.get(vmid);
    if (old === undefined || old.type !== guest.type) {
      added.push(summary(guest));
      if (old !== undefined) removed.push(summary(old));
      continue;
    }
    const change = guestChange(old, guest, context);
    if (change !== undefined) changed.push(change);
  }
  for (const [vmid, guest] of guestsA) if (!guestsB.has(vmid)) removed.push(summary(guest));
  const byVmid = (x: { vmid: number }, y: { vmid: number }) => x.vmid - y.vmid;

  const nodesA = new Map(before.nodes.map((n) => [n.name, n.online]));
  const nodes: TwinDiff["nodes"] = [];
  for (const node of after.nodes) {
    const was = nodesA.get(node.name);
    if (was !== undefined && was !== node.online) {
      nodes.push({ name: node.name, online: [was, node.online] });
    }
  }

  const other: string[] = [];
  const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);
  const nodeNames = (t: TwinFile) => t.nodes.map((n) => n.name).sort();
  if (!same(nodeNames(before), nodeNames(after))) other.push("nodes (added or removed)");
  if (!same(before.storages.map((s) => s.config), after.storages.map((s) => s.config))) {
    other.push("storage configuration");
  }
  const poolShape = (t: TwinFile) =>
    (t.pools ?? []).map((p) => ({ poolid: p.poolid, comment: p.comment, storage: p.storage }));
  if (!same(poolShape(before), poolShape(after))) other.push("pools");
  if (!same(before.ha?.rules, after.ha?.rules) || !same(before.ha?.groups, after.ha?.groups)) {
    other.push("HA rules and groups");
  }
  if (!same(before.backup_jobs, after.backup_jobs)) other.push("backup jobs");
  if (!same(before.replication, after.replication)) other.push("replication jobs");
  if (!same(before.firewall, after.firewall)) other.push("cluster firewall");
  const hostFirewall = (t: TwinFile) => t.nodes.map((n) => [n.name, n.firewall ?? null]);
  if (!same(hostFirewall(before), hostFirewall(after))) other.push("node firewall");
  const network = (t: TwinFile) => t.nodes.map((n) => [n.name, n.network ?? null]);
  if (!same(network(before), network(after))) other.push("node network");

  const diff: TwinDiff = {
    before: { id: before.id, captured_at: before.captured_at, cluster: before.source?.cluster },
    after: { id: after.id, captured_at: after.captured_at, cluster: after.source?.cluster },
    different_clusters: before.source?.cluster !== after.source?.cluster,
    guests: {
      added: added.sort(byVmid),
      removed: removed.sort(byVmid),
      changed: changed.sort(byVmid),
    },
    volumes: diffVolumes(before, after),
    nodes,
    other,
    unchanged: false,
  };
  diff.unchanged = diff.guests.added.length === 0 && diff.guests.removed.length === 0 &&
    diff.guests.changed.length === 0 && diff.volumes.added.length === 0 &&
    diff.volumes.removed.length === 0 && diff.volumes.resized.length === 0 &&
    diff.volumes.moved.length === 0 && nodes.length === 0 && other.length === 0;
  return diff;
}

const GiB = 1024 ** 3;

function size(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(bytes % GiB === 0 ? 0 : 1)} GiB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MiB`;
  return `${bytes} B`;
}

function value(v: TwinValue | undefined): string {
  if (v === undefined) return "(unset)";
  const text = String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function label(g: { vmid: number; name: string; type: string }): string {
  return `${g.type === "lxc" ? "CT" : "VM"} ${g.vmid}${g.name === "" ? "" : ` (${g.name})`}`;
}

function volumeLabel(v: VolumeSummary): string {
  return `${v.volid}${v.node === undefined ? "" : ` on ${v.node}`}`;
}

/** Lines per section before the rest is counted. */
const SECTION_LINES = 25;

function section(out: string[], title: string, lines: string[]): void {
  if (lines.length === 0) return;
  out.push("", `${title} (${lines.length}):`);
  for (const line of lines.slice(0, SECTION_LINES)) out.push(`  ${line}`);
  if (lines.length > SECTION_LINES) {
    out.push(`  … and ${lines.length - SECTION_LINES} more (see --json)`);
  }
}

/** The diff as one page of text. */
export function formatDiff(diff: TwinDiff): string {
  const name = (side: TwinDiff["before"]) => side.cluster ?? "standalone node";
  const out = [
    `Twin diff of ${
      name(diff.before)
    }: ${diff.before.captured_at} (${diff.before.id}) -> ${diff.after.captured_at} (${diff.after.id})`,
  ];
  if (diff.different_clusters) {
    out.push(
      `Warning: the twins are of different clusters (${name(diff.before)} vs ${
        name(diff.after)
      }); compare a twin with its own rehearsal.`,
    );
  }
  if (diff.unchanged) {
    out.push("", "No guests, configs, volumes or placements changed.");
    return out.join("\n");
  }
  section(
    out,
    "Guests added",
    diff.guests.added.map((g) => `${label(g)} on ${g.node}, ${g.status}`),
  );
  section(
    out,
    "Guests removed",
    diff.guests.removed.map((g) => `${label(g)} was on ${g.node}, ${g.status}`),
  );
  const moved = diff.guests.changed.filter((c) => c.node !== undefined);
  section(
    out,
    "Guests moved",
    moved.map((c) =>
      `${label(c)}: ${c.node?.[0]} -> ${c.node?.[1]}${
        c.status === undefined ? "" : ` (${c.status[0]} -> ${c.status[1]})`
      }`
    ),
  );
  const lines: string[] = [];
  for (const c of diff.guests.changed) {
    const parts: string[] = [];
    if (c.status !== undefined && c.node === undefined) {
      parts.push(`${c.status[0]} -> ${c.status[1]}`);
    }
    for (const change of c.config) {
      parts.push(`${change.key}: ${value(change.before)} -> ${value(change.after)}`);
    }
    for (const change of c.pending) {
      parts.push(`pending ${change.key}: ${value(change.before)} -> ${value(change.after)}`);
    }
    if (c.snapshots_added.length > 0) {
      parts.push(`snapshots added: ${c.snapshots_added.join(", ")}`);
    }
    if (c.snapshots_removed.length > 0) {
      parts.push(`snapshots removed: ${c.snapshots_removed.join(", ")}`);
    }
    if (c.pool !== undefined) {
      parts.push(`pool: ${c.pool[0] || "(none)"} -> ${c.pool[1] || "(none)"}`);
    }
    if (c.ha !== undefined) parts.push(`HA: ${c.ha[0] || "(none)"} -> ${c.ha[1] || "(none)"}`);
    if (c.firewall) parts.push("firewall changed");
    if (parts.length > 0) lines.push(`${label(c)}: ${parts.join("; ")}`);
  }
  section(out, "Guests changed", lines);
  section(
    out,
    "Volumes moved",
    diff.volumes.moved.map((v) => `${v.volid}: ${v.node_before} -> ${v.node} (${size(v.size)})`),
  );
  section(
    out,
    "Volumes added",
    diff.volumes.added.map((v) => `${volumeLabel(v)} (${v.content}, ${size(v.size)})`),
  );
  section(
    out,
    "Volumes removed",
    diff.volumes.removed.map((v) => `${volumeLabel(v)} (${v.content}, ${size(v.size)})`),
  );
  section(
    out,
    "Volumes resized",
    diff.volumes.resized.map((v) => `${volumeLabel(v)}: ${size(v.size_before)} -> ${size(v.size)}`),
  );
  section(
    out,
    "Nodes",
    diff.nodes.map((n) =>
      `${n.name}: ${n.online[0] ? "online" : "offline"} -> ${n.online[1] ? "online" : "offline"}`
    ),
  );
  if (diff.other.length > 0) out.push("", `Also changed: ${diff.other.join(", ")}.`);
  return out.join("\n");
}
