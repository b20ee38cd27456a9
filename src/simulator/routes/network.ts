/**
 * Simulated PVE endpoints: a node's network interfaces (`pve-manager PVE/API2/Network.pm`,
 * parsed as `pve-common PVE/INotify.pm` parses `/etc/network/interfaces`).
 *
 * Interfaces keep PVE's keys and Perl's types: values read from the file are strings
 * (`netmask: "24"`, `bridge_fd: "0"`, `vlan-id: "50"`, `comments: "text\n"`), flags are 1
 * (`autostart`, `active`, `exists`, `bridge_vlan_aware`). When edits are pending
 * (`interfaces.new` exists), the list shows the pending configuration and the answer carries
 * `changes`: the `diff -u` of the running file against the new one. Interfaces come in hash
 * order, as PVE's `hash_to_array` gives them.
 *
 * @module
 */

import { unifiedDiff } from "../diff.ts";
import { paramError } from "../errors.ts";
import { hashOrder } from "../order.ts";
import { type Route, route, withChanges } from "../router.ts";
import { nodeOf } from "./nodes.ts";
import type { ConfigValue, NodeState } from "../state.ts";

/** One interface as the API lists it. */
export type Iface = Record<string, ConfigValue | string[]>;

const BRIDGE_TYPES = new Set(["bridge", "OVSBridge"]);
const LOCAL_BRIDGE_TYPES = new Set(["bridge", "OVSBridge"]);

function matchesType(iface: Iface, type: string | undefined): boolean {
  if (type === undefined || type === "include_sdn") return true;
  if (type === "any_bridge") return BRIDGE_TYPES.has(String(iface.type));
  if (type === "any_local_bridge") return LOCAL_BRIDGE_TYPES.has(String(iface.type));
  return iface.type === type;
}

/** The interfaces PVE reads: `interfaces.new` when edits are pending, else the running file. */
function configured(node: NodeState): Iface[] {
  return node.networkPending ?? node.network;
}

/** Running state (`active`) comes from the kernel, whatever file is read. */
function withLiveFlags(node: NodeState, list: readonly Iface[]): Iface[] {
  const active = new Set(
    node.network.filter((iface) => iface.active === 1).map((i) => String(i.iface)),
  );
  return list.map((iface) => {
    const copy: Iface = { ...iface };
    delete copy.active;
    if (active.has(String(iface.iface))) copy.active = 1;
    return copy;
  });
}

function addressLine(iface: Iface, suffix: "" | "6"): string | undefined {
  const cidr = iface[`cidr${suffix}`];
  if (typeof cidr === "string") return cidr;
  const address = iface[`address${suffix}`];
  const mask = iface[`netmask${suffix}`];
  if (address === undefined) return undefined;
  return mask === undefined ? String(address) : `${address}/${mask}`;
}

const DONE = new Set([
  "iface",
  "type",
  "priority",
  "method",
  "method6",
  "active",
  "exists",
  "comments",
  "comments6",
  "autostart",
  "address",
  "netmask",
  "gateway",
  "cidr",
  "address6",
  "netmask6",
  "gateway6",
  "cidr6",
  "families",
  "bridge_ports",
  "bridge_stp",
  "bridge_fd",
  "bridge_vlan_aware",
  "bridge_vids",
  "slaves",
  "bond_miimon",
  "bond_mode",
  "bond_xmit_hash_policy",
  "bond-primary",
  "mtu",
]);

/** One interface stanza, as `__interface_to_string` writes it (IPv4 family). */
function stanza(iface: Iface): string {
  const name = String(iface.iface);
  let raw = "";
  if (iface.autostart === 1) raw += `auto ${name}\n`;
  raw += `iface ${name} inet ${iface.method ?? "manual"}\n`;
  const address = addressLine(iface, "");
  if (address !== undefined) raw += `\taddress ${address}\n`;
  if (iface.gateway !== undefined) raw += `\tgateway ${iface.gateway}\n`;
  if (iface.type === "bridge") {
    raw += `\tbridge-ports ${iface.bridge_ports || "none"}\n`;
    raw += `\tbridge-stp ${iface.bridge_stp ?? "off"}\n`;
    raw += `\tbridge-fd ${iface.bridge_fd ?? 0}\n`;
    if (iface.bridge_vlan_aware !== undefined) {
      raw += "\tbridge-vlan-aware yes\n";
      raw += `\tbridge-vids ${iface.bridge_vids ?? "2-4094"}\n`;
    }
  } else if (iface.type === "bond") {
    raw += `\tbond-slaves ${iface.slaves || "none"}\n`;
    raw += `\tbond-miimon ${iface.bond_miimon ?? 100}\n`;
    raw += `\tbond-mode ${iface.bond_mode ?? "balance-rr"}\n`;
    if (
      iface.bond_xmit_hash_policy !== undefined &&
      (iface.bond_mode === "balance-xor" || iface.bond_mode === "802.3ad")
    ) {
      raw += `\tbond-xmit-hash-policy ${iface.bond_xmit_hash_policy}\n`;
    }
  }
  if (iface.mtu !== undefined) raw += `\tmtu ${iface.mtu}\n`;
  for (const key of Object.keys(iface).sort()) {
    if (DONE.has(key) || !iface[key]) continue;
    raw += `\t${key} ${iface[key]}\n`;
  }
  for (const line of String(iface.comments ?? "").split("\n").filter((l) => l !== "")) {
    raw += `#${line}\n`;
  }
  return `${raw}\n`;
}

/** `/etc/network/interfaces` for a list of interfaces (physical NICs first, by priority). */
export function interfacesFile(list: readonly Iface[]): string {
  const ordered = [...list].sort((a, b) => Number(a.priority ?? 0) - Number(b.priority ?? 0));
  let raw = "auto lo\niface lo inet loopback\n\n";
  for (const iface of ordered) raw += stanza(iface);
  return `${raw}\nsource /etc/network/interfaces.d/*\n`;
}

function stamp(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.000000000 +0000`;
}

/** The `changes` of a node with pending edits (`diff -u` of the two files), or `""`. */
export function networkChanges(node: NodeState, now: number): string {
  if (node.networkPending === undefined) return "";
  return unifiedDiff(interfacesFile(node.network), interfacesFile(node.networkPending), {
    from: `/etc/network/interfaces\t${stamp(node.bootTime)}`,
    // The file's modification time: when the edits were made, not the moment of the read.
    to: `/etc/network/interfaces.new\t${stamp(node.networkPendingSince ?? now - 600)}`,
  });
}

/** The network endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/nodes/{node}/network", ({ sim, params }) => {
    const node = nodeOf(sim, String(params.node));
    const type = typeof params.type === "string" ? params.type : undefined;
    const list = hashOrder(withLiveFlags(node, configured(node)), (i) => String(i.iface))
      .filter((iface) => matchesType(iface, type));
    const changes = networkChanges(node, sim.clock.now());
    return changes === "" ? list : withChanges(list, changes);
  }),
  route("GET", "/nodes/{node}/network/{iface}", ({ sim, params }) => {
    const node = nodeOf(sim, String(params.node));
    const found = withLiveFlags(node, configured(node)).find((i) => i.iface === params.iface);
    if (found === undefined) throw paramError({ iface: "interface does not exist" });
    const copy: Iface = { ...found };
    delete copy.iface;
    return copy;
  }),
];
