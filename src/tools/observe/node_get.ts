/**
 * `node_get`: one node in one call — CPU, load, memory and swap, root filesystem, uptime,
 * kernel and PVE version (`/nodes/{node}/status`), subscription, failed system services, and its
 * storages and bridges one line each.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { pvePath } from "../../pve/mod.ts";
import { defineTool } from "../types.ts";
import { formatBytes, formatDuration, formatPercent, num, round4 } from "../_shared/format.ts";
import { requireOnlineNode } from "../_shared/nodes.ts";
import { nodeParam } from "../_shared/params.ts";

// Besides these, the figures PVE reports, units in the names: uptime_seconds, cpu_model,
// sockets, cores, cpus, cpu_fraction, iowait_fraction, mem_total_bytes, mem_used_bytes,
// swap_total_bytes, swap_used_bytes, rootfs_total_bytes, rootfs_used_bytes, kernel, pve_version.
const outputSchema = z.object({
  node: z.string(),
  loadavg: z.array(z.number()),
  subscription: z.string(),
  failed_services: z.array(z.string()),
  storages: z.array(z.string()),
  bridges: z.array(z.string()),
}).catchall(z.unknown());

type Output = z.infer<typeof outputSchema> & {
  uptime_seconds?: number;
  cpu_model?: string;
  sockets?: number;
  cores?: number;
  cpus?: number;
  cpu_fraction?: number;
  iowait_fraction?: number;
  mem_total_bytes?: number;
  mem_used_bytes?: number;
  swap_total_bytes?: number;
  swap_used_bytes?: number;
  rootfs_total_bytes?: number;
  rootfs_used_bytes?: number;
  kernel?: string;
  pve_version?: string;
};
type Row = Record<string, unknown>;

function rows(value: unknown): Row[] {
  return Array.isArray(value) ? value as Row[] : [];
}

function record(value: unknown): Row {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Row : {};
}

/** `local-lvm (lvmthin): 190.0 GiB of 794.0 GiB used (24.0%)`, or why it has no figures. */
function storageLine(entry: Row): string {
  const name = String(entry.storage ?? "?");
  const kind = `${entry.type ?? "?"}${entry.shared === 1 ? ", shared" : ""}`;
  if (entry.active !== 1) return `${name} (${kind}): inactive`;
  if (entry.enabled === 0) return `${name} (${kind}): disabled`;
  const total = num(entry.total);
  const used = num(entry.used);
  const fraction = total !== undefined && total > 0 && used !== undefined ? used / total : 0;
  return `${name} (${kind}): ${formatBytes(used)} of ${formatBytes(total)} used (${
    formatPercent(fraction)
  })`;
}

/** `vmbr0: 10.0.0.11/24 gw 10.0.0.1, ports bond0, VLAN-aware 2-4094`. */
function bridgeLine(entry: Row, pending: boolean): string {
  const parts: string[] = [];
  if (typeof entry.cidr === "string") {
    parts.push(`${entry.cidr}${typeof entry.gateway === "string" ? ` gw ${entry.gateway}` : ""}`);
  }
  if (typeof entry.cidr6 === "string") parts.push(entry.cidr6);
  const ports = String(entry.bridge_ports ?? entry.ovs_ports ?? "").trim();
  parts.push(ports === "" ? "no ports" : `ports ${ports.split(/\s+/).join(",")}`);
  if (entry.bridge_vlan_aware === 1) parts.push(`VLAN-aware ${entry.bridge_vids ?? "2-4094"}`);
  if (entry.active !== 1) parts.push(pending ? "pending, not applied" : "down");
  return `${entry.iface}: ${parts.join(", ")}`;
}

function subscriptionText(sub: Row): string {
  const status = String(sub.status ?? "unknown").toLowerCase();
  if (status === "notfound") return "none";
  const level = typeof sub.level === "string" && sub.level !== "" ? ` (${sub.level})` : "";
  const due = typeof sub.nextduedate === "string" ? `, next due ${sub.nextduedate}` : "";
  return `${status}${level}${due}`;
}

/** Shows one node. */
export const nodeGet = defineTool({
  name: "node_get",
  title: "Get node details",
  description:
    "One node: CPU, load, memory, swap, root disk, uptime, kernel and PVE version, subscription, failed services, and its storages and bridges one line each.",
  toolset: "observe",
  capability: "read",
  inputSchema: z.object({ node: nodeParam() }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    await requireOnlineNode(args.node, ctx);
    const base = pvePath`/nodes/${args.node}`;
    const sig = { signal: ctx.signal };
    const [statusData, subData, servicesData, storageData, bridgeData] = await Promise.all([
      ctx.client.get(`${base}/status`, undefined, sig),
      ctx.client.get(`${base}/subscription`, undefined, sig).catch(() => ({})),
      ctx.client.get(`${base}/services`, undefined, sig).catch(() => []),
      ctx.client.get(`${base}/storage`, undefined, sig).catch(() => []),
      ctx.client.requestEnvelope("GET", `${base}/network`, {
        params: { type: "any_bridge" },
        signal: ctx.signal,
      }).catch(() => ({ data: [] as unknown })),
    ]);
    const status = record(statusData);
    const cpuinfo = record(status.cpuinfo);
    const memory = record(status.memory);
    const swap = record(status.swap);
    const rootfs = record(status.rootfs);
    const kernel = record(status["current-kernel"]);
    const failed = rows(servicesData)
      .filter((s) => s.state === "failed" || s["active-state"] === "failed")
      .map((s) => String(s.service ?? s.name)).sort();
    const storages = rows(storageData)
      .sort((a, b) => String(a.storage).localeCompare(String(b.storage))).map(storageLine);
    const pending = "changes" in bridgeData && typeof bridgeData.changes === "string";
    const bridges = rows(bridgeData.data)
      .sort((a, b) => String(a.iface).localeCompare(String(b.iface)))
      .map((entry) => bridgeLine(entry, pending));

    const out: Output = {
      node: args.node,
      loadavg: (Array.isArray(status.loadavg) ? status.loadavg : []).map((v) => num(v) ?? 0),
      subscription: subscriptionText(record(subData)),
      failed_services: failed,
      storages,
      bridges,
    };
    const numbers: [keyof Output, unknown][] = [
      ["uptime_seconds", status.uptime],
      ["sockets", cpuinfo.sockets],
      ["cores", cpuinfo.cores],
      ["cpus", cpuinfo.cpus],
      ["mem_total_bytes", memory.total],
      ["mem_used_bytes", memory.used],
      ["swap_total_bytes", swap.total],
      ["swap_used_bytes", swap.used],
      ["rootfs_total_bytes", rootfs.total],
      ["rootfs_used_bytes", rootfs.used],
    ];
    for (const [key, value] of numbers) {
      const n = num(value);
      if (n !== undefined) (out as Record<string, unknown>)[key] = n;
    }
    const cpu = num(status.cpu);
    if (cpu !== undefined) out.cpu_fraction = round4(cpu);
    const wait = num(status.wait);
    if (wait !== undefined) out.iowait_fraction = round4(wait);
    if (typeof cpuinfo.model === "string") out.cpu_model = cpuinfo.model;
    if (typeof kernel.release === "string") out.kernel = kernel.release;
    else if (typeof status.kversion === "string") out.kernel = status.kversion;
    if (typeof status.pveversion === "string") {
      out.pve_version = status.pveversion.replace(/^pve-manager\//, "").split("/")[0] ?? "";
    }

    const share = (used?: number, total?: number) =>
      `${formatBytes(used)} / ${formatBytes(total)} (${
        formatPercent(used !== undefined && total ? used / total : undefined)
      })`;
    const lines = [
      `Node ${out.node}: up ${formatDuration(out.uptime_seconds)}, PVE ${
        out.pve_version ?? "?"
      }, kernel ${out.kernel ?? "?"}, subscription ${out.subscription}.`,
      `CPU: ${out.cpu_model ?? "?"} (${out.sockets ?? "?"} socket(s) × ${out.cores ?? "?"} cores, ${
        out.cpus ?? "?"
      } threads), ${formatPercent(out.cpu_fraction)} used, iowait ${
        formatPercent(out.iowait_fraction)
      }, load ${out.loadavg.join(" ")}`,
      `Memory ${share(out.mem_used_bytes, out.mem_total_bytes)}, swap ${
        share(out.swap_used_bytes, out.swap_total_bytes)
      }, root disk ${share(out.rootfs_used_bytes, out.rootfs_total_bytes)}`,
      failed.length > 0
        ? `FAILED services: ${failed.join(", ")} (check 'systemctl status <service>' on the node)`
        : "No failed services.",
      `Storages: ${storages.length > 0 ? `\n- ${storages.join("\n- ")}` : "none"}`,
      `Bridges: ${bridges.length > 0 ? `\n- ${bridges.join("\n- ")}` : "none"}`,
    ];
    if (pending) lines.push("Network changes are pending (network_list shows them).");
    return { text: lines.join("\n"), structured: out };
  },
});
