/**
 * HA helpers for guests: resource ids, whether a guest is HA-managed, `ha` of
 * `status/current`, and `hastart`/`hastop` tasks.
 *
 * @module
 */

import type { RouteContext } from "../../router.ts";
import type { Guest, SimState } from "../../state.ts";
import { regenerateCloudinit } from "./cloudinit.ts";
import { applyPending } from "./config_update.ts";
import type { Kind } from "./kind.ts";
import { lookupGuest } from "./lookup.ts";
import { markRunning, markStopped, plantedStartFailure } from "./power.ts";

/** The HA resource id of a guest (`vm:100` / `ct:101`). */
export function haSid(kind: Kind, vmid: number): string {
  return `${kind.haType}:${vmid}`;
}

/** Whether the guest is an HA resource (then start/stop/shutdown go through HA). */
export function isHaManaged(state: SimState, kind: Kind, vmid: number): boolean {
  return state.ha.has(haSid(kind, vmid));
}

/** `ha-managed=1` at create: registers the new guest as a started HA resource. */
export function addHaResource(state: SimState, kind: Kind, vmid: number): void {
  state.ha.set(haSid(kind, vmid), {
    sid: haSid(kind, vmid),
    type: kind.haType,
    state: "started",
    max_restart: 1,
    max_relocate: 1,
  });
}

/**
 * `ha` of `status/current` (`PVE::HA::Config::get_service_status`): the manager's service state —
 * a planted CRM state (`error`…), `migrate`/`relocate` while the HA manager moves the guest, else
 * the requested state.
 */
export function haStatus(state: SimState, kind: Kind, vmid: number): Record<string, unknown> {
  const res = state.ha.get(haSid(kind, vmid));
  if (res === undefined) return { managed: 0 };
  const current = res.crmState ?? res.motion?.state ??
    (res.state === "enabled" ? "started" : res.state);
  const out: Record<string, unknown> = { managed: 1, state: current };
  if (res.group !== undefined) out.group = res.group;
  return out;
}

/** Start or stop of an HA-managed guest: an `hastart`/`hastop` task that asks the HA stack. */
export function haTask(
  ctx: RouteContext,
  kind: Kind,
  options: { guest: Guest; type: "hastart" | "hastop" },
): string {
  const { sim } = ctx;
  const { guest, type } = options;
  const sid = haSid(kind, guest.vmid);
  const n = guest.node;
  const id = guest.vmid;
  return sim.startTask(ctx.auth, { node: n, type, id: String(id) }, async (task) => {
    task.log(`Requesting HA ${type === "hastart" ? "start" : "stop"} for ${kind.label} ${id}`);
    const res = sim.state.ha.get(sid);
    if (res !== undefined) res.state = type === "hastart" ? "started" : "stopped";
    await task.sleep(1);
    const g = lookupGuest(sim.state, kind, n, id);
    if (g === undefined) return;
    if (type === "hastart" && g.status !== "running") {
      applyPending(sim, kind, g);
      if (kind.type === "qemu") regenerateCloudinit(g);
      if (plantedStartFailure(g) !== undefined) {
        // The LRM's start fails (and its retries): the CRM puts the service in the error state.
        if (res !== undefined) res.crmState = "error";
        return;
      }
      markRunning(sim, g);
    } else if (type === "hastop" && g.status === "running") {
      markStopped(g);
    }
  });
}
