/**
 * `volume_delete`: deletes one volume — an ISO image, a container template, a backup, or a
 * disk image no guest uses. The plan refuses, with the fix, what PVE would refuse or what would
 * break a guest: a protected backup, a disk still attached to a guest, the RAM state of a
 * snapshot, an ISO in a guest's CD drive. A guest's unused disk (`unusedN`) is deleted through
 * the guest's config, the way PVE removes it.
 *
 * @module
 */

import { sendWrite } from "../_shared/write.ts";
import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError, PveNotFoundError, PveValidationError } from "../../pve/errors.ts";
import type { Guest, GuestRef } from "../../pve/mod.ts";
import {
  defineTool,
  type Plan,
  type ScopeTarget,
  type ToolContext,
  type ToolResult,
} from "../types.ts";
import { formatBytes, truthy } from "../_shared/format.ts";
import { guestPath, guestTitle, scopeOf } from "../_shared/guest.ts";
import { nodeParam, volidParam } from "../_shared/params.ts";
import {
  checkNodeName,
  contentPath,
  findStorage,
  parseVolid,
  storageNode,
  storagesOf,
  type VolumeId,
} from "../_shared/storage.ts";
import { describeOutcome, taskFields, taskFieldsOf } from "../_shared/task.ts";

/** Guests whose configs are read to find an ISO in a CD drive, at most. */
const MAX_CONFIG_READS = 200;
const CONCURRENCY = 8;

const outputSchema = z.object({
  volid: z.string(),
  node: z.string(),
  via: z.enum(["storage", "guest_config"]),
  result: z.enum(["ok", "warnings", "failed", "timeout", "cancelled"]),
  ...taskFields,
});

type Output = z.infer<typeof outputSchema>;

interface DeleteState {
  volid: string;
  node: string;
  via: "storage" | "guest_config";
}

const states = new WeakMap<Plan, DeleteState>();

const KIND_NAMES: Record<VolumeId["kind"], string> = {
  iso: "ISO image",
  vztmpl: "container template",
  backup: "backup",
  images: "disk image",
  snippets: "snippet",
  import: "import file",
};

const DISK_KEY = /^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$|^rootfs$|^mp\d+$/;

function volumeOfValue(value: unknown): string {
  const first = String(value).split(",")[0] ?? "";
  return first.startsWith("volume=") ? first.slice(7) : first;
}

async function readConfig(
  guest: { node: string; type: "qemu" | "lxc"; vmid: number },
  ctx: ToolContext,
): Promise<Record<string, unknown>> {
  return await ctx.client.get(`${guestPath(guest)}/config`, undefined, {
    signal: ctx.signal,
  }) as Record<string, unknown>;
}

/** Guests (VMs) whose CD drive holds the ISO; `checked` false when there were too many to read. */
async function isoUsers(
  vol: VolumeId,
  guests: Guest[],
  ctx: ToolContext,
): Promise<{ users: { guest: Guest; key: string }[]; checked: boolean }> {
  const candidates = guests.filter((g) => g.type === "qemu" && g.nodeOnline);
  if (candidates.length > MAX_CONFIG_READS) return { users: [], checked: false };
  const users: { guest: Guest; key: string }[] = [];
  for (let i = 0; i < candidates.length; i += CONCURRENCY) {
    const batch = candidates.slice(i, i + CONCURRENCY);
    const configs = await Promise.all(
      batch.map((g) => readConfig(g, ctx).catch(() => ({}))),
    );
    batch.forEach((guest, n) => {
      for (const [key, value] of Object.entries(configs[n] ?? {})) {
        if (/^(ide|sata|scsi)\d+$/.test(key) && volumeOfValue(value) === vol.volid) {
          users.push({ guest, key });
        }
      }
    });
  }
  return { users, checked: true };
}

/** Deletes a volume. */
export const volumeDelete = defineTool({
  name: "volume_delete",
  title: "Delete volume",
  description:
    "Delete one volume: ISO, container template, backup, or a disk image no guest uses (a guest's unusedN disk goes through its config). Refuses protected backups and volumes a guest still uses.",
  toolset: "storage",
  capability: "destroy",
  inputSchema: z.object({
    volid: volidParam(),
    node: nodeParam("Node (for per-node storage such as local)").optional(),
  }),
  outputSchema,
  annotations: { ...annotationsFor("destroy"), idempotentHint: false },
  async plan(args, ctx) {
    const vol = parseVolid(args.volid);
    if (args.node !== undefined) checkNodeName(args.node);
    const inventory = await ctx.client.resources(undefined, { signal: ctx.signal });
    const info = findStorage(storagesOf(inventory), vol.storage);
    const where = storageNode(info, args.node);
    if (!where.available) {
      throw new PveError(
        `Storage "${info.storage}" does not answer on ${where.node}: nothing can be deleted on it now; check it with storage_list.`,
        { node: where.node },
      );
    }
    let volume: Record<string, unknown>;
    try {
      volume = await ctx.client.get(contentPath(where.node, info.storage, vol.volid), undefined, {
        signal: ctx.signal,
      }) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof PveNotFoundError) {
        throw new PveNotFoundError(
          `Volume "${vol.volid}" does not exist on storage "${info.storage}"${
            info.shared ? "" : ` of node ${where.node}`
          }: list what is there with storage_content.`,
        );
      }
      throw error;
    }
    const size = formatBytes(typeof volume.size === "number" ? volume.size : undefined);
    if (vol.kind === "backup" && truthy(volume.protected)) {
      throw new PveValidationError(
        `Backup "${vol.volid}" is protected, and PVE refuses to delete it: remove the protection first (pve_api_call PUT ${
          contentPath(where.node, info.storage, vol.volid)
        } with protected=0), then delete it.`,
        { errors: { volid: "protected" } },
      );
    }
    const owner: GuestRef | undefined = vol.vmid === undefined
      ? undefined
      : inventory.guests.find((g) => g.vmid === vol.vmid);
    const scopeTargets: ScopeTarget[] = owner !== undefined
      ? [scopeOf(owner)]
      : vol.vmid !== undefined
      ? [{ vmid: vol.vmid, node: where.node }]
      : [{ node: where.node }];
    const deleteCall = {
      method: "DELETE" as const,
      path: contentPath(where.node, info.storage, vol.volid),
    };
    const what = KIND_NAMES[vol.kind];

    if (vol.kind === "images" && owner !== undefined) {
      const title = guestTitle(owner);
      const state = /-state-(.+)$/.exec(vol.volname)?.[1];
      const config = await readConfig(owner, ctx);
      const entry = Object.entries(config).find(([key, value]) =>
        (DISK_KEY.test(key) || /^unused\d+$/.test(key) || key === "vmstate") &&
        volumeOfValue(value) === vol.volid
      );
      if (entry !== undefined && /^unused\d+$/.test(entry[0])) {
        const plan: Plan = {
          target: owner,
          summary: `Delete ${vol.volid} (${size}), the unused disk ${
            entry[0]
          } of ${title}, through its config.`,
          calls: [{
            method: "PUT",
            path: `${guestPath(owner)}/config`,
            params: typeof config.digest === "string"
              ? { delete: entry[0], digest: config.digest }
              : { delete: entry[0] },
          }],
        };
        states.set(plan, { volid: vol.volid, node: owner.node, via: "guest_config" });
        return plan;
      }
      if (entry !== undefined) {
        throw new PveValidationError(
          `${vol.volid} is ${
            entry[0]
          } of ${title}, which still uses it: detach it from the guest (it then becomes an unused disk) or delete the guest instead.`,
          { errors: { volid: "in use" } },
        );
      }
      if (state !== undefined) {
        throw new PveValidationError(
          `${vol.volid} holds the RAM state of snapshot "${state}" of ${title}: delete that snapshot with snapshot_delete instead.`,
          { errors: { volid: "in use by a snapshot" } },
        );
      }
      throw new PveValidationError(
        `${vol.volid} belongs to ${title} but no config key uses it, and PVE refuses to delete a disk of an existing guest: on node ${owner.node} run 'qm disk rescan --vmid ${owner.vmid}' (or 'pct rescan') to add it as an unused disk, then delete that.`,
        { errors: { volid: "owned by an existing guest" } },
      );
    }

    let note = "";
    if (vol.kind === "iso") {
      const visible = inventory.guests.filter((g) => info.shared || g.node === where.node);
      const { users, checked } = await isoUsers(vol, visible, ctx);
      const first = users[0];
      if (first !== undefined) {
        throw new PveValidationError(
          `${vol.volid} is in the CD drive (${first.key}) of ${guestTitle(first.guest)}${
            users.length > 1 ? ` and ${users.length - 1} more guest(s)` : ""
          }: eject it first (pve_api_call PUT ${
            guestPath(first.guest)
          }/config with ${first.key}=none,media=cdrom), then delete it.`,
          { errors: { volid: "in use" } },
        );
      }
      if (!checked) note = " (too many guests to check whether one has it in its CD drive)";
    }
    const plan: Plan = {
      summary:
        `Delete ${what} ${vol.volid} (${size}) from storage "${info.storage}" on ${where.node}${
          owner === undefined && vol.vmid !== undefined && vol.kind === "images"
            ? ` (guest ${vol.vmid} no longer exists)`
            : ""
        }${note}.`,
      scopeTargets,
      calls: [deleteCall],
    };
    if (owner !== undefined) plan.target = owner;
    states.set(plan, { volid: vol.volid, node: where.node, via: "storage" });
    return plan;
  },
  async handler(_args, ctx, plan): Promise<ToolResult<Output>> {
    const state = plan === undefined ? undefined : states.get(plan);
    const call = plan?.calls[0];
    if (plan === undefined || state === undefined || call === undefined) {
      throw new Error("volume_delete handler called without its plan");
    }
    ctx.progress(plan.summary);
    const answer = await sendWrite(ctx, call);
    const base = { volid: state.volid, node: state.node, via: state.via };
    if (typeof answer !== "string" || !answer.startsWith("UPID:")) {
      return {
        text: `Deleted ${state.volid}.`,
        structured: { ...base, result: "ok" },
      };
    }
    const outcome = await ctx.waitTask(answer);
    const fields = taskFieldsOf(outcome);
    const structured: Output = { ...base, result: fields.task_state ?? "failed", ...fields };
    const text = describeOutcome(outcome, `Deleted ${state.volid}`);
    return outcome.state === "failed" ? { text, structured, isError: true } : { text, structured };
  },
});
