/**
 * `vm_create`: creates a QEMU VM — one disk on a storage, a NIC on a bridge, an optional boot
 * ISO and optional cloud-init (with its drive) — and waits for the `qmcreate` task. Everything
 * is checked before the one `POST /nodes/{node}/qemu`: the VMID, the name, the node (or a node
 * picked for it), CPUs, memory, storage, bridge, ISO, pool, tags and the scope of the new VM.
 * A cloud-init password is sent but never shown.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool, type Plan } from "../types.ts";
import { cloudInitKeys, cloudInitParam } from "../_shared/cloud_init.ts";
import { formatBytes } from "../_shared/format.ts";
import {
  guestNameParam,
  nodeParam,
  poolParam,
  storageParam,
  tagsParam,
  vmidParam,
  volidParam,
} from "../_shared/params.ts";
import {
  checkDnsName,
  checkTags,
  chooseVmid,
  placeGuest,
  requirePool,
  requireVolume,
} from "../_shared/placement.ts";
import {
  finishRun,
  type GuestIdentity,
  newGuestParams,
  newGuestScope,
  placementNotes,
  provisionFields,
  runSucceeded,
} from "../_shared/provision.ts";
import { addSecret } from "../_shared/secrets.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import { runSteps } from "../_shared/steps.ts";

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

const OSTYPES = [
  "l26",
  "l24",
  "win11",
  "win10",
  "win8",
  "win7",
  "wvista",
  "w2k8",
  "w2k3",
  "w2k",
  "wxp",
  "solaris",
  "other",
] as const;

/** What planning found, kept for the handler. */
interface CreateState {
  vmid: number;
  name: string;
  node: string;
  notes: string[];
}

const states = new WeakMap<Plan, CreateState>();

const outputSchema = z.object({
  ...provisionFields,
  started: z.boolean(),
  notes: z.array(z.string()).optional(),
});

type Output = GuestIdentity & { started: boolean; notes?: string[] };

/** Creates a VM. */
export const vmCreate = defineTool({
  name: "vm_create",
  title: "Create VM",
  description:
    "Create a QEMU VM with one disk, one NIC, an optional boot ISO and optional cloud-init, and wait for it. Without node, picks an online node with the storage, bridge and most free memory; without vmid, the next free id. Checks everything before sending.",
  toolset: "provisioning",
  capability: "change",
  inputSchema: z.object({
    name: guestNameParam("VM name (DNS name)"),
    node: nodeParam("Node; omit to pick one").optional(),
    vmid: vmidParam("New VM id; omit for the next free one").optional(),
    cores: z.number().int().min(1).max(512).optional().describe("Default 1"),
    memory_mib: z.number().int().min(16).max(4_194_304).optional().describe("Default 2048"),
    storage: storageParam("Storage for the disk"),
    disk_gib: z.number().int().min(1).max(131_072).describe("Disk size in GiB"),
    iso: volidParam("Boot ISO, storage:iso/file.iso; omit for none").optional(),
    bridge: z.string().min(1).max(64).optional().describe("Default vmbr0"),
    vlan: z.number().int().min(1).max(4094).optional(),
    nic_model: z.enum(["virtio", "e1000", "e1000e", "rtl8139", "vmxnet3"]).optional(),
    firewall: z.boolean().optional(),
    ostype: z.enum(OSTYPES).optional().describe("Default l26 (Linux)"),
    tags: tagsParam().optional(),
    pool: poolParam().optional(),
    onboot: z.boolean().optional(),
    start: z.boolean().optional().describe("Start after creating"),
    cloud_init: cloudInitParam.optional().describe("Cloud-init; adds a cloud-init drive"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    checkDnsName(args.name, "name");
    if (args.tags !== undefined) checkTags(args.tags);
    const ci = args.cloud_init === undefined ? undefined : cloudInitKeys(args.cloud_init);
    if (args.iso !== undefined && !/^[^:]+:iso\/.+/.test(args.iso)) {
      throw new PveValidationError(
        `iso "${args.iso}" is not an ISO volume: give it as storage:iso/file.iso.`,
        { errors: { ide2: "not an iso volume" } },
      );
    }
    const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
    requirePool(resources, args.pool);
    const cores = args.cores ?? 1;
    const memoryMib = args.memory_mib ?? 2048;
    const bridge = args.bridge ?? "vmbr0";
    const diskBytes = args.disk_gib * GIB + (ci === undefined ? 0 : 4 * MIB);
    const placement = await placeGuest(ctx, resources, args.node, {
      storage: args.storage,
      content: "images",
      bytes: diskBytes,
      bridge,
      cores,
      memoryBytes: memoryMib * MIB,
    });
    const node = placement.node;
    if (args.iso !== undefined) {
      await requireVolume(ctx, { node, volid: args.iso, content: "iso", argument: "iso" });
    }
    const vmid = await chooseVmid(ctx, resources, args.vmid);
    const notes = placementNotes(placement);

    const params: Record<string, string | number> = {
      vmid,
      name: args.name,
      cores,
      memory: String(memoryMib),
      ostype: args.ostype ?? "l26",
      scsihw: "virtio-scsi-single",
      scsi0: `${args.storage}:${args.disk_gib},iothread=1`,
    };
    let nic = `${args.nic_model ?? "virtio"},bridge=${bridge}`;
    if (args.vlan !== undefined) nic += `,tag=${args.vlan}`;
    if (args.firewall) nic += ",firewall=1";
    params.net0 = nic;
    const boot = ["scsi0"];
    if (args.iso !== undefined) {
      params.ide2 = `${args.iso},media=cdrom`;
      boot.push("ide2");
    }
    boot.push("net0");
    params.boot = `order=${boot.join(";")}`;
    if (ci !== undefined) {
      params[args.iso === undefined ? "ide2" : "ide0"] = `${args.storage}:cloudinit`;
      Object.assign(params, ci.params);
    }
    Object.assign(params, newGuestParams(args));

    const plan: Plan = {
      summary: `Create VM ${vmid} (${args.name}) on ${node}: ${cores} core(s), ${
        formatBytes(memoryMib * MIB)
      } memory, ${args.disk_gib} GiB disk on ${args.storage}, NIC on ${bridge}${
        args.iso === undefined ? "" : `, booting ${args.iso}`
      }${ci === undefined ? "" : ", cloud-init"}${args.start ? ", then start it" : ""}.${
        notes.length > 0 ? ` ${notes.join(" ")}` : ""
      }`,
      scopeTargets: [newGuestScope({ vmid, node }, args)],
      calls: [{ method: "POST", path: `/nodes/${encodeURIComponent(node)}/qemu`, params }],
    };
    if (ci?.password !== undefined) addSecret(plan, 0, "cipassword", ci.password);
    states.set(plan, { vmid, name: args.name, node, notes });
    return checkPlannedCalls(plan);
  },
  async handler(args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("vm_create handler called without its plan");
    }
    const { vmid, name, node } = state;
    const run = await runSteps(plan, ctx, {
      check: `whether VM ${vmid} exists (guest_get)`,
    });
    const output: Output = {
      vmid,
      name,
      node,
      type: "qemu",
      started: args.start === true && runSucceeded(run),
    };
    if (state.notes.length > 0) output.notes = state.notes;
    return finishRun<z.infer<typeof outputSchema>>(run, output, {
      done: `Created VM ${vmid} (${name}) on ${node}${args.start ? " and started it" : ""}`,
      extra: state.notes,
    });
  },
});
