/**
 * The MCP App views as resources: `resources/list` names the `ui://` view of every offered tool
 * that has one, and `resources/read` returns a view's HTML (self-contained: scripts and styles
 * inlined, nothing fetched). The HTML is built into `src/views/built.json` (`deno task views`)
 * and loaded only when a host first reads a view, so it costs nothing at start-up; a literal
 * dynamic import keeps it in the compiled binary.
 *
 * Views carry no data: a host hands them the tool's result, and anything more they show comes
 * from tool calls the host forwards to this server, which pass policy and scope like any other.
 *
 * @module
 */

import { type Resource, ResourceNotFoundError, type Server } from "@modelcontextprotocol/server";
import { VIEW_MIME_TYPE, type ViewInfo, VIEWS } from "../views/mod.ts";

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

/** The `resources/list` entry of a view. */
export function viewResource(view: ViewInfo): Resource {
  return {
    uri: view.uri,
    name: view.name,
    title: view.title,
    description: view.description,
    mimeType: VIEW_MIME_TYPE,
  };
}

/** The views linked to at least one of the offered tools. */
export function offeredViews(offeredTools: Iterable<string>): ViewInfo[] {
  const offered = new Set(offeredTools);
  return VIEWS.filter((view) => view.tools.some((tool) => offered.has(tool)));
}

/**
 * The HTML of a view by URI.
 *
 * @throws {ResourceNotFoundError} when no view has that URI.
 */
export async function readView(uri: string): Promise<string> {
  const view = VIEWS.find((v) => v.uri === uri);
  const html = view === undefined ? undefined : (await builtViews()).views[uri];
  if (html === undefined) {
    throw new ResourceNotFoundError(
      uri,
      `No resource "${uri}": resources/list names the views this server offers`,
    );
  }
  return html;
}

/**
 * Serves the views of the offered tools through `resources/list` and `resources/read` (the
 * server must announce the `resources` capability), and answers `resources/templates/list`,
 * which clients ask of every server with that capability, with no templates.
 */
export function registerViewResources(server: Server, offeredTools: Iterable<string>): void {
  const resources = offeredViews(offeredTools).map(viewResource);
  server.setRequestHandler("resources/list", () => ({ resources }));
  server.setRequestHandler("resources/templates/list", () => ({ resourceTemplates: [] }));
  server.setRequestHandler("resources/read", async (request) => {
    const uri = request.params.uri;
    return {
      contents: [{
        uri,
        mimeType: VIEW_MIME_TYPE,
        text: await readView(uri),
        _meta: { ui: { prefersBorder: true } },
      }],
    };
  });
}
