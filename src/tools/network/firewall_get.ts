/**
 * `firewall_get`: the effective firewall picture for the cluster, a node or a guest — whether it
 * is on (the datacenter switch, the level's own switch, and for guests the NICs' `firewall=1`),
 * the in/out policies with PVE's defaults filled in, the rules in order with security groups
 * expanded in place, and the aliases and IP sets the rules reference (with their members).
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { pvePath } from "../../pve/mod.ts";
import type { ToolContext } from "../types.ts";
import { defineTool } from "../types.ts";
import { truthy } from "../_shared/format.ts";
import { guestPath, guestSelector, guestTitle, resolveGuestArg } from "../_shared/guest.ts";
import { requireOnlineNode } from "../_shared/nodes.ts";
import { nodeParam } from "../_shared/params.ts";

// Besides these, a rule carries whichever of PVE's match fields it sets (macro, proto, source,
// dest, sport, dport, iface, log, comment), and `group` when it came from a security group.
const ruleSchema = z.object({
  pos: z.number(),
  type: z.string(),
  action: z.string(),
  enabled: z.boolean(),
}).catchall(z.unknown());

type Rule = {
  pos: number;
  type: string;
  action: string;
  enabled: boolean;
  group?: string;
  macro?: string;
  proto?: string;
  source?: string;
  dest?: string;
  sport?: string;
  dport?: string;
  iface?: string;
  log?: string;
  comment?: string;
};

const outputSchema = z.object({
  level: z.enum(["cluster", "node", "guest"]),
  target: z.string(),
  enabled: z.boolean(),
  cluster_enabled: z.boolean(),
  nics_with_firewall: z.array(z.string()).optional(),
  policy_in: z.string(),
  policy_out: z.string(),
  rules: z.array(ruleSchema),
  aliases: z.array(z.object({ name: z.string(), cidr: z.string(), scope: z.string() })),
  ipsets: z.array(z.object({ name: z.string(), scope: z.string(), entries: z.array(z.string()) })),
});

type Output = z.infer<typeof outputSchema>;
type Raw = Record<string, unknown>;

const RULE_TEXT = ["macro", "proto", "source", "dest", "sport", "dport", "iface", "log", "comment"];

function rows(value: unknown): Raw[] {
  return Array.isArray(value) ? value as Raw[] : [];
}

function record(value: unknown): Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Raw : {};
}

function ruleOf(raw: Raw, pos: number, group?: string): Rule {
  const rule: Rule = {
    pos,
    type: String(raw.type ?? "?"),
    action: String(raw.action ?? "?"),
    // A rule without `enable` is enabled: PVE writes `|` only for disabled ones.
    enabled: raw.enable === undefined || truthy(raw.enable),
  };
  if (group !== undefined) rule.group = group;
  for (const key of RULE_TEXT) {
    const value = raw[key];
    if (typeof value === "string" && value !== "") (rule as Record<string, unknown>)[key] = value;
  }
  return rule;
}

/** Address entries a rule names: `+set`, `+dc/set`, `+guest/set`, aliases, or literal IPs. */
function references(rules: readonly Rule[]): { ipsets: Set<string>; aliases: Set<string> } {
  const ipsets = new Set<string>();
  const aliases = new Set<string>();
  for (const rule of rules) {
    for (const field of [rule.source, rule.dest]) {
      for (const entry of (field ?? "").split(",").map((e) => e.trim()).filter((e) => e !== "")) {
        if (entry.startsWith("+")) ipsets.add(entry.slice(1));
        else if (/^(?:(?:dc|guest)\/)?[A-Za-z][A-Za-z0-9_-]*$/.test(entry)) aliases.add(entry);
      }
    }
  }
  return { ipsets, aliases };
}

/** `dc/name` → cluster, `guest/name` → guest, bare → guest first, then cluster (PVE's lookup). */
function scopedName(ref: string): { scope?: "dc" | "guest"; name: string } {
  const m = /^(dc|guest)\/(.+)$/.exec(ref);
  return m === null ? { name: ref } : { scope: m[1] as "dc" | "guest", name: m[2] ?? "" };
}

/** Where the firewall files are: cluster, `/nodes/{node}`, or a guest's path. */
interface Level {
  level: Output["level"];
  target: string;
  base: string;
  guestBase?: string;
}

async function levelOf(
  args: { vmid?: number | undefined; name?: string | undefined; node?: string | undefined },
  ctx: ToolContext,
): Promise<Level> {
  const guestGiven = args.vmid !== undefined || (args.name !== undefined && args.name !== "");
  if (guestGiven && args.node !== undefined) {
    throw new PveValidationError(
      "Give a guest (vmid or name) or a node, not both: a guest's firewall is found from the guest alone.",
      { errors: { node: "conflicts with vmid/name" } },
    );
  }
  if (guestGiven) {
    const guest = await resolveGuestArg(args, ctx);
    return {
      level: "guest",
      target: guestTitle(guest),
      base: `${guestPath(guest)}/firewall`,
      guestBase: guestPath(guest),
    };
  }
  if (args.node !== undefined) {
    await requireOnlineNode(args.node, ctx);
    return {
      level: "node",
      target: `node ${args.node}`,
      base: pvePath`/nodes/${args.node}/firewall`,
    };
  }
  return { level: "cluster", target: "cluster", base: "/cluster/firewall" };
}

/** Shows the effective firewall of the cluster, a node or a guest. */
export const firewallGet = defineTool({
  name: "firewall_get",
  title: "Get firewall",
  description:
    "Effective firewall of a guest (vmid or name), a node, or the cluster (neither): enabled, in/out policy, rules in order with security groups expanded, and the aliases and IP sets they reference.",
  toolset: "network",
  capability: "read",
  inputSchema: z.object({
    ...guestSelector,
    node: nodeParam("Node (omit for a guest or the cluster)").optional(),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const level = await levelOf(args, ctx);
    const sig = { signal: ctx.signal };
    const get = (path: string) => ctx.client.get(path, undefined, sig);
    const guest = level.level === "guest";
    const [
      clusterOptions,
      ownOptions,
      rawRules,
      dcAliases,
      dcSets,
      guestAliases,
      guestSets,
      config,
    ] = await Promise.all([
      get("/cluster/firewall/options"),
      level.level === "cluster" ? Promise.resolve({}) : get(`${level.base}/options`),
      get(`${level.base}/rules`),
      get("/cluster/firewall/aliases"),
      get("/cluster/firewall/ipset"),
      guest ? get(`${level.base}/aliases`) : Promise.resolve([]),
      guest ? get(`${level.base}/ipset`) : Promise.resolve([]),
      guest ? get(`${level.guestBase}/config`) : Promise.resolve({}),
    ]);

    // Rules in order; a group reference is followed by the group's own rules.
    const rules: Rule[] = [];
    const groups = new Map<string, Raw[]>();
    for (const raw of rows(rawRules)) {
      const pos = Number(raw.pos ?? rules.length);
      rules.push(ruleOf(raw, pos));
      if (raw.type !== "group") continue;
      const name = String(raw.action);
      if (!groups.has(name)) {
        groups.set(name, rows(await get(pvePath`/cluster/firewall/groups/${name}`)));
      }
      for (const inner of groups.get(name) ?? []) rules.push(ruleOf(inner, pos, name));
    }

    const refs = references(rules);
    const aliases: Output["aliases"] = [];
    const aliasPools = [
      { scope: "guest" as const, list: rows(guestAliases) },
      { scope: "dc" as const, list: rows(dcAliases) },
    ];
    for (const ref of [...refs.aliases].sort()) {
      const { scope, name } = scopedName(ref);
      for (const pool of aliasPools) {
        if (scope !== undefined && scope !== pool.scope) continue;
        const found = pool.list.find((a) => String(a.name).toLowerCase() === name.toLowerCase());
        if (found === undefined) continue;
        aliases.push({ name: String(found.name), cidr: String(found.cidr), scope: pool.scope });
        break;
      }
    }
    const ipsets: Output["ipsets"] = [];
    const setPools = [
      { scope: "guest" as const, list: rows(guestSets), base: level.base },
      { scope: "dc" as const, list: rows(dcSets), base: "/cluster/firewall" },
    ];
    for (const ref of [...refs.ipsets].sort()) {
      const { scope, name } = scopedName(ref);
      for (const pool of setPools) {
        if (scope !== undefined && scope !== pool.scope) continue;
        if (!pool.list.some((s) => s.name === name)) continue;
        const members = rows(await get(`${pool.base}${pvePath`/ipset/${name}`}`));
        ipsets.push({
          name,
          scope: pool.scope,
          entries: members.map((m) => `${truthy(m.nomatch) ? "!" : ""}${m.cidr}`),
        });
        break;
      }
    }

    const dc = record(clusterOptions);
    const own = record(ownOptions);
    const clusterEnabled = truthy(dc.enable);
    let enabled = clusterEnabled;
    let nics: string[] | undefined;
    let policyIn = String(dc.policy_in ?? "DROP");
    let policyOut = String(dc.policy_out ?? "ACCEPT");
    if (level.level === "node") {
      // The host firewall is on by default once the datacenter's is.
      enabled = clusterEnabled && (own.enable === undefined || truthy(own.enable));
    } else if (guest) {
      nics = Object.entries(record(config))
        .filter(([key, value]) =>
          /^net\d+$/.test(key) && /(^|,)firewall=1(,|$)/.test(String(value))
        )
        .map(([key]) => key).sort();
      enabled = clusterEnabled && truthy(own.enable) && nics.length > 0;
      policyIn = String(own.policy_in ?? "DROP");
      policyOut = String(own.policy_out ?? "ACCEPT");
    }
    const out: Output = {
      level: level.level,
      target: level.target,
      enabled,
      cluster_enabled: clusterEnabled,
      policy_in: policyIn,
      policy_out: policyOut,
      rules,
      aliases,
      ipsets,
    };
    if (nics !== undefined) out.nics_with_firewall = nics;

    const why = !clusterEnabled
      ? " (the datacenter firewall is off, so no rule applies)"
      : guest && !truthy(own.enable)
      ? " (this guest's firewall option is off)"
      : guest && (nics?.length ?? 0) === 0
      ? " (no NIC has firewall=1)"
      : level.level === "node" && !enabled
      ? " (the node's firewall option is off)"
      : "";
    const lines = [
      `Firewall of ${level.target}: ${
        enabled ? "ON" : "OFF"
      }${why}; policy in ${policyIn}, out ${policyOut}${
        nics !== undefined && nics.length > 0 ? `; NICs ${nics.join(",")}` : ""
      }.`,
    ];
    if (rules.length === 0) lines.push("No rules.");
    for (const r of rules) {
      const match = [
        r.macro ? `macro ${r.macro}` : "",
        r.proto ?? "",
        r.source ? `from ${r.source}` : "",
        r.dest ? `to ${r.dest}` : "",
        r.dport ? `dport ${r.dport}` : "",
        r.sport ? `sport ${r.sport}` : "",
        r.iface ? `on ${r.iface}` : "",
      ].filter((p) => p !== "").join(" ");
      lines.push(
        `${r.group ? `    [${r.group}] ` : `${r.pos}: `}${
          r.type === "group" ? `group ${r.action}` : `${r.type.toUpperCase()} ${r.action}`
        }${match ? ` ${match}` : ""}${r.enabled ? "" : " (disabled)"}${
          r.comment ? ` — ${r.comment}` : ""
        }`,
      );
    }
    for (const a of aliases) lines.push(`alias ${a.name} (${a.scope}) = ${a.cidr}`);
    for (const s of ipsets) {
      lines.push(`ipset ${s.name} (${s.scope}) = ${s.entries.join(", ") || "empty"}`);
    }
    return { text: lines.join("\n"), structured: out };
  },
});
