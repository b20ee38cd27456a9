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
import { PolicyError } from "../../policy/errors.ts";
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

/**
 * GET endpoints that do more than read the cluster's state, so a `read` tool must not reach
 * them: they make a node open connections to hosts the caller names (server-side request
 * forgery into the admin network, credentials sent along), read files inside a guest, boot a
 * file-restore VM, or open a console or migration tunnel.
 */
const ACTING_GETS: ReadonlyArray<[RegExp, string]> = [
  [/^\/nodes\/\{node\}\/query-url-metadata$/, "makes the node fetch a URL you name"],
  [/^\/nodes\/\{node\}\/scan\/[^/]+$/, "makes the node connect to a storage server you name"],
  [/^\/nodes\/\{node\}\/apt\/changelog$/, "makes the node download from its package mirrors"],
  [/\/agent\/file-read$/, "reads a file inside the guest through its agent"],
  [/\/file-restore\/(?:list|download)$/, "starts a file-restore VM to open a backup"],
  [/\/(?:vnc|mtunnel)websocket$/, "opens a console or migration tunnel"],
];

/** The refusal for a GET that acts, or `undefined` when the template only reads. */
export function actingGetRefusal(template: string): PolicyError | undefined {
  const hit = ACTING_GETS.find(([pattern]) => pattern.test(template));
  if (hit === undefined) return undefined;
  return new PolicyError(
    "class",
    `GET ${template} ${hit[1]}, which is more than a read: pve_api_get does not send it; ` +
      "do this in the Proxmox VE web interface or shell instead",
  );
}

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
    const request = await checkedRequest("GET", args.path, args.params);
    const refusal = actingGetRefusal(request.template);
    if (refusal !== undefined) throw refusal;
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
