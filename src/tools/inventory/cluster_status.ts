/**
 * `cluster_status`: is the cluster healthy? Quorum, cluster name, every node up or down
 * with its load and root disk, and the Proxmox VE version — from `/cluster/status`,
 * `/cluster/resources?type=node` and `/version` (plus per-node versions on small clusters).
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import {
  formatBytes,
  formatDuration,
  formatPercent,
  num,
  round4,
  truthy,
} from "../_shared/format.ts";
import { allOrAbort } from "../_shared/parallel.ts";

/** Per-node versions are fetched only up to this many online nodes (one call each). */
const PER_NODE_VERSION_LIMIT = 16;

const nodeSchema = z.object({
  node: z.string(),
  online: z.boolean(),
  status: z.string(),
  ip: z.string().optional(),
  local: z.boolean().optional(),
  cpu_fraction: z.number().optional(),
  maxcpu: z.number().optional(),
  mem_bytes: z.number().optional(),
  maxmem_bytes: z.number().optional(),
  rootfs_used_bytes: z.number().optional(),
  rootfs_total_bytes: z.number().optional(),
  uptime_seconds: z.number().optional(),
  pve_version: z.string().optional(),
});

type NodeRow = z.infer<typeof nodeSchema>;

const outputSchema = z.object({
  cluster_name: z.string().optional(),
  clustered: z.boolean(),
  quorate: z.boolean(),
  nodes_online: z.number(),
  nodes_total: z.number(),
  offline_nodes: z.array(z.string()),
  version: z.string().optional(),
  release: z.string().optional(),
  versions: z.array(z.string()),
  nodes: z.array(nodeSchema),
});

interface StatusEntry {
  type?: string;
  name?: string;
  quorate?: unknown;
  online?: unknown;
  ip?: string;
  local?: unknown;
}

interface NodeResource {
  type?: string;
  node?: string;
  id?: string;
  status?: string;
  cpu?: unknown;
  maxcpu?: unknown;
  mem?: unknown;
  maxmem?: unknown;
  disk?: unknown;
  maxdisk?: unknown;
  uptime?: unknown;
}

/** Cluster health: quorum, nodes up/down with load, versions. */
export const clusterStatus = defineTool({
  name: "cluster_status",
  title: "Cluster status",
  description:
    "Cluster health at a glance: name, quorum, each node online/offline with CPU, memory, root disk and uptime, and Proxmox VE version(s). Start here.",
  toolset: "inventory",
  capability: "read",
  inputSchema: z.object({}),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(_args, ctx) {
    const [statusData, resourceData, versionData] = await allOrAbort(ctx.signal, [
      (signal) => ctx.client.get("/cluster/status", undefined, { signal }),
      (signal) => ctx.client.get("/cluster/resources", { type: "node" }, { signal }),
      (signal) => ctx.client.get("/version", undefined, { signal }),
    ]);
    const status = (Array.isArray(statusData) ? statusData : []) as StatusEntry[];
    const resources = (Array.isArray(resourceData) ? resourceData : []) as NodeResource[];
    const version = (versionData ?? {}) as { version?: unknown; release?: unknown };

    const clusterEntry = status.find((e) => e.type === "cluster");
    const members = new Map<string, StatusEntry>();
    for (const entry of status) {
      if (entry.type === "node" && typeof entry.name === "string") members.set(entry.name, entry);
    }
    const names = new Set<string>(members.keys());
    for (const r of resources) {
      const name = r.node ?? r.id?.replace(/^node\//, "");
      if (r.type === "node" && name !== undefined) names.add(name);
    }
    const byName = new Map(resources.map((r) => [r.node ?? r.id?.replace(/^node\//, ""), r]));
    const nodes: NodeRow[] = [...names].sort().map((name) => {
      const member = members.get(name);
      const res = byName.get(name);
      const online = member !== undefined ? truthy(member.online) : res?.status === "online";
      const row: NodeRow = {
        node: name,
        online,
        status: online
          ? "online"
          : (res?.status && res.status !== "online" ? res.status : "offline"),
      };
      if (member?.ip !== undefined) row.ip = member.ip;
      if (member?.local !== undefined) row.local = truthy(member.local);
      if (online && res !== undefined) {
        const cpu = num(res.cpu);
        const maxcpu = num(res.maxcpu);
        const mem = num(res.mem);
        const maxmem = num(res.maxmem);
        const disk = num(res.disk);
        const maxdisk = num(res.maxdisk);
        const uptime = num(res.uptime);
        if (cpu !== undefined) row.cpu_fraction = round4(cpu);
        if (maxcpu !== undefined) row.maxcpu = maxcpu;
        if (mem !== undefined) row.mem_bytes = mem;
        if (maxmem !== undefined) row.maxmem_bytes = maxmem;
        if (disk !== undefined) row.rootfs_used_bytes = disk;
        if (maxdisk !== undefined) row.rootfs_total_bytes = maxdisk;
        if (uptime !== undefined) row.uptime_seconds = uptime;
      }
      return row;
    });

    const online = nodes.filter((n) => n.online);
    if (online.length > 1 && online.length <= PER_NODE_VERSION_LIMIT) {
      await Promise.all(online.map(async (row) => {
        try {
          const v = await ctx.client.get(
            `/nodes/${encodeURIComponent(row.node)}/version`,
            undefined,
            {
              signal: ctx.signal,
            },
          ) as {
            version?: unknown;
          };
          if (v?.version !== undefined) row.pve_version = String(v.version);
        } catch {
          // A node that cannot answer just lacks its version; the status above still stands.
        }
      }));
    } else if (online.length === 1 && version.version !== undefined) {
      const only = online[0];
      if (only !== undefined) only.pve_version = String(version.version);
    }

    const clustered = clusterEntry !== undefined;
    const quorate = clustered ? truthy(clusterEntry.quorate) : online.length > 0;
    const offline = nodes.filter((n) => !n.online).map((n) => n.node);
    const versions = [
      ...new Set(
        [
          ...(version.version !== undefined ? [String(version.version)] : []),
          ...nodes.flatMap((n) => n.pve_version !== undefined ? [n.pve_version] : []),
        ],
      ),
    ].sort();
    const structured: z.infer<typeof outputSchema> = {
      clustered,
      quorate,
      nodes_online: online.length,
      nodes_total: nodes.length,
      offline_nodes: offline,
      versions,
      nodes,
    };
    if (clustered && typeof clusterEntry.name === "string") {
      structured.cluster_name = clusterEntry.name;
    }
    if (version.version !== undefined) structured.version = String(version.version);
    if (version.release !== undefined) structured.release = String(version.release);

    const head = `${
      clustered ? `Cluster "${structured.cluster_name ?? "?"}"` : "Standalone node"
    }: ${
      quorate ? "quorate" : "NOT quorate"
    }, ${online.length}/${nodes.length} nodes online, Proxmox VE ${
      versions.length > 0 ? versions.join(" / ") : "version unknown"
    }${versions.length > 1 ? " (mixed versions)" : ""}.`;
    const lines = [head];
    for (const n of nodes) {
      lines.push(
        n.online
          ? `${n.node}: online, cpu ${formatPercent(n.cpu_fraction)} of ${n.maxcpu ?? "?"}, mem ${
            formatBytes(n.mem_bytes)
          } / ${formatBytes(n.maxmem_bytes)}, root ${formatBytes(n.rootfs_used_bytes)} / ${
            formatBytes(n.rootfs_total_bytes)
          }, up ${formatDuration(n.uptime_seconds)}`
          : `${n.node}: OFFLINE — its guests cannot be managed until it is back`,
      );
    }
    if (!quorate && clustered) {
      lines.push(
        "Without quorum the cluster is read-only: writes will fail until enough nodes are back.",
      );
    }
    return { text: lines.join("\n"), structured };
  },
});
