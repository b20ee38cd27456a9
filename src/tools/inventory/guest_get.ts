/**
 * `guest_get`: everything about one guest in one call — live status, config (with its
 * digest for later edits), pending changes, snapshot count, lock, tags, pool, HA state, and
 * the guest agent's IP addresses when the agent is enabled and answering.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError } from "../../pve/errors.ts";
import { defineTool } from "../types.ts";
import {
  formatBytes,
  formatDuration,
  formatPercent,
  num,
  round4,
  splitTags,
  truthy,
} from "../_shared/format.ts";
import {
  guestPath,
  guestSelector,
  guestTitle,
  lockOf,
  resolveGuestArg,
  scopeOf,
} from "../_shared/guest.ts";
import { allOrAbort } from "../_shared/parallel.ts";

const ipSchema = z.object({
  interface: z.string(),
  address: z.string(),
  family: z.enum(["ipv4", "ipv6"]),
  prefix: z.number().optional(),
});

type Ip = z.infer<typeof ipSchema>;

const outputSchema = z.object({
  vmid: z.number(),
  name: z.string().optional(),
  node: z.string(),
  type: z.enum(["qemu", "lxc"]),
  status: z.string(),
  qmpstatus: z.string().optional(),
  lock: z.string().optional(),
  template: z.boolean(),
  tags: z.array(z.string()),
  pool: z.string().optional(),
  ha: z.object({
    managed: z.literal(true),
    state: z.string().optional(),
    group: z.string().optional(),
  }).optional(),
  uptime_seconds: z.number().optional(),
  cpu_fraction: z.number().optional(),
  maxcpu: z.number().optional(),
  mem_bytes: z.number().optional(),
  maxmem_bytes: z.number().optional(),
  disk_bytes: z.number().optional(),
  maxdisk_bytes: z.number().optional(),
  config: z.record(z.string(), z.union([z.string(), z.number()])),
  digest: z.string().optional(),
  pending: z.array(z.object({
    key: z.string(),
    value: z.union([z.string(), z.number()]).optional(),
    pending: z.union([z.string(), z.number()]).optional(),
    delete: z.boolean().optional(),
  })),
  snapshot_count: z.number(),
  agent: z.object({
    enabled: z.boolean(),
    ips: z.array(ipSchema).optional(),
    note: z.string().optional(),
  }).optional(),
});

type Output = z.infer<typeof outputSchema>;

interface PendingEntry {
  key?: unknown;
  value?: unknown;
  pending?: unknown;
  delete?: unknown;
}

interface AgentInterface {
  name?: unknown;
  "ip-addresses"?: { "ip-address"?: unknown; "ip-address-type"?: unknown; prefix?: unknown }[];
}

function scalar(value: unknown): string | number | undefined {
  if (typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return undefined;
}

/** Agent addresses without loopback and link-local noise. */
function agentIps(result: unknown): Ip[] {
  const list = (result as { result?: unknown })?.result;
  if (!Array.isArray(list)) return [];
  const ips: Ip[] = [];
  for (const iface of list as AgentInterface[]) {
    const name = typeof iface.name === "string" ? iface.name : "?";
    if (name === "lo") continue;
    for (const addr of iface["ip-addresses"] ?? []) {
      const address = String(addr["ip-address"] ?? "");
      const family = addr["ip-address-type"] === "ipv6" ? "ipv6" : "ipv4";
      if (address === "" || address.startsWith("127.") || address === "::1") continue;
      if (family === "ipv6" && address.toLowerCase().startsWith("fe80")) continue;
      const ip: Ip = { interface: name, address, family };
      const prefix = num(addr.prefix);
      if (prefix !== undefined) ip.prefix = prefix;
      ips.push(ip);
    }
  }
  return ips;
}

/** PVE's own words (e.g. "QEMU guest agent is not running"), not the request that failed. */
function errorText(error: unknown): string {
  if (error instanceof PveError && error.pveMessage !== undefined) return error.pveMessage;
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]?.trim() ?? "";
}

/** Shows one guest: status, config, pending, snapshots, lock, HA, agent IPs. */
export const guestGet = defineTool({
  name: "guest_get",
  title: "Get guest details",
  description:
    "One guest by vmid or name: live status and usage, config with digest, pending changes, snapshot count, lock, tags, pool, HA state, and guest-agent IPs when available.",
  toolset: "inventory",
  capability: "read",
  inputSchema: z.object(guestSelector),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const guest = await resolveGuestArg(args, ctx);
    ctx.assertInScope(scopeOf(guest));
    const base = guestPath(guest);
    const [statusData, configData, pendingData, snapshotData] = await allOrAbort(ctx.signal, [
      (signal) => ctx.client.get(`${base}/status/current`, undefined, { signal }),
      (signal) => ctx.client.get(`${base}/config`, undefined, { signal }),
      (signal) => ctx.client.get(`${base}/pending`, undefined, { signal }).catch(() => []),
      (signal) => ctx.client.get(`${base}/snapshot`, undefined, { signal }).catch(() => []),
    ]);
    const status = (statusData ?? {}) as Record<string, unknown>;
    const rawConfig = (configData ?? {}) as Record<string, unknown>;

    const config: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(rawConfig)) {
      const v = scalar(value);
      if (key !== "digest" && v !== undefined) config[key] = v;
    }
    const pending: Output["pending"] = [];
    for (const entry of (Array.isArray(pendingData) ? pendingData : []) as PendingEntry[]) {
      const deleting = truthy(entry.delete);
      if (entry.pending === undefined && !deleting) continue;
      const item: Output["pending"][number] = { key: String(entry.key) };
      const value = scalar(entry.value);
      const next = scalar(entry.pending);
      if (value !== undefined) item.value = value;
      if (next !== undefined) item.pending = next;
      if (deleting) item.delete = true;
      pending.push(item);
    }
    const snapshots = (Array.isArray(snapshotData) ? snapshotData : []) as { name?: unknown }[];
    const snapshotCount = snapshots.filter((s) => s.name !== "current").length;

    const running = status.status === "running";
    const ha = (status.ha ?? {}) as { managed?: unknown; state?: unknown; group?: unknown };
    // `"lock": ""` (some servers send the key empty) means unlocked.
    const lock = lockOf(status.lock) ?? lockOf(rawConfig.lock);
    const out: Output = {
      vmid: guest.vmid,
      node: guest.node,
      type: guest.type,
      status: typeof status.status === "string" ? status.status : guest.status,
      template: truthy(status.template) || truthy(rawConfig.template) || guest.template,
      tags: rawConfig.tags !== undefined ? splitTags(rawConfig.tags) : [...guest.tags],
      config,
      pending,
      snapshot_count: snapshotCount,
    };
    const name = typeof status.name === "string" ? status.name : guest.name;
    if (name !== undefined && name !== "") out.name = name;
    if (typeof status.qmpstatus === "string") out.qmpstatus = status.qmpstatus;
    if (lock !== undefined) out.lock = lock;
    if (guest.pool !== undefined) out.pool = guest.pool;
    // Present only for HA-managed guests: "not managed" on every other guest is noise.
    if (truthy(ha.managed)) {
      out.ha = { managed: true };
      if (typeof ha.state === "string") out.ha.state = ha.state;
      if (typeof ha.group === "string") out.ha.group = ha.group;
    }
    if (typeof rawConfig.digest === "string") out.digest = rawConfig.digest;
    const cpu = num(status.cpu);
    const numbers: [keyof Output, unknown][] = [
      ["uptime_seconds", status.uptime],
      ["maxcpu", status.cpus],
      ["mem_bytes", status.mem],
      ["maxmem_bytes", status.maxmem],
      // A VM's disk usage is always 0 in PVE (it cannot see inside the guest): omit it.
      ["disk_bytes", guest.type === "qemu" ? undefined : status.disk],
      ["maxdisk_bytes", status.maxdisk],
    ];
    for (const [key, value] of numbers) {
      const n = num(value);
      if (n !== undefined) (out as Record<string, unknown>)[key] = n;
    }
    if (cpu !== undefined) out.cpu_fraction = round4(cpu);

    if (guest.type === "qemu") {
      const enabled = truthy(status.agent) || /^(1|enabled=1)/.test(String(rawConfig.agent ?? ""));
      if (enabled) {
        out.agent = { enabled: true };
        if (!running) {
          out.agent.note = "guest not running";
        } else {
          try {
            const result = await ctx.client.get(
              `${base}/agent/network-get-interfaces`,
              undefined,
              { signal: ctx.signal },
            );
            out.agent.ips = agentIps(result);
          } catch (error) {
            out.agent.note = `agent not answering: ${errorText(error)}`;
          }
        }
      } else {
        out.agent = { enabled: false };
      }
    }

    const lines = [
      `${
        guestTitle({ ...guest, ...(out.name ? { name: out.name } : {}) })
      } on ${out.node}: ${out.status}${
        out.qmpstatus && out.qmpstatus !== out.status ? ` (${out.qmpstatus})` : ""
      }${out.template ? ", template" : ""}${out.lock ? `, LOCKED (${out.lock})` : ""}.`,
    ];
    if (running) {
      lines.push(
        `cpu ${formatPercent(out.cpu_fraction)} of ${out.maxcpu ?? "?"}, mem ${
          formatBytes(out.mem_bytes)
        } / ${formatBytes(out.maxmem_bytes)}, up ${formatDuration(out.uptime_seconds)}`,
      );
    }
    const facts: string[] = [];
    if (out.tags.length > 0) facts.push(`tags ${out.tags.join(",")}`);
    if (out.pool !== undefined) facts.push(`pool ${out.pool}`);
    if (out.ha !== undefined) facts.push(`HA ${out.ha.state ?? "managed"}`);
    if (truthy(rawConfig.protection)) facts.push("protected (cannot be removed)");
    facts.push(`${snapshotCount} snapshot(s)`);
    if (pending.length > 0) {
      facts.push(`pending: ${pending.map((p) => p.delete ? `-${p.key}` : p.key).join(", ")}`);
    }
    lines.push(facts.join("; "));
    if (out.agent?.ips !== undefined) {
      lines.push(
        out.agent.ips.length > 0
          ? `IPs: ${out.agent.ips.map((ip) => `${ip.address} (${ip.interface})`).join(", ")}`
          : "IPs: none reported by the agent",
      );
    } else if (out.agent?.note !== undefined && running) {
      lines.push(`${out.agent.note.charAt(0).toUpperCase()}${out.agent.note.slice(1)}`);
    }
    const configLine = Object.entries(config).map(([k, v]) => `${k}=${v}`).join(" ");
    lines.push(`config: ${configLine}`);
    return { text: lines.join("\n"), structured: out };
  },
});
