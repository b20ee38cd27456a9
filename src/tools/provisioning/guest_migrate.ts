/**
 * `guest_migrate`: moves a VM or container to another node and waits, forwarding the
 * migration's progress. The mode follows the guest: live (`online`) for a running VM, restart
 * migration for a running container, offline otherwise. Local disks move only when
 * `with_local_disks` allows it. Before sending: the target is online and has the guest's
 * storages (with room for local disks) and bridges, and for VMs PVE's own precondition check
 * (`GET …/migrate`) has no objection. An HA-managed guest is handed to the HA manager, and the
 * result says so.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool, type Plan, type ScopeTarget } from "../types.ts";
import { configDisks, driveVolid, readConfig } from "../_shared/disks.ts";
import { formatBytes, truthy } from "../_shared/format.ts";
import {
  findRunningTask,
  guestPath,
  guestSelector,
  guestTitle,
  identityOf,
  lockMessage,
  resolveGuestArg,
  scopeOf,
} from "../_shared/guest.ts";
import { nodeParam } from "../_shared/params.ts";
import {
  nodeBridges,
  nodeStorages,
  requireBridge,
  requireOnlineNode,
  requireStorage,
} from "../_shared/placement.ts";
import { finishRun, type GuestIdentity, provisionFields } from "../_shared/provision.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import { runSteps } from "../_shared/steps.ts";

type Mode = "live" | "restart" | "offline";

interface MigrateState {
  identity: GuestIdentity;
  from: string;
  to: string;
  mode: Mode;
  ha: boolean;
}

const states = new WeakMap<Plan, MigrateState>();

const outputSchema = z.object({
  ...provisionFields,
  from_node: z.string(),
  mode: z.enum(["live", "restart", "offline"]),
  ha_managed: z.boolean(),
});

const MODE_WORDS: Record<Mode, string> = {
  live: "live (the VM keeps running)",
  restart: "restart migration (the container stops here and starts on the target)",
  offline: "offline",
};

/** Migrates a guest. */
export const guestMigrate = defineTool({
  name: "guest_migrate",
  title: "Migrate guest",
  description:
    "Move a VM or container (by vmid or name) to another node and wait, with progress: live for running VMs, restart for running containers, offline when stopped. Local disks move only with with_local_disks. HA-managed guests go through the HA manager.",
  toolset: "provisioning",
  capability: "change",
  inputSchema: z.object({
    ...guestSelector,
    target_node: nodeParam("Node to move to"),
    with_local_disks: z.boolean().optional().describe("Also copy disks on local storage"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    const guest = await resolveGuestArg(args, ctx);
    const title = guestTitle(guest);
    const to = args.target_node;
    if (to === guest.node) {
      throw new PveValidationError(`${title} is already on ${to}: nothing to migrate.`, {
        errors: { target: "target is local node." },
      });
    }
    const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
    requireOnlineNode(resources, to);
    const status = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
      signal: ctx.signal,
    }) as Record<string, unknown>;
    const lock = typeof status.lock === "string" ? status.lock : undefined;
    if (lock !== undefined) {
      throw new PveValidationError(lockMessage(guest, lock, await findRunningTask(guest, ctx)));
    }
    const running = status.status === "running";
    const ha = truthy((status.ha as Record<string, unknown> | undefined)?.managed);
    const config = await readConfig(ctx, guest, { current: true });

    const [here, there, bridges] = await Promise.all([
      nodeStorages(ctx, guest.node),
      nodeStorages(ctx, to),
      nodeBridges(ctx, to),
    ]);
    const shared = new Set(here.filter((s) => s.shared).map((s) => s.storage));
    const disks = configDisks(guest.type, config);
    const local = disks.filter((d) => !shared.has(d.storage));
    if (local.length > 0 && !args.with_local_disks) {
      throw new PveValidationError(
        `${title} has disks on local storage (${
          local.map((d) => `${d.key} ${d.volid}, ${formatBytes(d.bytes)}`).join("; ")
        }): pass with_local_disks: true to copy them to ${to} (this takes a while), or move them to shared storage first.`,
        { errors: { "with-local-disks": "local disks need with_local_disks" } },
      );
    }
    const perStorage = new Map<string, number>();
    for (const disk of disks) {
      const bytes = shared.has(disk.storage) ? 0 : disk.bytes;
      perStorage.set(disk.storage, (perStorage.get(disk.storage) ?? 0) + bytes);
    }
    for (const key of Object.keys(config)) {
      const raw = config[key];
      if (/^(ide|sata|scsi|virtio)\d+$/.test(key) && typeof raw === "string") {
        const volid = driveVolid(raw);
        if (/:vm-\d+-cloudinit/.test(volid)) {
          const storage = volid.slice(0, volid.indexOf(":"));
          perStorage.set(storage, perStorage.get(storage) ?? 0);
        }
      }
    }
    for (const [storage, bytes] of perStorage) {
      requireStorage(there, {
        storage,
        node: to,
        content: guest.type === "qemu" ? "images" : "rootdir",
        bytes,
        argument: "target_node",
      });
    }
    for (const [key, raw] of Object.entries(config)) {
      if (!/^net\d+$/.test(key) || typeof raw !== "string") continue;
      const bridge = /(?:^|,)bridge=([^,]+)/.exec(raw)?.[1];
      if (bridge !== undefined) requireBridge(bridges, bridge, to);
    }
    if (guest.type === "qemu") {
      const pre = await ctx.client.get(`${guestPath(guest)}/migrate`, { target: to }, {
        signal: ctx.signal,
      }) as Record<string, unknown>;
      const devices = Array.isArray(pre.local_resources) ? pre.local_resources.map(String) : [];
      if (devices.length > 0) {
        throw new PveValidationError(
          `${title} uses devices of ${guest.node} (${
            devices.join(", ")
          }), so PVE will not migrate it: remove them from its config first (guest_config_update delete).`,
          { errors: { target: "can't migrate VM which uses local devices" } },
        );
      }
      const refused = (pre.not_allowed_nodes as Record<string, Record<string, unknown>> | undefined)
        ?.[to];
      if (refused !== undefined) {
        const storages = Array.isArray(refused.unavailable_storages)
          ? refused.unavailable_storages.map(String)
          : [];
        throw new PveValidationError(
          `PVE's precondition check refuses ${to} for ${title}${
            storages.length > 0 ? ` (storage not available there: ${storages.join(", ")})` : ""
          }: choose one of ${
            Array.isArray(pre.allowed_nodes) && pre.allowed_nodes.length > 0
              ? pre.allowed_nodes.join(", ")
              : "the nodes it allows (none now)"
          }.`,
          { errors: { target: "not allowed" } },
        );
      }
    }
    const mode: Mode = !running ? "offline" : guest.type === "qemu" ? "live" : "restart";
    const params: Record<string, string | number> = { target: to };
    if (mode === "live") params.online = 1;
    if (mode === "restart") params.restart = 1;
    if (local.length > 0 && guest.type === "qemu") params["with-local-disks"] = 1;
    const target: ScopeTarget = { ...scopeOf(guest), node: to };
    const plan: Plan = {
      target: guest,
      scopeTargets: [target],
      summary: `Migrate ${title} from ${guest.node} to ${to}, ${MODE_WORDS[mode]}${
        local.length > 0
          ? `, copying ${local.length} local disk(s) (${
            formatBytes(local.reduce((sum, d) => sum + d.bytes, 0))
          })`
          : ""
      }${ha ? "; it is HA-managed, so the HA manager carries it out" : ""}.`,
      calls: [{ method: "POST", path: `${guestPath(guest)}/migrate`, params }],
    };
    states.set(plan, { identity: identityOf(guest), from: guest.node, to, mode, ha });
    return checkPlannedCalls(plan);
  },
  async handler(_args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("guest_migrate handler called without its plan");
    }
    const title = guestTitle(state.identity);
    const run = await runSteps(plan, ctx, {
      check: `which node ${title} is on (guest_get)`,
    });
    const result = finishRun<z.infer<typeof outputSchema>>(run, {
      ...state.identity,
      node: state.to,
      from_node: state.from,
      mode: state.mode,
      ha_managed: state.ha,
    }, {
      done: state.ha
        ? `Asked the HA manager to migrate ${title} from ${state.from} to ${state.to}`
        : `Migrated ${title} from ${state.from} to ${state.to} (${state.mode})`,
      ...(state.ha
        ? {
          extra: [
            "The HA manager moves it shortly; guest_get shows its node and HA state.",
          ],
        }
        : {}),
    });
    if (result.isError || result.structured.result !== "ok") {
      result.structured.node = state.from;
    }
    return result;
  },
});
