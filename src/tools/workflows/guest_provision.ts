/**
 * `guest_provision`: a ready VM from a template in one call — clone (linked or full), set
 * cloud-init and hardware (cores, memory, tags) in one config change, grow the boot disk, start
 * it, and wait (bounded) until its guest agent reports an address; returns the VM, its
 * addresses and the SSH command. Each step is planned with its calls (the dry run shows them
 * all), checked before anything is sent, reported with progress and audited on its own line.
 *
 * Resumable: planning reads what already exists — the VM of an earlier run (by `vmid`, or a
 * linked clone of this template with this name), its config, disk size and power state — and
 * marks those steps `already`, so a run that stopped (a full storage at the resize, a timeout,
 * a cancellation) continues with the call it returned and repeats nothing.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError, PveValidationError } from "../../pve/errors.ts";
import type { GuestRef } from "../../pve/mod.ts";
import {
  defineTool,
  type Plan,
  type PlannedCall,
  type ScopeTarget,
  type ToolContext,
} from "../types.ts";
import { agentInterfaces, reachableAddresses } from "../_shared/agent.ts";
import { cloneCloudInit, planClone } from "../_shared/clone.ts";
import { type CloudInit, cloudInitKeys, cloudInitParam } from "../_shared/cloud_init.ts";
import {
  cloudinitKey,
  configDisks,
  type DiskInfo,
  growTarget,
  type GuestConfig,
  readConfig,
} from "../_shared/disks.ts";
import { formatBytes, splitTags, truthy } from "../_shared/format.ts";
import {
  findRunningTask,
  guestLabel,
  guestPath,
  guestTitle,
  lockMessage,
  lockOf,
  resolveGuestArg,
  scopeOf,
} from "../_shared/guest.ts";
import {
  guestNameParam,
  nodeParam,
  poolParam,
  storageParam,
  tagsParam,
  vmidParam,
} from "../_shared/params.ts";
import {
  checkDnsName,
  checkResources,
  checkTags,
  nodeFacts,
  nodeStorages,
  requirePool,
  requireStorage,
} from "../_shared/placement.ts";
import { addSecret } from "../_shared/secrets.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import {
  auditStep,
  callText,
  outcomeDetail,
  pause,
  type RunResult,
  runStep,
  type StepReport,
  stepReport,
  workflowFields,
  type WorkflowStep,
} from "../_shared/workflow.ts";

const MASKED = "**********";

/** What planning found, kept for the handler. */
interface ProvisionState {
  vmid: number;
  name: string;
  node: string;
  template: number;
  steps: WorkflowStep[];
  /** Seconds to wait for the agent's address; undefined when the VM has no agent. */
  agentSeconds?: number;
  /** Address cloud-init sets (static ip), preferred for the SSH command. */
  staticIp?: string;
  user?: string;
  /** The arguments of the continuation call (secrets left out). */
  continueArgs: Record<string, unknown>;
  /** A password the continuation needs again (the configure step has not run). */
  passwordPending: boolean;
}

const states = new WeakMap<Plan, ProvisionState>();

const outputSchema = z.object({
  vmid: z.number(),
  name: z.string(),
  node: z.string(),
  template_vmid: z.number(),
  ...workflowFields,
  addresses: z.array(z.string()).optional(),
  ssh_command: z.string().optional(),
});

type Output = z.infer<typeof outputSchema>;

type Args = {
  template: string;
  name: string;
  vmid?: number | undefined;
  node?: string | undefined;
  full?: boolean | undefined;
  storage?: string | undefined;
  pool?: string | undefined;
  tags?: string[] | undefined;
  cores?: number | undefined;
  memory_mib?: number | undefined;
  disk_gib?: number | undefined;
  cloud_init?: CloudInit | undefined;
  wait_seconds?: number | undefined;
};

/** The disk a VM boots from: the first disk of `boot: order=…`, else its first disk. */
function bootDisk(config: GuestConfig): DiskInfo | undefined {
  const disks = configDisks("qemu", config);
  const order = /(?:^|,)order=([^,]+)/.exec(String(config.boot ?? ""))?.[1]?.split(";") ?? [];
  for (const key of order) {
    const disk = disks.find((d) => d.key === key);
    if (disk !== undefined) return disk;
  }
  return disks[0];
}

/** The guest of an earlier run to continue, if the arguments point at one. */
async function findEarlierRun(
  args: Args,
  template: GuestRef,
  ctx: ToolContext,
): Promise<GuestRef | undefined> {
  const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
  const named = resources.guests.filter((g) => g.name.toLowerCase() === args.name.toLowerCase());
  if (args.vmid !== undefined) {
    const taken = resources.guests.find((g) => g.vmid === args.vmid);
    if (taken === undefined) {
      const other = named[0];
      if (other === undefined) return undefined;
      throw new PveValidationError(
        `A guest named "${args.name}" already exists (${
          guestTitle(other)
        } on ${other.node}), and VMID ${args.vmid} is free: choose another name, or pass vmid: ${other.vmid} if that is the VM to finish.`,
        { errors: { name: "name already in use" } },
      );
    }
    ctx.assertInScope(scopeOf(taken));
    if (
      taken.type !== "qemu" || taken.template ||
      taken.name.toLowerCase() !== args.name.toLowerCase()
    ) {
      throw new PveValidationError(
        `VMID ${args.vmid} is already used by ${guestTitle(taken)}${
          taken.template ? " (a template)" : ""
        } on ${taken.node}: choose another vmid, or omit it for the next free one.`,
        { errors: { vmid: `VM ${args.vmid} already exists` } },
      );
    }
    return taken;
  }
  for (const guest of named) {
    if (guest.type !== "qemu" || guest.template || !ctx.inScope(scopeOf(guest))) continue;
    const config = await readConfig(ctx, guest);
    const linked = configDisks("qemu", config).some((d) =>
      new RegExp(`^[^:]+:base-${template.vmid}-disk-\\d+/`).test(d.volid)
    );
    if (linked) return guest;
  }
  const other = named[0];
  if (other !== undefined) {
    throw new PveValidationError(
      `A guest named "${args.name}" already exists (${
        guestTitle(other)
      } on ${other.node}): choose another name, or pass vmid: ${other.vmid} if it is the VM an earlier guest_provision run made and should finish.`,
      { errors: { name: "name already in use" } },
    );
  }
  return undefined;
}

/** Provisions a VM from a template. */
export const guestProvision = defineTool({
  name: "guest_provision",
  title: "Provision VM from template",
  description:
    "Make a ready VM from a template (name or vmid): clone, set cloud-init, cores, memory and tags, grow the disk, start it and wait until its guest agent reports an address; returns addresses and the SSH command. Resumable: a stopped run returns the call that continues it, and repeating it skips finished steps.",
  toolset: "workflows",
  capability: "change",
  inputSchema: z.object({
    template: z.string().min(1).max(128).describe("Template name or vmid"),
    name: guestNameParam("New VM's name (DNS name)"),
    vmid: vmidParam("New VM id; omit for the next free one").optional(),
    node: nodeParam("Node for the VM (default: the template's)").optional(),
    full: z.boolean().optional().describe("Full copy instead of a linked clone"),
    storage: storageParam("Storage for a full copy").optional(),
    pool: poolParam().optional(),
    tags: tagsParam().optional(),
    cores: z.number().int().min(1).max(512).optional(),
    memory_mib: z.number().int().min(16).max(4_194_304).optional(),
    disk_gib: z.number().int().min(1).max(131_072).optional().describe("Grow the boot disk to"),
    cloud_init: cloudInitParam.optional(),
    wait_seconds: z.number().int().min(1).max(900).optional().describe(
      "Wait for an address (default 180)",
    ),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: true },
  async plan(args, ctx) {
    checkDnsName(args.name, "name");
    if (args.tags !== undefined) checkTags(args.tags);
    if (args.cloud_init !== undefined) cloudInitKeys(args.cloud_init);
    const byVmid = /^\d+$/.test(args.template);
    const template = await resolveGuestArg(
      byVmid ? { vmid: Number(args.template) } : { name: args.template },
      ctx,
    );
    if (template.type !== "qemu" || !template.template) {
      throw new PveValidationError(
        `${
          guestTitle(template)
        } is not a VM template: name a template (guest_list shows them), or copy a guest with guest_clone.`,
        { errors: { template: "not a template" } },
      );
    }
    const earlier = await findEarlierRun(args, template, ctx);
    const steps: WorkflowStep[] = [];
    const calls: PlannedCall[] = [];
    const add = (step: WorkflowStep, stepCalls: PlannedCall[] = []): number[] => {
      const indices = stepCalls.map((call) => calls.push(call) - 1);
      step.calls = indices;
      steps.push(step);
      return indices;
    };

    let vmid: number;
    let node: string;
    let config: GuestConfig;
    let running = false;
    let scope: ScopeTarget;
    let diskStorageFor: (disk: DiskInfo) => string;
    let copyBytes = 0;
    if (earlier === undefined) {
      const clone = await planClone(ctx, template, {
        newVmid: args.vmid,
        newName: args.name,
        full: args.full,
        storage: args.storage,
        targetNode: args.node,
        pool: args.pool,
      });
      vmid = clone.newid;
      node = clone.node;
      config = clone.config;
      scope = clone.scope;
      diskStorageFor = (disk) => clone.full ? args.storage ?? disk.storage : disk.storage;
      if (clone.full) copyBytes = clone.bytes;
      add({
        step: "clone",
        describe: `${clone.full ? "full" : "linked"} clone of ${template.vmid} into VM ${vmid}`,
        calls: [],
        guest: { vmid, node, type: "qemu", name: args.name },
      }, [clone.call]);
    } else {
      if (args.node !== undefined && args.node !== earlier.node) {
        throw new PveValidationError(
          `${
            guestTitle(earlier)
          } from an earlier run is on ${earlier.node}, not ${args.node}: drop node (or move it with guest_migrate first).`,
          { errors: { node: "the VM is on another node" } },
        );
      }
      vmid = earlier.vmid;
      node = earlier.node;
      const current = await ctx.client.get(`${guestPath(earlier)}/status/current`, undefined, {
        signal: ctx.signal,
      }) as Record<string, unknown>;
      const lock = lockOf(current.lock);
      if (lock !== undefined) {
        throw new PveValidationError(
          lockMessage(earlier, lock, await findRunningTask(earlier, ctx)),
        );
      }
      running = current.status === "running";
      config = await readConfig(ctx, earlier);
      scope = { vmid, node, tags: splitTags(config.tags) };
      if (earlier.pool !== undefined) scope.pool = earlier.pool;
      diskStorageFor = (disk) => disk.storage;
      const step: WorkflowStep = {
        step: "clone",
        describe: `clone of ${template.vmid} into VM ${vmid}`,
        calls: [],
        already: true,
        guest: { vmid, node, type: "qemu", name: args.name },
        detail: `VM ${vmid} exists from an earlier run`,
      };
      add(step);
    }
    const guest = { vmid, node, type: "qemu" as const, name: args.name };
    const base = guestPath(guest);
    if (args.tags !== undefined) scope.tags = args.tags;
    if (args.pool !== undefined) scope.pool = args.pool;

    // Configure: cloud-init, cores, memory, tags — only what differs from what the VM has.
    const wanted: Record<string, string> = {};
    let password: string | undefined;
    if (args.cloud_init !== undefined) {
      const ci = cloneCloudInit(template, config, {
        cloudInit: args.cloud_init,
        storage: earlier === undefined && args.full ? args.storage : undefined,
      });
      Object.assign(wanted, ci.params);
      if (ci.password !== undefined && config.cipassword !== MASKED) password = ci.password;
    }
    if (args.cores !== undefined) wanted.cores = String(args.cores);
    if (args.memory_mib !== undefined) wanted.memory = String(args.memory_mib);
    if (args.tags !== undefined) wanted.tags = args.tags.join(";");
    const change: Record<string, string> = {};
    for (const [key, value] of Object.entries(wanted)) {
      const have = config[key];
      if (key === "tags") {
        const same = splitTags(have).sort().join(";") === [...(args.tags ?? [])].sort().join(";");
        if (!same) change[key] = value;
      } else if (have === undefined || String(have) !== value) {
        change[key] = value;
      }
    }
    if (args.cores !== undefined || args.memory_mib !== undefined) {
      checkResources(await nodeFacts(ctx, node), {
        cores: args.cores ?? Number(config.cores ?? 1),
        memoryBytes:
          (args.memory_mib ?? Number(String(config.memory ?? "512").replace(/\D+/g, ""))) *
          1024 ** 2,
      });
    }
    const configCalls: PlannedCall[] = [];
    if (Object.keys(change).length > 0 || password !== undefined) {
      configCalls.push({ method: "PUT", path: `${base}/config`, params: { ...change } });
    }
    if (earlier !== undefined && args.pool !== undefined && earlier.pool !== args.pool) {
      const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
      requirePool(resources, args.pool);
      configCalls.push({
        method: "PUT",
        path: "/pools",
        params: { poolid: args.pool, vms: String(vmid), "allow-move": 1 },
      });
    }
    const configKeys = [
      ...Object.keys(change),
      ...(password === undefined ? [] : ["cipassword"]),
      ...(configCalls.some((c) => c.path === "/pools") ? [`pool ${args.pool}`] : []),
    ];
    const configIndex = add({
      step: "configure",
      describe: `configure VM ${vmid} (${configKeys.join(", ") || "nothing to change"})`,
      calls: [],
      guest,
      ...(configCalls.length === 0
        ? { already: true, detail: "the config already has these settings" }
        : {}),
    }, configCalls);
    const putIndex = configIndex.find((i) => calls[i]?.path === `${base}/config`);
    const summaryBits: string[] = [];
    if (cloudinitKey(config) === undefined && args.cloud_init !== undefined) {
      summaryBits.push("adds a cloud-init drive");
    }

    // Resize the boot disk.
    const disk = bootDisk(config);
    let resizeNote = "";
    if (args.disk_gib !== undefined) {
      if (disk === undefined) {
        throw new PveValidationError(
          `${guestTitle(template)} has no disk to grow: drop disk_gib.`,
          { errors: { disk_gib: "no disk" } },
        );
      }
      const after = growTarget(disk, `${args.disk_gib}G`, {
        title: earlier === undefined ? `the clone of ${guestTitle(template)}` : guestTitle(earlier),
        allowSame: true,
      });
      if (after === disk.bytes) {
        add({
          step: "resize",
          describe: `grow ${disk.key} of VM ${vmid}`,
          calls: [],
          already: true,
          guest,
          detail: `${disk.key} is ${formatBytes(after)} already`,
        });
      } else {
        const storage = diskStorageFor(disk);
        requireStorage(await nodeStorages(ctx, node), {
          storage,
          node,
          content: "images",
          bytes: after - disk.bytes + (storage === (args.storage ?? disk.storage) ? copyBytes : 0),
          argument: "disk_gib",
        });
        resizeNote = `grow ${disk.key} from ${formatBytes(disk.bytes)} to ${formatBytes(after)}`;
        add({ step: "resize", describe: `${resizeNote} of VM ${vmid}`, calls: [], guest }, [{
          method: "PUT",
          path: `${base}/resize`,
          params: { disk: disk.key, size: `${args.disk_gib}G` },
        }]);
      }
    }

    // Start.
    add(
      {
        step: "start",
        describe: `start VM ${vmid}`,
        calls: [],
        guest,
        ...(running ? { already: true, detail: "it is running" } : {}),
      },
      running ? [] : [{ method: "POST", path: `${base}/status/start` }],
    );

    // Wait for the agent's address.
    const agent = truthy(String(config.agent ?? "").split(",")[0]) ||
      /(?:^|,)enabled=1/.test(String(config.agent ?? ""));
    const waitSeconds = ctx.waitLimit(args.wait_seconds ?? 180);
    if (agent) {
      add(
        { step: "address", describe: `wait for the guest agent of VM ${vmid}`, calls: [], guest },
        [
          { method: "GET", path: `${base}/agent/network-get-interfaces` },
        ],
      );
    }

    const done = steps.filter((s) => s.already).map((s) => s.step);
    const todo = steps.filter((s) => !s.already);
    const plan: Plan = {
      target: template,
      scopeTargets: [scope],
      summary: `${earlier === undefined ? "Provision" : "Continue provisioning"} ${
        guestLabel(guest)
      } (${args.name}) from template ${guestTitle(template)} on ${node}${
        done.length > 0 ? `; already done: ${done.join(", ")}` : ""
      }; ${
        todo.map((s) =>
          s.step === "clone"
            ? s.describe
            : s.step === "configure"
            ? `set ${configKeys.join(", ")}${
              summaryBits.length > 0 ? ` (${summaryBits.join(", ")})` : ""
            }`
            : s.step === "resize"
            ? resizeNote
            : s.step === "address"
            ? `wait up to ${waitSeconds} s for the guest agent to report an address`
            : "start it"
        ).join("; ") || "nothing left to do"
      }${agent ? "" : "; the template has no guest agent enabled, so no address is awaited"}.`,
      calls,
    };
    if (password !== undefined && putIndex !== undefined) {
      addSecret(plan, putIndex, "cipassword", password);
    }
    const continueArgs: Record<string, unknown> = { ...args, vmid };
    if (args.cloud_init?.password !== undefined) {
      const { password: _secret, ...rest } = args.cloud_init;
      continueArgs.cloud_init = rest;
    }
    const state: ProvisionState = {
      vmid,
      name: args.name,
      node,
      template: template.vmid,
      steps,
      continueArgs,
      passwordPending: password !== undefined,
    };
    if (agent) state.agentSeconds = waitSeconds;
    const staticIp = /^(\d+\.\d+\.\d+\.\d+)\/\d+$/.exec(args.cloud_init?.ip ?? "")?.[1];
    if (staticIp !== undefined) state.staticIp = staticIp;
    const user = args.cloud_init?.user ??
      (typeof config.ciuser === "string" ? config.ciuser : undefined);
    if (user !== undefined) state.user = user;
    states.set(plan, state);
    return checkPlannedCalls(plan);
  },
  async handler(_args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("guest_provision handler called without its plan");
    }
    const label = `VM ${state.vmid} (${state.name})`;
    const reports: StepReport[] = [];
    let result: RunResult = "ok";
    let failure: string | undefined;
    let unknown = false;
    let addresses: string[] = [];
    let configured = !state.passwordPending;
    const total = state.steps.length;
    for (const [i, step] of state.steps.entries()) {
      if (result !== "ok") {
        reports.push(stepReport(step, "not_run"));
        continue;
      }
      if (step.already) {
        reports.push(stepReport(step, "already"));
        continue;
      }
      if (ctx.signal.aborted) {
        result = "cancelled";
        failure = `cancelled before ${step.step}`;
        reports.push(stepReport(step, "not_run"));
        continue;
      }
      ctx.progress(`Step ${i + 1}/${total}: ${step.describe}`, i / total);
      if (step.step === "address") {
        const found = await waitForAddress(
          ctx,
          plan,
          step,
          ctx.waitLimit(state.agentSeconds ?? 180),
        );
        await auditStep(ctx, step, found);
        reports.push(
          stepReport(step, found.status === "done" ? "done" : found.status, {
            detail: found.detail ?? found.addresses.join(", "),
          }),
        );
        if (found.status !== "done") {
          result = found.status;
          failure = found.detail;
        }
        addresses = found.addresses;
        continue;
      }
      const outcome = await runStep(ctx, plan, step, {
        check: step.step === "clone"
          ? `whether ${label} exists (guest_get)`
          : `the state of ${label} (guest_get)`,
      });
      reports.push(
        stepReport(step, outcome.status, { upid: outcome.upid, detail: outcome.detail }),
      );
      if (step.step === "configure" && outcome.status === "done") configured = true;
      if (outcome.status !== "done") {
        result = outcome.status;
        failure = outcome.detail ?? (outcome.outcome ? outcomeDetail(outcome.outcome) : undefined);
        unknown = outcome.unknown === true;
      }
    }
    const out: Output = {
      vmid: state.vmid,
      name: state.name,
      node: state.node,
      template_vmid: state.template,
      result,
      steps: reports,
    };
    if (addresses.length > 0) {
      out.addresses = addresses;
      const host = state.staticIp !== undefined && addresses.includes(state.staticIp)
        ? state.staticIp
        : addresses[0];
      out.ssh_command = `ssh ${state.user === undefined ? "" : `${state.user}@`}${host}`;
    }
    if (result === "ok") {
      const lines = [
        `${label} is ready on ${state.node} (from template ${state.template})${
          out.ssh_command === undefined
            ? addresses.length === 0 && state.agentSeconds === undefined
              ? "; it has no guest agent, so its address is not known (look at your DHCP server)"
              : ""
            : `: ${addresses.join(", ")}; connect with ${out.ssh_command}`
        }.`,
        `Steps: ${reports.map((r) => `${r.step} ${r.status}`).join(", ")}.`,
      ];
      return { text: lines.join("\n"), structured: out };
    }
    out.continue_with = { tool: "guest_provision", arguments: state.continueArgs };
    const doneSteps = reports.filter((r) => r.status === "done" || r.status === "already");
    const stopped = reports.find((r) => r.status !== "done" && r.status !== "already");
    const left = reports.filter((r) => r.status === "not_run").map((r) => r.step);
    const lines = [
      `${result === "cancelled" ? "Cancelled" : "Stopped"} at step ${stopped?.step ?? "?"}: ${
        failure ?? result
      }`,
      `Done: ${doneSteps.map((r) => r.step).join(", ") || "nothing"}; not done: ${
        [stopped?.step, ...left].filter((s) => s !== undefined).join(", ") || "nothing"
      }.`,
      leftText(label, state.node, reports, unknown),
      `${
        unknown
          ? "Once you know what happened, continue"
          : result === "timeout"
          ? "When the task has finished (task_wait), continue"
          : "Fix the cause, then continue"
      } with: ${callText(out.continue_with)} — finished steps are recognised and skipped${
        !configured && state.passwordPending
          ? "; add cloud_init.password again, it is left out here"
          : ""
      }.`,
    ];
    return { text: lines.join("\n"), structured: out, isError: result === "failed" };
  },
});

/** Polls the agent until it reports an address, the wait runs out, or the call is cancelled. */
async function waitForAddress(
  ctx: ToolContext,
  plan: Plan,
  step: WorkflowStep,
  seconds: number,
): Promise<{
  status: "done" | "timeout" | "cancelled" | "failed";
  addresses: string[];
  detail?: string;
}> {
  const call = plan.calls[step.calls[0] ?? -1];
  if (call === undefined) throw new Error("guest_provision: the address step has no call");
  const deadline = Date.now() + seconds * 1000;
  let delay = 250;
  let last = "";
  for (;;) {
    if (ctx.signal.aborted) {
      return {
        status: "cancelled",
        addresses: [],
        detail: "cancelled while waiting for an address",
      };
    }
    try {
      const answer = await ctx.client.get(call.path, undefined, { signal: ctx.signal }) as {
        result?: unknown;
      };
      const addresses = reachableAddresses(agentInterfaces(answer?.result));
      if (addresses.length > 0) return { status: "done", addresses };
      last = "the agent answers but reports no address yet";
    } catch (error) {
      if (ctx.signal.aborted) continue;
      const text = error instanceof PveError ? error.pveMessage ?? error.message : "";
      if (!/guest agent is not running|got timeout|not running/i.test(text)) {
        return {
          status: "failed",
          addresses: [],
          detail: error instanceof Error ? error.message.replace(/\.$/, "") : String(error),
        };
      }
      last = "the guest agent is not answering yet";
    }
    if (Date.now() >= deadline) {
      return {
        status: "timeout",
        addresses: [],
        detail:
          `no address after ${seconds} s (${last}): the VM runs; check that the image has qemu-guest-agent, or look at the console`,
      };
    }
    ctx.progress(`Waiting for the guest agent: ${last}`);
    await pause(Math.min(delay, Math.max(0, deadline - Date.now())), ctx.signal);
    delay = Math.min(delay * 2, 2000);
  }
}

/** One sentence on the state a stopped run leaves the cluster in. */
function leftText(
  label: string,
  node: string,
  reports: readonly StepReport[],
  unknown: boolean,
): string {
  const clone = reports.find((r) => r.step === "clone");
  const ok = (step: string) =>
    reports.some((r) => r.step === step && (r.status === "done" || r.status === "already"));
  if (clone?.status === "failed") {
    return unknown
      ? `Whether ${label} was created is unknown.`
      : `Nothing was created: ${label} does not exist.`;
  }
  if (clone?.status === "timeout" || clone?.status === "cancelled") {
    return `${label} is still being cloned on ${node} (its task goes on, and it is locked until then).`;
  }
  const parts = [
    ok("configure") ? "configured" : "not configured yet",
    ...(reports.some((r) => r.step === "resize")
      ? [ok("resize") ? "disk grown" : "disk not grown yet"]
      : []),
    ok("start") ? "running" : "stopped",
  ];
  return `Left on the cluster: ${label} on ${node}, ${parts.join(", ")}.`;
}
