/**
 * Node network layouts for the seeds, keyed as `GET /nodes/{node}/network` lists them (values
 * read from `/etc/network/interfaces` are strings, flags are 1). Private to the seeds folder.
 *
 * @module
 */

import type { ConfigValue, NodeState } from "../state.ts";

type Iface = Record<string, ConfigValue | string[]>;

function nic(name: string, priority: number, active: boolean): Iface {
  const iface: Iface = {
    iface: name,
    type: "eth",
    method: "manual",
    method6: "manual",
    exists: 1,
    families: ["inet"],
    priority,
  };
  if (active) iface.active = 1;
  return iface;
}

/**
 * Two NICs in an LACP bond under a VLAN-aware `vmbr0` (the node's address), and a VLAN
 * interface for the storage network on top of it.
 */
export function bondedNetwork(ip: string, storageIp: string): Iface[] {
  const gateway = ip.replace(/\.\d+$/, ".1");
  return [
    nic("eno1", 3, true),
    nic("eno2", 4, true),
    {
      iface: "bond0",
      type: "bond",
      method: "manual",
      method6: "manual",
      slaves: "eno1 eno2",
      bond_mode: "802.3ad",
      bond_miimon: "100",
      bond_xmit_hash_policy: "layer3+4",
      autostart: 1,
      active: 1,
      families: ["inet"],
      priority: 5,
    },
    {
      iface: "vmbr0",
      type: "bridge",
      method: "static",
      method6: "manual",
      address: ip,
      netmask: "24",
      cidr: `${ip}/24`,
      gateway,
      bridge_ports: "bond0",
      bridge_stp: "off",
      bridge_fd: "0",
      bridge_vlan_aware: 1,
      bridge_vids: "2-4094",
      autostart: 1,
      active: 1,
      families: ["inet"],
      priority: 6,
    },
    {
      iface: "vlan50",
      type: "vlan",
      method: "static",
      method6: "manual",
      address: storageIp,
      netmask: "24",
      cidr: `${storageIp}/24`,
      "vlan-id": "50",
      "vlan-raw-device": "vmbr0",
      comments: "storage network (NAS)\n",
      autostart: 1,
      active: 1,
      families: ["inet"],
      priority: 7,
    },
  ];
}

/** Stages a new, isolated bridge on a node's spare NIC in `interfaces.new` (not applied). */
export function stageIsolatedBridge(
  node: NodeState,
  bridge: string,
  port: string,
  since: number,
): void {
  const pending = node.network.map((iface) => ({ ...iface }));
  pending.push({
    iface: bridge,
    type: "bridge",
    method: "manual",
    method6: "manual",
    bridge_ports: port,
    bridge_stp: "off",
    bridge_fd: "0",
    autostart: 1,
    comments: "isolated lab network\n",
    families: ["inet"],
    priority: 6,
  });
  node.networkPending = pending;
  node.networkPendingSince = since;
}
