/**
 * `ha_status`: the HA manager's view (`/cluster/ha/status/current`) — quorum, master, each
 * node's LRM state, every HA resource with its state and where it runs (problems first) — and
 * the placement rules: PVE 9 rules (`/cluster/ha/rules`), or HA groups on PVE 8.x.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import { truthy } from "../_shared/format.ts";
import { scopeIndex } from "../_shared/tasks.ts";

/** HA service states that are not a problem. */
const SETTLED = new Set(["started", "stopped", "disabled", "ignored", "request_stop"]);

const outputSchema = z.object({
  quorate: z.boolean(),
  master: z.string().optional(),
  lrm: z.array(z.object({ node: z.string(), state: z.string() })),
  resources_total: z.number(),
  by_state: z.record(z.string(), z.number()),
  // Plus request_state, crm_state, group, comment when set.
  resources: z.array(
    z.object({ sid: z.string(), node: z.string(), state: z.string() }).catchall(
      z.string(),
    ),
  ),
  rules_total: z.number(),
  // Plus nodes, strict, affinity, disabled, comment when set.
  rules: z.array(
    z.object({ rule: z.string(), type: z.string(), resources: z.array(z.string()) }).catchall(
      z.unknown(),
    ),
  ),
  truncated: z.boolean(),
});

type Resource = {
  sid: string;
  node: string;
  state: string;
  request_state?: string;
  crm_state?: string;
  group?: string;
  comment?: string;
};

type Rule = {
  rule: string;
  type: string;
  resources: string[];
  nodes?: string[];
  strict?: boolean;
  affinity?: string;
  disabled?: boolean;
  comment?: string;
};

type Output = Omit<z.infer<typeof outputSchema>, "resources" | "rules"> & {
  resources: Resource[];
  rules: Rule[];
};
type Raw = Record<string, unknown>;

function rows(value: unknown): Raw[] {
  return Array.isArray(value) ? value as Raw[] : [];
}

function split(value: unknown): string[] {
  return typeof value === "string" ? value.split(/[\s,;]+/).filter((v) => v !== "") : [];
}

/** `pve1 (active, Tue Dec  1 02:30:43 2026)` → `active`. */
function lrmState(status: unknown): string {
  return /^\S+ \((.*?)(?:, [A-Z][a-z]{2} [A-Z][a-z]{2} .*)?\)$/.exec(String(status))?.[1] ??
    String(status);
}

/** Shows the HA manager's status, resources and rules. */
export const haStatus = defineTool({
  name: "ha_status",
  title: "HA status",
  description:
    "High availability: quorum, HA master, each node's LRM state, HA resources with their state and node (problems first), and placement rules (PVE 9 rules; groups on 8.x).",
  toolset: "network",
  capability: "read",
  inputSchema: z.object({
    limit: z.number().int().min(1).max(200).optional().describe(
      "Resources and rules to list (default 25)",
    ),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const limit = args.limit ?? 25;
    const sig = { signal: ctx.signal };
    const pve9 = await ctx.client.isPve9();
    const [statusData, rulesData] = await Promise.all([
      ctx.client.get("/cluster/ha/status/current", undefined, sig),
      ctx.client.get(pve9 ? "/cluster/ha/rules" : "/cluster/ha/groups", undefined, sig),
    ]);
    const status = rows(statusData);
    const quorum = status.find((e) => e.type === "quorum");
    const master = status.find((e) => e.type === "master");
    const lrm = status.filter((e) => e.type === "lrm")
      .map((e) => ({ node: String(e.node), state: lrmState(e.status) }));
    let services = status.filter((e) => e.type === "service" && typeof e.sid === "string");
    // Hide HA resources outside the configured scope, as list tools do.
    const scope = services.length > 0 ? await scopeIndex(ctx) : undefined;
    if (scope !== undefined) {
      services = services.filter((e) => {
        const vmid = Number(String(e.sid).split(":")[1]);
        return ctx.inScope(scope.get(vmid) ?? { vmid, node: String(e.node) });
      });
    }
    const byState: Record<string, number> = {};
    for (const e of services) {
      const state = String(e.state ?? "unknown");
      byState[state] = (byState[state] ?? 0) + 1;
    }
    const ordered = services.sort((a, b) =>
      Number(SETTLED.has(String(a.state))) - Number(SETTLED.has(String(b.state))) ||
      String(a.sid).localeCompare(String(b.sid), undefined, { numeric: true })
    );
    const resources: Resource[] = ordered.slice(0, limit).map((e) => {
      const row: Resource = {
        sid: String(e.sid),
        node: String(e.node ?? "?"),
        state: String(e.state ?? "unknown"),
      };
      if (typeof e.request_state === "string") row.request_state = e.request_state;
      if (typeof e.crm_state === "string") row.crm_state = e.crm_state;
      if (typeof e.group === "string") row.group = e.group;
      if (typeof e.comment === "string") row.comment = e.comment;
      return row;
    });
    const rawRules = rows(rulesData);
    const rules: Rule[] = rawRules.slice(0, limit).map((r) => {
      if (!pve9) {
        // An 8.x HA group: nodes with priorities, restricted = strict placement.
        const row: Rule = {
          rule: String(r.group ?? "?"),
          type: "group",
          resources: [],
          nodes: split(r.nodes),
          strict: truthy(r.restricted),
        };
        if (typeof r.comment === "string") row.comment = r.comment;
        return row;
      }
      const row: Rule = {
        rule: String(r.rule ?? "?"),
        type: String(r.type ?? "?"),
        resources: split(r.resources),
      };
      if (r.nodes !== undefined) row.nodes = split(r.nodes);
      if (r.strict !== undefined) row.strict = truthy(r.strict);
      if (typeof r.affinity === "string") row.affinity = r.affinity;
      if (truthy(r.disable)) row.disabled = true;
      if (typeof r.comment === "string") row.comment = r.comment;
      return row;
    });
    const out: Output = {
      quorate: truthy(quorum?.quorate),
      lrm,
      resources_total: services.length,
      by_state: byState,
      resources,
      rules_total: rawRules.length,
      rules,
      truncated: services.length > resources.length || rawRules.length > rules.length,
    };
    if (master !== undefined) out.master = String(master.node);

    const lines = [
      `HA: ${out.quorate ? "quorate" : "NO QUORUM (HA cannot recover anything)"}, ${
        out.master ? `master ${out.master}` : "no active master"
      }, LRM ${lrm.map((l) => `${l.node} ${l.state}`).join(", ") || "none"}.`,
    ];
    if (services.length === 0) {
      lines.push("No HA resources.");
    } else {
      lines.push(
        `${services.length} HA resource(s): ${
          Object.entries(byState).map(([state, n]) => `${n} ${state}`).join(", ")
        }${
          out.truncated && resources.length < services.length ? `; showing ${resources.length}` : ""
        }:`,
      );
      for (const r of resources) {
        const note = SETTLED.has(r.state)
          ? ""
          : r.state === "error"
          ? " — needs attention: fix the cause, then set the resource's state to disabled and back to started"
          : r.state === "fence"
          ? " — its node is being fenced; HA recovers it on another node once fencing succeeds"
          : "";
        lines.push(
          `- ${r.sid} on ${r.node}: ${r.state}${
            r.request_state && r.request_state !== r.state ? ` (requested ${r.request_state})` : ""
          }${note}`,
        );
      }
    }
    if (rawRules.length === 0) {
      lines.push(pve9 ? "No HA rules." : "No HA groups.");
    } else {
      lines.push(`${rawRules.length} ${pve9 ? "rule(s)" : "group(s)"}:`);
      for (const r of rules) {
        lines.push(
          `- ${r.rule} (${r.type}${r.disabled ? ", disabled" : ""}): ${
            r.resources.join(",") || "-"
          }${r.nodes ? ` on ${r.nodes.join(",")}${r.strict ? " (strict)" : ""}` : ""}${
            r.affinity ? ` ${r.affinity}` : ""
          }`,
        );
      }
    }
    return { text: lines.join("\n"), structured: out };
  },
});
