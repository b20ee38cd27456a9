/**
 * Pools of guests: the create/clone pool check and membership.
 *
 * @module
 */

import { permError } from "../../errors.ts";
import type { SimState } from "../../state.ts";

/** `Permission check failed (pool 'x' does not exist)` unless the pool exists. */
export function checkPool(state: SimState, pool: string | undefined): void {
  if (pool !== undefined && !state.pools.has(pool)) {
    throw permError(`pool '${pool}' does not exist`);
  }
}

/** Adds a guest to a pool. */
export function addToPool(state: SimState, pool: string | undefined, vmid: number): void {
  if (pool !== undefined) state.pools.get(pool)?.vms.add(vmid);
}
