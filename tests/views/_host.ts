/**
 * Drives the test host page (`host_page.ts`) in the browser: shows a view the way an MCP Apps
 * host does — the tool's `_meta.ui.resourceUri` from `tools/list`, the HTML from
 * `resources/read`, the tool's input and result — and forwards the view's tool calls to the
 * real MCP client. It records every call the view made, and everything that went wrong on the
 * page: console errors and warnings, uncaught errors, and any request at all (a view fetches
 * nothing).
 *
 * @module
 */

import type { Client } from "@modelcontextprotocol/client";
import { getToolUiResourceUri } from "@modelcontextprotocol/ext-apps/app-bridge";
import type { ElementHandle, Frame, Page } from "puppeteer-core";
import { fileURLToPath } from "node:url";
import { bundle } from "../../scripts/build_views.ts";
import type { RunningBrowser } from "./_browser.ts";
import type { OpenRequest } from "./host_page.ts";

/** Where screenshots go: `docs/views/` with `UPDATE_SCREENSHOTS=1`, else the test artifacts. */
export const SCREENSHOT_DIR = fileURLToPath(
  new URL(
    Deno.env.get("UPDATE_SCREENSHOTS") === "1" ? "../../docs/views/" : "./screenshots/",
    import.meta.url,
  ),
);

let hostScript: Promise<string> | undefined;

/** A view on the page. */
export interface OpenView {
  frame: Frame;
  element: ElementHandle<HTMLIFrameElement>;
  /** The tool result the view was opened with. */
  result: Record<string, unknown>;
}

/** The host page. */
export interface Host {
  page: Page;
  /** Tool calls the view made through the host, in order. */
  calls: { name: string; arguments?: Record<string, unknown> | undefined }[];
  /** What went wrong on the page (console errors/warnings, page errors, requests). */
  problems: string[];
  /** Calls `tool` through the client and shows its result in the tool's view. */
  open(
    tool: string,
    args?: Record<string, unknown>,
    options?: { theme?: "light" | "dark"; width?: number },
  ): Promise<OpenView>;
  /** Waits until the view's height settles, then writes its screenshot; returns the path. */
  screenshot(view: OpenView, name: string): Promise<string>;
  setTheme(theme: "light" | "dark"): Promise<void>;
  close(): Promise<void>;
}

/** Opens the host page in the browser, its tool calls going to `client`. */
export async function openHost(running: RunningBrowser, client: Client): Promise<Host> {
  hostScript ??= bundle("tests/views/host_page.ts");
  const script = await hostScript;
  const page = await running.browser.newPage();
  const calls: Host["calls"] = [];
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warn") {
      problems.push(`console.${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`page error: ${String(error)}`));
  page.on("request", (request) => problems.push(`request: ${request.url()}`));
  await page.setViewport({ width: 960, height: 800, deviceScaleFactor: 1 });
  await page.exposeFunction(
    "hostCallTool",
    async (params: { name: string; arguments?: Record<string, unknown> }) => {
      calls.push(params);
      return await client.callTool(params);
    },
  );
  await page.setContent(
    `<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0}</style></head>` +
      `<body><script type="module">${
        script.replace(/<\/(script)/gi, "<\\/$1")
      }</script></body></html>`,
  );
  await page.waitForFunction(() =>
    typeof (window as unknown as { openView?: unknown }).openView === "function"
  );
  const tools = (await client.listTools()).tools;

  return {
    page,
    calls,
    problems,
    async open(tool, args = {}, options = {}) {
      const listed = tools.find((t) => t.name === tool);
      if (listed === undefined) throw new Error(`The server does not list "${tool}"`);
      const uri = getToolUiResourceUri(listed);
      if (uri === undefined) throw new Error(`"${tool}" names no view in its _meta`);
      const resource = await client.readResource({ uri });
      const content = resource.contents[0] as { text?: string; mimeType?: string } | undefined;
      if (content?.text === undefined) throw new Error(`resources/read "${uri}" returned no text`);
      const result = await client.callTool({ name: tool, arguments: args }) as Record<
        string,
        unknown
      >;
      calls.length = 0;
      const request: OpenRequest = {
        html: content.text,
        toolName: tool,
        input: args,
        result,
        theme: options.theme ?? "light",
        width: options.width ?? 900,
      };
      await page.evaluate(
        (r) => (window as unknown as { openView(r: unknown): Promise<void> }).openView(r),
        request as unknown as Record<string, unknown>,
      );
      const element = await page.$("#view") as ElementHandle<HTMLIFrameElement>;
      const frame = await element.contentFrame();
      return { frame, element, result };
    },
    async screenshot(view, name) {
      let last = -1;
      for (let i = 0; i < 40; i++) {
        const height = await view.element.evaluate((e) => e.getBoundingClientRect().height);
        if (height === last) break;
        last = height;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
      const path = `${SCREENSHOT_DIR}${name}.png`;
      await view.element.screenshot({ path: path as `${string}.png` });
      return path;
    },
    async setTheme(theme) {
      await page.evaluate(
        (t) => (window as unknown as { setTheme(t: string): Promise<void> }).setTheme(t),
        theme,
      );
    },
    async close() {
      await page.close();
    },
  };
}
