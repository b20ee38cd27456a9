/**
 * The MCP App views (the `io.modelcontextprotocol/ui` extension, "MCP Apps"): which `ui://`
 * HTML resources this server offers and which tools a host renders with each. A tool names its
 * view in `tools/list` under `_meta.ui.resourceUri` (the registry adds it from this catalogue);
 * the host reads the resource, renders it in a sandboxed iframe and hands it the tool's result.
 *
 * This file is only the catalogue: small, free of imports, read by the registry at start-up. The
 * HTML itself is built from the browser sources beside it (`*_view.ts`, `_ui/`) by
 * `deno task views` into `built.json`, which the server loads only when a host reads a view.
 *
 * @module
 */

/** The MIME type of an MCP App HTML resource (the extension's `RESOURCE_MIME_TYPE`). */
export const VIEW_MIME_TYPE = "text/html;profile=mcp-app";

/** The deprecated flat `_meta` key older hosts read the view's URI from (`RESOURCE_URI_META_KEY`). */
export const LEGACY_VIEW_META_KEY = "ui/resourceUri";

/** One view. */
export interface ViewInfo {
  /** Short id; the browser entry is `src/views/<id>_view.ts`. */
  id: string;
  /** The `ui://` URI of its HTML resource. */
  uri: string;
  /** Resource name (`resources/list`). */
  name: string;
  title: string;
  description: string;
  /** The tools whose results it renders (tools not offered are simply not linked). */
  tools: readonly string[];
}

/** Every view, in the order `resources/list` gives them. */
export const VIEWS: readonly ViewInfo[] = [
  {
    id: "cluster",
    uri: "ui://proxmox-mcp/cluster.html",
    name: "cluster_view",
    title: "Cluster view",
    description:
      "Nodes as cards with CPU, memory and root disk, the guests on each node (click one for its detail), and the findings of cluster_health by severity.",
    tools: ["cluster_status", "cluster_health"],
  },
  {
    id: "metrics",
    uri: "ui://proxmox-mcp/metrics.html",
    name: "metrics_view",
    title: "Metrics view",
    description:
      "Line charts of a node's or guest's CPU, memory, network and disk I/O over the chosen timeframe, with avg, max and last per series.",
    tools: ["metrics_get"],
  },
  {
    id: "task",
    uri: "ui://proxmox-mcp/task.html",
    name: "task_view",
    title: "Task view",
    description:
      "A Proxmox VE task's status, progress and log tail, refreshed while the task runs.",
    tools: ["task_get"],
  },
];

const byTool = new Map(VIEWS.flatMap((view) => view.tools.map((tool) => [tool, view])));

/** The view a tool's results are rendered with, if any. */
export function viewForTool(tool: string): ViewInfo | undefined {
  return byTool.get(tool);
}

/**
 * The `_meta` a tool with a view carries in `tools/list`: the view's URI under `ui.resourceUri`
 * and, for hosts that predate it, under the flat key — what the extension's `registerAppTool`
 * writes.
 */
export function viewMeta(view: ViewInfo): Record<string, unknown> {
  return { ui: { resourceUri: view.uri }, [LEGACY_VIEW_META_KEY]: view.uri };
}
