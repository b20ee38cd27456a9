import assert from "node:assert/strict";
import { isPve9, parseVersion } from "./version.ts";

Deno.test("PVE 9 uses the guest-agent privileges and reports memhost and pressure", () => {
  const v = parseVersion({ version: "9.1.1", release: "9.1", repoid: "42db4a6c" });
  assert.equal(v.major, 9);
  assert.equal(v.minor, 1);
  assert.equal(v.isPve9, true);
  assert.equal(v.features.agentAuditPrivilege, "VM.GuestAgent.Audit");
  assert.equal(v.features.agentExecPrivilege, "VM.GuestAgent.Unrestricted");
  assert.equal(v.features.memhost, true);
});

Deno.test("PVE 8.4 uses VM.Monitor for the agent and has no memhost", () => {
  const v = parseVersion({ version: "8.4.1", release: "8.4" });
  assert.equal(v.isPve9, false);
  assert.equal(v.features.agentAuditPrivilege, "VM.Monitor");
  assert.equal(v.features.memhost, false);
  assert.equal(v.features.qemuMemoryPropertyString, true);
  assert.equal(parseVersion({ version: "8.0.4" }).features.qemuMemoryPropertyString, false);
  assert.equal(parseVersion({ version: "7.4-3" }).major, 7);
  assert.equal(isPve9({ major: 10 }), true);
});
