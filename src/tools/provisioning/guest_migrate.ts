/**
 * `guest_migrate`: moves a VM or container to another node and waits, forwarding the
 * migration's progress. The mode follows the guest: live (`online`) for a running VM, restart
 * migration for a running container, offline otherwise. Local disks move only when
 * `with_local_disks` allows it. Before sending, the shared migration check (`migration.ts`): the
 * target is online and has the guest's storages (with room for local disks) and bridges, PVE's
 * own precondition check (`GET …/migrate`) has no objection for VMs, and nothing ties the guest
 * to its node (devices, a local CD-ROM image, a linked clone or snapshots on local storage). An
 * HA-managed guest is handed to the HA manager, and the result says so.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool, type Plan } from "../types.ts";
import { formatBytes } from "../_shared/format.ts";
import {
  guestSelector,
  guestTitle,
  identityOf,
  resolveGuestArg,
  scopeOf,
} from "../_shared/guest.ts";
import {
  checkMigrationTarget,
  checkMovable,
  migrateCall,
  type MigrationMode,
  MODE_WORDS,
  readMigrationSource,
} from "../_shared/migration.ts";
import { nodeParam } from "../_shared/params.ts";
import { nodeInfo, requireOnlineNode } from "../_shared/placement.ts";
import { finishRun, type GuestIdentity, provisionFields } from "../_shared/provision.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import { runSteps } from "../_shared/steps.ts";

type Mode = MigrationMode;

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
    const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
    if (to === guest.node) {
      const others = resources.nodes
        .filter((n) => n.status === "online" && n.node !== to).map((n) => n.node).sort();
      throw new PveValidationError(
        `${title} is already on ${to}: nothing to migrate. To move it, give another online node ` +
          `as target_node${others.length > 0 ? ` (${others.join(", ")})` : " (none is online)"}.`,
        { errors: { target: "target is local node." } },
      );
    }
    requireOnlineNode(resources, to);
    const info = nodeInfo(ctx);
    const source = await readMigrationSource(ctx, guest, { target: to, info });
    await checkMovable(ctx, source, { withLocalDisks: args.with_local_disks === true, info });
    const target = await checkMigrationTarget(source, to, info);
    const { local, ha } = source;
    const plan: Plan = {
      target: guest,
      scopeTargets: [{ ...scopeOf(guest), node: to }],
      summary: `Migrate ${title} from ${guest.node} to ${to}, ${MODE_WORDS[target.mode]}${
        local.length > 0
          ? `, copying ${local.length} local disk(s) (${
            formatBytes(local.reduce((sum, d) => sum + d.bytes, 0))
          })`
          : ""
      }${ha ? "; it is HA-managed, so the HA manager carries it out" : ""}.`,
      calls: [migrateCall(source, target)],
    };
    states.set(plan, { identity: identityOf(guest), from: guest.node, to, mode: target.mode, ha });
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
