import assert from "node:assert/strict";
import { apiBaseUrl, checkPvePath, pvePath, PvePathError } from "./path.ts";
import { PveValidationError } from "./errors.ts";

Deno.test("pvePath encodes each value as one segment", () => {
  assert.equal(
    pvePath`/nodes/${"pve1"}/qemu/${100}/status/start`,
    "/nodes/pve1/qemu/100/status/start",
  );
  const upid = "UPID:pve1:0003A1F2:01B2C3D4:66B0E3C2:qmstart:100:root@pam!mcp:";
  assert.equal(
    pvePath`/nodes/pve1/tasks/${upid}/status`,
    `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`,
  );
  assert.equal(pvePath`/nodes/${"a b"}`, "/nodes/a%20b");
});

Deno.test("pvePath refuses empty, dot, dot-dot and slash-bearing values", () => {
  for (const bad of ["", ".", "..", "a/b", "../x", "a\\b", "x\u0000"]) {
    assert.throws(() => pvePath`/nodes/${bad}/qemu`, PvePathError, JSON.stringify(bad));
  }
  assert.throws(() => pvePath`/nodes/${Number.NaN}`, PvePathError);
});

Deno.test("a refused path is a PveValidationError naming the path parameter", () => {
  try {
    checkPvePath("/nodes/../access");
    assert.fail("should throw");
  } catch (error) {
    assert.ok(error instanceof PveValidationError);
    assert.ok("path" in error.errors);
    assert.match(error.message, /"\/nodes\/\.\.\/access"/);
  }
});

Deno.test("checkPvePath accepts paths with or without /api2/json and normalizes them", () => {
  assert.equal(checkPvePath("/api2/json/nodes/pve1/qemu"), "/nodes/pve1/qemu");
  assert.equal(checkPvePath("/nodes/pve1/qemu/"), "/nodes/pve1/qemu");
  assert.equal(checkPvePath("/"), "/");
  assert.equal(checkPvePath("/api2/json"), "/");
  assert.equal(
    checkPvePath("/nodes/pve1/tasks/UPID%3Apve1%3A00/log"),
    "/nodes/pve1/tasks/UPID%3Apve1%3A00/log",
  );
});

Deno.test("checkPvePath refuses traversal, other formats, queries and odd characters", () => {
  const bad = [
    "nodes/pve1",
    "/nodes/../../etc/passwd",
    "/nodes/./pve1",
    "/nodes//pve1",
    "/nodes/%2e%2e/x",
    "/nodes/%2E%2e",
    "/nodes/a%2Fb",
    "/nodes/a%5cb",
    "/api2/extjs/nodes",
    "/api2/html",
    "/api2",
    "/nodes?x=1",
    "/nodes#frag",
    "/nodes/pve 1",
    "/nodes/%zz",
    "/nodes/a%00b",
  ];
  for (const path of bad) assert.throws(() => checkPvePath(path), PvePathError, path);
});

Deno.test("every refused path says what to give instead, and a broken UTF-16 value is refused, not a crash", () => {
  // Found by the fuzz suite: task_list {node: "db01\ud800"} failed as a bug ("URI malformed"),
  // and refusals such as "segment … decodes to a control character" ended without a next step.
  for (const bad of ["db01\ud800", "\udc00x"]) {
    assert.throws(() => pvePath`/nodes/${bad}/tasks`, (error: unknown) => {
      assert.ok(error instanceof PvePathError);
      assert.match(error.message, /broken UTF-16 character, so give the name as plain text$/);
      assert.ok(JSON.stringify(error.message).length < 200);
      return true;
    });
  }
  for (
    const path of ["/nodes/a%1Bb", "/nodes/..", "/nodes//x", "/nodes/%zz", "/api2/extjs/nodes"]
  ) {
    assert.throws(() => checkPvePath(path), (error: unknown) => {
      assert.ok(error instanceof PvePathError);
      assert.match(error.message, /, so (give|remove|write|name) /, path);
      return true;
    });
  }
});

Deno.test("apiBaseUrl accepts the origin with or without /api2/json and refuses credentials", () => {
  assert.equal(apiBaseUrl("https://pve1:8006"), "https://pve1:8006/api2/json");
  assert.equal(apiBaseUrl("https://pve1:8006/"), "https://pve1:8006/api2/json");
  assert.equal(apiBaseUrl("https://pve1:8006/api2/json/"), "https://pve1:8006/api2/json");
  assert.throws(() => apiBaseUrl("ftp://pve1"), TypeError);
  assert.throws(() => apiBaseUrl("https://pve1:8006/other"), TypeError);
  assert.throws(() => apiBaseUrl("not a url"), TypeError);
  try {
    apiBaseUrl("https://root:s3cretpw@pve1:8006");
    assert.fail("should throw");
  } catch (error) {
    assert.ok(error instanceof TypeError);
    assert.doesNotMatch(error.message, /s3cretpw/);
  }
});
