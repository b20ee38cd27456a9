/**
 * What the QEMU guest agent reports about a VM's network, read the same way by every tool that
 * asks: interfaces with their addresses (loopback left out), and the address to reach the VM at.
 *
 * @module
 */

import { num } from "./format.ts";

/** One interface as the agent reports it. */
export interface AgentInterface {
  name: string;
  mac?: string;
  /** Addresses with their prefix length (`192.168.1.50/24`). */
  addresses: string[];
}

type Raw = Record<string, unknown>;

/** The interfaces of a `network-get-interfaces` result, without loopback. */
export function agentInterfaces(value: unknown): AgentInterface[] {
  const out: AgentInterface[] = [];
  for (const iface of (Array.isArray(value) ? value : []) as Raw[]) {
    const name = String(iface.name ?? "?");
    if (name === "lo") continue;
    const addresses: string[] = [];
    for (
      const addr of (Array.isArray(iface["ip-addresses"]) ? iface["ip-addresses"] : []) as Raw[]
    ) {
      const ip = String(addr["ip-address"] ?? "");
      if (ip === "" || ip.startsWith("127.") || ip === "::1") continue;
      const prefix = num(addr.prefix);
      addresses.push(prefix === undefined ? ip : `${ip}/${prefix}`);
    }
    const entry: AgentInterface = { name, addresses };
    const mac = iface["hardware-address"];
    if (typeof mac === "string" && mac !== "") entry.mac = mac;
    out.push(entry);
  }
  return out;
}

/**
 * The addresses a VM can be reached at, best first: IPv4 before global IPv6; link-local IPv6
 * (`fe80::`) left out. Without prefix lengths.
 */
export function reachableAddresses(interfaces: readonly AgentInterface[]): string[] {
  const all = interfaces.flatMap((iface) => iface.addresses.map((a) => a.replace(/\/\d+$/, "")));
  const v4 = all.filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith("169.254."));
  const v6 = all.filter((a) => a.includes(":") && !/^fe80:/i.test(a));
  return [...v4, ...v6];
}
