/**
 * The demo cluster's firewall: `cluster.fw` (options, aliases, IP sets, rules, security
 * groups), `host.fw` of pve1, and guest `.fw` files for web01 (100), db01 (102, firewall
 * off) and pihole (200). Private to the seeds folder.
 *
 * @module
 */

import { emptyFirewall, type FirewallRule, type SimState } from "../state.ts";

function rule(fields: Omit<FirewallRule, "enable"> & { enable?: 0 | 1 }): FirewallRule {
  return { enable: 1, ...fields };
}

/** Adds the demo's firewall configuration. */
export function addDemoFirewall(state: SimState): void {
  const fw = state.firewall;
  fw.cluster.options = { enable: 1, policy_in: "DROP", policy_out: "ACCEPT" };
  fw.cluster.aliases = [
    { name: "mgmt-net", cidr: "10.0.0.0/24", comment: "Management LAN" },
    { name: "monitoring", cidr: "10.0.0.20" },
  ];
  fw.cluster.ipsets = [
    {
      name: "management",
      comment: "Admin workstations",
      entries: [{ cidr: "10.0.0.0/24" }, { cidr: "192.168.1.10", comment: "laptop" }],
    },
    {
      name: "blocklist",
      entries: [
        { cidr: "203.0.113.0/24", comment: "abuse reports" },
        { cidr: "198.51.100.7" },
      ],
    },
  ];
  fw.cluster.rules = [
    rule({ type: "in", action: "DROP", source: "+blocklist", log: "info" }),
    rule({
      type: "in",
      action: "ACCEPT",
      source: "+management",
      proto: "tcp",
      dport: "8006",
      comment: "web GUI",
    }),
    rule({ type: "in", action: "ACCEPT", macro: "SSH", source: "+management" }),
    rule({ type: "in", action: "ACCEPT", proto: "icmp", "icmp-type": "echo-request" }),
  ];
  fw.groups.set("webserver", {
    comment: "HTTP and HTTPS",
    rules: [
      rule({ type: "in", action: "ACCEPT", macro: "HTTP" }),
      rule({ type: "in", action: "ACCEPT", macro: "HTTPS" }),
    ],
  });
  fw.groups.set("monitoring", {
    comment: "Prometheus scrapes",
    rules: [
      rule({
        type: "in",
        action: "ACCEPT",
        source: "monitoring",
        proto: "tcp",
        dport: "9100",
        comment: "node exporter",
      }),
    ],
  });

  fw.nodes.set("pve1", {
    ...emptyFirewall(),
    options: { enable: 1, log_level_in: "nolog", nf_conntrack_max: 524288 },
    rules: [
      rule({
        type: "in",
        action: "ACCEPT",
        source: "mgmt-net",
        proto: "tcp",
        dport: "9100",
        comment: "node exporter on the host",
      }),
    ],
  });

  const web01 = state.guests.get(100);
  if (web01 !== undefined) {
    web01.firewall = {
      options: { enable: 1, policy_in: "DROP", log_level_in: "info" },
      rules: [
        rule({ type: "group", action: "webserver" }),
        rule({ type: "group", action: "monitoring" }),
        rule({ type: "in", action: "ACCEPT", macro: "SSH", source: "+management" }),
        rule({
          type: "in",
          action: "ACCEPT",
          proto: "tcp",
          dport: "8080",
          source: "+web01-clients",
          comment: "staging port",
          enable: 0,
        }),
      ],
      aliases: [],
      ipsets: [{ name: "web01-clients", entries: [{ cidr: "10.0.0.0/24" }] }],
    };
  }
  const db01 = state.guests.get(102);
  if (db01 !== undefined) {
    db01.firewall = {
      ...emptyFirewall(),
      options: { enable: 0 },
      rules: [rule({ type: "in", action: "ACCEPT", proto: "tcp", dport: "5432" })],
    };
  }
  const pihole = state.guests.get(200);
  if (pihole !== undefined) {
    pihole.firewall = {
      ...emptyFirewall(),
      options: { enable: 1 },
      rules: [
        rule({ type: "in", action: "ACCEPT", macro: "DNS", source: "mgmt-net" }),
        rule({ type: "in", action: "ACCEPT", macro: "HTTP", source: "+management" }),
      ],
    };
  }
}
