/**
 * `pve_api_call`: the write half of the escape hatch — one `POST`, `PUT` or `DELETE` of the
 * Proxmox VE API, validated against the API schema facts before anything is sent. The plan
 * is exactly that one call; the server confirms it (`raw` class), honours `dry_run` and
 * audits it. A UPID answer is waited for like any task.
 *
 * Why this is a separate tool from `pve_api_get` (the design sketches one `pve_api` tool):
 * GET is `read` and the other methods are `raw`, and tools are split where the risk differs
 * so that annotations stay truthful — a destructive method cannot hide behind a harmless
 * tool's read-only hint, and a read-only server can offer the GET tool alone.
 *
 * @module
 */

import { z } from "zod";
import { REDACTED } from "../../redact.ts";
import { annotationsFor } from "../../policy/capability.ts";
import { isUpid } from "../../pve/mod.ts";
import { defineTool, type Plan } from "../types.ts";
import { describeOutcome, taskFields, taskFieldsOf } from "../_shared/task.ts";
import { sendWrite } from "../_shared/write.ts";
import { apiParams, apiPath, checkedRequest, scopeOfRequest, truncateData } from "./_shared.ts";

const outputSchema = z.object({
  method: z.enum(["POST", "PUT", "DELETE"]),
  path: z.string(),
  template: z.string(),
  data: z.unknown(),
  truncated: z.boolean(),
  note: z.string().optional(),
  ...taskFields,
});

const templates = new WeakMap<Plan, string>();

/**
 * Answers that hand out a credential under a key no secret-name rule catches: a new API
 * token's secret (`value`) and TFA recovery keys (`recovery`). The model's context is no place
 * for them; the user reads them in the Proxmox VE web interface or `pveum` instead.
 */
const CREDENTIAL_ANSWERS: ReadonlyArray<[RegExp, string]> = [
  [/^\/access\/users\/\{userid\}\/token\/\{tokenid\}$/, "value"],
  [/^\/access\/tfa\/\{userid\}$/, "recovery"],
];

/** `data` with handed-out credentials replaced, and whether any were. */
export function withoutCredentials(template: string, data: unknown): [unknown, boolean] {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return [data, false];
  let hidden = false;
  const out: Record<string, unknown> = { ...data as Record<string, unknown> };
  for (const [pattern, key] of CREDENTIAL_ANSWERS) {
    if (!pattern.test(template) || out[key] === undefined || out[key] === null) continue;
    out[key] = Array.isArray(out[key]) ? out[key].map(() => REDACTED) : REDACTED;
    hidden = true;
  }
  return [out, hidden];
}

/** POST/PUT/DELETE any API path, validated, confirmed and audited. */
export const pveApiCall = defineTool({
  name: "pve_api_call",
  title: "Proxmox API write call",
  description:
    "POST, PUT or DELETE any Proxmox VE API path when no dedicated tool fits. Checked against the API schema first, needs confirmation; a returned task is waited for. Prefer dedicated tools.",
  toolset: "api",
  capability: "raw",
  inputSchema: z.object({
    method: z.enum(["POST", "PUT", "DELETE"]),
    path: apiPath,
    params: apiParams,
  }),
  outputSchema,
  annotations: { ...annotationsFor("raw"), idempotentHint: false },
  async plan(args, ctx) {
    const request = await checkedRequest(args.method, args.path, args.params);
    const guest = await scopeOfRequest(request, ctx);
    const call: Plan["calls"][number] = { method: args.method, path: request.path };
    if (Object.keys(request.params).length > 0) call.params = request.params;
    const plan: Plan = {
      summary: `${args.method} ${request.path} (${request.template}).`,
      calls: [call],
      ...(guest === undefined ? {} : { target: guest }),
    };
    templates.set(plan, request.template);
    return plan;
  },
  async handler(args, ctx, plan) {
    const call = plan?.calls[0];
    if (plan === undefined || call === undefined) {
      throw new Error("pve_api_call handler called without its plan");
    }
    const template = templates.get(plan) ?? call.path;
    const data = await sendWrite(ctx, call);
    const structured: z.infer<typeof outputSchema> = {
      method: args.method,
      path: call.path,
      template,
      data: data ?? null,
      truncated: false,
    };
    if (isUpid(data)) {
      const outcome = await ctx.waitTask(data);
      Object.assign(structured, taskFieldsOf(outcome));
      const text = describeOutcome(
        outcome,
        `${args.method} ${call.path}: task ${data} finished OK`,
      );
      return outcome.state === "failed"
        ? { text, structured, isError: true }
        : { text, structured };
    }
    const [shown, hidden] = withoutCredentials(template, data);
    const cut = truncateData(shown);
    structured.data = cut.data ?? null;
    structured.truncated = cut.truncated;
    if (hidden) {
      cut.note = "Proxmox VE returned a credential (a token secret or recovery keys); it is not " +
        "shown, to keep it out of the conversation: create it in the Proxmox VE web interface " +
        `or with pveum to see it, and delete this one if unused.${cut.note ? ` ${cut.note}` : ""}`;
    }
    if (cut.note !== undefined) structured.note = cut.note;
    const text = `${args.method} ${call.path} done:\n${JSON.stringify(cut.data ?? null)}${
      cut.note ? `\n${cut.note}` : ""
    }`;
    return { text, structured };
  },
});
