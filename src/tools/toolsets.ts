/**
 * Toolsets are values: an id, a one-line description and whether the toolset is on when
 * `policy.toolsets` is not configured. Config validation, the README's per-toolset docs and the
 * default tool list all come from this one list. Every tool's `toolset` must name one of these
 * (a test walks the tools).
 *
 * The defaults are chosen so that the default configuration's `tools/list` stays within its
 * budget (16 KB) while a first conversation has what it needs; every other toolset is one config
 * line away (`policy.toolsets`).
 *
 * @module
 */

/** One toolset. */
export interface Toolset {
  /** snake_case id, as written in `policy.toolsets`. */
  id: string;
  /** What its tools are for, in one line (README, `tools` command). */
  description: string;
  /** On when `policy.toolsets` is not configured. */
  default: boolean;
}

/** Every toolset, in the order docs show them. */
export const TOOLSETS: readonly Toolset[] = [
  { id: "inventory", description: "Cluster summary, guest list and guest detail", default: true },
  {
    id: "lifecycle",
    description: "Start, shut down, reboot, stop, suspend, resume and reset guests",
    default: true,
  },
  { id: "snapshots", description: "List, create, roll back and delete snapshots", default: true },
  { id: "tasks", description: "List, inspect and wait for Proxmox VE tasks", default: true },
  {
    id: "provisioning",
    description: "Create, clone, reconfigure, resize, migrate, template and delete guests",
    default: true,
  },
  {
    id: "storage",
    description: "Storage usage and content, ISO/template downloads, volume deletion",
    default: true,
  },
  {
    id: "backup",
    description: "Back up, list, restore, backup jobs and what is not backed up",
    default: false,
  },
  {
    id: "observe",
    description: "Cluster health, node detail and metrics",
    default: true,
  },
  {
    id: "network",
    description: "Node network interfaces, firewall, HA status and what the credential may do",
    default: false,
  },
  {
    id: "agent",
    description: "The QEMU guest agent: OS facts, addresses and command execution",
    default: false,
  },
  {
    id: "workflows",
    description: "Multi-step jobs: provision from a template, drain a node, rolling restarts",
    default: false,
  },
  {
    id: "api",
    description: "The escape hatch: any Proxmox VE API path, checked against the API schema",
    default: false,
  },
];

/**
 * The ids of every toolset: the declared ones, plus any toolset a given tool names that is not
 * declared (only test tools do; the registry test holds every real tool to a declared toolset).
 */
export function toolsetIds(tools: readonly { toolset: string }[] = []): string[] {
  const ids = TOOLSETS.map((toolset) => toolset.id);
  for (const tool of tools) if (!ids.includes(tool.toolset)) ids.push(tool.toolset);
  return ids;
}

/**
 * The ids of the toolsets that are on when `policy.toolsets` is not configured: the declared
 * defaults, plus undeclared toolsets of the given tools (test tools).
 */
export function defaultToolsetIds(tools: readonly { toolset: string }[] = []): string[] {
  const declared = new Set(TOOLSETS.map((toolset) => toolset.id));
  const ids = TOOLSETS.filter((toolset) => toolset.default).map((toolset) => toolset.id);
  for (const tool of tools) {
    if (!declared.has(tool.toolset) && !ids.includes(tool.toolset)) ids.push(tool.toolset);
  }
  return ids;
}
