/**
 * Secrets in plans. A plan is shown to people and models (dry runs, confirmations) and its
 * summary goes to the audit log, so a password a tool sends (a container's root password, a
 * cloud-init password) appears in the plan only as `[redacted]`; the real value is kept beside
 * the plan, in a `WeakMap` keyed by the plan object, for the handler that sends the call — the
 * same pattern as the power tools' planning state (`power.ts`).
 *
 * @module
 */

import type { Plan, PlannedCall } from "../types.ts";

/** What a plan shows instead of a secret value. */
export const REDACTED = "[redacted]";

/** Real values of redacted parameters, per plan: call index → parameter → value. */
const secrets = new WeakMap<Plan, Map<number, Record<string, string>>>();

/**
 * Puts a secret parameter into a planned call: the call shows `[redacted]`, the plan keeps the
 * value for {@linkcode withSecrets}. Returns the plan.
 */
export function addSecret(plan: Plan, callIndex: number, param: string, value: string): Plan {
  const call = plan.calls[callIndex];
  if (call === undefined) throw new Error(`Plan has no call ${callIndex} for secret "${param}"`);
  call.params = { ...call.params, [param]: REDACTED };
  let perCall = secrets.get(plan);
  if (perCall === undefined) {
    perCall = new Map();
    secrets.set(plan, perCall);
  }
  perCall.set(callIndex, { ...perCall.get(callIndex), [param]: value });
  return plan;
}

/** The parameters of a planned call as they are sent: redacted values replaced by the real ones. */
export function withSecrets(
  plan: Plan,
  callIndex: number,
  call: PlannedCall,
): PlannedCall["params"] {
  const real = secrets.get(plan)?.get(callIndex);
  if (real === undefined) return call.params;
  return { ...call.params, ...real };
}
