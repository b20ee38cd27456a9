import assert from "node:assert/strict";
import { formatUpid, isUpid, parseUpid, splitTaskUser } from "./upid.ts";
import { PveValidationError } from "./errors.ts";

Deno.test("parseUpid reads every field of a PVE UPID", () => {
  const u = parseUpid("UPID:pve:0003A1F2:01B2C3D4:66B0E3C2:qmstart:100:root@pam:");
  assert.deepEqual(u, {
    node: "pve",
    pid: 0x3a1f2,
    pstart: 0x1b2c3d4,
    starttime: 0x66b0e3c2,
    type: "qmstart",
    id: "100",
    user: "root@pam",
  });
});

Deno.test("parseUpid accepts a 9-digit pstart, an empty id and a token user", () => {
  const observed = "UPID:pve:00045530:0088BCD9:6A855EC4:qmstart:100:terraform-prov@pve!mytoken:";
  assert.equal(parseUpid(observed).user, "terraform-prov@pve!mytoken");
  const nine = parseUpid("UPID:node-2:00000001:1FFFFFFFF:66B0E3C2:vzdump::root@pam:");
  assert.equal(nine.pstart, 0x1ffffffff);
  assert.equal(nine.id, "");
  assert.equal(nine.node, "node-2");
  assert.deepEqual(splitTaskUser("root@pam!mcp"), { user: "root@pam", tokenName: "mcp" });
  assert.deepEqual(splitTaskUser("root@pam"), { user: "root@pam" });
});

Deno.test("parseUpid accepts lower-case hex and formatUpid writes upper case", () => {
  const u = parseUpid("UPID:pve:0003a1f2:01b2c3d4:66b0e3c2:qmstart:100:root@pam:");
  assert.equal(formatUpid(u), "UPID:pve:0003A1F2:01B2C3D4:66B0E3C2:qmstart:100:root@pam:");
});

Deno.test("formatUpid and parseUpid round-trip", () => {
  const upids = [
    "UPID:pve1:00000001:00000002:00000003:qmclone:9000:root@pam!mcp:",
    "UPID:pve3:0000FFFF:123456789:66B0E3C2:vzdump::auditor@pve:",
    "UPID:a:00000000:00000000:00000000:srvreload:networking:root@pam:",
  ];
  for (const upid of upids) assert.equal(formatUpid(parseUpid(upid)), upid);
});

Deno.test("parseUpid rejects malformed UPIDs with a PveValidationError", () => {
  const bad = [
    "",
    "UPID:pve:0003A1F2:01B2C3D4:66B0E3C2:qmstart:100:root@pam",
    "UPID:pve:3A1F2:01B2C3D4:66B0E3C2:qmstart:100:root@pam:",
    "UPID:-pve:0003A1F2:01B2C3D4:66B0E3C2:qmstart:100:root@pam:",
    "UPID:pve:0003A1F2:01B2C3D4:66B0E3C2::100:root@pam:",
    "UPID:pve:0003A1F2:01B2C3D4:66B0E3C2:qmstart:1/0:root@pam:",
    "UPID:pve.local:0003A1F2:01B2C3D4:66B0E3C2:qmstart:100:root@pam:",
  ];
  for (const upid of bad) {
    assert.equal(isUpid(upid), false, upid);
    assert.throws(() => parseUpid(upid), PveValidationError, upid);
  }
  assert.throws(() => parseUpid("nope"), /Cannot parse UPID "nope": expected/);
  // Found by the fuzz suite: the refusal ended on the expected form, with no next step.
  assert.throws(() => parseUpid("nope"), /copy it whole from the task list/);
});
