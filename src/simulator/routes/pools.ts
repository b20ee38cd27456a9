/**
 * Simulated PVE endpoints: resource pools (`/pools`), with members listed the way
 * `/cluster/resources` lists them.
 *
 * @module
 */

import { dieError } from "../errors.ts";
import { type AuthInfo, type Params, type Route, route, type Sim } from "../router.ts";
import type { Pool } from "../state.ts";
import { guestResource } from "./cluster.ts";
import { storageOnNode, storageResource } from "./storage.ts";

function getPool(sim: Sim, poolid: string): Pool {
  const pool = sim.state.pools.get(poolid);
  if (pool === undefined) throw dieError(`pool '${poolid}' does not exist`);
  return pool;
}

function splitList(value: string | number | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(",") : String(value);
  return text.split(/[,;\s]+/).filter((item) => item !== "");
}

function members(sim: Sim, pool: Pool, type: string | undefined): unknown[] {
  const out: unknown[] = [];
  const state = sim.state;
  if (type === undefined || type === "qemu" || type === "lxc") {
    for (const vmid of [...pool.vms].sort((a, b) => a - b)) {
      const guest = state.guests.get(vmid);
      if (guest === undefined) continue;
      if (type !== undefined && guest.type !== type) continue;
      out.push(guestResource(sim, guest, pool.poolid));
    }
  }
  if (type === undefined || type === "storage") {
    for (const id of [...pool.storage].sort()) {
      const storage = state.storages.get(id);
      if (storage === undefined) continue;
      for (const node of state.nodes.values()) {
        if (!storageOnNode(storage, node.name)) continue;
        out.push(storageResource(state, storage, node));
      }
    }
  }
  return out;
}

function listPools(sim: Sim, auth: AuthInfo, params: Params): unknown[] {
  const type = typeof params.type === "string" ? params.type : undefined;
  if (typeof params.poolid === "string") {
    const pool = getPool(sim, params.poolid);
    if (!sim.can(auth, `/pool/${pool.poolid}`, "Pool.Audit")) return [];
    return [{ poolid: pool.poolid, comment: pool.comment, members: members(sim, pool, type) }];
  }
  const out: unknown[] = [];
  for (
    const pool of [...sim.state.pools.values()].sort((a, b) => a.poolid.localeCompare(b.poolid))
  ) {
    if (!sim.can(auth, `/pool/${pool.poolid}`, "Pool.Audit")) continue;
    out.push({ poolid: pool.poolid, comment: pool.comment });
  }
  return out;
}

function createPool(sim: Sim, params: Params): null {
  const poolid = String(params.poolid);
  const state = sim.state;
  if (state.pools.has(poolid)) throw dieError(`pool '${poolid}' already exists`);
  const slash = poolid.lastIndexOf("/");
  if (slash > 0) {
    const parent = poolid.slice(0, slash);
    if (!state.pools.has(parent)) throw dieError(`parent '${parent}' does not exist`);
  }
  state.pools.set(poolid, {
    poolid,
    comment: typeof params.comment === "string" ? params.comment : "",
    vms: new Set(),
    storage: new Set(),
  });
  return null;
}

function updatePool(sim: Sim, auth: AuthInfo, params: Params): null {
  const state = sim.state;
  const pool = getPool(sim, String(params.poolid));
  const remove = params.delete === 1;
  const allowMove = params["allow-move"] === 1;
  const vmids = splitList(params.vms).map(Number);
  const storages = splitList(params.storage);
  // Validate everything first so a failing request changes nothing.
  const moves: { vmid: number; from: Pool | undefined }[] = [];
  for (const vmid of vmids) {
    sim.require(auth, `/vms/${vmid}`, "VM.Allocate");
    if (remove) {
      if (!pool.vms.has(vmid)) throw dieError(`VM ${vmid} is not a pool member`);
      moves.push({ vmid, from: pool });
      continue;
    }
    if (pool.vms.has(vmid)) throw dieError(`VM ${vmid} is already a pool member`);
    if (!state.guests.has(vmid)) throw dieError(`VM ${vmid} does not exist`);
    let from: Pool | undefined;
    for (const other of state.pools.values()) if (other.vms.has(vmid)) from = other;
    if (from !== undefined && !allowMove) {
      throw dieError(
        `VM ${vmid} belongs already to pool '${from.poolid}' and 'allow-move' is not set`,
      );
    }
    moves.push({ vmid, from });
  }
  for (const id of storages) {
    sim.require(auth, `/storage/${id}`, "Datastore.Allocate");
    if (remove) {
      if (!pool.storage.has(id)) throw dieError(`storage '${id}' is not a pool member`);
    } else {
      if (!state.storages.has(id)) throw dieError(`storage '${id}' does not exist`);
      if (pool.storage.has(id)) throw dieError(`storage '${id}' is already a pool member`);
    }
  }
  if (typeof params.comment === "string") pool.comment = params.comment;
  for (const { vmid, from } of moves) {
    from?.vms.delete(vmid);
    if (!remove) pool.vms.add(vmid);
  }
  for (const id of storages) {
    if (remove) pool.storage.delete(id);
    else pool.storage.add(id);
  }
  return null;
}

function deletePool(sim: Sim, params: Params): null {
  const state = sim.state;
  const poolid = String(params.poolid);
  const pool = getPool(sim, poolid);
  if (pool.vms.size > 0 || pool.storage.size > 0) throw dieError(`pool '${poolid}' is not empty`);
  for (const other of state.pools.keys()) {
    if (other.startsWith(`${poolid}/`)) throw dieError(`pool '${poolid}' is not empty`);
  }
  state.pools.delete(poolid);
  state.acls = state.acls.filter((acl) => acl.path !== `/pool/${poolid}`);
  return null;
}

/** The pools endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/pools", ({ sim, auth, params }) => listPools(sim, auth, params)),
  route("POST", "/pools", ({ sim, params }) => createPool(sim, params)),
  route("PUT", "/pools", ({ sim, auth, params }) => updatePool(sim, auth, params)),
  route("DELETE", "/pools", ({ sim, params }) => deletePool(sim, params)),
  route("GET", "/pools/{poolid}", ({ sim, params }) => {
    const pool = getPool(sim, String(params.poolid));
    const type = typeof params.type === "string" ? params.type : undefined;
    return { members: members(sim, pool, type), comment: pool.comment };
  }),
  route("PUT", "/pools/{poolid}", ({ sim, auth, params }) => updatePool(sim, auth, params)),
  route("DELETE", "/pools/{poolid}", ({ sim, params }) => deletePool(sim, params)),
];
