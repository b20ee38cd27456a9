import assert from "node:assert/strict";
import { grantCommand, suggestedRole } from "./role_hints.ts";

Deno.test("suggestedRole names the smallest built-in role holding a privilege", () => {
  assert.equal(suggestedRole("VM.Audit"), "PVEAuditor");
  assert.equal(suggestedRole("Sys.Audit"), "PVEAuditor");
  assert.equal(suggestedRole("VM.PowerMgmt"), "PVEVMUser");
  assert.equal(suggestedRole("VM.GuestAgent.Audit"), "PVEVMUser");
  assert.equal(suggestedRole("VM.Snapshot"), "PVEVMAdmin");
  assert.equal(suggestedRole("VM.GuestAgent.Unrestricted"), "PVEVMAdmin");
  assert.equal(suggestedRole("Datastore.AllocateSpace"), "PVEDatastoreUser");
  assert.equal(suggestedRole("Datastore.Allocate"), "PVEDatastoreAdmin");
  assert.equal(suggestedRole("Sys.Modify"), "Administrator");
});

Deno.test("grantCommand grants to a token with --tokens and to a user with --users", () => {
  assert.equal(
    grantCommand("mcp@pve!assistant", { path: "/vms", privilege: "VM.PowerMgmt" }),
    "pveum acl modify /vms --tokens 'mcp@pve!assistant' --roles PVEVMUser",
  );
  assert.equal(
    grantCommand("mcp@pve", { path: "/", privilege: "Sys.Audit" }),
    "pveum acl modify / --users 'mcp@pve' --roles PVEAuditor",
  );
});
