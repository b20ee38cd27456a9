/**
 * The last check of a plan before anyone sees it: every planned call's parameters (secrets
 * restored) against the official PVE API schema, with PVE's own messages. The tools check the
 * cluster first and word their refusals better; this catches what they do not model, so a value
 * PVE's validator would reject is refused before a dry run, a confirmation or a write.
 *
 * @module
 */

import { PveValidationError } from "../../pve/errors.ts";
import type { ApiMethod } from "../../schema/mod.ts";
import type { Plan } from "../types.ts";
import { withSecrets } from "./secrets.ts";

/**
 * Returns the plan when every call passes the schema. The schema (≈ 400 KB of JSON, ≈ 2 MiB
 * of heap) is loaded with the first plan, so a session that only reads never holds it.
 *
 * @throws {PveValidationError} naming each parameter PVE would refuse and PVE's message.
 */
export async function checkPlannedCalls(plan: Plan): Promise<Plan> {
  const { checkParams, endpointSchema, schemaTemplates, splitPath } = await import(
    "../../schema/mod.ts"
  );
  for (const [index, call] of plan.calls.entries()) {
    const segments = splitPath(call.path).map((segment) => decodeURIComponent(segment));
    const match = schemaTemplates().match(segments);
    const endpoint = match === undefined
      ? undefined
      : endpointSchema(call.method as ApiMethod, match.template);
    if (match === undefined || endpoint === undefined) {
      throw new Error(`Planned call ${call.method} ${call.path} is not in the PVE API schema`);
    }
    const params: Record<string, unknown> = { ...withSecrets(plan, index, call) };
    for (const [key, value] of Object.entries(params)) {
      if (typeof value === "number") params[key] = String(value);
      if (typeof value === "boolean") params[key] = value ? "1" : "0";
    }
    const errors = checkParams(endpoint.parameters, { ...params, ...match.pathParams }).errors;
    const failed = Object.keys(errors).sort();
    if (failed.length > 0) {
      throw new PveValidationError(
        `Proxmox VE would refuse ${call.method} ${match.template}: ${
          failed.map((key) => `${key}: ${(errors[key] ?? "").trim().replace(/\n/g, " ")}`).join(
            "; ",
          )
        }. Fix those values and call again.`,
        { errors },
      );
    }
  }
  return plan;
}
