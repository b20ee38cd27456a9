/**
 * Simulated PVE endpoints: the firewall's read side at cluster, node and guest level
 * (`pve-firewall PVE/API2/Firewall/{Cluster,Host,VM,Rules,Groups,Aliases,IPSet}.pm`):
 * options, rules (with `pos` and `digest`), security groups, aliases and IP sets.
 *
 * As in PVE, options list only what is set (defaults are implied), every item carries the
 * file's `digest`, and a guest without a `.fw` file, or a vmid without a guest, has an empty
 * firewall rather than an error (`load_vmfw_conf` just finds no file). Names are listed
 * sorted, as the Perl code walks `sort keys`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dieError } from "../errors.ts";
import { type Params, type Route, route, type Sim } from "../router.ts";
import { nodeOf } from "./nodes.ts";
import {
  emptyFirewall,
  type FirewallConfig,
  type FirewallIpset,
  type FirewallRule,
} from "../state.ts";

function digestOf(value: unknown): string {
  return createHash("sha1").update(JSON.stringify(value)).digest("hex");
}

/** `cleanup_fw_rule`: the rule's set properties plus `pos` and the file digest. */
function ruleEntry(rule: FirewallRule, pos: number, digest: string): Record<string, unknown> {
  const entry: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rule)) {
    if (value !== undefined) entry[key] = value;
  }
  entry.pos = pos;
  entry.digest = digest;
  return entry;
}

function ruleList(rules: readonly FirewallRule[], digest: string): unknown[] {
  return rules.map((rule, pos) => ruleEntry(rule, pos, digest));
}

function ruleAt(rules: readonly FirewallRule[], params: Params, digest: string): unknown {
  const pos = Number(params.pos);
  const rule = rules[pos];
  if (rule === undefined) throw dieError(`no rule at position ${pos}`);
  return ruleEntry(rule, pos, digest);
}

function byName<T extends { name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function aliasList(config: FirewallConfig, digest: string): unknown[] {
  return byName(config.aliases).map((alias) => {
    const entry: Record<string, unknown> = { name: alias.name, cidr: alias.cidr, digest };
    if (alias.comment !== undefined) entry.comment = alias.comment;
    return entry;
  });
}

function aliasEntry(config: FirewallConfig, params: Params): unknown {
  const name = String(params.name);
  const alias = config.aliases.find((a) => a.name.toLowerCase() === name.toLowerCase());
  if (alias === undefined) throw dieError(`no such alias '${name}'`);
  const entry: Record<string, unknown> = { name: alias.name, cidr: alias.cidr };
  if (alias.comment !== undefined) entry.comment = alias.comment;
  return entry;
}

function ipsetList(config: FirewallConfig, digest: string): unknown[] {
  return byName(config.ipsets).map((set) => {
    const entry: Record<string, unknown> = { name: set.name, digest };
    if (set.comment !== undefined) entry.comment = set.comment;
    return entry;
  });
}

function ipsetContent(config: FirewallConfig, params: Params, digest: string): unknown[] {
  const name = String(params.name);
  const set: FirewallIpset | undefined = config.ipsets.find((s) => s.name === name);
  if (set === undefined) throw dieError(`no such IPSet '${name}'`);
  return set.entries.map((item) => ({ ...item, digest }));
}

function optionsOf(config: FirewallConfig, digest: string): unknown {
  return { ...config.options, digest };
}

function nodeFirewall(sim: Sim, node: string): FirewallConfig {
  nodeOf(sim, node);
  return sim.state.firewall.nodes.get(node) ?? emptyFirewall();
}

/** A guest's `.fw` (empty when the guest has none, or does not exist, as in PVE). */
function guestFirewall(sim: Sim, vmid: number): FirewallConfig {
  return sim.state.guests.get(vmid)?.firewall ?? emptyFirewall();
}

function groupOf(sim: Sim, name: string): { comment?: string; rules: FirewallRule[] } {
  const group = sim.state.firewall.groups.get(name);
  if (group === undefined) throw dieError(`no such security group '${name}'`);
  return group;
}

const CLUSTER_INDEX = ["aliases", "rules", "options", "groups", "ipset", "macros", "refs"];
const NODE_INDEX = ["rules", "options", "log"];
const GUEST_INDEX = ["rules", "aliases", "ipset", "refs", "options", "log"];

function index(names: readonly string[]): unknown[] {
  return names.map((name) => ({ name }));
}

function guestRoutes(kind: "qemu" | "lxc"): Route[] {
  const base = `/nodes/{node}/${kind}/{vmid}/firewall`;
  const fw = (sim: Sim, params: Params) => guestFirewall(sim, Number(params.vmid));
  return [
    route("GET", base, () => index(GUEST_INDEX)),
    route("GET", `${base}/options`, ({ sim, params }) => {
      const config = fw(sim, params);
      return optionsOf(config, digestOf(config));
    }),
    route("GET", `${base}/rules`, ({ sim, params }) => {
      const config = fw(sim, params);
      return ruleList(config.rules, digestOf(config));
    }),
    route("GET", `${base}/rules/{pos}`, ({ sim, params }) => {
      const config = fw(sim, params);
      return ruleAt(config.rules, params, digestOf(config));
    }),
    route("GET", `${base}/aliases`, ({ sim, params }) => {
      const config = fw(sim, params);
      return aliasList(config, digestOf(config));
    }),
    route(
      "GET",
      `${base}/aliases/{name}`,
      ({ sim, params }) => aliasEntry(fw(sim, params), params),
    ),
    route("GET", `${base}/ipset`, ({ sim, params }) => {
      const config = fw(sim, params);
      return ipsetList(config, digestOf(config));
    }),
    route("GET", `${base}/ipset/{name}`, ({ sim, params }) => {
      const config = fw(sim, params);
      return ipsetContent(config, params, digestOf(config));
    }),
  ];
}

/** The firewall endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/cluster/firewall", () => index(CLUSTER_INDEX)),
  route("GET", "/cluster/firewall/options", ({ sim }) => {
    const config = sim.state.firewall.cluster;
    return optionsOf(config, digestOf(config));
  }),
  route("GET", "/cluster/firewall/rules", ({ sim }) => {
    const config = sim.state.firewall.cluster;
    return ruleList(config.rules, digestOf(config));
  }),
  route("GET", "/cluster/firewall/rules/{pos}", ({ sim, params }) => {
    const config = sim.state.firewall.cluster;
    return ruleAt(config.rules, params, digestOf(config));
  }),
  route("GET", "/cluster/firewall/aliases", ({ sim }) => {
    const config = sim.state.firewall.cluster;
    return aliasList(config, digestOf(config));
  }),
  route(
    "GET",
    "/cluster/firewall/aliases/{name}",
    ({ sim, params }) => aliasEntry(sim.state.firewall.cluster, params),
  ),
  route("GET", "/cluster/firewall/ipset", ({ sim }) => {
    const config = sim.state.firewall.cluster;
    return ipsetList(config, digestOf(config));
  }),
  route("GET", "/cluster/firewall/ipset/{name}", ({ sim, params }) => {
    const config = sim.state.firewall.cluster;
    return ipsetContent(config, params, digestOf(config));
  }),
  route("GET", "/cluster/firewall/groups", ({ sim }) => {
    const groups = sim.state.firewall.groups;
    const digest = digestOf([...groups]);
    return [...groups.keys()].sort().map((group) => {
      const entry: Record<string, unknown> = { group, digest };
      const comment = groups.get(group)?.comment;
      if (comment !== undefined) entry.comment = comment;
      return entry;
    });
  }),
  route("GET", "/cluster/firewall/groups/{group}", ({ sim, params }) => {
    const group = groupOf(sim, String(params.group));
    return ruleList(group.rules, digestOf([...sim.state.firewall.groups]));
  }),
  route("GET", "/cluster/firewall/groups/{group}/{pos}", ({ sim, params }) => {
    const group = groupOf(sim, String(params.group));
    return ruleAt(group.rules, params, digestOf([...sim.state.firewall.groups]));
  }),
  route("GET", "/nodes/{node}/firewall", () => index(NODE_INDEX)),
  route("GET", "/nodes/{node}/firewall/options", ({ sim, params }) => {
    const config = nodeFirewall(sim, String(params.node));
    return optionsOf(config, digestOf(config));
  }),
  route("GET", "/nodes/{node}/firewall/rules", ({ sim, params }) => {
    const config = nodeFirewall(sim, String(params.node));
    return ruleList(config.rules, digestOf(config));
  }),
  route("GET", "/nodes/{node}/firewall/rules/{pos}", ({ sim, params }) => {
    const config = nodeFirewall(sim, String(params.node));
    return ruleAt(config.rules, params, digestOf(config));
  }),
  ...guestRoutes("qemu"),
  ...guestRoutes("lxc"),
];
