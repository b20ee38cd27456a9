/// <reference lib="dom" />
/**
 * The view side of the MCP Apps protocol, shared by every view: connects to the host through the
 * extension's own `App`, follows the host's theme, colours and fonts (the extension's host-style
 * API), and calls this server's tools through the host — the only way a view gets more data than
 * the result it was rendered for, so every such read passes the server's policy and scope.
 *
 * @module
 */

import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
  type McpUiHostContext,
} from "@modelcontextprotocol/ext-apps";

/** A tool result as the host hands it over (`tools/call` result). */
export interface ToolResultLike {
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** What a view does with the host's notifications. */
export interface ViewHandlers {
  /** The arguments of the tool call the view was opened for. */
  onInput?(args: Record<string, unknown>): void;
  /** The result of that call. */
  onResult(result: ToolResultLike): void;
  /** The host is about to remove the view: stop timers. */
  onTeardown?(): void;
}

/** A connected view. */
export interface View {
  /**
   * Calls a tool of this server through the host; resolves to its structured content.
   *
   * @throws {Error} with the tool's own text when it answers with an error, or the host's
   *   message when the call is refused.
   */
  call<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
}

/** The text of a result (its text blocks joined). */
export function resultText(result: ToolResultLike): string {
  return (result.content ?? []).map((block) => block.text ?? "").join("\n").trim();
}

function applyHostContext(context: McpUiHostContext | undefined): void {
  if (context === undefined) return;
  if (context.theme !== undefined) applyDocumentTheme(context.theme);
  if (context.styles?.variables !== undefined) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts !== undefined) applyHostFonts(context.styles.css.fonts);
}

/** Connects a view to its host. */
export function startView(name: string, handlers: ViewHandlers): View {
  const app = new App({ name: `proxmox-mcp ${name}`, version: "1" });
  app.ontoolinput = (params) => handlers.onInput?.(params.arguments ?? {});
  app.ontoolresult = (params) => handlers.onResult(params as ToolResultLike);
  app.onhostcontextchanged = (context) => applyHostContext(context);
  app.onteardown = () => {
    handlers.onTeardown?.();
    return {};
  };
  app.connect().then(() => applyHostContext(app.getHostContext())).catch((error) => {
    document.body.dataset.error = error instanceof Error ? error.message : String(error);
  });
  return {
    async call<T>(tool: string, args: Record<string, unknown> = {}): Promise<T> {
      const result = await app.callServerTool({ name: tool, arguments: args }) as ToolResultLike;
      if (result.isError === true || result.structuredContent === undefined) {
        throw new Error(resultText(result) || `${tool} returned no data`);
      }
      return result.structuredContent as T;
    },
  };
}
