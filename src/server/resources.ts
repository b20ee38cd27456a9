/**
 * Resources a user can attach to a conversation, served through `resources/list`,
 * `resources/templates/list` and `resources/read` (what is listed comes from `catalog.ts`):
 *
 * - the active policy (`proxmox-mcp://policy`): what this server may do and why;
 * - the cluster summary (`pve://<cluster>/summary`);
 * - a guest's config (`pve://<cluster>/guests/{vmid}/config`);
 * - a task's log (`pve://<cluster>/tasks/{upid}/log`);
 * - the MCP App views (`ui://…`): HTML built into `src/views/built.json` (`deno task views`)
 *   and loaded only when a host first reads a view; a literal dynamic import keeps it in the
 *   compiled binary. Views carry no data: a host hands them the tool's result.
 *
 * A cluster resource obeys the policy like the tool that reads the same data: hidden with it,
 * refused with the reason when read anyway, and scoped like it — a guest or task outside the
 * scope cannot be read, and the summary counts only what the scope admits. Refusals and
 * Proxmox VE failures are JSON-RPC errors with one sentence saying what to do. On a rehearsal
 * twin every resource but the views starts with the server's notice, as tool results do.
 *
 * @module
 */

import {
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  ResourceNotFoundError,
  type Server,
} from "@modelcontextprotocol/server";
import { explainToolHidden, PolicyError } from "../policy/policy.ts";
import { PveError, PveNotFoundError, PveValidationError } from "../pve/errors.ts";
import type { PveClient } from "../pve/mod.ts";
import { redactText } from "../redact.ts";
import { guestPath, resolveGuestArg } from "../tools/_shared/guest.ts";
import { taskGet } from "../tools/tasks/task_get.ts";
import type { AnyTool, ToolContext } from "../tools/types.ts";
import { VIEW_MIME_TYPE } from "../views/mod.ts";
import type { CallSettings } from "./call.ts";
import {
  type Catalog,
  CLUSTER_RESOURCES,
  type ClusterResourceKind,
  offeredViews,
  parseResourceUri,
} from "./catalog.ts";
import { clusterSummaryText } from "./cluster_summary.ts";
import { createToolContext } from "./context.ts";
import { policyText } from "./policy_text.ts";
import { scrub, sentence } from "./results.ts";

/** What the prompts, resources and completions of a session are served from. */
export interface SurfaceDeps {
  settings: CallSettings;
  /** One client per configured cluster. */
  clients: ReadonlyMap<string, PveClient>;
  /** Names of the tools this session offers. */
  offered: ReadonlySet<string>;
  /** Every tool the server knows (offered or not). */
  known: ReadonlyMap<string, AnyTool>;
  /** What the session lists (`catalog.ts`). */
  catalog: Catalog;
  /** A line every data resource starts with (a rehearsal twin says so), as tool results do. */
  notice?: string;
}

/** The built views: HTML by `ui://` URI. */
interface BuiltViews {
  views: Record<string, string>;
}

let built: Promise<BuiltViews> | undefined;

function builtViews(): Promise<BuiltViews> {
  built ??= import("../views/built.json", { with: { type: "json" } }).then((module) =>
    module.default as BuiltViews
  );
  return built;
}

/** How many log lines a task log resource holds at most (the newest). */
const TASK_LOG_LINES = 500;

function notFound(uri: string): ResourceNotFoundError {
  const shown = uri.length > 120 ? `${uri.slice(0, 120)}…` : uri;
  return new ResourceNotFoundError(
    uri,
    `No resource "${shown}": resources/list and resources/templates/list name what this server offers.`,
  );
}

/** Why a cluster resource is refused when the tool it follows is hidden, in one sentence. */
function hiddenResource(uri: string, kind: ClusterResourceKind, deps: SurfaceDeps): ProtocolError {
  const name = CLUSTER_RESOURCES[kind].tool;
  const tool = deps.known.get(name);
  const reason = tool === undefined ? undefined : explainToolHidden(tool, deps.settings.policy);
  let why: string;
  if (reason?.reason === "class") {
    why = `it needs the "${tool?.capability}" class, which this server does not allow: add ` +
      `"${tool?.capability}" to policy.allow to permit it`;
  } else if (reason?.reason === "toolset") {
    why = `it belongs to the "${tool?.toolset}" toolset, which is not enabled: add ` +
      `"${tool?.toolset}" to policy.toolsets to enable it`;
  } else if (reason?.reason === "excluded") {
    why = `it is read like ${name}, which policy.exclude excludes: remove ${name} from that ` +
      "list to read it";
  } else {
    why = "this server does not offer it";
  }
  return new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    `Resource "${uri}" is refused: ${why}.`,
  );
}

/** A resource read's failure as a JSON-RPC error with one sentence. */
function readFailure(uri: string, error: unknown): unknown {
  if (error instanceof ProtocolError) return error;
  if (error instanceof PolicyError) {
    return new ProtocolError(ProtocolErrorCode.InvalidParams, sentence(error.message));
  }
  if (error instanceof PveNotFoundError) {
    return new ResourceNotFoundError(uri, sentence(redactText(error.message)));
  }
  if (error instanceof PveValidationError) {
    return new ProtocolError(ProtocolErrorCode.InvalidParams, sentence(redactText(error.message)));
  }
  if (error instanceof PveError) {
    return new ProtocolError(ProtocolErrorCode.InternalError, sentence(redactText(error.message)));
  }
  return error;
}

/** A text resource, starting with the session's notice (its own line) when there is one. */
function text(
  uri: string,
  mimeType: string,
  body: string,
  notice: string | undefined,
): ReadResourceResult {
  const marked = notice === undefined ? body : `${notice}\n\n${body}`;
  return { contents: [{ uri, mimeType, text: marked }] };
}

function contextFor(
  deps: SurfaceDeps,
  cluster: string,
  signal: AbortSignal,
): ToolContext {
  const client = deps.clients.get(cluster);
  if (client === undefined) {
    throw new Error(`No Proxmox VE client was given for the configured cluster "${cluster}"`);
  }
  return createToolContext({
    client,
    cluster,
    signal,
    progress: () => {},
    scope: deps.settings.scope,
    wait: deps.settings.wait,
    offeredTools: [...deps.offered],
  });
}

async function readSummary(deps: SurfaceDeps, cluster: string, ctx: ToolContext) {
  const [resources, status] = await Promise.all([
    ctx.client.resources(undefined, { signal: ctx.signal }),
    ctx.client.get("/cluster/status", undefined, { signal: ctx.signal }).then(
      (data) => Array.isArray(data) ? data as unknown[] : undefined,
      () => undefined,
    ),
  ]);
  return clusterSummaryText({
    cluster,
    resources,
    ...(status === undefined ? {} : { status }),
    scope: deps.settings.scope,
  });
}

async function readGuestConfig(
  cluster: string,
  rawVmid: string,
  ctx: ToolContext,
  notice: string | undefined,
) {
  const vmid = /^\d{1,10}$/.test(rawVmid) ? Number(rawVmid) : Number.NaN;
  if (!(vmid >= 100 && vmid <= 999_999_999)) {
    const shown = rawVmid.length > 40 ? `${rawVmid.slice(0, 40)}…` : rawVmid;
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `"${shown}" is not a vmid: use a number from 100 to 999999999 in pve://${cluster}/guests/{vmid}/config.`,
    );
  }
  const guest = await resolveGuestArg({ vmid }, ctx);
  const data = await ctx.client.get(`${guestPath(guest)}/config`, undefined, {
    signal: ctx.signal,
  });
  const raw = (data ?? {}) as Record<string, unknown>;
  const config: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === "digest") continue;
    if (typeof value === "string" || typeof value === "number") config[key] = value;
    else if (typeof value === "boolean") config[key] = value ? 1 : 0;
  }
  const body: Record<string, unknown> = {
    ...(notice === undefined ? {} : { notice }),
    cluster,
    vmid: guest.vmid,
    ...(guest.name === "" ? {} : { name: guest.name }),
    node: guest.node,
    type: guest.type,
    status: guest.status,
    ...(typeof raw.digest === "string" ? { digest: raw.digest } : {}),
    config,
  };
  return JSON.stringify(scrub(body), null, 2);
}

async function readTaskLog(upid: string, ctx: ToolContext) {
  if (upid.length > 256) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      "That is not a UPID: task UPIDs are at most 256 characters, as task lists give them.",
    );
  }
  const result = await taskGet.handler({ upid, lines: TASK_LOG_LINES }, ctx, undefined);
  return redactText(result.text);
}

/** Reads one resource of the session; `signal` is the request's (cancelled with it). */
export async function readResource(
  deps: SurfaceDeps,
  uri: string,
  options: { signal: AbortSignal },
): Promise<ReadResourceResult> {
  const { signal } = options;
  const address = parseResourceUri(uri);
  if (address === undefined) throw notFound(uri);
  if (address.kind === "policy") {
    return text(
      uri,
      "text/markdown",
      policyText({
        policy: deps.settings.policy,
        scope: deps.settings.scope,
        confirmation: deps.settings.confirmation,
        wait: deps.settings.wait,
        clusters: deps.settings.clusters,
        tools: [...deps.known.values()],
        offered: deps.offered,
      }),
      deps.notice,
    );
  }
  if (address.kind === "view") {
    const html = offeredViews(deps.offered).includes(address.view)
      ? (await builtViews()).views[uri]
      : undefined;
    if (html === undefined) throw notFound(uri);
    return {
      contents: [{
        uri,
        mimeType: VIEW_MIME_TYPE,
        text: html,
        _meta: { ui: { prefersBorder: true } },
      }],
    };
  }
  if (!deps.settings.clusters.includes(address.cluster)) throw notFound(uri);
  if (!deps.offered.has(CLUSTER_RESOURCES[address.kind].tool)) {
    throw hiddenResource(uri, address.kind, deps);
  }
  const { mimeType } = CLUSTER_RESOURCES[address.kind];
  try {
    const ctx = contextFor(deps, address.cluster, signal);
    switch (address.kind) {
      case "summary":
        return text(uri, mimeType, await readSummary(deps, address.cluster, ctx), deps.notice);
      case "guest_config": {
        // JSON stays JSON: the notice is its first member instead of a line before it.
        const body = await readGuestConfig(address.cluster, address.vmid, ctx, deps.notice);
        return text(uri, mimeType, body, undefined);
      }
      case "task_log":
        return text(uri, mimeType, await readTaskLog(address.upid, ctx), deps.notice);
    }
  } catch (error) {
    throw readFailure(uri, error);
  }
}

/**
 * Serves the session's resources (the server must announce the `resources` capability):
 * the lists from the catalog, and each read through {@link readResource}.
 */
export function registerResources(server: Server, deps: SurfaceDeps): void {
  const { resources, resourceTemplates } = deps.catalog;
  server.setRequestHandler("resources/list", () => ({ resources }));
  server.setRequestHandler("resources/templates/list", () => ({ resourceTemplates }));
  server.setRequestHandler(
    "resources/read",
    (request, ctx) => readResource(deps, request.params.uri, { signal: ctx.mcpReq.signal }),
  );
}
