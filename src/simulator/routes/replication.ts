/**
 * Simulated PVE endpoints: storage replication jobs (`/cluster/replication`), read-only, after
 * pve-manager's `PVE/API2/ReplicationConfig.pm`. Jobs live in `state.replication`; destroying
 * a guest with `purge` removes its jobs, without `purge` a job refuses the destroy.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dieError } from "../errors.ts";
import { type Route, route, type RouteContext } from "../router.ts";
import type { ReplicationJob } from "../state.ts";

function entry(job: ReplicationJob): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: job.id,
    type: job.type,
    guest: job.guest,
    jobnum: job.jobnum,
    target: job.target,
  };
  if (job.schedule !== undefined) out.schedule = job.schedule;
  if (job.comment !== undefined) out.comment = job.comment;
  if (job.disable !== undefined) out.disable = job.disable;
  if (job.source !== undefined) out.source = job.source;
  return out;
}

/** The jobs of guests the caller may audit (`VM.Audit` on `/vms/<guest>`). */
function listJobs(ctx: RouteContext): Record<string, unknown>[] {
  return [...ctx.sim.state.replication.values()]
    .filter((job) => ctx.sim.can(ctx.auth, `/vms/${job.guest}`, "VM.Audit"))
    .map(entry);
}

function getJob(ctx: RouteContext): Record<string, unknown> {
  const id = String(ctx.params.id);
  const job = ctx.sim.state.replication.get(id);
  if (job === undefined) throw dieError(`no such replication job '${id}'`);
  ctx.sim.require(ctx.auth, `/vms/${job.guest}`, "VM.Audit");
  const digest = createHash("sha1").update(JSON.stringify([...ctx.sim.state.replication.values()]))
    .digest("hex");
  return { ...entry(job), digest };
}

/** The replication endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/cluster/replication", listJobs),
  route("GET", "/cluster/replication/{id}", getJob),
];
