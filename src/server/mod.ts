/**
 * The MCP server core: builds one `McpServer` per session from the configuration, the
 * Proxmox VE clients, the audit log and the tool list. Everything between the SDK and the
 * tools lives here: the registry's `tools/list`, and the call path of `tools/call` (see
 * `call.ts`: validation → policy → plan → scope → dry run → confirmation → handler → audit).
 *
 * Prompts (`prompts.ts`), resources (`resources.ts`) and completions (`completions.ts`) are
 * served beside the tools; what the session lists of them comes from `catalog.ts`, free of the
 * SDK, so the start-up path can list them too.
 *
 * Tools are served through the SDK's low-level request handlers rather than `registerTool`,
 * so that the server, not the SDK, decides what a failure looks like: input validation and
 * policy refusals become `isError` results with the next step, and bugs become protocol
 * errors (the SDK's `registerTool` path turns every exception into a tool result).
 *
 * @module
 */

import {
  type CallToolResult,
  isInputRequiredResult,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type Tool,
} from "@modelcontextprotocol/server";
import type { Config } from "../config/mod.ts";
import type { AuditLog } from "../policy/audit.ts";
import type { PveClient } from "../pve/mod.ts";
import { allTools } from "../tools/mod.ts";
import { buildRegistry, listedTool, type ToolEntry } from "../tools/registry.ts";
import type { AnyTool } from "../tools/types.ts";
import { INSTRUCTIONS, SERVER_INFO, serverCapabilities } from "./identity.ts";
import { type CallSettings, runHiddenToolCall, runToolCall } from "./call.ts";
import { type Catalog, catalogOf } from "./catalog.ts";
import { registerCompletions } from "./completions.ts";
import { PromptError, type PromptSession, renderPrompt } from "./prompts.ts";
import { registerResources, type SurfaceDeps } from "./resources.ts";
import { checkToolConfig, settingsFromConfig } from "./settings.ts";
import { quote } from "./wire/jsonrpc.ts";

export { type CallSettings } from "./call.ts";
export { validationMessage } from "./validation.ts";
export { checkToolConfig, settingsFromConfig } from "./settings.ts";
export { CONFIRM_KEY, NOT_CONFIRMED } from "./confirm.ts";
export {
  type ServerFactory,
  serveStdio,
  type ServeStdioOptions,
  type StdioServerHandle,
} from "./stdio.ts";

/** What a server is built from. */
export interface CreateServerOptions {
  config: Config;
  /** One client per configured cluster, keyed by cluster name. */
  clients: ReadonlyMap<string, PveClient>;
  /** The tools to offer (filtered by policy); defaults to every tool (`allTools`). */
  tools?: readonly AnyTool[];
  audit: AuditLog;
  /** A line every tool result starts with (a rehearsal twin marks itself so). */
  notice?: string;
}

interface BuiltRegistry {
  registry: Map<string, ToolEntry>;
  known: Map<string, AnyTool>;
  listed: Tool[];
  /** Prompts, resources and resource templates the session lists. */
  catalog: Catalog;
}

/** Registries by tool list and config object: sessions (and HTTP requests) share one. */
const registries = new WeakMap<readonly AnyTool[], WeakMap<Config, BuiltRegistry>>();

function registryFor(
  tools: readonly AnyTool[],
  config: Config,
  settings: CallSettings,
): BuiltRegistry {
  let byConfig = registries.get(tools);
  if (byConfig === undefined) registries.set(tools, byConfig = new WeakMap());
  let built = byConfig.get(config);
  if (built === undefined) {
    const registry = buildRegistry(tools, settings);
    built = {
      registry,
      known: new Map(tools.map((tool) => [tool.name, tool])),
      listed: [...registry.values()].map((entry) => listedTool(entry) as Tool),
      catalog: catalogOf({ tools: registry.keys(), clusters: settings.clusters }),
    };
    byConfig.set(config, built);
  }
  return built;
}

/**
 * Builds the MCP server of one session.
 *
 * @throws {ConfigError} when the configuration names unknown tools or toolsets, or a
 *   configured cluster has no client.
 */
export function createServer(options: CreateServerOptions): McpServer {
  const tools = options.tools ?? allTools;
  checkToolConfig(tools, options.config);
  const settings: CallSettings = settingsFromConfig(options.config, tools);
  for (const name of settings.clusters) {
    if (!options.clients.has(name)) {
      throw new Error(`No Proxmox VE client was given for the configured cluster "${name}"`);
    }
  }
  const { registry, known, listed, catalog } = registryFor(tools, options.config, settings);

  const mcp = new McpServer({ ...SERVER_INFO }, { instructions: INSTRUCTIONS });
  const server = mcp.server;
  server.registerCapabilities(serverCapabilities());
  const deps = {
    server,
    settings,
    clients: options.clients,
    audit: options.audit,
    offeredTools: [...registry.keys()],
    ...(options.notice === undefined ? {} : { notice: options.notice }),
  };

  server.setRequestHandler("tools/list", () => ({ tools: listed }));
  const surface: SurfaceDeps = {
    settings,
    clients: options.clients,
    offered: new Set(registry.keys()),
    known,
    catalog,
    ...(options.notice === undefined ? {} : { notice: options.notice }),
  };
  registerPrompts(server, surface);
  registerResources(server, surface);
  registerCompletions(server, surface);
  server.setRequestHandler("tools/call", async (request, ctx) => {
    const name = request.params.name;
    const entry = registry.get(name);
    if (entry === undefined) {
      const hidden = known.get(name);
      if (hidden !== undefined) {
        return await runHiddenToolCall(deps, hidden, request.params.arguments);
      }
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Unknown tool ${quote(name)}: call tools/list for the tools this server offers`,
      );
    }
    const result = await runToolCall(deps, entry, request.params.arguments, ctx);
    if (isInputRequiredResult(result)) return result;
    return server.projectCallToolResult(result as CallToolResult, entry.outputJsonSchema);
  });
  return mcp;
}

/** Serves `prompts/list` from the catalog and renders `prompts/get` for the session. */
function registerPrompts(server: McpServer["server"], surface: SurfaceDeps): void {
  const session: PromptSession = {
    offered: surface.offered,
    known: surface.known,
    policy: surface.settings.policy,
    clusters: surface.settings.clusters,
  };
  server.setRequestHandler("prompts/list", () => ({ prompts: surface.catalog.prompts }));
  server.setRequestHandler("prompts/get", (request) => {
    try {
      return renderPrompt(request.params.name, request.params.arguments, session);
    } catch (error) {
      if (error instanceof PromptError) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, error.message);
      }
      throw error;
    }
  });
}
