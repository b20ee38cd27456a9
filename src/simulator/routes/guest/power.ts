/**
 * Power state of a guest record: running/stopped marks, overruling shutdown tasks, waiting for
 * a task, log timestamps.
 *
 * @module
 */

import type { Sim, TaskRunner } from "../../router.ts";
import type { Guest } from "../../state.ts";
import { bootAgent } from "./agent_boot.ts";
import type { Kind } from "./kind.ts";

/** Marks a guest running (new pid, start time); its guest agent answers once it has booted. */
export function markRunning(sim: Sim, guest: Guest): void {
  guest.status = "running";
  guest.qmpstatus = "running";
  guest.startedAt = sim.clock.now();
  guest.pid = sim.state.nextPid++;
  bootAgent(sim, guest);
}

/** Marks a guest stopped. */
export function markStopped(guest: Guest): void {
  guest.status = "stopped";
  guest.qmpstatus = "stopped";
  guest.startedAt = 0;
  guest.pid = 0;
  guest.execs.clear();
}

/** `overrule-shutdown=1` on stop: aborts the guest's running shutdown tasks, logging each. */
export function overruleShutdown(sim: Sim, task: TaskRunner, kind: Kind, vmid: number): void {
  for (const t of sim.state.tasks) {
    if (t.status === "running" && t.type === `${kind.prefix}shutdown` && t.id === String(vmid)) {
      task.log(`overruling active shutdown task ${t.upid}`);
      t.abort.abort();
    }
  }
}

/** Waits (in simulated time) until a task ends or `seconds` pass; returns whether it ended OK. */
export async function waitForTask(sim: Sim, upid: string, seconds: number): Promise<boolean> {
  const step = 0.25;
  for (let waited = 0; waited <= seconds; waited += step) {
    const task = sim.state.tasks.find((t) => t.upid === upid);
    if (task === undefined) return false;
    if (task.status === "stopped") return task.exitstatus === "OK";
    await sim.clock.sleep(step);
  }
  return false;
}

/** A timestamp as PVE prints it in logs (`2025-08-05 14:30:00`), in simulated UTC time. */
export function logStamp(sim: Sim): string {
  return new Date(sim.clock.nowMs()).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * A start failure planted through the control API (`/_sim/guests/{vmid}/start-failure`): its
 * message, used up once, or undefined when the guest starts normally.
 */
export function plantedStartFailure(guest: Guest): string | undefined {
  const failure = guest.startFailure;
  if (failure === undefined) return undefined;
  if (--failure.remaining <= 0) delete guest.startFailure;
  return failure.message;
}
