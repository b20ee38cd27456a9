/**
 * Scope: which guests this server may act on. A scope restricts up to four dimensions — nodes,
 * VMID ranges, pools and tags. Every configured dimension must match (nodes AND vmids AND pools
 * AND at least one tag); an unset or empty dimension restricts nothing; an empty scope allows
 * everything. A target that lacks a value for a configured dimension (no pool, no tags, a
 * node-level operation under a VMID rule) does not match that dimension.
 *
 * @module
 */

import { PolicyError } from "./errors.ts";

/** The scope rules, as configured (`policy.scope`). */
export interface Scope {
  /** Only these nodes. */
  nodes?: readonly string[] | undefined;
  /** VMID ranges like `"100-199"` or single VMIDs like `"105"`. */
  vmids?: readonly string[] | undefined;
  /** Only guests in these pools. */
  pools?: readonly string[] | undefined;
  /** A guest matches when it carries at least one of these tags (case-insensitive). */
  tags?: readonly string[] | undefined;
}

/** What a call acts on; tools pass what they know. */
export interface ScopeTarget {
  /** The guest's VMID. */
  vmid?: number | undefined;
  /** The node the guest (or operation) is on. */
  node?: string | undefined;
  /** The guest's pool. */
  pool?: string | undefined;
  /** The guest's tags. */
  tags?: readonly string[] | undefined;
}

/** An inclusive VMID range. */
export interface VmidRange {
  /** The first VMID. */
  from: number;
  /** The last VMID (inclusive). */
  to: number;
}

/** The smallest and largest VMID Proxmox VE accepts. */
export const VMID_MIN = 100;
/** The largest VMID Proxmox VE accepts. */
export const VMID_MAX = 999_999_999;

/**
 * Parse VMID ranges such as `["100-199", "250"]`.
 *
 * @throws {RangeError} `Invalid vmid range "abc": expected "100" or "100-199"` and similar.
 */
export function parseVmidRanges(ranges: readonly string[]): VmidRange[] {
  return ranges.map(parseVmidRange);
}

function parseVmidRange(text: string): VmidRange {
  const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  if (match === null || match[1] === undefined) {
    throw new RangeError(`Invalid vmid range "${text}": expected "100" or "100-199"`);
  }
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  for (const value of [from, to]) {
    if (value < VMID_MIN || value > VMID_MAX) {
      throw new RangeError(
        `Invalid vmid range "${text}": expected VM IDs between ${VMID_MIN} and ${VMID_MAX}`,
      );
    }
  }
  if (from > to) {
    throw new RangeError(
      `Invalid vmid range "${text}": expected the start (${from}) to be at most the end (${to})`,
    );
  }
  return { from, to };
}

function configured(values: readonly string[] | undefined): values is readonly string[] {
  return values !== undefined && values.length > 0;
}

/** Whether `target` is inside `scope` (see the module documentation for the semantics). */
export function inScope(target: ScopeTarget, scope: Scope): boolean {
  if (configured(scope.nodes)) {
    if (target.node === undefined || !scope.nodes.includes(target.node)) return false;
  }
  if (configured(scope.vmids)) {
    const vmid = target.vmid;
    if (vmid === undefined) return false;
    const ranges = parseVmidRanges(scope.vmids);
    if (!ranges.some((range) => vmid >= range.from && vmid <= range.to)) return false;
  }
  if (configured(scope.pools)) {
    if (target.pool === undefined || !scope.pools.includes(target.pool)) return false;
  }
  if (configured(scope.tags)) {
    const wanted = new Set(scope.tags.map((tag) => tag.toLowerCase()));
    const tags = target.tags ?? [];
    if (!tags.some((tag) => wanted.has(tag.toLowerCase()))) return false;
  }
  return true;
}

/** A short human name for a target: `Guest 105`, `Node "pve2"` or `The target`. */
function describeTarget(target: ScopeTarget): string {
  if (target.vmid !== undefined) return `Guest ${target.vmid}`;
  if (target.node !== undefined) return `Node "${target.node}"`;
  return "The target";
}

/**
 * Throw a `PolicyError` with reason `"scope"` unless `target` is inside `scope`. The message does
 * not say which rule refused, so it leaks nothing about the configured scope.
 */
export function assertInScope(target: ScopeTarget, scope: Scope): void {
  if (inScope(target, scope)) return;
  throw new PolicyError(
    "scope",
    `${describeTarget(target)} is outside the scope this server may act on: ` +
      "choose a target inside the configured scope, or ask the administrator to widen policy.scope",
  );
}
