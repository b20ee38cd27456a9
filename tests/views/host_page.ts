/// <reference lib="dom" />
/**
 * The test host: a page that embeds a view the way an MCP Apps host does, built with the
 * extension's own `AppBridge` — a sandboxed iframe (scripts only, opaque origin) holding the
 * view's HTML under the extension's default Content Security Policy (nothing may be fetched),
 * the host context with a theme and style variables, the tool's input and result, and tool
 * calls forwarded to the test (`window.hostCallTool`, bound by the test to a real MCP client).
 *
 * Bundled for the browser by `tests/views/_host.ts`.
 *
 * @module
 */

import {
  AppBridge,
  type McpUiHostContext,
  type McpUiStyles,
  PostMessageTransport,
} from "@modelcontextprotocol/ext-apps/app-bridge";

/** The restrictive CSP a host must apply when a view declares no domains (SEP-1865). */
export const DEFAULT_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; " +
  "style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; " +
  "connect-src 'none'";

/** What the test asks the host to show. */
export interface OpenRequest {
  html: string;
  toolName: string;
  input: Record<string, unknown>;
  result: Record<string, unknown>;
  theme: "light" | "dark";
  width: number;
}

interface HostWindow extends Window {
  hostCallTool(
    params: { name: string; arguments?: Record<string, unknown> | undefined },
  ): Promise<unknown>;
  openView(request: OpenRequest): Promise<void>;
  setTheme(theme: "light" | "dark"): Promise<void>;
  hostEvents: string[];
}

const win = window as unknown as HostWindow;
win.hostEvents = [];
let bridge: AppBridge | undefined;

function context(theme: "light" | "dark", toolName: string, width: number): McpUiHostContext {
  return {
    theme,
    displayMode: "inline",
    availableDisplayModes: ["inline"],
    containerDimensions: { maxWidth: width },
    locale: "en-US",
    platform: "desktop",
    toolInfo: {
      tool: { name: toolName, inputSchema: { type: "object" } },
    },
    styles: { variables: variables(theme) },
  };
}

/** A few of the style variables a host passes (the rest keep the view's fallbacks). */
function variables(theme: "light" | "dark"): McpUiStyles {
  return {
    "--font-sans": "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif",
    "--color-background-primary": theme === "dark" ? "#202124" : "#ffffff",
  } as Partial<McpUiStyles> as McpUiStyles;
}

win.openView = async (request) => {
  document.body.replaceChildren();
  const frame = document.createElement("iframe");
  frame.id = "view";
  frame.setAttribute("sandbox", "allow-scripts");
  frame.style.width = `${request.width}px`;
  frame.style.height = "200px";
  frame.style.border = "0";
  frame.style.display = "block";
  document.body.append(frame);

  const host = new AppBridge(
    null,
    { name: "proxmox-mcp test host", version: "1.0.0" },
    { serverTools: {}, logging: {} },
    { hostContext: context(request.theme, request.toolName, request.width) },
  );
  host.oncalltool = async (params) => {
    win.hostEvents.push(`tools/call ${params.name}`);
    return await win.hostCallTool(params) as Awaited<
      ReturnType<NonNullable<AppBridge["oncalltool"]>>
    >;
  };
  host.onsizechange = ({ height }) => {
    if (height !== undefined) frame.style.height = `${Math.ceil(height)}px`;
  };
  host.onloggingmessage = (params) => win.hostEvents.push(`log ${JSON.stringify(params.data)}`);
  const initialized = new Promise<void>((resolve) => {
    host.oninitialized = () => resolve();
  });
  const target = frame.contentWindow as Window;
  await host.connect(new PostMessageTransport(target, target));
  frame.srcdoc = request.html.replace(
    "<head>",
    `<head><meta http-equiv="Content-Security-Policy" content="${DEFAULT_CSP}">`,
  );
  await initialized;
  win.hostEvents.push("initialized");
  await host.sendToolInput({ arguments: request.input });
  await host.sendToolResult(request.result as Parameters<AppBridge["sendToolResult"]>[0]);
  bridge = host;
};

win.setTheme = async (theme) => {
  await bridge?.sendHostContextChange({
    theme,
    styles: { variables: variables(theme) },
  });
};
