/**
 * `cluster_health`: "what needs attention?" in one call. It reads the cluster status, one
 * `/cluster/resources`, the running tasks, and then only what the findings need: the HA status
 * when HA is in use, each online node's failed tasks since a cutoff, the subscription of nodes
 * without a level, and the backup storages' content when looking for guests without a recent
 * backup. Findings are grouped and counted (with a few examples each), so the answer stays
 * small on a 10,000-guest cluster; each finding has a severity and the next step.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { pvePath } from "../../pve/mod.ts";
import { defineTool } from "../types.ts";
import {
  formatBytes,
  formatDuration,
  formatPercent,
  num,
  splitTags,
  truthy,
} from "../_shared/format.ts";
import { mapLimit } from "../_shared/nodes.ts";
import { scopeIndex, taskItem, taskVisible } from "../_shared/tasks.ts";

/** Calls in flight at once when a check asks every node. */
const CONCURRENCY = 8;
/** Examples listed per finding. */
const EXAMPLES = 5;
/** Findings listed (the rest are counted). */
const MAX_FINDINGS = 30;
/** A lock held by a task running longer than this is reported. */
const LONG_LOCK_SECONDS = 6 * 3600;
/** Subscription checks of nodes without a level, at most. */
const SUBSCRIPTION_CALLS = 16;
/** Backup content listings, at most. */
const BACKUP_CALLS = 64;
/** Usage at or above this is critical, whatever the threshold. */
const CRITICAL_FRACTION = 0.95;

const SEVERITIES = ["critical", "warning", "info"] as const;
type Severity = (typeof SEVERITIES)[number];

const findingSchema = z.object({
  severity: z.enum(SEVERITIES),
  check: z.string(),
  detail: z.string(),
  next_step: z.string(),
  count: z.number().optional(),
  examples: z.array(z.string()).optional(),
});

/** A finding; `subject` (what it is about) only shapes the detail sentence. */
type Finding = z.infer<typeof findingSchema>;

const outputSchema = z.object({
  healthy: z.boolean(),
  counts: z.object({ critical: z.number(), warning: z.number(), info: z.number() }),
  findings: z.array(findingSchema),
  checked: z.object({
    nodes: z.number(),
    guests: z.number(),
    storages: z.number(),
    backups: z.boolean(),
  }),
  skipped: z.array(z.string()),
});

type Output = z.infer<typeof outputSchema>;
type Raw = Record<string, unknown>;

function rows(value: unknown): Raw[] {
  return Array.isArray(value) ? value as Raw[] : [];
}

function guestLabel(raw: Raw): string {
  return `${raw.type === "lxc" ? "CT" : "VM"} ${raw.vmid}${
    typeof raw.name === "string" && raw.name !== "" ? ` (${raw.name})` : ""
  }`;
}

function examples(items: readonly string[]): { count: number; examples: string[] } {
  return { count: items.length, examples: items.slice(0, EXAMPLES) };
}

function more(count: number): string {
  return count > EXAMPLES ? ` (first ${EXAMPLES} shown)` : "";
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

/** Finds what needs attention in the cluster. */
export const clusterHealth = defineTool({
  name: "cluster_health",
  title: "Cluster health",
  description:
    "What needs attention, in one call: offline nodes, quorum, full or inactive storage, HA errors, failed tasks, stale locks, nodes short of memory or disk, subscriptions, guests without a recent backup; each with severity and next step.",
  toolset: "observe",
  capability: "read",
  inputSchema: z.object({
    since_hours: z.number().int().min(1).max(168).optional().describe("Failed tasks: 24"),
    threshold_percent: z.number().int().min(50).max(99).optional().describe("Full at: 85"),
    backup_days: z.number().int().min(1).max(90).optional().describe("Recent backup: 7"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const sinceHours = args.since_hours ?? 24;
    const threshold = (args.threshold_percent ?? 85) / 100;
    const backupDays = args.backup_days ?? 7;
    const sig = { signal: ctx.signal };
    const findings: Finding[] = [];
    const skipped: string[] = [];
    const add = (severity: Severity, finding: Omit<Finding, "severity"> & { subject: string }) => {
      const { subject: _subject, ...rest } = finding;
      findings.push({ severity, ...rest });
    };

    const [statusData, resourceData, clusterTasks, scope] = await Promise.all([
      ctx.client.get("/cluster/status", undefined, sig),
      ctx.client.get("/cluster/resources", undefined, sig),
      ctx.client.get("/cluster/tasks", undefined, sig).catch((error) => {
        skipped.push(`running tasks (${message(error)})`);
        return [];
      }),
      scopeIndex(ctx),
    ]);
    const now = Math.floor(Date.now() / 1000);
    const status = rows(statusData);
    const resources = rows(resourceData);
    const inScope = (raw: Raw) =>
      ctx.inScope({
        vmid: num(raw.vmid) ?? 0,
        node: String(raw.node),
        tags: splitTags(raw.tags),
        ...(typeof raw.pool === "string" ? { pool: raw.pool } : {}),
      });
    const guests = resources.filter((r) => (r.type === "qemu" || r.type === "lxc") && inScope(r));
    const nodeEntries = resources.filter((r) => r.type === "node");
    const storageEntries = resources.filter((r) => r.type === "storage");

    // Nodes and quorum.
    const cluster = status.find((e) => e.type === "cluster");
    const members = status.filter((e) => e.type === "node");
    const offline = members.filter((m) => !truthy(m.online)).map((m) => String(m.name)).sort();
    const onlineNodes = new Set(
      members.length > 0
        ? members.filter((m) => truthy(m.online)).map((m) => String(m.name))
        : nodeEntries
          .filter((n) => n.status === "online").map((n) => String(n.node)),
    );
    if (cluster !== undefined && !truthy(cluster.quorate)) {
      add("critical", {
        check: "quorum",
        subject: `cluster ${cluster.name ?? ""}`.trim(),
        detail:
          `The cluster has no quorum (${onlineNodes.size} of ${members.length} nodes online): /etc/pve is read-only and no guest can be started, changed or recovered.`,
        next_step:
          "Bring the offline nodes back (or fix corosync links); as a last resort on a healthy node, 'pvecm expected' lowers the votes needed.",
      });
    }
    if (offline.length > 0) {
      const hosted = guests.filter((g) => offline.includes(String(g.node))).length;
      const one = offline.length === 1;
      add("critical", {
        check: "node_offline",
        subject: one ? `node ${offline[0]}` : `${offline.length} nodes`,
        detail: `${one ? `Node ${offline[0]} is` : `${offline.length} nodes are`} offline${
          hosted > 0 ? `; ${hosted} guest(s) on ${one ? "it" : "them"} cannot be managed` : ""
        }${one ? "" : more(offline.length)}.`,
        next_step:
          "Check power, network and corosync (pvecm status on a healthy node); HA guests are fenced and recovered elsewhere.",
        ...(one ? {} : examples(offline)),
      });
    }

    // Usage: node memory and root disk, storage fill and availability. One finding per check
    // and severity, fullest first, so a hundred full storages cost one line and five examples.
    const usage = new Map<string, { fraction: number; subject: string; line: string }[]>();
    const note = (key: string, hit: { fraction: number; subject: string; line: string }) =>
      usage.set(key, [...(usage.get(key) ?? []), hit]);
    const share = (u: number, t: number) =>
      `${formatPercent(u / t)} (${formatBytes(u)} of ${formatBytes(t)})`;
    for (const n of nodeEntries) {
      if (n.status !== "online") continue;
      for (
        const [check, used, total] of [
          ["node_memory", n.mem, n.maxmem],
          ["node_root_disk", n.disk, n.maxdisk],
        ] as const
      ) {
        const u = num(used);
        const t = num(total);
        if (u === undefined || t === undefined || t <= 0 || u / t < threshold) continue;
        note(`${check}|${u / t >= CRITICAL_FRACTION ? "critical" : "warning"}`, {
          fraction: u / t,
          subject: `node ${n.node}`,
          line: `node ${n.node}: ${share(u, t)}`,
        });
      }
    }
    // Each shared storage once, local storage per online node.
    const seenShared = new Set<string>();
    let storagesChecked = 0;
    for (const s of [...storageEntries].sort((a, b) => String(a.id).localeCompare(String(b.id)))) {
      const id = String(s.storage);
      if (truthy(s.shared)) {
        if (seenShared.has(id)) continue;
        if (
          s.status !== "available" &&
          storageEntries.some((o) => o.storage === id && o.status === "available")
        ) continue;
        seenShared.add(id);
      } else if (!onlineNodes.has(String(s.node))) {
        continue; // An offline node's storage is covered by the node finding.
      }
      storagesChecked++;
      const where = truthy(s.shared) ? `storage ${id}` : `storage ${id} on ${s.node}`;
      if (s.status !== "available") {
        note("storage_inactive|warning", {
          fraction: 1,
          subject: where,
          line: `${where}: status ${s.status ?? "unknown"}`,
        });
        continue;
      }
      const u = num(s.disk);
      const t = num(s.maxdisk);
      if (u === undefined || t === undefined || t <= 0 || u / t < threshold) continue;
      note(`storage_full|${u / t >= CRITICAL_FRACTION ? "critical" : "warning"}`, {
        fraction: u / t,
        subject: where,
        line: `${where}: ${share(u, t)} full`,
      });
    }
    const USAGE: Record<string, { what: string; many: string; next: string }> = {
      node_memory: {
        what: "memory is nearly full",
        many: "nodes have memory nearly full",
        next: "See node_get and metrics_get top=mem; migrate or shrink guests, or add memory.",
      },
      node_root_disk: {
        what: "root disk is nearly full",
        many: "nodes have their root disk nearly full",
        next: "Clean /var/log, old kernels and ISO/backup files under /var/lib/vz on the node.",
      },
      storage_full: {
        what: "is nearly full",
        many: "storages are nearly full",
        next:
          "Delete old backups, ISOs or unused disks on it, or extend it; thin pools stop guests when they run full.",
      },
      storage_inactive: {
        what: "is not available",
        many: "storages are not available",
        next:
          "Check the storage on the node (pvesm status); for NFS/CIFS/PBS check the server and the network.",
      },
    };
    for (const [key, hits] of [...usage].sort(([a], [b]) => a.localeCompare(b))) {
      const [check = "", severity = "warning"] = key.split("|");
      const info = USAGE[check];
      const first = hits[0];
      if (info === undefined || first === undefined) continue;
      hits.sort((a, b) => b.fraction - a.fraction || a.line.localeCompare(b.line));
      const lines = hits.map((h) => h.line);
      if (hits.length === 1) {
        add(severity as Severity, {
          check,
          subject: first.subject,
          detail: `${first.subject[0]?.toUpperCase()}${first.subject.slice(1)} ${info.what}: ${
            first.line.replace(/^[^:]*: /, "")
          }.`,
          next_step: info.next,
        });
      } else {
        add(severity as Severity, {
          check,
          subject: `${hits.length} ${check.startsWith("node") ? "nodes" : "storages"}`,
          detail: `${hits.length} ${info.many}${more(hits.length)}.`,
          next_step: info.next,
          ...examples(lines),
        });
      }
    }

    // HA states.
    if (guests.some((g) => typeof g.hastate === "string")) {
      try {
        const ha = rows(await ctx.client.get("/cluster/ha/status/current", undefined, sig));
        const byVmid = new Map(guests.map((g) => [num(g.vmid), g]));
        const bad = ha.filter((e) =>
          e.type === "service" && ["error", "fence", "recovery"].includes(String(e.state)) &&
          byVmid.has(Number(String(e.sid).split(":")[1]))
        );
        for (const state of ["error", "fence", "recovery"]) {
          const hits = bad.filter((e) => e.state === state).map((e) => `${e.sid} on ${e.node}`);
          if (hits.length === 0) continue;
          add(state === "recovery" ? "warning" : "critical", {
            check: `ha_${state}`,
            subject: `${hits.length} HA resource(s)`,
            detail: `${hits.length} HA resource(s) in state ${state}${more(hits.length)}.`,
            next_step: state === "error"
              ? "Fix the cause (ha_status, the node's journal), then set the resource to disabled and back to started."
              : state === "fence"
              ? "Their node is being fenced; HA recovers them once it is confirmed dead. Check the node (ha_status)."
              : "HA is moving them to another node; check ha_status until they are started.",
            ...examples(hits),
          });
        }
      } catch (error) {
        skipped.push(`HA status (${message(error)})`);
      }
    }

    // Locks: stale (no task holds them) or held by a long-running task.
    const running = new Map<string, Raw>();
    for (const t of rows(clusterTasks)) {
      const item = taskItem(t);
      if (item.running && /^\d+$/.test(item.id)) running.set(item.id, t);
    }
    const stale: string[] = [];
    const long: string[] = [];
    for (const g of guests) {
      if (typeof g.lock !== "string" || g.lock === "") continue;
      const task = running.get(String(g.vmid));
      if (task === undefined) stale.push(`${guestLabel(g)} lock ${g.lock}`);
      else if (now - (num(task.starttime) ?? now) > LONG_LOCK_SECONDS) {
        long.push(
          `${guestLabel(g)} lock ${g.lock} by ${task.upid} for ${
            formatDuration(now - (num(task.starttime) ?? now))
          }`,
        );
      }
    }
    if (stale.length > 0) {
      add("warning", {
        check: "stale_lock",
        subject: `${stale.length} guest(s)`,
        detail: `${stale.length} guest(s) locked with no running task holding the lock${
          more(stale.length)
        }.`,
        next_step:
          "Check task_list for the failed task that left it; if none runs, an admin clears it with 'qm unlock <vmid>' / 'pct unlock <vmid>'.",
        ...examples(stale),
      });
    }
    if (long.length > 0) {
      add("warning", {
        check: "long_lock",
        subject: `${long.length} guest(s)`,
        detail: `${long.length} guest(s) locked by a task running for over ${
          LONG_LOCK_SECONDS / 3600
        }h${more(long.length)}.`,
        next_step:
          "Follow the task with task_get; stop it (DELETE on its UPID) only if it is stuck.",
        ...examples(long),
      });
    }

    // Failed tasks since the cutoff, per online node.
    const since = now - sinceHours * 3600;
    const failed: { item: ReturnType<typeof taskItem>; start: number }[] = [];
    let failedMore = false;
    await mapLimit([...onlineNodes].sort(), CONCURRENCY, async (node) => {
      try {
        const envelope = await ctx.client.requestEnvelope(
          "GET",
          pvePath`/nodes/${node}/tasks`,
          { params: { statusfilter: "error", since, limit: 50 }, signal: ctx.signal },
        );
        const list = rows(envelope.data);
        if ((envelope.total ?? list.length) > list.length) failedMore = true;
        for (const raw of list) {
          const item = taskItem(raw);
          if (!taskVisible(ctx, scope, item)) continue;
          failed.push({ item, start: num(raw.starttime) ?? 0 });
        }
      } catch (error) {
        skipped.push(`failed tasks of ${node} (${message(error)})`);
      }
    });
    if (failed.length > 0) {
      failed.sort((a, b) => b.start - a.start);
      const nodes = new Set(failed.map((f) => f.item.node));
      add("warning", {
        check: "failed_tasks",
        subject: `${failedMore ? "over " : ""}${failed.length} task(s)`,
        detail: `${
          failedMore ? "Over " : ""
        }${failed.length} task(s) failed in the last ${sinceHours}h on ${nodes.size} node(s), newest first${
          more(failed.length)
        }.`,
        next_step:
          "Read each failure with task_get (its UPID); fix the cause, then rerun the action.",
        ...examples(
          failed.map((f) => `${f.item.upid} ${f.item.type} ${f.item.id}: ${f.item.status}`),
        ),
      });
    }

    // Subscriptions: nodes at different levels, and keys that stopped working.
    const levels = new Map<string, string>();
    for (const n of nodeEntries) levels.set(String(n.node), String(n.level ?? ""));
    const withLevel = [...levels.values()].filter((l) => l !== "");
    const noLevel = [...levels.entries()].filter(([node, l]) => l === "" && onlineNodes.has(node))
      .map(([node]) => node).sort();
    if (new Set(levels.values()).size > 1) {
      add("info", {
        check: "subscription_mixed",
        subject: "subscription levels",
        detail: `Nodes have different subscription levels (${
          [...new Set(levels.values())].map((l) => l || "none").join(", ")
        }); support needs the same level on all.`,
        next_step: "Give every node a key of the same level (Datacenter > Subscription).",
      });
    }
    if (withLevel.length > 0 || noLevel.length <= SUBSCRIPTION_CALLS) {
      const checked = noLevel.slice(0, SUBSCRIPTION_CALLS);
      const problems: string[] = [];
      await mapLimit(checked, CONCURRENCY, async (node) => {
        try {
          const sub = await ctx.client.get(
            pvePath`/nodes/${node}/subscription`,
            undefined,
            sig,
          ) as Raw;
          const state = String(sub?.status ?? "").toLowerCase();
          if (["expired", "invalid", "suspended"].includes(state)) {
            problems.push(`${node}: ${state}`);
          }
        } catch (error) {
          skipped.push(`subscription of ${node} (${message(error)})`);
        }
      });
      if (problems.length > 0) {
        problems.sort();
        add("warning", {
          check: "subscription",
          subject: `${problems.length} node(s)`,
          detail: `Subscription not active on ${problems.length} node(s)${
            more(problems.length)
          }: the enterprise repository stops working.`,
          next_step:
            "Renew the key at shop.proxmox.com, then check it again in Datacenter > Subscription.",
          ...examples(problems),
        });
      }
    }

    // Guests without a recent backup (only when the cluster has backups at all).
    const backupStores: { node: string; storage: string }[] = [];
    const sharedBackup = new Set<string>();
    for (const s of storageEntries) {
      if (s.status !== "available" || !String(s.content ?? "").split(",").includes("backup")) {
        continue;
      }
      if (!onlineNodes.has(String(s.node))) continue;
      if (truthy(s.shared)) {
        if (sharedBackup.has(String(s.storage))) continue;
        sharedBackup.add(String(s.storage));
      }
      backupStores.push({ node: String(s.node), storage: String(s.storage) });
    }
    const latest = new Map<number, number>();
    let backupsFound = false;
    if (backupStores.length > BACKUP_CALLS) {
      skipped.push(
        `backups (${backupStores.length} backup storages; only the first ${BACKUP_CALLS} were read)`,
      );
    }
    await mapLimit(backupStores.slice(0, BACKUP_CALLS), CONCURRENCY, async ({ node, storage }) => {
      try {
        const content = rows(
          await ctx.client.get(
            pvePath`/nodes/${node}/storage/${storage}/content`,
            { content: "backup" },
            sig,
          ),
        );
        for (const v of content) {
          const vmid = num(v.vmid);
          const ctime = num(v.ctime) ?? 0;
          if (vmid === undefined) continue;
          backupsFound = true;
          latest.set(vmid, Math.max(latest.get(vmid) ?? 0, ctime));
        }
      } catch (error) {
        skipped.push(`backups on ${storage} (${message(error)})`);
      }
    });
    if (backupsFound) {
      const cutoff = now - backupDays * 86400;
      const stale: string[] = [];
      let never = 0;
      for (const g of [...guests].sort((a, b) => (num(a.vmid) ?? 0) - (num(b.vmid) ?? 0))) {
        if (truthy(g.template)) continue;
        const last = latest.get(num(g.vmid) ?? 0);
        if (last !== undefined && last >= cutoff) continue;
        if (last === undefined) never++;
        stale.push(
          `${guestLabel(g)}${
            last === undefined ? ": none" : `: last ${formatDuration(now - last)} ago`
          }`,
        );
      }
      if (stale.length > 0) {
        add("warning", {
          check: "no_recent_backup",
          subject: `${stale.length} guest(s)`,
          detail:
            `${stale.length} guest(s) have no backup from the last ${backupDays} day(s) (${never} have none at all)${
              more(stale.length)
            }.`,
          next_step:
            "Add them to a backup job (Datacenter > Backup) or back them up now; check the job's failed tasks first.",
          ...examples(stale),
        });
      }
    }

    const rank = (s: Severity) => SEVERITIES.indexOf(s);
    findings.sort((a, b) => rank(a.severity) - rank(b.severity));
    const counts = { critical: 0, warning: 0, info: 0 };
    for (const f of findings) counts[f.severity]++;
    const out: Output = {
      healthy: counts.critical === 0 && counts.warning === 0,
      counts,
      findings: findings.slice(0, MAX_FINDINGS),
      checked: {
        nodes: members.length || nodeEntries.length,
        guests: guests.length,
        storages: storagesChecked,
        backups: backupsFound,
      },
      skipped,
    };

    const scopeNote = scope === undefined ? "" : " (guests in scope)";
    const head = out.healthy
      ? `No problems found: ${out.checked.nodes} node(s), ${guests.length} guest(s)${scopeNote}, ${storagesChecked} storage(s) checked; no failed tasks in the last ${sinceHours}h.`
      : `${counts.critical} critical, ${counts.warning} warning(s), ${counts.info} note(s) across ${out.checked.nodes} node(s), ${guests.length} guest(s)${scopeNote}, ${storagesChecked} storage(s):`;
    const lines = [head];
    for (const f of out.findings) {
      lines.push(`[${f.severity}] ${f.detail} Next: ${f.next_step}`);
      for (const e of f.examples ?? []) lines.push(`  - ${e}`);
    }
    if (findings.length > out.findings.length) {
      lines.push(`${findings.length - out.findings.length} more finding(s) not shown.`);
    }
    if (skipped.length > 0) lines.push(`Not checked: ${skipped.join("; ")}.`);
    return { text: lines.join("\n"), structured: out };
  },
});
