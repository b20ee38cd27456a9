import assert from "node:assert/strict";
import {
  PveAuthError,
  PveConnectionError,
  PveError,
  PvePermissionError,
  PveTaskError,
} from "../../src/pve/mod.ts";
import { describePveError, dryRunResult, errorResult, scrub } from "../../src/server/results.ts";

Deno.test("a 401 says to check the API token", () => {
  const text = describePveError(
    new PveAuthError("Authentication failed for GET /version", { status: 401 }),
    "lab",
  );
  assert.match(
    text,
    /Check the API token id and secret configured for this cluster \(cluster "lab"\)\.$/,
  );
});

Deno.test("a 403 names the privilege and the path to grant it on", () => {
  const error = new PvePermissionError(
    "Permission denied for POST /nodes/pve1/qemu/100/status/start",
    {
      status: 403,
      privilege: "VM.PowerMgmt",
      aclPath: "/vms/100",
    },
  );
  assert.match(
    describePveError(error),
    /Grant VM\.PowerMgmt on \/vms\/100 to the configured user or token\.$/,
  );
});

Deno.test("a locked guest says to wait for the task", () => {
  const error = new PveError("Proxmox VE failed PUT /nodes/pve1/qemu/100/config (500)", {
    status: 500,
    pveMessage: "VM 100 is locked (backup)",
  });
  assert.match(describePveError(error), /locked by a running task: wait for it.*task_wait/);
});

Deno.test("595 says the node looks offline", () => {
  const error = new PveConnectionError('Proxmox VE could not reach node "pve2"', {
    status: 595,
    node: "pve2",
  });
  assert.match(describePveError(error), /The node "pve2" looks offline/);
});

Deno.test("a failed task shows the tail of its log", () => {
  const error = new PveTaskError("Task failed: storage full", {
    upid: "UPID:pve1:00001234:00005678:65000000:qmclone:100:root@pam:",
    exitstatus: "storage full",
    logTail: ["copying", "error: no space left"],
  });
  assert.match(describePveError(error), /Task log \(last lines\):\ncopying\nerror: no space left$/);
});

Deno.test("error results carry text only and scrub credentials", () => {
  const result = errorResult(
    "Failed with PVEAPIToken=root@pam!mcp=0b6c1b43-4b9a-a6f1-2c5e7d9b0a14",
  );
  assert.equal(result.isError, true);
  assert.equal(result.structuredContent, undefined);
  assert.ok(!JSON.stringify(result).includes("0b6c1b43-4b9a"));
});

Deno.test("a dry-run result lists the calls and the diff in text and structured content", () => {
  const result = dryRunResult({
    summary: "Set memory of VM 100 to 2048 MiB",
    calls: [{ method: "PUT", path: "/nodes/pve1/qemu/100/config", params: { memory: 2048 } }],
    diff: [{ key: "memory", before: 1024, after: 2048 }],
  });
  const text = result.content[0]?.type === "text" ? result.content[0].text : "";
  assert.match(text, /PUT \/nodes\/pve1\/qemu\/100\/config \{"memory":2048\}/);
  assert.match(text, /memory: 1024 -> 2048/);
  assert.equal((result.structuredContent as { dry_run?: boolean }).dry_run, true);
});

Deno.test("structured content loses its secrets but keeps its shape", () => {
  assert.deepEqual(
    scrub({
      ticket: "PVE:root@pam:65000000::c2lnbmF0dXJl",
      otp: false,
      rows: [{ note: "token root@pam!mcp=0b6c1b43-4b9a", size_bytes: 5 }],
    }),
    {
      ticket: "[redacted]",
      otp: false,
      rows: [{ note: "token root@pam!mcp=[redacted]", size_bytes: 5 }],
    },
  );
});
