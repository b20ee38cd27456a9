/**
 * The cluster summary resource's text: nodes with CPU and memory, the guests on each node by
 * status, and storage use — from one `/cluster/resources` read plus `/cluster/status` for the
 * cluster's name and quorum. Only what the scope admits is shown: guests outside it are not
 * counted, and a node scope leaves other nodes and their storages out.
 *
 * @module
 */

import { inScope, type Scope } from "../policy/scope.ts";
import type { ClusterResources, ClusterStorage } from "../pve/mod.ts";
import { formatBytes, formatPercent, truthy } from "../tools/_shared/format.ts";
import { scopeOf } from "../tools/_shared/guest.ts";

/** What the summary is written from. */
export interface SummaryInput {
  /** The configured cluster name. */
  cluster: string;
  resources: ClusterResources;
  /** `/cluster/status` entries, when they could be read. */
  status?: readonly unknown[];
  scope: Scope;
}

interface StatusEntry {
  type?: unknown;
  name?: unknown;
  quorate?: unknown;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** One storage row: a shared storage once, a local one per node. */
interface StorageRow {
  storage: ClusterStorage;
  where: string;
}

function storageRows(storage: readonly ClusterStorage[], nodes: ReadonlySet<string>): StorageRow[] {
  const rows: StorageRow[] = [];
  const shared = new Set<string>();
  for (const entry of storage) {
    if (!nodes.has(entry.node)) continue;
    if (entry.shared) {
      if (shared.has(entry.storage)) continue;
      shared.add(entry.storage);
      rows.push({ storage: entry, where: "shared" });
    } else {
      rows.push({ storage: entry, where: entry.node });
    }
  }
  return rows.sort((a, b) =>
    a.storage.storage.localeCompare(b.storage.storage) || a.where.localeCompare(b.where)
  );
}

/** The summary as Markdown. */
export function clusterSummaryText(input: SummaryInput): string {
  const { resources, scope } = input;
  const nodeScope = scope.nodes !== undefined && scope.nodes.length > 0
    ? new Set(scope.nodes)
    : undefined;
  const nodes = resources.nodes.filter((n) => nodeScope === undefined || nodeScope.has(n.node));
  const nodeNames = new Set(nodes.map((n) => n.node));
  const guests = resources.guests.filter((g) => inScope(scopeOf(g), scope));
  const entries = (input.status ?? []) as StatusEntry[];
  const clusterEntry = entries.find((e) => e.type === "cluster");

  const lines = [`# Cluster summary: ${input.cluster}`, ""];
  const online = nodes.filter((n) => n.status === "online").length;
  const head: string[] = [];
  if (clusterEntry !== undefined) {
    const name = typeof clusterEntry.name === "string" ? ` "${clusterEntry.name}"` : "";
    const quorum = truthy(clusterEntry.quorate) ? "quorate" : "NOT quorate";
    head.push(`Proxmox VE cluster${name} is ${quorum}.`);
  } else if (input.status !== undefined) {
    head.push("A standalone Proxmox VE node.");
  }
  head.push(`${online} of ${plural(nodes.length, "node")} online.`);
  const running = guests.filter((g) => g.status === "running").length;
  const templates = guests.filter((g) => g.template).length;
  const vms = guests.filter((g) => g.type === "qemu" && !g.template).length;
  const cts = guests.filter((g) => g.type === "lxc" && !g.template).length;
  head.push(
    `${plural(guests.length, "guest")} this server may act on: ${running} running, ${
      guests.length - running
    } not running; ${plural(vms, "VM")}, ${plural(cts, "container")}, ${
      plural(templates, "template")
    }.`,
  );
  lines.push(head.join(" "), "");

  lines.push(
    "| node | status | CPU | memory | guests running / total |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const node of nodes) {
    const here = guests.filter((g) => g.node === node.node);
    const up = here.filter((g) => g.status === "running").length;
    const isOnline = node.status === "online";
    const cpu = isOnline
      ? `${formatPercent(node.cpu)}${node.maxcpu === undefined ? "" : ` of ${node.maxcpu}`}`
      : "-";
    const mem = isOnline ? `${formatBytes(node.mem)} / ${formatBytes(node.maxmem)}` : "-";
    lines.push(`| ${node.node} | ${node.status} | ${cpu} | ${mem} | ${up} / ${here.length} |`);
  }

  const rows = storageRows(resources.storage, nodeNames);
  if (rows.length > 0) {
    lines.push(
      "",
      "| storage | node | type | status | used / total |",
      "| --- | --- | --- | --- | --- |",
    );
    for (const { storage, where } of rows) {
      const used = storage.disk !== undefined && storage.maxdisk !== undefined &&
          storage.maxdisk > 0
        ? `${formatBytes(storage.disk)} / ${formatBytes(storage.maxdisk)} (${
          formatPercent(storage.disk / storage.maxdisk)
        })`
        : "-";
      lines.push(
        `| ${storage.storage} | ${where} | ${
          storage.plugintype ?? "?"
        } | ${storage.status} | ${used} |`,
      );
    }
  }
  if (resources.offlineNodes.some((node) => nodeNames.has(node))) {
    lines.push(
      "",
      "Guests on offline nodes are listed from the cluster configuration; their status is stale.",
    );
  }
  return lines.join("\n");
}
