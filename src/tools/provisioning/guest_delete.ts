/**
 * `guest_delete`: destroys a VM or container and every volume it owns, and purges it from
 * backup jobs, replication and HA (`purge=1`, `destroy-unreferenced-disks=1`). The plan — and
 * so the dry run and the confirmation question — lists every volume that will be destroyed:
 * the config's disks, unused volumes, the cloud-init drive and saved state, the disks of its
 * snapshots, and unreferenced volumes with its VMID on the node's storages. Refused before
 * sending for a protected or locked guest, and for a running one unless `stop_first`.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError, PveValidationError } from "../../pve/errors.ts";
import type { GuestRef } from "../../pve/mod.ts";
import { defineTool, type Plan, type PlannedCall, type ToolContext } from "../types.ts";
import { driveVolid, type GuestConfig, isCdrom, isDiskKey, readConfig } from "../_shared/disks.ts";
import { truthy } from "../_shared/format.ts";
import {
  findRunningTask,
  guestPath,
  guestSelector,
  guestTitle,
  identityOf,
  lockMessage,
  lockOf,
  resolveGuestArg,
} from "../_shared/guest.ts";
import { nodeStorages } from "../_shared/placement.ts";
import { finishRun, type GuestIdentity, provisionFields } from "../_shared/provision.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import { runSteps } from "../_shared/steps.ts";

interface DeleteState {
  identity: GuestIdentity;
  volumes: string[];
  backupJobs: string[];
  replicationJobs: string[];
  ha: boolean;
}

const states = new WeakMap<Plan, DeleteState>();

const outputSchema = z.object({
  ...provisionFields,
  volumes: z.array(z.string()),
  backup_jobs: z.array(z.string()),
  replication_jobs: z.array(z.string()),
  ha_removed: z.boolean(),
});

/** Volumes a config references (disks, unused volumes, cloud-init drive, saved state). */
function referencedVolumes(type: "qemu" | "lxc", config: GuestConfig): string[] {
  const out: string[] = [];
  for (const [key, raw] of Object.entries(config)) {
    if (typeof raw !== "string") continue;
    const disk = isDiskKey(type, key);
    if (!disk && !/^unused\d+$/.test(key) && key !== "vmstate") continue;
    if (disk && isCdrom(raw) && !/:vm-\d+-cloudinit/.test(raw)) continue;
    const volid = driveVolid(raw);
    if (volid.includes(":")) out.push(volid);
  }
  return out;
}

/** Every volume a destroy with `destroy-unreferenced-disks` removes. */
async function doomedVolumes(ctx: ToolContext, guest: GuestRef): Promise<string[]> {
  const volumes = new Set<string>();
  for (
    const config of [await readConfig(ctx, guest, { current: true }), await readConfig(ctx, guest)]
  ) {
    for (const volid of referencedVolumes(guest.type, config)) volumes.add(volid);
  }
  const snapshots = await ctx.client.get(`${guestPath(guest)}/snapshot`, undefined, {
    signal: ctx.signal,
  }) as Record<string, unknown>[];
  for (const snap of Array.isArray(snapshots) ? snapshots : []) {
    if (snap.name === "current" || typeof snap.name !== "string") continue;
    const config = await ctx.client.get(
      `${guestPath(guest)}/snapshot/${encodeURIComponent(snap.name)}/config`,
      undefined,
      { signal: ctx.signal },
    ) as GuestConfig;
    for (const volid of referencedVolumes(guest.type, config ?? {})) volumes.add(volid);
  }
  for (const storage of await nodeStorages(ctx, guest.node)) {
    if (!storage.enabled || !storage.active) continue;
    if (!storage.content.includes("images") && !storage.content.includes("rootdir")) continue;
    const list = await ctx.client.get(
      `/nodes/${encodeURIComponent(guest.node)}/storage/${
        encodeURIComponent(storage.storage)
      }/content`,
      { vmid: guest.vmid },
      { signal: ctx.signal },
    ) as Record<string, unknown>[];
    for (const volume of Array.isArray(list) ? list : []) {
      const kind = String(volume.content ?? "");
      if ((kind === "images" || kind === "rootdir") && volume.volid) {
        volumes.add(String(volume.volid));
      }
    }
  }
  return [...volumes].sort();
}

/** Backup and replication jobs naming the guest (empty when the credential cannot read them). */
async function references(
  ctx: ToolContext,
  vmid: number,
): Promise<{ backup: string[]; replication: string[] }> {
  const read = async (path: string): Promise<Record<string, unknown>[]> => {
    try {
      const list = await ctx.client.get(path, undefined, { signal: ctx.signal });
      return Array.isArray(list) ? list as Record<string, unknown>[] : [];
    } catch (error) {
      if (error instanceof PveError && (error.status === 403 || error.status === 501)) return [];
      throw error;
    }
  };
  const [backup, replication] = await Promise.all([
    read("/cluster/backup"),
    read("/cluster/replication"),
  ]);
  return {
    backup: backup.filter((job) => String(job.vmid ?? "").split(/[,;\s]+/).includes(String(vmid)))
      .map((job) => String(job.id)),
    replication: replication.filter((job) => Number(job.guest) === vmid).map((job) =>
      String(job.id)
    ),
  };
}

/** Deletes a guest. */
export const guestDelete = defineTool({
  name: "guest_delete",
  title: "Delete guest",
  description:
    "Delete a VM or container (by vmid or name) with every volume it owns, and remove it from backup jobs, replication and HA. Irreversible; the plan lists the volumes. Stopped guests only, unless stop_first (hard power-off).",
  toolset: "provisioning",
  capability: "destroy",
  inputSchema: z.object({
    ...guestSelector,
    stop_first: z.boolean().optional().describe("Power off a running guest first"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("destroy"), idempotentHint: false },
  async plan(args, ctx) {
    const guest = await resolveGuestArg(args, ctx);
    const title = guestTitle(guest);
    const config = await readConfig(ctx, guest, { current: true });
    if (truthy(config.protection)) {
      throw new PveValidationError(
        `${title} is protected (protection=1): turn that off first with guest_config_update (set protection to 0), then delete it.`,
        { errors: { protection: "protection mode enabled" } },
      );
    }
    const status = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
      signal: ctx.signal,
    }) as Record<string, unknown>;
    const lock = lockOf(status.lock);
    if (lock !== undefined) {
      throw new PveValidationError(lockMessage(guest, lock, await findRunningTask(guest, ctx)));
    }
    const running = status.status === "running";
    if (running && !args.stop_first) {
      throw new PveValidationError(
        `${title} is running: shut it down first (guest_shutdown), or pass stop_first: true to power it off hard before deleting.`,
        { errors: { vmid: "guest is running" } },
      );
    }
    const ha = truthy((status.ha as Record<string, unknown> | undefined)?.managed);
    const volumes = await doomedVolumes(ctx, guest);
    const refs = await references(ctx, guest.vmid);
    const calls: PlannedCall[] = [];
    if (running) calls.push({ method: "POST", path: `${guestPath(guest)}/status/stop` });
    calls.push({
      method: "DELETE",
      path: guestPath(guest),
      params: { purge: 1, "destroy-unreferenced-disks": 1 },
    });
    const purges = [
      ...refs.backup.map((id) => `backup job ${id}`),
      ...refs.replication.map((id) => `replication job ${id}`),
      ...(ha ? ["HA"] : []),
    ];
    const plan: Plan = {
      target: guest,
      summary: `${
        running ? "Power off and delete" : "Delete"
      } ${title} on ${guest.node} for good, destroying ${volumes.length} volume(s)${
        volumes.length > 0 ? `: ${volumes.join(", ")}` : ""
      }${purges.length > 0 ? `; and remove it from ${purges.join(", ")}` : ""}.`,
      calls,
    };
    states.set(plan, {
      identity: identityOf(guest),
      volumes,
      backupJobs: refs.backup,
      replicationJobs: refs.replication,
      ha,
    });
    return checkPlannedCalls(plan);
  },
  async handler(_args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("guest_delete handler called without its plan");
    }
    const title = guestTitle(state.identity);
    const run = await runSteps(plan, ctx, { check: `whether ${title} still exists (guest_get)` });
    return finishRun<z.infer<typeof outputSchema>>(run, {
      ...state.identity,
      volumes: state.volumes,
      backup_jobs: state.backupJobs,
      replication_jobs: state.replicationJobs,
      ha_removed: state.ha,
    }, {
      done: `Deleted ${title} and ${state.volumes.length} volume(s)`,
    });
  },
});
