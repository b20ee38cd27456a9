/**
 * `network_list`: a node's interfaces from `/nodes/{node}/network` — bridges (ports,
 * VLAN-aware, VIDs), bonds (mode, slaves), VLANs (tag, raw device), physical NICs, addresses,
 * active/autostart, comments — and the pending changes (`interfaces.new`) not applied yet,
 * which PVE returns as a diff in the answer's `changes`.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { pvePath } from "../../pve/mod.ts";
import { defineTool } from "../types.ts";
import { num } from "../_shared/format.ts";
import { requireOnlineNode } from "../_shared/nodes.ts";
import { nodeParam } from "../_shared/params.ts";

const TYPES = [
  "bridge",
  "bond",
  "eth",
  "vlan",
  "alias",
  "OVSBridge",
  "OVSBond",
  "OVSPort",
  "OVSIntPort",
] as const;

/** Pending changes are cut to this many characters (a diff of the whole file can be long). */
const CHANGES_LIMIT = 4000;

// Plus, when they apply: cidr, gateway, cidr6, gateway6, ports, vlan_aware, vids, slaves,
// bond_mode, vlan_id, vlan_raw_device, mtu, comment.
const ifaceSchema = z.object({
  iface: z.string(),
  type: z.string(),
  active: z.boolean(),
  autostart: z.boolean(),
}).catchall(z.unknown());

type IfaceRow = {
  iface: string;
  type: string;
  active: boolean;
  autostart: boolean;
  cidr?: string;
  gateway?: string;
  cidr6?: string;
  gateway6?: string;
  ports?: string[];
  vlan_aware?: boolean;
  vids?: string;
  slaves?: string[];
  bond_mode?: string;
  vlan_id?: number;
  vlan_raw_device?: string;
  mtu?: number;
  comment?: string;
};

const outputSchema = z.object({
  node: z.string(),
  total: z.number(),
  interfaces: z.array(ifaceSchema),
  pending_changes: z.string().optional(),
  pending_truncated: z.boolean().optional(),
});

type Raw = Record<string, unknown>;

function list(value: unknown): string[] {
  return typeof value === "string" ? value.split(/[\s,;]+/).filter((p) => p !== "") : [];
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

const TYPE_ORDER = ["bridge", "OVSBridge", "bond", "OVSBond", "vlan", "eth", "OVSPort"];

function rowOf(raw: Raw): IfaceRow {
  const row: IfaceRow = {
    iface: String(raw.iface ?? "?"),
    type: String(raw.type ?? "unknown"),
    active: raw.active === 1 || raw.active === true,
    autostart: raw.autostart === 1 || raw.autostart === true,
  };
  const text: [keyof IfaceRow, unknown][] = [
    ["cidr", raw.cidr],
    ["gateway", raw.gateway],
    ["cidr6", raw.cidr6],
    ["gateway6", raw.gateway6],
    ["bond_mode", raw.bond_mode],
    ["vlan_raw_device", raw["vlan-raw-device"]],
  ];
  for (const [key, value] of text) {
    const s = str(value);
    if (s !== undefined) (row as Record<string, unknown>)[key] = s;
  }
  const ports = list(raw.bridge_ports ?? raw.ovs_ports);
  if (row.type === "bridge" || row.type === "OVSBridge") row.ports = ports;
  if (raw.bridge_vlan_aware === 1 || raw.bridge_vlan_aware === true) {
    row.vlan_aware = true;
    row.vids = str(raw.bridge_vids) ?? "2-4094";
  }
  const slaves = list(raw.slaves ?? raw.ovs_bonds);
  if (slaves.length > 0) row.slaves = slaves;
  // A dotted name (`vmbr0.50`) carries its tag and device in the name, not in keys.
  const dotted = /^(.+)\.(\d+)$/.exec(row.iface);
  const vlanId = num(raw["vlan-id"]) ?? (dotted !== null ? Number(dotted[2]) : undefined);
  if (row.type === "vlan" && vlanId !== undefined) row.vlan_id = vlanId;
  if (row.type === "vlan" && row.vlan_raw_device === undefined && dotted?.[1] !== undefined) {
    row.vlan_raw_device = dotted[1];
  }
  const mtu = num(raw.mtu);
  if (mtu !== undefined) row.mtu = mtu;
  const comment = str(raw.comments)?.trim();
  if (comment) row.comment = comment;
  return row;
}

function describe(row: IfaceRow): string {
  const parts: string[] = [row.type];
  if (row.cidr) parts.push(`${row.cidr}${row.gateway ? ` gw ${row.gateway}` : ""}`);
  if (row.cidr6) parts.push(`${row.cidr6}${row.gateway6 ? ` gw ${row.gateway6}` : ""}`);
  if (row.ports !== undefined) {
    parts.push(row.ports.length > 0 ? `ports ${row.ports.join(",")}` : "no ports");
  }
  if (row.vlan_aware) parts.push(`VLAN-aware ${row.vids}`);
  if (row.slaves) parts.push(`slaves ${row.slaves.join(",")}`);
  if (row.bond_mode) parts.push(`mode ${row.bond_mode}`);
  if (row.vlan_id !== undefined) parts.push(`tag ${row.vlan_id} on ${row.vlan_raw_device ?? "?"}`);
  if (row.mtu !== undefined) parts.push(`mtu ${row.mtu}`);
  parts.push(row.active ? "active" : "not active");
  if (!row.autostart && row.type !== "eth") parts.push("no autostart");
  if (row.comment) parts.push(`"${row.comment}"`);
  return `${row.iface}: ${parts.join(", ")}`;
}

/** Lists a node's network interfaces and pending changes. */
export const networkList = defineTool({
  name: "network_list",
  title: "List node network",
  description:
    "A node's network interfaces: bridges (ports, VLAN-aware, VIDs), bonds (mode, slaves), VLANs (tag, device), NICs, addresses, active/autostart, comments, and pending changes not applied yet.",
  toolset: "network",
  capability: "read",
  inputSchema: z.object({
    node: nodeParam(),
    type: z.enum(TYPES).optional().describe("Only this interface type"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    await requireOnlineNode(args.node, ctx);
    const envelope = await ctx.client.requestEnvelope(
      "GET",
      pvePath`/nodes/${args.node}/network`,
      { ...(args.type ? { params: { type: args.type } } : {}), signal: ctx.signal },
    );
    const raw = (Array.isArray(envelope.data) ? envelope.data : []) as Raw[];
    const rank = (type: string) => {
      const i = TYPE_ORDER.indexOf(type);
      return i < 0 ? TYPE_ORDER.length : i;
    };
    const interfaces = raw.map(rowOf)
      .sort((a, b) => rank(a.type) - rank(b.type) || a.iface.localeCompare(b.iface));
    const structured: z.infer<typeof outputSchema> = {
      node: args.node,
      total: interfaces.length,
      interfaces,
    };
    const lines = [
      `${interfaces.length} interface(s) on ${args.node}${
        args.type ? ` of type ${args.type}` : ""
      }:`,
      ...interfaces.map((row) => `- ${describe(row)}`),
    ];
    const changes = envelope.changes;
    if (changes !== undefined && changes !== "") {
      const cut = changes.length > CHANGES_LIMIT;
      structured.pending_changes = cut ? changes.slice(0, CHANGES_LIMIT) : changes;
      if (cut) structured.pending_truncated = true;
      lines.push(
        `Pending changes (in /etc/network/interfaces.new, not applied; the list above already shows them; apply in the GUI or with 'ifreload -a')${
          cut ? `, first ${CHANGES_LIMIT} characters` : ""
        }:`,
        structured.pending_changes,
      );
    } else {
      lines.push("No pending changes.");
    }
    return { text: lines.join("\n"), structured };
  },
});
