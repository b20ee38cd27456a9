/**
 * Which built-in Proxmox VE role to grant for a missing privilege, and the `pveum` command that
 * grants it — shared by `doctor` and the `access_check` tool. The role is the smallest built-in
 * one holding the privilege (PVE's `PVE::AccessControl` role table: audit privileges are in
 * `PVEAuditor`, user-level ones in `PVE<Kind>User`, the rest in `PVE<Kind>Admin`, and the few
 * only `Administrator` has).
 *
 * @module
 */

const AUDITOR = new Set([
  "VM.Audit",
  "Sys.Audit",
  "Datastore.Audit",
  "SDN.Audit",
  "Pool.Audit",
  "Mapping.Audit",
]);

const USER_ROLES: Readonly<Record<string, string>> = {
  "VM.PowerMgmt": "PVEVMUser",
  "VM.Console": "PVEVMUser",
  "VM.Backup": "PVEVMUser",
  "VM.Config.CDROM": "PVEVMUser",
  "VM.Config.Cloudinit": "PVEVMUser",
  "VM.GuestAgent.Audit": "PVEVMUser",
  "VM.GuestAgent.FileRead": "PVEVMUser",
  "VM.GuestAgent.FileWrite": "PVEVMUser",
  "VM.GuestAgent.FileSystemMgmt": "PVEVMUser",
  "Datastore.AllocateSpace": "PVEDatastoreUser",
  "SDN.Use": "PVESDNUser",
  "Mapping.Use": "PVEMappingUser",
};

const ADMIN_ONLY = new Set([
  "Sys.Modify",
  "Sys.PowerMgmt",
  "Sys.Incoming",
  "Sys.AccessNetwork",
  "Permissions.Modify",
  "Realm.Allocate",
]);

/** The smallest built-in role that holds `privilege` (e.g. `VM.Snapshot` → `PVEVMAdmin`). */
export function suggestedRole(privilege: string): string {
  if (AUDITOR.has(privilege)) return "PVEAuditor";
  const user = USER_ROLES[privilege];
  if (user !== undefined) return user;
  if (ADMIN_ONLY.has(privilege)) return "Administrator";
  const kind = privilege.split(".")[0] ?? "";
  switch (kind) {
    case "VM":
      return "PVEVMAdmin";
    case "Sys":
      return "PVESysAdmin";
    case "Datastore":
      return "PVEDatastoreAdmin";
    case "SDN":
      return "PVESDNAdmin";
    case "Pool":
      return "PVEPoolAdmin";
    case "Mapping":
      return "PVEMappingAdmin";
    case "User":
    case "Group":
    case "Realm":
      return "PVEUserAdmin";
    default:
      return "Administrator";
  }
}

/**
 * The command that grants `privilege` on `path` to a token (`user@realm!name`) or user:
 * `pveum acl modify /vms --tokens 'u@pve!t' --roles PVEVMUser`.
 */
export function grantCommand(
  principal: string,
  need: { path: string; privilege: string },
): string {
  const subject = principal.includes("!") ? "--tokens" : "--users";
  return `pveum acl modify ${need.path} ${subject} '${principal}' --roles ${
    suggestedRole(need.privilege)
  }`;
}
