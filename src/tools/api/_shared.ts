/**
 * What the two escape-hatch tools share: the `params` input, the schema check turned into
 * an actionable error, the scope rule, and output truncation.
 *
 * Scope rule: with no scope configured any valid path may be used. With a scope, only paths
 * of one guest (`…/{vmid}/…`) whose guest is in scope are allowed — the tools cannot prove
 * that a cluster- or node-wide path stays inside the scope, so they refuse it. Parameters
 * that name another guest or node must stay inside the scope too: a clone's copy (`newid`
 * with its `target` node and `pool`), a migration's `target` node, and any other VMID
 * parameter such as `target-vmid` (a disk handed to another guest).
 *
 * @module
 */

import { z } from "zod";
import { PveNotFoundError, PveValidationError } from "../../pve/errors.ts";
import type { GuestRef } from "../../pve/mod.ts";
import type { ScopeTarget, ToolContext } from "../types.ts";
import { scopeOf } from "../_shared/guest.ts";
import { boundedRecord } from "../_shared/params.ts";
import { unscoped } from "../_shared/tasks.ts";
import type { ApiMethod } from "../../schema/mod.ts";
import type { ApiRequestOk } from "./_schema.ts";

/** Most parameters one request may carry (the largest PVE endpoint takes a few hundred). */
export const MAX_API_PARAMS = 512;

/** The `params` input of the API tools. */
export const apiParams = boundedRecord(
  z.string().min(1).max(64),
  z.union([
    z.string().max(65_536),
    z.number().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
    z.boolean(),
    z.array(z.string().max(4096)).max(64),
  ]),
  MAX_API_PARAMS,
).optional().describe("Query (GET/DELETE) or body (POST/PUT) parameters");

/** The `path` input of the API tools. */
export const apiPath = z.string().min(1).max(2048).describe(
  "API path below /api2/json, e.g. /nodes/pve1/qemu/100/config",
);

/**
 * Checks the request against the schema facts, which load with the first request (≈ 2 MiB of
 * heap a session without these tools never holds).
 *
 * @throws {PveValidationError} with PVE-like per-parameter messages and the fix.
 */
export async function checkedRequest(
  method: ApiMethod,
  path: string,
  params: Record<string, string | number | boolean | string[]> | undefined,
): Promise<ApiRequestOk> {
  const count = Object.keys(params ?? {}).length;
  if (count > MAX_API_PARAMS) {
    throw new PveValidationError(
      `Too many parameters (${count}): one request takes at most ${MAX_API_PARAMS}; send fewer.`,
      { errors: { params: `more than ${MAX_API_PARAMS} parameters` } },
    );
  }
  const { checkApiRequest } = await import("./_schema.ts");
  const check = checkApiRequest(method, path, params ?? {});
  if (!check.ok) {
    throw new PveValidationError(
      check.message,
      check.errors === undefined ? {} : { errors: check.errors },
    );
  }
  return check;
}

/**
 * Applies the scope rule (see the module doc) and returns the guest the path addresses,
 * when it addresses one that exists.
 *
 * @throws {PolicyError} (through `ctx.assertInScope`) when the path is out of scope.
 */
export async function scopeOfRequest(
  request: ApiRequestOk,
  ctx: ToolContext,
): Promise<GuestRef | undefined> {
  const vmid = request.pathParams.vmid;
  const free = unscoped(ctx);
  if (vmid === undefined) {
    if (!free) {
      // An empty target never passes a configured scope: this throws the scope refusal.
      ctx.assertInScope({});
    }
    return undefined;
  }
  let guest: GuestRef | undefined;
  try {
    guest = await ctx.client.resolveGuest(Number(vmid), { signal: ctx.signal });
  } catch (error) {
    if (!(error instanceof PveNotFoundError) || !free) throw error;
  }
  if (guest !== undefined) ctx.assertInScope(scopeOf(guest));
  // Under a scope an unknown guest has already been refused, so `guest` is set here.
  if (!free && guest !== undefined) await assertParamsInScope(request, guest, ctx);
  return guest;
}

/** Remote migration names a VMID on another cluster, which this scope does not describe. */
const FOREIGN_VMID_TEMPLATES = /\/remote_migrate$/;

/**
 * Refuses parameters that would carry the request outside the scope: a clone's copy, a
 * migration's target node, another guest's VMID. Which parameters name a guest or a node
 * comes from their schema format (`pve-vmid`, `pve-node`), so new endpoints are covered.
 */
async function assertParamsInScope(
  request: ApiRequestOk,
  guest: GuestRef,
  ctx: ToolContext,
): Promise<void> {
  const { endpointSchema } = await import("../../schema/mod.ts");
  const properties = endpointSchema(request.method, request.template)?.parameters.properties ??
    {};
  const facts = scopeOf(guest);
  const nodes: string[] = [];
  const vmids: Array<[string, number]> = [];
  for (const [name, value] of Object.entries(request.params)) {
    const format = properties[name]?.format;
    // `migratedfrom` is PVE-internal (root only) and names where the guest already was.
    if (format === "pve-node" && name !== "migratedfrom") nodes.push(String(value));
    if (format === "pve-vmid" && !FOREIGN_VMID_TEMPLATES.test(request.template)) {
      vmids.push([name, Number(value)]);
    }
  }
  const newid = vmids.find(([name]) => name === "newid");
  if (newid !== undefined) {
    // The copy: its VMID, on the target node (else this node), in the given pool (else none),
    // with the source's tags (a clone copies the config).
    const pool = request.params.pool;
    const copy: ScopeTarget = {
      vmid: newid[1],
      node: nodes[0] ?? facts.node,
      tags: facts.tags,
    };
    if (typeof pool === "string") copy.pool = pool;
    ctx.assertInScope(copy);
  } else {
    for (const node of nodes) ctx.assertInScope({ ...facts, node });
  }
  for (const [name, vmid] of vmids) {
    if (name === "newid") continue;
    let other: GuestRef | undefined;
    try {
      other = await ctx.client.resolveGuest(vmid, { signal: ctx.signal });
    } catch (error) {
      if (!(error instanceof PveNotFoundError)) throw error;
    }
    ctx.assertInScope(other === undefined ? { vmid } : scopeOf(other));
  }
}

/** Most bytes of `data` returned before truncating. */
export const DATA_BUDGET_BYTES = 16_000;

/** Data cut to a budget, with what was cut. */
export interface Truncated {
  data: unknown;
  truncated: boolean;
  note?: string;
  items_total?: number;
  items_returned?: number;
}

function size(value: unknown): number {
  return JSON.stringify(value ?? null).length;
}

/** Cuts `data` to {@linkcode DATA_BUDGET_BYTES}: arrays by items, objects by keys, strings by length. */
export function truncateData(data: unknown, budget = DATA_BUDGET_BYTES): Truncated {
  if (size(data) <= budget) {
    return Array.isArray(data)
      ? { data, truncated: false, items_total: data.length, items_returned: data.length }
      : { data, truncated: false };
  }
  if (Array.isArray(data)) {
    const kept: unknown[] = [];
    let used = 2;
    for (const item of data) {
      const s = size(item) + 1;
      if (used + s > budget) break;
      kept.push(item);
      used += s;
    }
    return {
      data: kept,
      truncated: true,
      items_total: data.length,
      items_returned: kept.length,
      note:
        `Showing ${kept.length} of ${data.length} items: narrow the request with parameters (filters, limit, start) to see the rest.`,
    };
  }
  if (typeof data === "object" && data !== null) {
    const kept: Record<string, unknown> = {};
    let used = 2;
    const keys = Object.keys(data);
    for (const key of keys) {
      const value = (data as Record<string, unknown>)[key];
      const s = key.length + 4 + size(value);
      if (used + s > budget) continue;
      kept[key] = value;
      used += s;
    }
    const dropped = keys.filter((k) => !(k in kept));
    return {
      data: kept,
      truncated: true,
      note: `Left out ${dropped.length} large key(s): ${
        dropped.slice(0, 20).join(", ")
      }; request a narrower path to see them.`,
    };
  }
  const text = String(data);
  return {
    data: text.slice(0, budget),
    truncated: true,
    note: `Showing the first ${budget} of ${text.length} characters.`,
  };
}
