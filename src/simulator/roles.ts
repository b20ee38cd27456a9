/**
 * PVE's built-in roles and ACL evaluation (`PVE::AccessControl::roles`,
 * `PVE::RPCEnvironment::permissions`): path inheritance with `propagate`, user entries
 * overriding group entries, pools granting on their guests and storages, `NoAccess`,
 * and token privilege separation (a privsep token gets user ∩ token privileges).
 * `root@pam` has every privilege everywhere.
 *
 * @module
 */

import type { AuthInfo } from "./router.ts";
import type { AclEntry, SimState } from "./state.ts";

interface PrivGroup {
  root: string[];
  admin: string[];
  user: string[];
  audit: string[];
}

const PRIV_GROUPS: Readonly<Record<string, PrivGroup>> = {
  VM: {
    root: [],
    admin: [
      "VM.Config.Disk",
      "VM.Config.CPU",
      "VM.Config.Memory",
      "VM.Config.Network",
      "VM.Config.HWType",
      "VM.Config.Options",
      "VM.Allocate",
      "VM.Clone",
      "VM.Migrate",
      "VM.Monitor",
      "VM.Replicate",
      "VM.Snapshot",
      "VM.Snapshot.Rollback",
      "VM.GuestAgent.Unrestricted",
    ],
    user: [
      "VM.Config.CDROM",
      "VM.Config.Cloudinit",
      "VM.Console",
      "VM.Backup",
      "VM.PowerMgmt",
      "VM.GuestAgent.Audit",
      "VM.GuestAgent.FileRead",
      "VM.GuestAgent.FileWrite",
      "VM.GuestAgent.FileSystemMgmt",
    ],
    audit: ["VM.Audit"],
  },
  Sys: {
    root: ["Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork"],
    admin: ["Sys.Console", "Sys.Syslog"],
    user: [],
    audit: ["Sys.Audit"],
  },
  Datastore: {
    root: [],
    admin: ["Datastore.Allocate", "Datastore.AllocateTemplate"],
    user: ["Datastore.AllocateSpace"],
    audit: ["Datastore.Audit"],
  },
  SDN: {
    root: [],
    admin: ["SDN.Allocate", "SDN.Audit"],
    user: ["SDN.Use"],
    audit: ["SDN.Audit"],
  },
  User: {
    root: ["Realm.Allocate"],
    admin: ["User.Modify", "Group.Allocate", "Realm.AllocateUser"],
    user: [],
    audit: [],
  },
  Pool: {
    root: [],
    admin: ["Pool.Allocate"],
    user: ["Pool.Audit"],
    audit: ["Pool.Audit"],
  },
  Mapping: {
    root: [],
    admin: ["Mapping.Modify"],
    user: ["Mapping.Use"],
    audit: ["Mapping.Audit"],
  },
};

function buildRoles(): { privileges: string[]; roles: Map<string, ReadonlySet<string>> } {
  const all = new Set<string>(["Permissions.Modify"]);
  const roles = new Map<string, Set<string>>();
  const add = (role: string, privs: readonly string[]) => {
    const set = roles.get(role) ?? new Set<string>();
    for (const priv of privs) set.add(priv);
    roles.set(role, set);
  };
  for (const [category, group] of Object.entries(PRIV_GROUPS)) {
    for (const priv of [...group.root, ...group.admin, ...group.user, ...group.audit]) {
      all.add(priv);
    }
    add(`PVE${category}Admin`, [...group.admin, ...group.user, ...group.audit]);
    add("PVEAdmin", [...group.admin, ...group.user, ...group.audit]);
    if (group.user.length > 0) add(`PVE${category}User`, [...group.user, ...group.audit]);
    add("PVEAuditor", group.audit);
  }
  roles.get("PVEAdmin")?.delete("Mapping.Modify");
  add("PVETemplateUser", ["VM.Clone", "VM.Audit"]);
  add("NoAccess", []);
  add("Administrator", [...all]);
  return { privileges: [...all].sort(), roles };
}

const BUILT = buildRoles();

/** Every privilege PVE knows. */
export const ALL_PRIVILEGES: readonly string[] = BUILT.privileges;

/** The built-in roles and their privileges. */
export const BUILTIN_ROLES: ReadonlyMap<string, ReadonlySet<string>> = BUILT.roles;

/** Normalizes an ACL path like PVE's `normalize_path` (`//` collapsed, no trailing `/`). */
export function normalizePath(path: string): string {
  let normalized = path.replace(/\/+/g, "/").replace(/\/$/, "");
  if (normalized === "") normalized = "/";
  if (!normalized.startsWith("/")) normalized = `/${normalized}`;
  return normalized;
}

/** Roles (→ propagate flag) of one subject on one path: `PVE::AccessControl::roles`. */
function rolesAt(state: SimState, subject: string, path: string): Map<string, number> {
  const parts = path === "/" ? [""] : path.split("/");
  let roles = new Map<string, number>();
  let current = "";
  const user = state.users.get(subject);
  const groups = new Set(user?.groups ?? []);
  const collect = (entries: AclEntry[], final: boolean): Map<string, number> | undefined => {
    let result: Map<string, number> | undefined;
    for (const entry of entries) {
      if (final || entry.propagate) {
        result ??= new Map();
        result.set(entry.roleid, entry.propagate);
      }
    }
    return result;
  };
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? "";
    if (part !== "") current = `${current}/${part}`;
    const here = current === "" ? "/" : current;
    const final = i === parts.length - 1;
    const atPath = state.acls.filter((entry) => normalizePath(entry.path) === here);
    const tokenRoles = collect(
      atPath.filter((e) => e.type === "token" && e.ugid === subject),
      final,
    );
    if (tokenRoles) {
      roles = tokenRoles;
      continue;
    }
    const userRoles = collect(atPath.filter((e) => e.type === "user" && e.ugid === subject), final);
    if (userRoles) {
      roles = userRoles;
      continue;
    }
    const groupRoles = collect(
      atPath.filter((e) => e.type === "group" && groups.has(e.ugid.replace(/^@/, ""))),
      final,
    );
    if (groupRoles) roles = groupRoles;
  }
  if (roles.has("NoAccess")) return new Map([["NoAccess", roles.get("NoAccess") ?? 0]]);
  return roles;
}

function privilegesFromRoles(roles: Map<string, number>): Map<string, number> {
  const privileges = new Map<string, number>();
  for (const [role, propagate] of roles) {
    for (const priv of BUILTIN_ROLES.get(role) ?? []) {
      privileges.set(priv, Math.max(privileges.get(priv) ?? 0, propagate));
    }
  }
  return privileges;
}

/** `compute_permissions`: ACL roles on the path, plus the roles of the pool of a guest/storage. */
function computePrivileges(state: SimState, subject: string, path: string): Map<string, number> {
  const roles = rolesAt(state, subject, path);
  const poolPaths: string[] = [];
  const vm = /^\/vms\/(\d+)$/.exec(path);
  const storage = /^\/storage\/([^/]+)$/.exec(path);
  for (const pool of state.pools.values()) {
    if (vm && pool.vms.has(Number(vm[1]))) poolPaths.push(`/pool/${pool.poolid}`);
    if (storage && pool.storage.has(storage[1] ?? "")) poolPaths.push(`/pool/${pool.poolid}`);
  }
  if (roles.has("NoAccess")) return new Map();
  for (const poolPath of poolPaths) {
    const poolRoles = rolesAt(state, subject, poolPath);
    if (poolRoles.has("NoAccess")) continue;
    for (const [role, propagate] of poolRoles) {
      roles.set(role, Math.max(roles.get(role) ?? 0, propagate));
    }
  }
  return privilegesFromRoles(roles);
}

/** `PVE::RPCEnvironment::permissions` for one subject and path. */
function privilegesOf(state: SimState, subject: string, path: string): Map<string, number> {
  const normalized = normalizePath(path);
  if (subject === "root@pam") return new Map(ALL_PRIVILEGES.map((priv) => [priv, 1]));
  const bang = subject.indexOf("!");
  if (bang >= 0) {
    const userid = subject.slice(0, bang);
    const token = state.users.get(userid)?.tokens.get(subject.slice(bang + 1));
    if (token === undefined) return new Map();
    const userPrivs = privilegesOf(state, userid, normalized);
    if (!token.privsep) return userPrivs;
    const tokenPrivs = computePrivileges(state, subject, normalized);
    const result = new Map<string, number>();
    for (const [priv, propagate] of userPrivs) {
      const tokenPropagate = tokenPrivs.get(priv);
      if (tokenPropagate !== undefined) result.set(priv, Math.min(propagate, tokenPropagate));
    }
    return result;
  }
  return computePrivileges(state, subject, normalized);
}

/**
 * The effective privileges (→ propagate flag) of a user (`user@realm`) or token
 * (`user@realm!name`) on a path, as `PVE::RPCEnvironment::permissions` computes them.
 */
export function privilegesAt(
  state: SimState,
  query: { subject: string; path: string },
): Map<string, number> {
  return privilegesOf(state, query.subject, query.path);
}

/** The subject whose privileges count for a request: the token id, or the user. */
export function authSubject(auth: AuthInfo): string {
  return auth.tokenid ?? auth.userid;
}

/** Whether the caller has `priv` on `path`. */
export function hasPrivilege(
  state: SimState,
  query: { auth: AuthInfo; path: string; priv: string },
): boolean {
  return privilegesOf(state, authSubject(query.auth), query.path).has(query.priv);
}

/**
 * PVE's `get_effective_permissions`: the top-level paths, every ACL path and every pool
 * member path, each with its non-empty privilege set.
 */
export function effectivePermissions(
  state: SimState,
  subject: string,
): Record<string, Record<string, number>> {
  const paths = new Set([
    "/",
    "/access",
    "/access/groups",
    "/nodes",
    "/pool",
    "/sdn",
    "/storage",
    "/vms",
  ]);
  for (const entry of state.acls) paths.add(normalizePath(entry.path));
  for (const pool of state.pools.values()) {
    for (const vmid of pool.vms) paths.add(`/vms/${vmid}`);
    for (const storage of pool.storage) paths.add(`/storage/${storage}`);
  }
  const result: Record<string, Record<string, number>> = {};
  for (const path of [...paths].sort()) {
    const privileges = privilegesOf(state, subject, path);
    if (privileges.size > 0) result[path] = Object.fromEntries([...privileges].sort());
  }
  return result;
}
