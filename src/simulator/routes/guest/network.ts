/**
 * Network devices: completing NIC values with a MAC (`BC:24:11` prefix) and fresh MACs for
 * clones and unique restores.
 *
 * @module
 */

import type { GuestConfig, SimState } from "../../state.ts";
import { hash32 } from "./hash.ts";
import type { Kind } from "./kind.ts";

/** A deterministic MAC with the Proxmox prefix `BC:24:11`, unique within the cluster state. */
export function generateMac(state: SimState, seed: string): string {
  const used = new Set<string>();
  for (const g of state.guests.values()) {
    for (const v of Object.values(g.config)) {
      const m = /([0-9A-F]{2}(?::[0-9A-F]{2}){5})/i.exec(String(v));
      if (m?.[1] !== undefined) used.add(m[1].toUpperCase());
    }
  }
  for (let i = 0;; i++) {
    const h = hash32(`${seed}#${i}`);
    const mac = `BC:24:11:${
      [h >>> 16, h >>> 8, h].map((b) => (b & 0xff).toString(16).toUpperCase().padStart(2, "0"))
        .join(":")
    }`;
    if (!used.has(mac)) return mac;
  }
}

const QEMU_NIC_MODELS = [
  "virtio",
  "e1000",
  "e1000e",
  "rtl8139",
  "vmxnet3",
  "ne2k_pci",
  "pcnet",
  "i82551",
  "i82557b",
  "i82559er",
  "ne2k_isa",
];

/** Adds a MAC to a NIC value that lacks one (`virtio,bridge=vmbr0` → `virtio=BC:24:11:…,bridge=vmbr0`). */
export function completeNic(
  kind: Kind,
  state: SimState,
  seed: string,
  value: string,
  fresh = false,
): string {
  const parts = value.split(",").filter((p) => p !== "");
  if (kind.type === "qemu") {
    const first = parts[0] ?? "virtio";
    const [model, mac] = first.includes("=")
      ? first.split("=", 2) as [string, string]
      : [first, ""];
    if (QEMU_NIC_MODELS.includes(model) && (mac === "" || fresh)) {
      parts[0] = `${model}=${generateMac(state, seed)}`;
    }
    const macIdx = parts.findIndex((p) => p.startsWith("macaddr="));
    if (macIdx >= 0) {
      const m = parts[macIdx]?.slice(8) ?? "";
      parts.splice(macIdx, 1);
      parts[0] = `${parts[0]?.split("=")[0]}=${fresh ? generateMac(state, seed) : m}`;
    }
    return parts.join(",");
  }
  const map = new Map<string, string>();
  for (const p of parts) {
    const eq = p.indexOf("=");
    if (eq > 0) map.set(p.slice(0, eq), p.slice(eq + 1));
  }
  if (!map.has("hwaddr") || fresh) map.set("hwaddr", generateMac(state, seed));
  if (!map.has("type")) map.set("type", "veth");
  const order = [
    "name",
    "bridge",
    "firewall",
    "gw",
    "gw6",
    "hwaddr",
    "ip",
    "ip6",
    "link_down",
    "mtu",
    "rate",
    "tag",
    "trunks",
    "type",
  ];
  const keys = [...map.keys()].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  return keys.map((k) => `${k}=${map.get(k)}`).join(",");
}

/** Gives every NIC of a config a new MAC (clone, `unique` restore). */
export function regenerateMacs(
  kind: Kind,
  state: SimState,
  vmid: number,
  config: GuestConfig,
): void {
  for (const key of Object.keys(config)) {
    if (/^net\d+$/.test(key)) {
      config[key] = completeNic(kind, state, `${vmid}/${key}/new`, String(config[key]), true);
    }
  }
}
