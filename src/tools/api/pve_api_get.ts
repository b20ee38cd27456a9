/**
 * `pve_api_get`: the read half of the escape hatch — any `GET` of the Proxmox VE API,
 * validated against the API schema facts (path template, parameters) before it is sent.
 * Huge answers are truncated with a note saying how to narrow them.
 *
 * Why two escape-hatch tools instead of one `pve_api` with a method argument: the design
 * says GET is `read` and everything else `raw`, and the house style splits tools where the
 * risk differs, so each tool's annotations (read-only vs. destructive) stay truthful and a
 * read-only server can offer this one alone. See `pve_api_call.ts` for writes.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import { apiParams, apiPath, checkedRequest, scopeOfRequest, truncateData } from "./_shared.ts";

const outputSchema = z.object({
  path: z.string(),
  template: z.string(),
  data: z.unknown(),
  truncated: z.boolean(),
  items_total: z.number().optional(),
  items_returned: z.number().optional(),
  note: z.string().optional(),
});

/** GET any API path, validated. */
export const pveApiGet = defineTool({
  name: "pve_api_get",
  title: "Proxmox API GET",
  description:
    "GET any Proxmox VE API path (below /api2/json) when no dedicated tool fits. Path and params are checked against the API schema first; large answers are truncated with a note.",
  toolset: "api",
  capability: "read",
  inputSchema: z.object({ path: apiPath, params: apiParams }),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const request = checkedRequest("GET", args.path, args.params);
    await scopeOfRequest(request, ctx);
    const data = await ctx.client.get(request.path, request.params, { signal: ctx.signal });
    const cut = truncateData(data);
    const structured: z.infer<typeof outputSchema> = {
      path: request.path,
      template: request.template,
      data: cut.data ?? null,
      truncated: cut.truncated,
    };
    if (cut.items_total !== undefined) structured.items_total = cut.items_total;
    if (cut.items_returned !== undefined) structured.items_returned = cut.items_returned;
    if (cut.note !== undefined) structured.note = cut.note;
    const head = `GET ${request.path}${
      cut.items_total !== undefined ? ` (${cut.items_returned} of ${cut.items_total} items)` : ""
    }:`;
    const text = [head, JSON.stringify(cut.data ?? null), ...(cut.note ? [cut.note] : [])].join(
      "\n",
    );
    return { text, structured };
  },
});
