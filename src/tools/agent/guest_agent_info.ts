/**
 * `guest_agent_info`: what the QEMU guest agent knows about a VM — OS name and version,
 * hostname, IP addresses per interface (loopback left out), filesystems with usage, and the
 * agent's version — from five agent calls made together. A call that fails (timeout, an agent
 * too old for it) leaves its part out and is named in `missing`, so the rest still answers.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError } from "../../pve/errors.ts";
import { defineTool } from "../types.ts";
import { agentInterfaces } from "../_shared/agent.ts";
import { formatBytes, formatPercent, num } from "../_shared/format.ts";
import { guestPath, guestSelector, guestTitle, resolveGuestArg } from "../_shared/guest.ts";
import { agentProblem, assertAgentUsable, isAgentTimeout } from "./_agent.ts";

const outputSchema = z.object({
  vmid: z.number(),
  name: z.string().optional(),
  node: z.string(),
  os: z.object({
    name: z.string().optional(),
    version: z.string().optional(),
    kernel: z.string().optional(),
    machine: z.string().optional(),
  }).optional(),
  hostname: z.string().optional(),
  interfaces: z.array(z.object({
    name: z.string(),
    mac: z.string().optional(),
    addresses: z.array(z.string()),
  })).optional(),
  filesystems: z.array(z.object({
    mountpoint: z.string(),
    type: z.string().optional(),
    total_bytes: z.number().optional(),
    used_bytes: z.number().optional(),
  })).optional(),
  agent_version: z.string().optional(),
  missing: z.array(z.string()),
});

type Output = z.infer<typeof outputSchema>;
type Raw = Record<string, unknown>;

const CALLS = ["get-osinfo", "get-host-name", "network-get-interfaces", "get-fsinfo", "info"];

function result(value: unknown): unknown {
  return (value as { result?: unknown } | null)?.result;
}

function filesystemsOf(value: unknown): NonNullable<Output["filesystems"]> {
  const out: NonNullable<Output["filesystems"]> = [];
  for (const fs of (Array.isArray(value) ? value : []) as Raw[]) {
    const entry: NonNullable<Output["filesystems"]>[number] = {
      mountpoint: String(fs.mountpoint ?? fs.name ?? "?"),
    };
    if (typeof fs.type === "string") entry.type = fs.type;
    const total = num(fs["total-bytes"]);
    const used = num(fs["used-bytes"]);
    if (total !== undefined) entry.total_bytes = total;
    if (used !== undefined) entry.used_bytes = used;
    out.push(entry);
  }
  return out;
}

/** Reads OS, hostname, IPs, filesystems and the agent version through the guest agent. */
export const guestAgentInfo = defineTool({
  name: "guest_agent_info",
  title: "Guest agent info",
  description:
    "Ask a VM's QEMU guest agent (by vmid or name): OS name and version, hostname, IP addresses per interface (no loopback), filesystems with usage, agent version.",
  toolset: "agent",
  capability: "read",
  inputSchema: z.object(guestSelector),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const guest = await resolveGuestArg(args, ctx);
    await assertAgentUsable(guest, ctx);
    const base = `${guestPath(guest)}/agent`;
    const answers = await Promise.allSettled(
      CALLS.map((call) => ctx.client.get(`${base}/${call}`, undefined, { signal: ctx.signal })),
    );
    const failures = answers.flatMap((
      a,
      i,
    ) => (a.status === "rejected" ? [[CALLS[i], a.reason] as const] : []));
    if (failures.length === CALLS.length) {
      const reason = failures[0]?.[1];
      const problem = agentProblem(guest, reason);
      if (problem !== undefined) throw new PveError(problem, { cause: reason });
      throw reason;
    }
    const value = (call: string) => {
      const answer = answers[CALLS.indexOf(call)];
      return answer?.status === "fulfilled" ? result(answer.value) : undefined;
    };
    const out: Output = {
      vmid: guest.vmid,
      node: guest.node,
      missing: failures.map(([call]) => String(call)),
    };
    if (guest.name !== "") out.name = guest.name;
    const os = value("get-osinfo") as Raw | undefined;
    if (os !== undefined) {
      out.os = {};
      const name = os["pretty-name"] ?? os.name;
      if (typeof name === "string") out.os.name = name;
      if (typeof os["version-id"] === "string") out.os.version = os["version-id"];
      else if (typeof os.version === "string") out.os.version = os.version;
      if (typeof os["kernel-release"] === "string") out.os.kernel = os["kernel-release"];
      if (typeof os.machine === "string") out.os.machine = os.machine;
    }
    const host = (value("get-host-name") as Raw | undefined)?.["host-name"];
    if (typeof host === "string") out.hostname = host;
    if (value("network-get-interfaces") !== undefined) {
      out.interfaces = agentInterfaces(value("network-get-interfaces"));
    }
    if (value("get-fsinfo") !== undefined) out.filesystems = filesystemsOf(value("get-fsinfo"));
    const version = (value("info") as Raw | undefined)?.version;
    if (typeof version === "string") out.agent_version = version;

    const lines = [
      `${guestTitle(guest)} on ${guest.node}: ${out.os?.name ?? "OS unknown"}${
        out.os?.kernel ? `, kernel ${out.os.kernel}` : ""
      }, hostname ${out.hostname ?? "?"}, agent ${out.agent_version ?? "?"}.`,
    ];
    for (const iface of out.interfaces ?? []) {
      lines.push(
        `${iface.name}${iface.mac ? ` (${iface.mac})` : ""}: ${
          iface.addresses.join(", ") || "no address"
        }`,
      );
    }
    for (const fs of out.filesystems ?? []) {
      const share = fs.used_bytes !== undefined && fs.total_bytes
        ? ` (${formatPercent(fs.used_bytes / fs.total_bytes)})`
        : "";
      lines.push(
        `${fs.mountpoint} ${fs.type ?? ""}: ${formatBytes(fs.used_bytes)} of ${
          formatBytes(fs.total_bytes)
        } used${share}`,
      );
    }
    if (failures.length > 0) {
      const timeouts = failures.filter(([, e]) => isAgentTimeout(e));
      lines.push(
        `Not answered: ${out.missing.join(", ")}${
          timeouts.length > 0 ? " (the agent timed out; the rest above is what it did answer)" : ""
        }.`,
      );
    }
    return { text: lines.join("\n"), structured: out };
  },
});
