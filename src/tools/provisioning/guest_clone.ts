/**
 * `guest_clone`: clones a template or a guest into a new guest — linked (templates only) or
 * full, on this or another node, into a pool — then optionally applies cloud-init settings to
 * the new VM and starts it. The clone task's progress (PVE logs percentages) is forwarded.
 * Checked before anything is sent: linked only from a template, storage only for full clones,
 * the new VMID and name, the target node, storage room for a full copy, the pool, and the new
 * guest against the scope.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool, type Plan, type PlannedCall, type ScopeTarget } from "../types.ts";
import { cloudInitKeys, cloudInitParam } from "../_shared/cloud_init.ts";
import { cloudinitKey, configDisks, freeCloudinitSlot, readConfig } from "../_shared/disks.ts";
import { formatBytes, splitTags } from "../_shared/format.ts";
import {
  findRunningTask,
  guestLabel,
  guestSelector,
  guestTitle,
  lockMessage,
  resolveGuestArg,
} from "../_shared/guest.ts";
import {
  guestNameParam,
  nodeParam,
  poolParam,
  storageParam,
  vmidParam,
} from "../_shared/params.ts";
import {
  checkDnsName,
  chooseVmid,
  nodeStorages,
  requireOnlineNode,
  requirePool,
  requireStorage,
} from "../_shared/placement.ts";
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
    const full = args.full ?? !source.template;
    if (!full && !source.template) {
      throw new PveValidationError(
        `A linked clone needs a template, and ${title} is not one: pass full: true for an independent copy, or convert it with guest_template first.`,
        { errors: { full: "linked clones only from templates" } },
      );
    }
    if (args.storage !== undefined && !full) {
      throw new PveValidationError(
        `storage applies to full clones only (a linked clone shares the template's disks): drop storage, or pass full: true.`,
        { errors: { storage: "parameter 'storage' not allowed for linked clones" } },
      );
    }
    if (args.cloud_init !== undefined && source.type !== "qemu") {
      throw new PveValidationError(
        `cloud_init is for VMs, and ${title} is a container: drop cloud_init.`,
        { errors: { cloud_init: "not a VM" } },
      );
    }
    const ci = args.cloud_init === undefined ? undefined : cloudInitKeys(args.cloud_init);
    const config = await readConfig(ctx, source);
    if (typeof config.lock === "string") {
      throw new PveValidationError(
        lockMessage(source, config.lock, await findRunningTask(source, ctx)),
      );
    }
    const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
    requirePool(resources, args.pool);
    const newNode = args.target_node ?? source.node;
    if (newNode !== source.node) requireOnlineNode(resources, newNode);

    const disks = configDisks(source.type, config);
    const storages = await nodeStorages(ctx, source.node);
    const shared = new Set(storages.filter((s) => s.shared).map((s) => s.storage));
    if (newNode !== source.node) {
      const local = disks.filter((d) => !shared.has(d.storage));
      const onto = args.storage === undefined
        ? undefined
        : storages.find((s) => s.storage === args.storage);
      if (local.length > 0 && !(full && onto?.shared)) {
        throw new PveValidationError(
          `${title} has disks on local storage (${
            local.map((d) => d.volid).join(", ")
          }), so PVE can clone it to ${newNode} only as a full clone onto shared storage: pass full: true and a shared storage, or clone on ${source.node} and move it with guest_migrate.`,
          { errors: { target: "VM uses local storage" } },
        );
      }
    }
    const content = source.type === "qemu" ? "images" : "rootdir";
    if (full) {
      const perStorage = new Map<string, number>();
      for (const disk of disks) {
        const storage = args.storage ?? disk.storage;
        perStorage.set(storage, (perStorage.get(storage) ?? 0) + disk.bytes);
      }
      for (const [storage, bytes] of perStorage) {
        requireStorage(storages, { storage, node: source.node, content, bytes });
        if (newNode !== source.node) {
          requireStorage(await nodeStorages(ctx, newNode), {
            storage,
            node: newNode,
            content,
            bytes: 0,
          });
        }
      }
    }
    const newid = await chooseVmid(ctx, resources, args.new_vmid);
    const tags = splitTags(config.tags);
    const target: ScopeTarget = { vmid: newid, node: newNode, tags };
    if (args.pool !== undefined) target.pool = args.pool;

    const cloneParams: Record<string, string | number> = { newid, full: full ? 1 : 0 };
    if (args.new_name !== undefined) {
      cloneParams[source.type === "qemu" ? "name" : "hostname"] = args.new_name;
    }
    if (args.storage !== undefined) cloneParams.storage = args.storage;
    if (newNode !== source.node) cloneParams.target = newNode;
    if (args.pool !== undefined) cloneParams.pool = args.pool;
    const base = `/nodes/${encodeURIComponent(newNode)}/${source.type}/${newid}`;
    const calls: PlannedCall[] = [{
      method: "POST",
      path: `/nodes/${encodeURIComponent(source.node)}/${source.type}/${source.vmid}/clone`,
      params: cloneParams,
    }];
    let ciIndex: number | undefined;
    const notes: string[] = [];
    if (ci !== undefined) {
      const params: Record<string, string> = { ...ci.params };
      if (cloudinitKey(config) === undefined) {
        const storage = args.storage ?? disks[0]?.storage;
        if (storage === undefined) {
          throw new PveValidationError(
            `${title} has no disk to put a cloud-init drive beside: pass storage.`,
          );
        }
        params[freeCloudinitSlot(config)] = `${storage}:cloudinit`;
        notes.push(`adds a cloud-init drive on ${storage}`);
      }
      if (config.net0 === undefined) {
        throw new PveValidationError(
          `${title} has no net0, so cloud-init has no NIC to configure: add one first or drop cloud_init.ip.`,
        );
      }
      ciIndex = calls.length;
      calls.push({ method: "PUT", path: `${base}/config`, params });
    }
    if (args.start) calls.push({ method: "POST", path: `${base}/status/start` });
    const newName = args.new_name ??
      (source.type === "qemu" ? `Copy-of-VM-${source.name || source.vmid}` : undefined);
    const size = disks.reduce((sum, d) => sum + d.bytes, 0);
    const plan: Plan = {
      target: source,
      scopeTargets: [target],
      summary: `${full ? "Full" : "Linked"} clone of ${title} into ${
        guestLabel({ vmid: newid, type: source.type })
      }${newName === undefined ? "" : ` (${newName})`} on ${newNode}${
        full ? ` (copies ${formatBytes(size)})` : ""
      }${args.pool === undefined ? "" : ` in pool ${args.pool}`}${
        ci === undefined ? "" : `, then set cloud-init${notes.length > 0 ? ` (${notes[0]})` : ""}`
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
