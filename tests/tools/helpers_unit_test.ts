import assert from "node:assert/strict";
import { checkApiRequest } from "../../src/tools/api/_schema.ts";
import { truncateData } from "../../src/tools/api/_shared.ts";
import { decodeCursor, encodeCursor, queryFingerprint } from "../../src/tools/_shared/cursor.ts";
import { formatBytes, formatDuration, isoTime, splitTags } from "../../src/tools/_shared/format.ts";
import { checkTags } from "../../src/tools/_shared/placement.ts";
import { checkSnapshotName } from "../../src/tools/_shared/snapshots.ts";

Deno.test("the API schema check resolves literal segments before parameters and encodes the path", () => {
  const upid = "UPID:pve1:0000ABCD:00001234:66B0E3C2:qmstart:100:root@pam!mcp:";
  const check = checkApiRequest("GET", `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`);
  assert.equal(check.ok, true);
  if (!check.ok) return;
  assert.equal(check.template, "/nodes/{node}/tasks/{upid}/status");
  assert.equal(check.pathParams.upid, upid);
  assert.equal(check.path, `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`);
  const literal = checkApiRequest("GET", "/nodes/pve1/qemu");
  assert.equal(literal.ok && literal.template, "/nodes/{node}/qemu");
});

Deno.test("the API schema check follows PVE's order and messages for typed parameters", () => {
  const errors = (method: "GET" | "POST" | "PUT" | "DELETE", path: string, params = {}) => {
    const check = checkApiRequest(method, path, params);
    return check.ok ? {} : check.errors ?? {};
  };
  assert.deepEqual(errors("POST", "/nodes/pve1/qemu/100/status/shutdown", { timeout: "soon" }), {
    timeout: "type check ('integer') failed - got 'soon'",
  });
  assert.deepEqual(errors("POST", "/nodes/pve1/qemu/100/status/shutdown", { timeout: -1 }), {
    timeout: "value must have a minimum value of 0",
  });
  assert.deepEqual(errors("POST", "/nodes/bad_node/qemu/100/status/start"), {
    node: "invalid format - value does not look like a valid node name",
  });
  assert.deepEqual(errors("POST", "/nodes/pve1/qemu/100/snapshot", { snapname: "x".repeat(41) }), {
    snapname: "value may only be 40 characters long",
  });
  assert.deepEqual(
    errors("POST", "/nodes/pve1/qemu/100/agent/exec", { command: ["ls", "-l"] }),
    {},
  );
  assert.deepEqual(errors("POST", "/nodes/pve1/vzdump", { vmid: "100,5" }), {
    vmid: "invalid format - value does not look like a valid VM ID",
  });
});

Deno.test("the API schema check refuses dot segments and names what a path could continue with", () => {
  const dots = checkApiRequest("GET", "/nodes/../version");
  assert.equal(dots.ok, false);
  assert.match(dots.ok ? "" : dots.message, /contains a "\.\." segment/);
  const unknown = checkApiRequest("GET", "/clusterx");
  assert.match(unknown.ok ? "" : unknown.message, /below "\/" the API has: .*cluster.*nodes/);
});

Deno.test("API schema refusals end with what to do instead", () => {
  // Found by the fuzz suite: they ended on what the path supports or takes, not on a next step.
  const wrongMethod = checkApiRequest("POST", "/cluster/resources");
  assert.match(
    wrongMethod.ok ? "" : wrongMethod.message,
    /supports GET, so read it with pve_api_get\.$/,
  );
  const getOnWrite = checkApiRequest("GET", "/nodes/pve1/qemu/100/status/start");
  assert.match(
    getOnWrite.ok ? "" : getOnWrite.message,
    /supports POST, so call it with pve_api_call and method POST\.$/,
  );
  const noParams = checkApiRequest("GET", "/version", { format: "x" });
  assert.match(
    noParams.ok ? "" : noParams.message,
    /Leave params out: GET \/version takes no parameters/,
  );
  const badParam = checkApiRequest("GET", "/cluster/resources", { bogus: "1" });
  assert.match(
    badParam.ok ? "" : badParam.message,
    /Fix them and call again; GET \/cluster\/resources takes: type\.$/,
  );
});

Deno.test("cursors round-trip and are refused for another query", () => {
  const query = queryFingerprint({ type: "qemu", sort: "vmid", order: "asc", node: undefined });
  const cursor = encodeCursor({ offset: 150, query });
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.equal(decodeCursor(cursor, query), 150);
  assert.equal(decodeCursor(cursor, queryFingerprint({ type: "lxc" })), undefined);
  assert.equal(decodeCursor("%%%", query), undefined);
  assert.equal(queryFingerprint({ a: 1, b: undefined }), queryFingerprint({ a: 1 }));
});

Deno.test("formatting helpers give units and ISO times", () => {
  assert.equal(formatBytes(2147483648), "2.0 GiB");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatDuration(90061), "1d 1h");
  assert.equal(isoTime(1722868674), "2024-08-05T14:37:54Z");
  assert.equal(isoTime(0), undefined);
  assert.deepEqual(splitTags("prod;web"), ["prod", "web"]);
});

Deno.test("snapshot names follow pve-configid and suggest a valid name", () => {
  checkSnapshotName("pre-upgrade_2");
  assert.throws(() => checkSnapshotName("2024 update"), /Use a name like "s2024-update"/);
  assert.throws(() => checkSnapshotName("1bad"), /Use a name like "s1bad"/);
  assert.throws(() => checkSnapshotName("has.dot"), /Use a name like "has-dot"/);
  assert.throws(() => checkSnapshotName("pending"), /reserved name/);
});

Deno.test("large API data is cut by items, keys or characters, with a note", () => {
  const items = Array.from({ length: 100 }, (_, i) => ({ i, pad: "x".repeat(50) }));
  const cut = truncateData(items, 1000);
  assert.equal(cut.truncated, true);
  assert.equal(cut.items_total, 100);
  assert.ok(JSON.stringify(cut.data).length <= 1000);
  const text = truncateData("y".repeat(50), 10);
  assert.equal(text.data, "yyyyyyyyyy");
  const small = truncateData({ a: 1 });
  assert.equal(small.truncated, false);
});

Deno.test("a tag PVE would refuse is named with one it accepts", () => {
  // Found by the fuzz suite: the refusal stated the rule and stopped, with no next step.
  assert.throws(() => checkTags(["prod", "web\u001b[31m"]), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.match(
      error.message,
      /^Tag "web.\[31m" is not valid: .*, so use one like "web-31m"\.$/,
    );
    return true;
  });
  assert.doesNotThrow(() => checkTags(["prod", "db_1", "a+b.c-d"]));
});
