/**
 * `ct_create`: creates an LXC container from a template volume — root filesystem on a storage,
 * one NIC, root password and/or SSH keys — and waits for the `vzcreate` task. Unprivileged by
 * default: a privileged container is made only when `unprivileged: false` is given, and the
 * result says so. Everything is checked before the one `POST /nodes/{node}/lxc`; the root
 * password is sent but never shown.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveValidationError } from "../../pve/errors.ts";
import { defineTool, type Plan } from "../types.ts";
import { formatBytes } from "../_shared/format.ts";
import { ipv4Config } from "../_shared/ip_config.ts";
import {
  guestNameParam,
  nodeParam,
  passwordParam,
  poolParam,
  sshKeysParam,
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

interface CreateState {
  vmid: number;
  hostname: string;
  node: string;
  unprivileged: boolean;
  notes: string[];
}

const states = new WeakMap<Plan, CreateState>();

const outputSchema = z.object({
  ...provisionFields,
  unprivileged: z.boolean(),
  started: z.boolean(),
  notes: z.array(z.string()).optional(),
});

/** The `net0` value of a container NIC. */
function nicValue(args: {
  bridge: string;
  ip?: string | undefined;
  gateway?: string | undefined;
  vlan?: number | undefined;
  firewall?: boolean | undefined;
}): string {
  let value = `name=eth0,bridge=${args.bridge},${ipv4Config(args, { prefix: "", key: "net0" })}`;
  if (args.vlan !== undefined) value += `,tag=${args.vlan}`;
  if (args.firewall) value += ",firewall=1";
  return value;
}

/** Creates a container. */
export const ctCreate = defineTool({
  name: "ct_create",
  title: "Create container",
  description:
    "Create an LXC container from a template volume (storage:vztmpl/…) and wait for it. Unprivileged unless unprivileged=false. Without node, picks an online node with the storage, bridge and most free memory; without vmid, the next free id. Checks everything before sending.",
  toolset: "provisioning",
  capability: "change",
  inputSchema: z.object({
    hostname: guestNameParam("Hostname (DNS name)"),
    ostemplate: volidParam("Template volume, storage:vztmpl/file.tar.zst"),
    node: nodeParam("Node; omit to pick one").optional(),
    vmid: vmidParam("New container id; omit for the next free one").optional(),
    storage: storageParam("Storage for the root filesystem"),
    disk_gib: z.number().int().min(1).max(131_072).describe("Root filesystem size in GiB"),
    password: passwordParam("Root password").optional(),
    ssh_keys: sshKeysParam("SSH public keys for root").optional(),
    unprivileged: z.boolean().optional().describe("Default true; false makes it privileged"),
    nesting: z.boolean().optional().describe("Allow nested containers (e.g. Docker)"),
    cores: z.number().int().min(1).max(512).optional().describe("Default 1"),
    memory_mib: z.number().int().min(16).max(4_194_304).optional().describe("Default 512"),
    swap_mib: z.number().int().min(0).max(4_194_304).optional().describe("Default 512"),
    bridge: z.string().min(1).max(64).optional().describe("Default vmbr0"),
    ip: z.string().min(4).max(64).optional().describe("dhcp (default) or IPv4 CIDR"),
    gateway: z.string().min(7).max(64).optional().describe("IPv4 gateway, with a CIDR ip"),
    vlan: z.number().int().min(1).max(4094).optional(),
    firewall: z.boolean().optional(),
    tags: tagsParam().optional(),
    pool: poolParam().optional(),
    onboot: z.boolean().optional(),
    start: z.boolean().optional().describe("Start after creating"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    checkDnsName(args.hostname, "hostname");
    if (args.tags !== undefined) checkTags(args.tags);
    if (!/^[^:]+:vztmpl\/.+/.test(args.ostemplate)) {
      throw new PveValidationError(
        `ostemplate "${args.ostemplate}" is not a container template volume: give it as storage:vztmpl/file.tar.zst.`,
        { errors: { ostemplate: "not a vztmpl volume" } },
      );
    }
    const bridge = args.bridge ?? "vmbr0";
    const net0 = nicValue({ ...args, bridge });
    const keys = args.ssh_keys?.map((k) => k.trim());
    const bad = keys?.findIndex((k) =>
      !/^(ssh-|ecdsa-|sk-)\S+ [A-Za-z0-9+/]+={0,3}( .*)?$/.test(k)
    );
    if (bad !== undefined && bad >= 0) {
      throw new PveValidationError(
        `ssh_keys item ${
          bad + 1
        } is not an OpenSSH public key: give one key per item, like "ssh-ed25519 AAAAC3… user@host".`,
        { errors: { "ssh-public-keys": "invalid public key" } },
      );
    }
    const resources = await ctx.client.resources(undefined, { signal: ctx.signal });
    requirePool(resources, args.pool);
    const cores = args.cores ?? 1;
    const memoryMib = args.memory_mib ?? 512;
    const placement = await placeGuest(ctx, resources, args.node, {
      storage: args.storage,
      content: "rootdir",
      bytes: args.disk_gib * GIB,
      bridge,
      cores,
      memoryBytes: memoryMib * MIB,
    });
    const node = placement.node;
    await requireVolume(ctx, {
      node,
      volid: args.ostemplate,
      content: "vztmpl",
      argument: "ostemplate",
    });
    const vmid = await chooseVmid(ctx, resources, args.vmid);
    const unprivileged = args.unprivileged ?? true;
    const notes = placementNotes(placement);
    if (!unprivileged) {
      notes.push(
        "This is a privileged container (asked for with unprivileged=false): root inside it is root on the host.",
      );
    }

    const params: Record<string, string | number> = {
      vmid,
      hostname: args.hostname,
      ostemplate: args.ostemplate,
      rootfs: `${args.storage}:${args.disk_gib}`,
      cores,
      memory: memoryMib,
      swap: args.swap_mib ?? 512,
      net0,
      unprivileged: unprivileged ? 1 : 0,
    };
    if (keys !== undefined) params["ssh-public-keys"] = keys.join("\n");
    if (args.nesting) params.features = "nesting=1";
    Object.assign(params, newGuestParams(args));

    const plan: Plan = {
      summary: `Create ${
        unprivileged ? "unprivileged" : "PRIVILEGED"
      } container ${vmid} (${args.hostname}) on ${node} from ${args.ostemplate}: ${cores} core(s), ${
        formatBytes(memoryMib * MIB)
      } memory, ${args.disk_gib} GiB root filesystem on ${args.storage}, NIC on ${bridge}${
        args.start ? ", then start it" : ""
      }.${notes.length > 0 ? ` ${notes.join(" ")}` : ""}`,
      scopeTargets: [newGuestScope({ vmid, node }, args)],
      calls: [{ method: "POST", path: `/nodes/${encodeURIComponent(node)}/lxc`, params }],
    };
    if (args.password !== undefined) addSecret(plan, 0, "password", args.password);
    states.set(plan, { vmid, hostname: args.hostname, node, unprivileged, notes });
    return checkPlannedCalls(plan);
  },
  async handler(args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("ct_create handler called without its plan");
    }
    const { vmid, hostname, node, unprivileged } = state;
    const run = await runSteps(plan, ctx, {
      check: `whether CT ${vmid} exists (guest_get)`,
    });
    const output: GuestIdentity & { unprivileged: boolean; started: boolean; notes?: string[] } = {
      vmid,
      name: hostname,
      node,
      type: "lxc",
      unprivileged,
      started: args.start === true && runSucceeded(run),
    };
    if (state.notes.length > 0) output.notes = state.notes;
    return finishRun<z.infer<typeof outputSchema>>(run, output, {
      done: `Created ${
        unprivileged ? "unprivileged" : "privileged"
      } container ${vmid} (${hostname}) on ${node}${args.start ? " and started it" : ""}`,
      extra: state.notes,
    });
  },
});
