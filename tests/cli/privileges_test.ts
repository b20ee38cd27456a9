import assert from "node:assert/strict";
import {
  coverage,
  neededPrivileges,
  privilegeGaps,
  TOOL_PRIVILEGES,
} from "../../src/policy/privileges.ts";
import { allTools } from "../../src/tools/mod.ts";

Deno.test("every tool has an entry in the privilege map doctor checks against", () => {
  const missing = allTools.map((tool) => tool.name).filter((name) => !(name in TOOL_PRIVILEGES));
  assert.deepEqual(missing, [], "add these tools to src/policy/privileges.ts");
});

Deno.test("a privilege on /vms counts fully on /vms and partly on single guests or pools", () => {
  assert.equal(coverage({ "/vms": { "VM.Audit": 1 } }, "/vms", "VM.Audit"), "full");
  assert.equal(coverage({ "/vms/100": { "VM.Audit": 1 } }, "/vms", "VM.Audit"), "partial");
  assert.equal(coverage({ "/pool/prod": { "VM.Audit": 1 } }, "/vms", "VM.Audit"), "partial");
  assert.equal(coverage({ "/vms/100": { "VM.Audit": 1 } }, "/", "VM.Audit"), "none");
  assert.equal(coverage({ "/": { "Sys.Audit": 1 } }, "/", "VM.Audit"), "none");
});

Deno.test("privilege gaps name the tool, the path and whether any one privilege suffices", () => {
  const permissions = { "/": { "Sys.Audit": 1 }, "/vms": { "VM.Audit": 1, "VM.Snapshot": 1 } };
  assert.deepEqual(
    privilegeGaps(["cluster_status", "guest_list", "snapshot_rollback"], permissions),
    [],
  );
  assert.deepEqual(privilegeGaps(["guest_start"], permissions), [{
    tool: "guest_start",
    path: "/vms",
    privileges: ["VM.PowerMgmt"],
    coverage: "none",
    optional: false,
  }]);
  assert.deepEqual(neededPrivileges(["guest_start", "cluster_status", "snapshot_rollback"]), [
    "Sys.Audit",
    "VM.Audit",
    "VM.PowerMgmt",
    "VM.Snapshot.Rollback",
  ]);
});
