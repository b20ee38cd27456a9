/**
 * `guest_clone`: clones a template or a guest into a new guest — linked (templates only) or
 * full, on this or another node, into a pool — then optionally applies cloud-init settings to
 * the new VM and starts it. The clone task's progress (PVE logs percentages) is forwarded.
 * Checked before anything is sent (`_shared/clone.ts`): linked only from a template, storage
 * only for full clones, the new VMID and name, the target node, storage room for a full copy,
 * the pool, and the new guest against the scope.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool, type Plan, type PlannedCall } from "../types.ts";
import { cloneCloudInit, planClone } from "../_shared/clone.ts";
import { cloudInitKeys, cloudInitParam } from "../_shared/cloud_init.ts";
import { formatBytes } from "../_shared/format.ts";
import { guestLabel, guestSelector, guestTitle, resolveGuestArg } from "../_shared/guest.ts";
import {
  guestNameParam,
  nodeParam,
  poolParam,
  storageParam,
  vmidParam,
} from "../_shared/params.ts";
import { checkDnsName } from "../_shared/placement.ts";
import {
  finishRun,
  type GuestIdentity,
  provisionFields,
  runSucceeded,
} from "../_shared/provision.ts";
import { addSecret } from "../_shared/secrets.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import { runSteps } from "../_shared/steps.ts";

interface CloneState {
  identity: GuestIdentity;
  source: number;
  linked: boolean;
  start: boolean;
}

const states = new WeakMap<Plan, CloneState>();

const outputSchema = z.object({
  ...provisionFields,
  source_vmid: z.number(),
  linked: z.boolean(),
  started: z.boolean(),
});

/** Clones a guest. */
export const guestClone = defineTool({
  name: "guest_clone",
  title: "Clone guest",
  description:
    "Clone a template or guest (by vmid or name) into a new guest and wait, with progress. Linked clones only from templates (the default for them); full copies otherwise. Optionally set cloud-init on the new VM and start it.",
  toolset: "provisioning",
  capability: "change",
  inputSchema: z.object({
    ...guestSelector,
    new_vmid: vmidParam("New guest id; omit for the next free one").optional(),
    new_name: guestNameParam("New guest's name (DNS name)").optional(),
    target_node: nodeParam("Node for the clone; needs shared storage").optional(),
    full: z.boolean().optional().describe("Full copy; default linked for templates"),
    storage: storageParam("Storage for a full clone's disks").optional(),
    pool: poolParam().optional(),
    cloud_init: cloudInitParam.optional().describe("Cloud-init for the new VM"),
    start: z.boolean().optional().describe("Start the clone"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    if (args.new_name !== undefined) checkDnsName(args.new_name, "new_name");
    const source = await resolveGuestArg(args, ctx);
    const title = guestTitle(source);
    if (args.cloud_init !== undefined) {
      if (source.type !== "qemu") {
        throw new PveValidationError(
          `cloud_init is for VMs, and ${title} is a container: drop cloud_init.`,
          { errors: { cloud_init: "not a VM" } },
        );
      }
      cloudInitKeys(args.cloud_init);
    }
    const clone = await planClone(ctx, source, {
      newVmid: args.new_vmid,
      newName: args.new_name,
      full: args.full,
      storage: args.storage,
      targetNode: args.target_node,
      pool: args.pool,
    });
    const { newid, node: newNode, full } = clone;
    const base = `/nodes/${encodeURIComponent(newNode)}/${source.type}/${newid}`;
    const calls: PlannedCall[] = [clone.call];
    const ci = args.cloud_init === undefined
      ? undefined
      : cloneCloudInit(source, clone.config, { cloudInit: args.cloud_init, storage: args.storage });
    let ciIndex: number | undefined;
    if (ci !== undefined) {
      ciIndex = calls.length;
      calls.push({ method: "PUT", path: `${base}/config`, params: ci.params });
    }
    if (args.start) calls.push({ method: "POST", path: `${base}/status/start` });
    const newName = clone.name;
    const plan: Plan = {
      target: source,
      scopeTargets: [clone.scope],
      summary: `${full ? "Full" : "Linked"} clone of ${title} into ${
        guestLabel({ vmid: newid, type: source.type })
      }${newName === undefined ? "" : ` (${newName})`} on ${newNode}${
        full ? ` (copies ${formatBytes(clone.bytes)})` : ""
      }${args.pool === undefined ? "" : ` in pool ${args.pool}`}${
        ci === undefined
          ? ""
          : `, then set cloud-init${
            ci.addsDriveOn === undefined ? "" : ` (adds a cloud-init drive on ${ci.addsDriveOn})`
          }`
      }${args.start ? ", then start it" : ""}.`,
      calls,
    };
    if (ci?.password !== undefined && ciIndex !== undefined) {
      addSecret(plan, ciIndex, "cipassword", ci.password);
    }
    const identity: GuestIdentity = { vmid: newid, node: newNode, type: source.type };
    if (newName !== undefined) identity.name = newName;
    states.set(plan, {
      identity,
      source: source.vmid,
      linked: !full,
      start: args.start === true,
    });
    return checkPlannedCalls(plan);
  },
  async handler(_args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("guest_clone handler called without its plan");
    }
    const label = guestLabel(state.identity);
    const run = await runSteps(plan, ctx, { check: `whether ${label} exists (guest_get)` });
    return finishRun<z.infer<typeof outputSchema>>(run, {
      ...state.identity,
      source_vmid: state.source,
      linked: state.linked,
      started: state.start && runSucceeded(run),
    }, {
      done: `${state.linked ? "Linked" : "Full"} clone ${label}${
        state.identity.name === undefined ? "" : ` (${state.identity.name})`
      } of ${state.source} is ready on ${state.identity.node}${state.start ? " and running" : ""}`,
    });
  },
});
