/**
 * `guest_template`: converts a stopped VM or container into a template — irreversible: its
 * disks become read-only base volumes and it can only be cloned from then on, so it is a
 * `destroy`-class tool and asks for confirmation. Refused before sending for a running,
 * locked or already-template guest.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool, type Plan } from "../types.ts";
import { configDisks, readConfig } from "../_shared/disks.ts";
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
import { finishRun, type GuestIdentity, provisionFields } from "../_shared/provision.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import { listSnapshots } from "../_shared/snapshots.ts";
import { runSteps } from "../_shared/steps.ts";

const states = new WeakMap<Plan, GuestIdentity>();

const outputSchema = z.object({ ...provisionFields, template: z.boolean() });

/** Converts a guest into a template. */
export const guestTemplate = defineTool({
  name: "guest_template",
  title: "Convert to template",
  description:
    "Convert a stopped VM or container (by vmid or name) into a template: irreversible; afterwards it can only be cloned (guest_clone), not started.",
  toolset: "provisioning",
  capability: "destroy",
  inputSchema: z.object({ ...guestSelector }),
  outputSchema,
  annotations: { ...annotationsFor("destroy"), idempotentHint: true },
  async plan(args, ctx) {
    const guest = await resolveGuestArg(args, ctx);
    const title = guestTitle(guest);
    if (guest.template) {
      throw new PveValidationError(`${title} is already a template: clone it with guest_clone.`);
    }
    const status = await ctx.client.get(`${guestPath(guest)}/status/current`, undefined, {
      signal: ctx.signal,
    }) as Record<string, unknown>;
    const lock = lockOf(status.lock);
    if (lock !== undefined) {
      throw new PveValidationError(lockMessage(guest, lock, await findRunningTask(guest, ctx)));
    }
    if (status.status === "running") {
      throw new PveValidationError(
        `${title} is running: shut it down first (guest_shutdown), then convert it.`,
        { errors: { vmid: "you can't convert a running guest to a template" } },
      );
    }
    // PVE refuses a template of a guest with snapshots ("contains snapshots").
    const { snapshots } = await listSnapshots(guest, ctx);
    if (snapshots.length > 0) {
      throw new PveValidationError(
        `${title} has snapshots (${
          snapshots.map((snap) => snap.name).join(", ")
        }): delete them first (snapshot_delete), then convert it.`,
        { errors: { vmid: `unable to create template, because ${title} contains snapshots` } },
      );
    }
    const disks = configDisks(guest.type, await readConfig(ctx, guest, { current: true }));
    const plan: Plan = {
      target: guest,
      summary: `Convert ${title} on ${guest.node} into a template, irreversibly: ${
        disks.length > 0
          ? `its disks (${disks.map((d) => d.volid).join(", ")}) become read-only base volumes`
          : "it has no disks"
      }, and it can only be cloned from then on.`,
      calls: [{ method: "POST", path: `${guestPath(guest)}/template` }],
    };
    states.set(plan, identityOf(guest));
    return checkPlannedCalls(plan);
  },
  async handler(_args, ctx, plan) {
    const identity = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || identity === undefined) {
      throw new Error("guest_template handler called without its plan");
    }
    const title = guestTitle(identity);
    const run = await runSteps(plan, ctx, { check: `whether ${title} is a template (guest_get)` });
    const ok = run.stopped === undefined;
    return finishRun<z.infer<typeof outputSchema>>(run, { ...identity, template: ok }, {
      done: `${title} is now a template; clone it with guest_clone`,
    });
  },
});
