/**
 * Finding guests: by `{node}`/`{vmid}`, inside a task, vmid ownership, fresh guest records,
 * display names and per-node lists.
 *
 * @module
 */

import { hashOrder } from "../../order.ts";
import { dieError } from "../../errors.ts";
import type { RouteContext } from "../../router.ts";
import type { Guest, GuestConfig, SimState } from "../../state.ts";
import type { Kind } from "./kind.ts";

/** The cluster-relative config path PVE names in its errors. */
export function confPath(kind: Kind, node: string, vmid: number): string {
  return `nodes/${node}/${kind.confDir}/${vmid}.conf`;
}

/** The message PVE dies with when the config is not on that node. */
export function missingConfigMessage(kind: Kind, node: string, vmid: number): string {
  return `Configuration file '${confPath(kind, node, vmid)}' does not exist`;
}

/** The guest of that type on that node, or undefined. */
export function lookupGuest(
  state: SimState,
  kind: Kind,
  node: string,
  vmid: number,
): Guest | undefined {
  const guest = state.guests.get(vmid);
  if (guest === undefined || guest.type !== kind.type || guest.node !== node) return undefined;
  return guest;
}

/** The guest addressed by `{node}`/`{vmid}`; 500 `Configuration file … does not exist` otherwise. */
export function findGuest(ctx: RouteContext, kind: Kind): Guest {
  const node = String(ctx.params.node);
  const vmid = Number(ctx.params.vmid);
  const guest = lookupGuest(ctx.sim.state, kind, node, vmid);
  if (guest === undefined) throw dieError(missingConfigMessage(kind, node, vmid));
  return guest;
}

/** Re-reads the guest inside a task body (it may have been removed or moved meanwhile). */
export function guestInTask(state: SimState, kind: Kind, node: string, vmid: number): Guest {
  const guest = lookupGuest(state, kind, node, vmid);
  if (guest === undefined) throw new Error(missingConfigMessage(kind, node, vmid));
  return guest;
}

/** `unable to create VM 100 - VM 100 already exists on node 'pve1'` (existing guest's type). */
export function vmidInUseMessage(kind: Kind, existing: Guest): string {
  const label = existing.type === "qemu" ? "VM" : "CT";
  return `unable to create ${kind.label} ${existing.vmid} - ${label} ${existing.vmid} already exists on node '${existing.node}'`;
}

/** A fresh guest record. */
export function newGuest(kind: Kind, vmid: number, node: string, config: GuestConfig): Guest {
  return {
    vmid,
    type: kind.type,
    node,
    config,
    pending: {},
    pendingDelete: [],
    snapshots: new Map(),
    status: "stopped",
    qmpstatus: "stopped",
    startedAt: 0,
    pid: 0,
    stats: { cpu: 0, mem: 0, disk: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0 },
    execs: new Map(),
  };
}

/** Display name of a guest: QEMU `name` or `VM <id>`, LXC `hostname` or `CT<id>`. */
export function guestName(kind: Kind, guest: Guest): string {
  if (kind.type === "qemu") return String(guest.config.name ?? `VM ${guest.vmid}`);
  return String(guest.config.hostname ?? `CT${guest.vmid}`);
}

/** `GET /nodes/{node}/<type>`: the guests of one kind on the node that the caller may audit. */
export function listGuests(
  ctx: RouteContext,
  kind: Kind,
  status: (guest: Guest) => Record<string, unknown>,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  // `vmlist` walks a Perl hash: the order is stable but not sorted.
  for (const guest of hashOrder(ctx.sim.state.guests.values(), (g) => String(g.vmid))) {
    if (guest.type !== kind.type || guest.node !== String(ctx.params.node)) continue;
    if (!ctx.sim.can(ctx.auth, `/vms/${guest.vmid}`, "VM.Audit")) continue;
    out.push(status(guest));
  }
  return out;
}
