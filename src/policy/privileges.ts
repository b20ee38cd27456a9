/**
 * The Proxmox VE privileges each tool needs, derived from the permissions of the endpoints it
 * calls (the schema's `permissions.check`), for `doctor`, the `access_check` tool and the
 * README's token recipe (it lives below the CLI so tools can use it too).
 * Guest tools also read `/cluster/resources` to find a guest's node, which lists only guests
 * the credential holds `VM.Audit` on.
 *
 * @module
 */

/** One privilege requirement of a tool. */
export interface PrivilegeNeed {
  /** ACL path, e.g. `/vms` (any guest) or `/` (the whole cluster). */
  path: string;
  /** The privileges checked; with `any`, one of them is enough. */
  privileges: readonly string[];
  /** One of `privileges` suffices. */
  any?: boolean;
  /** Missing it only narrows what the tool sees (e.g. other users' tasks); not a failure. */
  optional?: boolean;
  /** For an optional need: what goes missing without it, e.g. `only its own tasks are visible`. */
  limits?: string;
}

const AUDIT: PrivilegeNeed = { path: "/vms", privileges: ["VM.Audit"] };
const POWER: PrivilegeNeed[] = [AUDIT, { path: "/vms", privileges: ["VM.PowerMgmt"] }];
const SNAPSHOT: PrivilegeNeed[] = [AUDIT, { path: "/vms", privileges: ["VM.Snapshot"] }];
const TASKS: PrivilegeNeed[] = [{
  path: "/nodes",
  privileges: ["Sys.Audit"],
  optional: true,
  limits: "only the credential's own tasks are visible",
}];
const STORAGE_AUDIT: PrivilegeNeed = {
  path: "/storage",
  privileges: ["Datastore.Audit", "Datastore.AllocateSpace"],
  any: true,
};
const SPACE: PrivilegeNeed = { path: "/storage", privileges: ["Datastore.AllocateSpace"] };
/** Talking to a VM's guest agent (PVE 9; PVE 8 checks `VM.Monitor`). */
const AGENT: PrivilegeNeed = {
  path: "/vms",
  privileges: ["VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted"],
  any: true,
};
/** Placement checks read node status, network and storage status. */
const PLACE: PrivilegeNeed[] = [{ path: "/nodes", privileges: ["Sys.Audit"] }, STORAGE_AUDIT];
const CONFIG: PrivilegeNeed = {
  path: "/vms",
  privileges: [
    "VM.Config.CPU",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
  ],
};

/**
 * What each tool needs. `pve_api_get` and `pve_api_call` need whatever the called endpoint
 * checks, so they have no fixed entry.
 */
export const TOOL_PRIVILEGES: Readonly<Record<string, readonly PrivilegeNeed[]>> = {
  cluster_status: [{ path: "/", privileges: ["Sys.Audit"] }],
  guest_list: [AUDIT],
  guest_get: [AUDIT],
  guest_start: POWER,
  guest_shutdown: POWER,
  guest_reboot: POWER,
  guest_stop: POWER,
  snapshot_list: [AUDIT],
  snapshot_create: SNAPSHOT,
  snapshot_delete: SNAPSHOT,
  snapshot_rollback: [AUDIT, {
    path: "/vms",
    privileges: ["VM.Snapshot.Rollback", "VM.Snapshot"],
    any: true,
  }],
  storage_list: [STORAGE_AUDIT],
  storage_content: [STORAGE_AUDIT],
  storage_download: [
    { path: "/storage", privileges: ["Datastore.AllocateTemplate"] },
    { path: "/nodes", privileges: ["Sys.AccessNetwork"] },
  ],
  volume_delete: [STORAGE_AUDIT, {
    path: "/storage",
    privileges: ["Datastore.Allocate", "Datastore.AllocateSpace"],
    any: true,
  }],
  backup_status: [AUDIT, STORAGE_AUDIT],
  backup_list: [AUDIT, STORAGE_AUDIT],
  backup_jobs: [{ path: "/", privileges: ["Sys.Audit"] }],
  backup_create: [AUDIT, { path: "/vms", privileges: ["VM.Backup"] }, SPACE],
  backup_restore: [AUDIT, STORAGE_AUDIT, { path: "/vms", privileges: ["VM.Allocate"] }, SPACE],
  backup_restore_overwrite: [AUDIT, STORAGE_AUDIT, {
    path: "/vms",
    privileges: ["VM.Allocate", "VM.Backup"],
    any: true,
  }, SPACE],
  guest_suspend: POWER,
  guest_resume: POWER,
  guest_reset: POWER,
  vm_create: [AUDIT, { path: "/vms", privileges: ["VM.Allocate"] }, CONFIG, SPACE, ...PLACE],
  ct_create: [AUDIT, { path: "/vms", privileges: ["VM.Allocate"] }, CONFIG, SPACE, ...PLACE],
  guest_clone: [AUDIT, { path: "/vms", privileges: ["VM.Clone", "VM.Allocate"] }, SPACE, ...PLACE],
  guest_config_update: [AUDIT, { ...CONFIG, any: true }],
  guest_disk_resize: [AUDIT, { path: "/vms", privileges: ["VM.Config.Disk"] }, SPACE, ...PLACE],
  guest_migrate: [AUDIT, { path: "/vms", privileges: ["VM.Migrate"] }, ...PLACE],
  guest_template: [AUDIT, { path: "/vms", privileges: ["VM.Allocate"] }],
  guest_delete: [AUDIT, { path: "/vms", privileges: ["VM.Allocate"] }, ...PLACE, {
    path: "/",
    privileges: ["Sys.Audit"],
    optional: true,
  }],
  task_list: TASKS,
  task_get: TASKS,
  task_wait: TASKS,
  cluster_health: [{ path: "/", privileges: ["Sys.Audit"] }, AUDIT, STORAGE_AUDIT, ...TASKS],
  node_get: [{ path: "/nodes", privileges: ["Sys.Audit"] }],
  metrics_get: [
    AUDIT,
    {
      path: "/nodes",
      privileges: ["Sys.Audit"],
      optional: true,
      limits: "node metrics are refused",
    },
    { ...STORAGE_AUDIT, optional: true, limits: "storage metrics are refused" },
  ],
  network_list: [],
  firewall_get: [
    { path: "/", privileges: ["Sys.Audit"] },
    AUDIT,
    {
      path: "/nodes",
      privileges: ["Sys.Audit"],
      optional: true,
      limits: "node firewalls are refused",
    },
  ],
  ha_status: [{ path: "/", privileges: ["Sys.Audit"] }],
  access_check: [],
  guest_agent_info: [AUDIT, {
    path: "/vms",
    privileges: ["VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted"],
    any: true,
  }],
  guest_exec: [AUDIT, { path: "/vms", privileges: ["VM.GuestAgent.Unrestricted"] }],
  guest_provision: [
    AUDIT,
    { path: "/vms", privileges: ["VM.Clone", "VM.Allocate", "VM.PowerMgmt"] },
    CONFIG,
    SPACE,
    ...PLACE,
    { ...AGENT, optional: true, limits: "the address is not awaited (the agent call is refused)" },
  ],
  node_drain: [
    AUDIT,
    { path: "/vms", privileges: ["VM.Migrate"] },
    ...PLACE,
    {
      path: "/",
      privileges: ["Sys.Console"],
      optional: true,
      limits: "HA-managed guests cannot be handed to the HA manager",
    },
  ],
  guests_rolling_restart: [
    ...POWER,
    { ...AGENT, optional: true, limits: "guest agents are not checked" },
    {
      path: "/nodes",
      privileges: ["Sys.Audit"],
      optional: true,
      limits: "a continuation cannot tell which guests this run already restarted",
    },
  ],
  pve_api_get: [],
  pve_api_call: [],
};

/** Effective permissions as `GET /access/permissions` returns them: path → privilege → 1. */
export type Permissions = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** How far a privilege reaches: on the whole path, on some objects below it, or not at all. */
export type Coverage = "full" | "partial" | "none";

function holds(entry: Readonly<Record<string, unknown>> | undefined, privilege: string): boolean {
  const value = entry?.[privilege];
  return value === 1 || value === true || value === "1";
}

/**
 * Whether `permissions` grant `privilege` on `path` (`full`), only on some objects below it
 * (guests or pools for `/vms`, single nodes for `/nodes`: `partial`), or not at all.
 */
export function coverage(permissions: Permissions, path: string, privilege: string): Coverage {
  if (holds(permissions[path], privilege)) return "full";
  const below = path === "/vms" ? ["/vms/", "/pool/"] : path === "/" ? [] : [`${path}/`];
  const partial = Object.entries(permissions).some(([acl, privileges]) =>
    below.some((prefix) => acl.startsWith(prefix)) && holds(privileges, privilege)
  );
  return partial ? "partial" : "none";
}

/** One unmet or partly met requirement of a tool. */
export interface PrivilegeGap {
  tool: string;
  path: string;
  privileges: readonly string[];
  coverage: "partial" | "none";
  optional: boolean;
  /** What goes missing without it, for an optional need. */
  limits?: string;
}

/** The requirements of `tools` that `permissions` do not fully meet. */
export function privilegeGaps(
  tools: readonly string[],
  permissions: Permissions,
): PrivilegeGap[] {
  const gaps: PrivilegeGap[] = [];
  for (const tool of tools) {
    for (const need of TOOL_PRIVILEGES[tool] ?? []) {
      const levels = need.privileges.map((privilege) =>
        coverage(permissions, need.path, privilege)
      );
      const level: Coverage = need.any
        ? levels.includes("full") ? "full" : levels.includes("partial") ? "partial" : "none"
        : levels.includes("none")
        ? "none"
        : levels.includes("partial")
        ? "partial"
        : "full";
      if (level === "full") continue;
      const gap: PrivilegeGap = {
        tool,
        path: need.path,
        privileges: need.privileges,
        coverage: level,
        optional: need.optional === true,
      };
      if (need.limits !== undefined) gap.limits = need.limits;
      gaps.push(gap);
    }
  }
  return gaps;
}

/** The distinct privileges `tools` need (for a role recipe), sorted. */
export function neededPrivileges(tools: readonly string[]): string[] {
  const privileges = new Set<string>();
  for (const tool of tools) {
    for (const need of TOOL_PRIVILEGES[tool] ?? []) {
      for (const privilege of need.any ? need.privileges.slice(0, 1) : need.privileges) {
        privileges.add(privilege);
      }
    }
  }
  return [...privileges].sort();
}
