/**
 * `backup_jobs`: the scheduled backup jobs (schedule, next run, storage, which guests, mode,
 * retention, enabled) and the guests no job covers (`/cluster/backup-info/not-backed-up`),
 * the latter limited to the configured scope and paged.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool } from "../types.ts";
import { decodeCursor, encodeCursor, queryFingerprint } from "../_shared/cursor.ts";
import { isoTime, num, truthy } from "../_shared/format.ts";
import { pagingParams } from "../_shared/params.ts";
import { scopeIndex } from "../_shared/tasks.ts";

const DEFAULT_LIMIT = 50;

const jobSchema = z.object({
  id: z.string(),
  enabled: z.boolean(),
  schedule: z.string(),
  next_run: z.string().optional(),
  storage: z.string().optional(),
  selection: z.string(),
  mode: z.string().optional(),
  compress: z.string().optional(),
  retention: z.string().optional(),
  notes_template: z.string().optional(),
  comment: z.string().optional(),
});

type Job = z.infer<typeof jobSchema>;

const outputSchema = z.object({
  jobs: z.array(jobSchema),
  not_covered: z.array(z.object({ vmid: z.number(), name: z.string(), type: z.string() })),
  not_covered_total: z.number(),
  next_cursor: z.string().optional(),
  hint: z.string().optional(),
});

function selectionOf(raw: Record<string, unknown>): string {
  if (truthy(raw.all)) {
    return typeof raw.exclude === "string" && raw.exclude !== ""
      ? `all except ${raw.exclude}`
      : "all guests";
  }
  if (typeof raw.pool === "string") return `pool ${raw.pool}`;
  if (typeof raw.vmid === "string" || typeof raw.vmid === "number") return `vmid ${raw.vmid}`;
  return "none";
}

function retentionOf(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "object" && value !== null) {
    const text = Object.entries(value).map(([k, v]) => `${k}=${v}`).sort().join(",");
    return text === "" ? undefined : text;
  }
  return undefined;
}

function jobOf(raw: Record<string, unknown>): Job {
  const job: Job = {
    id: String(raw.id ?? ""),
    enabled: raw.enabled === undefined ? true : truthy(raw.enabled),
    schedule: String(raw.schedule ?? raw.starttime ?? ""),
    selection: selectionOf(raw),
  };
  const next = isoTime(num(raw["next-run"]));
  if (next !== undefined) job.next_run = next;
  for (const [key, out] of [["storage", "storage"], ["mode", "mode"], ["comment", "comment"]]) {
    const value = raw[key as string];
    if (typeof value === "string" && value !== "") {
      (job as Record<string, unknown>)[out as string] = value;
    }
  }
  if (raw.compress !== undefined && String(raw.compress) !== "0") {
    job.compress = String(raw.compress);
  }
  const retention = retentionOf(raw["prune-backups"]);
  if (retention !== undefined) job.retention = retention;
  if (typeof raw["notes-template"] === "string") job.notes_template = raw["notes-template"];
  return job;
}

/** Lists backup jobs and what they leave out. */
export const backupJobs = defineTool({
  name: "backup_jobs",
  title: "Backup jobs",
  description:
    "Scheduled backup jobs (schedule, next run, storage, selection, mode, retention, enabled) and the guests no job covers.",
  toolset: "backup",
  capability: "read",
  inputSchema: z.object({ ...pagingParams(DEFAULT_LIMIT, 500) }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const limit = args.limit ?? DEFAULT_LIMIT;
    const query = queryFingerprint({ list: "not-backed-up" });
    let offset = 0;
    if (args.cursor !== undefined) {
      const decoded = decodeCursor(args.cursor, query);
      if (decoded === undefined) {
        throw new PveValidationError(
          `Cursor "${args.cursor}" is not one of backup_jobs: repeat the call without cursor.`,
          { errors: { cursor: "unknown or stale cursor" } },
        );
      }
      offset = decoded;
    }
    const [rawJobs, rawMissing] = await Promise.all([
      ctx.client.get("/cluster/backup", undefined, { signal: ctx.signal }),
      ctx.client.get("/cluster/backup-info/not-backed-up", undefined, { signal: ctx.signal }),
    ]) as [Record<string, unknown>[], Record<string, unknown>[]];
    const jobs = (Array.isArray(rawJobs) ? rawJobs : []).filter((j) =>
      j.type === undefined || j.type === "vzdump"
    ).map(jobOf).sort((a, b) => a.id.localeCompare(b.id));
    const index = await scopeIndex(ctx);
    const missing = (Array.isArray(rawMissing) ? rawMissing : [])
      .map((g) => ({ vmid: num(g.vmid) ?? 0, name: String(g.name ?? ""), type: String(g.type) }))
      .filter((g) => index === undefined || ctx.inScope(index.get(g.vmid) ?? { vmid: g.vmid }))
      .sort((a, b) => a.vmid - b.vmid);
    const page = missing.slice(offset, offset + limit);
    const structured: z.infer<typeof outputSchema> = {
      jobs,
      not_covered: page,
      not_covered_total: missing.length,
    };
    const end = offset + page.length;
    if (end < missing.length) {
      structured.next_cursor = encodeCursor({ offset: end, query });
      structured.hint = `${missing.length - end} more uncovered guests: pass cursor.`;
    }
    const lines = [
      jobs.length === 0 ? "No backup jobs are scheduled." : `${jobs.length} backup job(s):`,
      ...jobs.map((j) =>
        `${j.id}: ${j.enabled ? "" : "DISABLED, "}${j.schedule}${
          j.next_run ? ` (next ${j.next_run})` : ""
        } -> ${j.storage ?? "default storage"}, ${j.selection}${j.mode ? `, ${j.mode}` : ""}${
          j.retention ? `, retention ${j.retention}` : ""
        }`
      ),
      missing.length === 0
        ? "Every guest is covered by a job."
        : `${missing.length} guest(s) covered by no job: ${
          page.map((g) => `${g.vmid} (${g.name})`).join(", ")
        }${end < missing.length ? ` … next_cursor: ${structured.next_cursor}` : ""}`,
    ];
    return { text: lines.join("\n"), structured };
  },
});
