/**
 * What a session lists besides tools: its prompts, resources and resource templates, computed
 * from two facts only — the names of the tools the session offers and the configured cluster
 * names. Pure and free of the SDK and zod, so the start-up path can answer `prompts/list`,
 * `resources/list` and `resources/templates/list` before the full server loads; the full
 * server (`resources.ts`, `mod.ts`) lists exactly the same values.
 *
 * Resources and their URIs:
 * - `proxmox-mcp://policy` — the active policy (always listed: it reads no cluster);
 * - `pve://<cluster>/summary` — the cluster summary, listed when `cluster_status` is offered;
 * - `pve://<cluster>/guests/{vmid}/config` — a guest's config (template), when `guest_get` is;
 * - `pve://<cluster>/tasks/{upid}/log` — a task's log (template), when `task_get` is;
 * - the `ui://` MCP App views of the offered tools (`src/views/mod.ts`).
 *
 * A cluster resource follows the visibility of the tool that reads the same data, so the
 * policy's classes, toolsets and exclusions hide it exactly as they hide that tool.
 *
 * @module
 */

import { VIEW_MIME_TYPE, type ViewInfo, VIEWS } from "../views/mod.ts";
import { type ListedPrompt, listPrompts } from "./prompts.ts";

/** What the lists depend on. */
export interface CatalogFacts {
  /** Names of the tools the session offers. */
  tools: Iterable<string>;
  /** Configured cluster names, in order. */
  clusters: readonly string[];
}

/** A `resources/list` entry. */
export interface ListedResource {
  uri: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
}

/** A `resources/templates/list` entry. */
export interface ListedResourceTemplate {
  uriTemplate: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
}

/** The three lists of a session. */
export interface Catalog {
  prompts: ListedPrompt[];
  resources: ListedResource[];
  resourceTemplates: ListedResourceTemplate[];
}

/** The URI of the active policy. */
const POLICY_URI = "proxmox-mcp://policy";

/** The cluster resources, each with the tool whose visibility it follows. */
export const CLUSTER_RESOURCES = {
  summary: {
    tool: "cluster_status",
    name: "cluster_summary",
    title: "Cluster summary",
    mimeType: "text/markdown",
    description:
      "Nodes with CPU and memory, the guests on each node by status, and storage use, for the guests this server may act on.",
  },
  guest_config: {
    tool: "guest_get",
    name: "guest_config",
    title: "Guest config",
    mimeType: "application/json",
    description:
      "A guest's configuration by vmid, with its node, type, status and config digest; secrets masked.",
  },
  task_log: {
    tool: "task_get",
    name: "task_log",
    title: "Task log",
    mimeType: "text/plain",
    description:
      "A Proxmox VE task's status and log by UPID (as write results and task lists give it).",
  },
} as const;

/** One of the cluster resources. */
export type ClusterResourceKind = keyof typeof CLUSTER_RESOURCES;

/** A parsed resource URI. */
export type ResourceAddress =
  | { kind: "policy" }
  | { kind: "view"; view: ViewInfo }
  | { kind: "summary"; cluster: string }
  | { kind: "guest_config"; cluster: string; vmid: string }
  | { kind: "task_log"; cluster: string; upid: string };

/** `pve://<cluster>/summary`. */
function summaryUri(cluster: string): string {
  return `pve://${cluster}/summary`;
}

/** `pve://<cluster>/guests/{vmid}/config` (a template) or, given a vmid, its URI. */
export function guestConfigUri(cluster: string, vmid = "{vmid}"): string {
  return `pve://${cluster}/guests/${vmid}/config`;
}

/** `pve://<cluster>/tasks/{upid}/log` (a template) or, given a UPID, its URI (encoded). */
export function taskLogUri(cluster: string, upid?: string): string {
  return `pve://${cluster}/tasks/${upid === undefined ? "{upid}" : encodeURIComponent(upid)}/log`;
}

/** The resource templates: which cluster resource, its URI variable, and its URI template. */
export const RESOURCE_TEMPLATES: ReadonlyArray<{
  kind: ClusterResourceKind;
  variable: "vmid" | "upid";
  uriTemplate: (cluster: string) => string;
}> = [
  { kind: "guest_config", variable: "vmid", uriTemplate: (cluster) => guestConfigUri(cluster) },
  { kind: "task_log", variable: "upid", uriTemplate: (cluster) => taskLogUri(cluster) },
];

const CLUSTER_URI = /^pve:\/\/([A-Za-z0-9][A-Za-z0-9._-]*)\/(.*)$/;

/**
 * What a resource URI addresses, or `undefined` when it is none of ours. The cluster is not
 * checked against the configuration, nor the vmid or UPID against their forms: the reader
 * does that and says what is wrong.
 */
export function parseResourceUri(uri: string): ResourceAddress | undefined {
  if (uri === POLICY_URI) return { kind: "policy" };
  const view = VIEWS.find((v) => v.uri === uri);
  if (view !== undefined) return { kind: "view", view };
  const match = CLUSTER_URI.exec(uri);
  if (match === null) return undefined;
  const cluster = match[1] ?? "";
  const rest = match[2] ?? "";
  if (rest === "summary") return { kind: "summary", cluster };
  const guest = /^guests\/([^/]+)\/config$/.exec(rest);
  if (guest !== null) return { kind: "guest_config", cluster, vmid: guest[1] ?? "" };
  const task = /^tasks\/([^/]+)\/log$/.exec(rest);
  if (task !== null) {
    let upid: string;
    try {
      upid = decodeURIComponent(task[1] ?? "");
    } catch {
      return undefined;
    }
    return { kind: "task_log", cluster, upid };
  }
  return undefined;
}

/** The `resources/list` entry of a view. */
function viewResource(view: ViewInfo): ListedResource {
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

/** Name and title of a cluster resource, marked with the cluster when there are several. */
function named(
  kind: ClusterResourceKind,
  cluster: string,
  clusters: readonly string[],
): { name: string; title: string } {
  const entry = CLUSTER_RESOURCES[kind];
  return clusters.length > 1
    ? { name: `${entry.name}_${cluster}`, title: `${entry.title} (${cluster})` }
    : { name: entry.name, title: entry.title };
}

/** The policy resource's entry. */
const POLICY_RESOURCE: ListedResource = {
  uri: POLICY_URI,
  name: "active_policy",
  title: "Active policy",
  description:
    "What this server may do and why: allowed capability classes, toolsets, excluded tools, scope, confirmation and waits, and how to change each.",
  mimeType: "text/markdown",
};

/** The `resources/list` entries of a session. */
function resourceList(facts: CatalogFacts): ListedResource[] {
  const offered = new Set(facts.tools);
  const resources: ListedResource[] = [];
  if (offered.has(CLUSTER_RESOURCES.summary.tool)) {
    for (const cluster of facts.clusters) {
      const { description, mimeType } = CLUSTER_RESOURCES.summary;
      resources.push({
        uri: summaryUri(cluster),
        ...named("summary", cluster, facts.clusters),
        description,
        mimeType,
      });
    }
  }
  resources.push({ ...POLICY_RESOURCE });
  resources.push(...offeredViews(offered).map(viewResource));
  return resources;
}

/** The `resources/templates/list` entries of a session. */
function resourceTemplateList(facts: CatalogFacts): ListedResourceTemplate[] {
  const offered = new Set(facts.tools);
  const templates: ListedResourceTemplate[] = [];
  for (const { kind, uriTemplate } of RESOURCE_TEMPLATES) {
    if (!offered.has(CLUSTER_RESOURCES[kind].tool)) continue;
    for (const cluster of facts.clusters) {
      const { description, mimeType } = CLUSTER_RESOURCES[kind];
      templates.push({
        uriTemplate: uriTemplate(cluster),
        ...named(kind, cluster, facts.clusters),
        description,
        mimeType,
      });
    }
  }
  return templates;
}

/**
 * Everything a session lists besides tools: the answers of `prompts/list`, `resources/list`
 * and `resources/templates/list` (without cursors: each fits one page).
 */
export function catalogOf(facts: CatalogFacts): Catalog {
  const tools = [...facts.tools];
  return {
    prompts: listPrompts(tools, facts.clusters),
    resources: resourceList({ tools, clusters: facts.clusters }),
    resourceTemplates: resourceTemplateList({ tools, clusters: facts.clusters }),
  };
}
