import assert from "node:assert/strict";
import {
  describeGuestLock,
  errorFromResponse,
  guestLockOf,
  nodeFromPath,
  PveAuthError,
  PveConnectionError,
  PveError,
  PveLockedError,
  PveNotFoundError,
  PvePermissionError,
  PveTaskError,
  PveTlsError,
  PveValidationError,
  readablePath,
  redactSecrets,
} from "./errors.ts";

const base = { method: "POST", path: "/nodes/pve1/qemu/100/status/start", auth: "token" as const };

Deno.test("400 becomes a PveValidationError with the per-parameter errors", () => {
  const error = errorFromResponse({
    ...base,
    status: 400,
    body: {
      data: null,
      message: "Parameter verification failed.\n",
      errors: { vmid: "invalid format - value does not look like a valid VM ID\n" },
    },
  });
  assert.ok(error instanceof PveValidationError);
  assert.equal(error.name, "PveValidationError");
  assert.deepEqual(error.errors, {
    vmid: "invalid format - value does not look like a valid VM ID",
  });
  assert.equal(error.status, 400);
  assert.equal(error.method, "POST");
  assert.equal(error.path, base.path);
  assert.match(error.message, /vmid: invalid format/);
});

Deno.test("401 with an empty body says which credential to check", () => {
  const token = errorFromResponse({ ...base, status: 401, principal: "root@pam!mcp" });
  assert.ok(token instanceof PveAuthError);
  assert.match(token.message, /API token "root@pam!mcp" was rejected/);
  const ticket = errorFromResponse({
    ...base,
    status: 401,
    auth: "ticket",
    principal: "a@pve",
    csrfSent: true,
  });
  assert.match(ticket.message, /ticket or its CSRF token/);
  const none = errorFromResponse({ ...base, status: 401, auth: "none" });
  assert.match(none.message, /no credentials were sent/);
});

Deno.test("403 names the privilege and path to grant", () => {
  const error = errorFromResponse({
    ...base,
    status: 403,
    principal: "auditor@pve!ro",
    body: { data: null, message: "Permission check failed (/vms/100, VM.PowerMgmt)\n" },
  });
  assert.ok(error instanceof PvePermissionError);
  assert.equal(error.privilege, "VM.PowerMgmt");
  assert.equal(error.aclPath, "/vms/100");
  assert.match(error.message, /grant "auditor@pve!ro" a role with VM\.PowerMgmt on \/vms\/100/);
  assert.match(error.message, /privilege separation/);
  const bare = errorFromResponse({ ...base, status: 403, body: { data: null } });
  assert.ok(bare instanceof PvePermissionError);
  assert.equal(bare.privilege, undefined);
});

Deno.test("500 'does not exist' and 501 are not-found errors; other 500s keep PVE's text", () => {
  const missing = errorFromResponse({
    ...base,
    method: "GET",
    path: "/nodes/pve1/qemu/999/config",
    status: 500,
    body: {
      data: null,
      message: "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist\n",
    },
  });
  assert.ok(missing instanceof PveNotFoundError);
  const nyi = errorFromResponse({
    ...base,
    status: 501,
    body: { data: null, message: "Method 'GET /x' not implemented" },
  });
  assert.ok(nyi instanceof PveNotFoundError);
  const locked = errorFromResponse({
    ...base,
    status: 500,
    body: { data: null, message: "VM is locked (backup)\n" },
  });
  assert.ok(locked instanceof PveLockedError);
  assert.ok(!(locked instanceof PveNotFoundError));
  assert.match(locked.message, /VM is locked \(backup\)/);
  const noText = errorFromResponse({ ...base, status: 500 });
  assert.match(noText.message, /no error text was sent/);
  // Found by the fuzz suite: a plain 500 ended on PVE's text, with no next step.
  const plain = errorFromResponse({
    ...base,
    status: 500,
    body: { data: null, message: "snapshot feature is not available\n" },
  });
  assert.match(
    plain.message,
    /^Proxmox VE failed POST .* \(500\): snapshot feature is not available; fix the cause it names, then call again$/,
  );
});

Deno.test("595 names the unreachable node and says it is offline", () => {
  const error = errorFromResponse({
    ...base,
    path: "/nodes/pve2/status",
    status: 595,
    body: { data: null, message: "Connection refused" },
  });
  assert.ok(error instanceof PveConnectionError);
  assert.equal(error.node, "pve2");
  assert.match(error.message, /node "pve2"/);
  assert.match(error.message, /offline/);
  assert.equal(nodeFromPath("/nodes/pve%2D3/x"), "pve-3");
  assert.equal(nodeFromPath("/cluster/resources"), undefined);
});

Deno.test("502-504 are connection errors and 429 a plain PveError", () => {
  assert.ok(errorFromResponse({ ...base, status: 503 }) instanceof PveConnectionError);
  const limited = errorFromResponse({ ...base, status: 429 });
  assert.equal(limited.constructor, PveError);
});

Deno.test("errors set name and pass cause", () => {
  const cause = new Error("low level");
  const tls = new PveTlsError("tls", { cause });
  assert.equal(tls.name, "PveTlsError");
  assert.equal(tls.cause, cause);
  assert.ok(tls instanceof PveConnectionError);
  assert.ok(tls instanceof PveError);
});

Deno.test("redactSecrets removes every occurrence of each secret", () => {
  assert.equal(
    redactSecrets("token abcd-1234 and again abcd-1234, pw hunter22", [
      "abcd-1234",
      "hunter22",
      undefined,
      "ab",
    ]),
    "token *** and again ***, pw ***",
  );
});

Deno.test("messages show encoded path segments decoded, while the error keeps the path as sent", () => {
  const path =
    "/nodes/pve1/tasks/UPID%3Apve1%3A0000ABCD%3A00001234%3A65000000%3Aqmstart%3A100%3Aroot%40pam%3A/status";
  const error = errorFromResponse({
    status: 400,
    method: "GET",
    path,
    auth: "token",
    body: { data: null, errors: { upid: "no such task" } },
  });
  assert.match(
    error.message,
    /GET \/nodes\/pve1\/tasks\/UPID:pve1:0000ABCD:00001234:65000000:qmstart:100:root@pam:\/status/,
  );
  assert.equal(error.path, path);
  assert.equal(readablePath("/a/%E0%A4%A/b%2Fc"), "/a/%E0%A4%A/b/c");
});

Deno.test("a guest lock is read from PVE's text wherever it appears", () => {
  assert.deepEqual(guestLockOf("VM is locked (snapshot-delete)"), {
    lock: "snapshot-delete",
    guestType: "qemu",
  });
  assert.deepEqual(guestLockOf("ERROR: Backup of VM 100 failed - CT is locked (mounted)"), {
    lock: "mounted",
    guestType: "lxc",
  });
  assert.equal(guestLockOf("VM 100 not running"), undefined);
  assert.equal(guestLockOf(undefined), undefined);
  assert.match(describeGuestLock("weird", "qemu"), /a task holds it.*"qm unlock <vmid>"/);
  const error = new PveTaskError("failed", { upid: "U", exitstatus: "CT is locked (backup)" });
  assert.equal(error.lock, "backup");
  assert.equal(new PveTaskError("failed", { upid: "U", exitstatus: "job errors" }).lock, undefined);
});

Deno.test("only a 500 saying the guest is locked becomes a PveLockedError", () => {
  const locked = errorFromResponse({
    status: 500,
    method: "DELETE",
    path: "/nodes/pve1/qemu/100/snapshot/s1",
    auth: "token",
    body: { data: null, message: "VM is locked (snapshot-delete)\n" },
  });
  assert.ok(locked instanceof PveLockedError);
  assert.equal(locked.lock, "snapshot-delete");
  assert.equal(locked.vmid, 100);
  const other = errorFromResponse({
    status: 500,
    method: "POST",
    path: "/nodes/pve1/qemu/100/status/reboot",
    auth: "token",
    body: { data: null, message: "VM 100 not running\n" },
  });
  assert.ok(!(other instanceof PveLockedError));
});
