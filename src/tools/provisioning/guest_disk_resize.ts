/**
 * `guest_disk_resize`: grows one disk of a VM or container to an absolute size or by `+N`,
 * and waits for the `resize` task. PVE cannot shrink a disk: a smaller size is refused before
 * sending, with the current size in the message; so is a size the storage has no room for.
 * The resize carries the config digest read while planning.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool, type Plan } from "../types.ts";
import { configDisks, growTarget, readConfig } from "../_shared/disks.ts";
import { formatBytes } from "../_shared/format.ts";
import {
  guestPath,
  guestSelector,
  guestTitle,
  identityOf,
  resolveGuestArg,
} from "../_shared/guest.ts";
import { nodeStorages, requireStorage } from "../_shared/placement.ts";
import { finishRun, type GuestIdentity, provisionFields } from "../_shared/provision.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import { runSteps } from "../_shared/steps.ts";

interface ResizeState {
  identity: GuestIdentity;
  disk: string;
  before: number;
  after: number;
}

const states = new WeakMap<Plan, ResizeState>();

const outputSchema = z.object({
  ...provisionFields,
  disk: z.string(),
  size_before_bytes: z.number(),
  size_after_bytes: z.number(),
});

/** Grows a disk. */
export const guestDiskResize = defineTool({
  name: "guest_disk_resize",
  title: "Resize guest disk",
  description:
    "Grow a disk of a VM or container (by vmid or name) to a size like 40G or by +10G, and wait. PVE cannot shrink disks; the storage must have the room.",
  toolset: "provisioning",
  capability: "change",
  inputSchema: z.object({
    ...guestSelector,
    disk: z.string().min(4).max(16).regex(/^[a-z]+\d*$/).describe(
      "Disk key: scsi0, virtio1, rootfs, mp0, …",
    ),
    size: z.string().min(2).max(20).regex(/^\+?\d+(\.\d+)?[KMGT]$/).describe(
      "New size (40G) or growth (+10G); K, M, G or T",
    ),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    const guest = await resolveGuestArg(args, ctx);
    const title = guestTitle(guest);
    const config = await readConfig(ctx, guest);
    const disks = configDisks(guest.type, config);
    const disk = disks.find((d) => d.key === args.disk);
    if (disk === undefined) {
      throw new PveValidationError(
        `${title} has no disk "${args.disk}": resize one of ${
          disks.map((d) => `${d.key} (${formatBytes(d.bytes)})`).join(", ") || "(it has none)"
        }.`,
        { errors: { disk: `disk '${args.disk}' does not exist` } },
      );
    }
    const after = growTarget(disk, args.size, { title });
    const storages = await nodeStorages(ctx, guest.node);
    requireStorage(storages, {
      storage: disk.storage,
      node: guest.node,
      content: guest.type === "qemu" ? "images" : "rootdir",
      bytes: after - disk.bytes,
      argument: "size",
    });
    const params: Record<string, string> = { disk: args.disk, size: args.size };
    if (typeof config.digest === "string") params.digest = config.digest;
    const plan: Plan = {
      target: guest,
      summary: `Grow ${args.disk} (${disk.volid}) of ${title} from ${formatBytes(disk.bytes)} to ${
        formatBytes(after)
      }.`,
      calls: [{ method: "PUT", path: `${guestPath(guest)}/resize`, params }],
      diff: [{ key: args.disk, before: formatBytes(disk.bytes), after: formatBytes(after) }],
    };
    states.set(plan, { identity: identityOf(guest), disk: args.disk, before: disk.bytes, after });
    return checkPlannedCalls(plan);
  },
  async handler(_args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("guest_disk_resize handler called without its plan");
    }
    const run = await runSteps(plan, ctx, {
      check: `the size of ${state.disk} (guest_get)`,
    });
    return finishRun<z.infer<typeof outputSchema>>(run, {
      ...state.identity,
      disk: state.disk,
      size_before_bytes: state.before,
      size_after_bytes: state.after,
    }, {
      done: `Grew ${state.disk} of ${guestTitle(state.identity)} from ${
        formatBytes(state.before)
      } to ${formatBytes(state.after)}${
        state.identity.type === "qemu"
          ? "; grow the partition and file system inside the VM to use the space"
          : " (the container's file system grew with it)"
      }`,
    });
  },
});
