import assert from "node:assert/strict";
import { AuditError, AuditLog } from "./audit.ts";

const SECRET = "2e3a9b4c-8f41-4a7e-9a1e-3c0f5b6d7e8f";
const fixed = () => new Date("2026-01-02T03:04:05.000Z");

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "proxmox-mcp-audit-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readLines(path: string): Promise<unknown[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text.endsWith("\n"));
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

Deno.test("the audit log appends one JSON line per write attempt before returning", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/audit.jsonl`;
    const audit = AuditLog.open(path, { now: fixed });
    assert.equal(audit.enabled, true);
    await audit.record({
      cluster: "lab",
      tool: "guest_start",
      target: { vmid: 100, node: "pve1", type: "qemu" },
      arguments: { vmid: 100 },
      dry_run: false,
      outcome: "ok",
      upid: "UPID:pve1:00001234:00005678:66B0E3C2:qmstart:100:root@pam!mcp:",
    });
    await audit.record({
      cluster: "lab",
      tool: "guest_delete",
      target: { vmid: 101 },
      arguments: { vmid: 101, purge: true },
      dry_run: true,
      outcome: "dry-run",
    });
    assert.deepEqual(await readLines(path), [
      {
        time: "2026-01-02T03:04:05.000Z",
        cluster: "lab",
        tool: "guest_start",
        target: { vmid: 100, node: "pve1", type: "qemu" },
        arguments: { vmid: 100 },
        dry_run: false,
        outcome: "ok",
        upid: "UPID:pve1:00001234:00005678:66B0E3C2:qmstart:100:root@pam!mcp:",
      },
      {
        time: "2026-01-02T03:04:05.000Z",
        cluster: "lab",
        tool: "guest_delete",
        target: { vmid: 101 },
        arguments: { vmid: 101, purge: true },
        dry_run: true,
        outcome: "dry-run",
      },
    ]);
  });
});

Deno.test("audit records never hold secrets in arguments or errors", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/audit.jsonl`;
    const audit = AuditLog.open(path, { now: fixed });
    await audit.record({
      cluster: "lab",
      tool: "guest_create",
      target: "new guest on pve1",
      arguments: { vmid: 200, cipassword: "hunter2", nested: { password: "hunter2" } },
      dry_run: false,
      outcome: "error",
      error: `401 with Authorization PVEAPIToken=root@pam!mcp=${SECRET}`,
    });
    const text = await Deno.readTextFile(path);
    assert.equal(text.includes("hunter2"), false);
    assert.equal(text.includes(SECRET), false);
    const [line] = await readLines(path);
    assert.deepEqual(line, {
      time: "2026-01-02T03:04:05.000Z",
      cluster: "lab",
      tool: "guest_create",
      target: "new guest on pve1",
      arguments: { vmid: 200, cipassword: "[redacted]", nested: { password: "[redacted]" } },
      dry_run: false,
      outcome: "error",
      error: "401 with Authorization PVEAPIToken=root@pam!mcp=[redacted]",
    });
  });
});

Deno.test("concurrent records are written as whole lines, even by a writer that appends in pieces", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/audit.jsonl`;
    // A slow writer: each record goes out in small pieces with a pause between them, so two
    // records written at once would interleave unless the log serialises them.
    const audit = AuditLog.open(path, {
      append: async (file, text) => {
        for (let i = 0; i < text.length; i += 16) {
          await Deno.writeTextFile(file, text.slice(i, i + 16), { append: true, create: true });
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      },
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        audit.record({
          cluster: "lab",
          tool: "guest_start",
          arguments: { vmid: 100 + index },
          dry_run: false,
          outcome: "ok",
        })),
    );
    const lines = await readLines(path);
    assert.equal(lines.length, 20);
    const vmids = lines.map((line) => (line as { arguments: { vmid: number } }).arguments.vmid);
    assert.deepEqual(
      [...vmids].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => 100 + i),
    );
  });
});

Deno.test("the audit file is created private to its owner", {
  ignore: Deno.build.os === "windows",
}, async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/audit.jsonl`;
    await AuditLog.open(path).check();
    const info = await Deno.stat(path);
    assert.equal((info.mode ?? 0) & 0o077, 0);
    assert.equal(info.size, 0);
  });
});

Deno.test("a missing directory is a clear error naming the path and the fix", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/missing/audit.jsonl`;
    const audit = AuditLog.open(path);
    await assert.rejects(() => audit.check(), (error: unknown) => {
      assert.ok(error instanceof AuditError);
      assert.equal(error.path, path);
      assert.equal(
        error.message,
        `Cannot write audit log "${path}": directory "${dir}/missing" does not exist: create ` +
          'it, or set audit.path (or PROXMOX_MCP_AUDIT_PATH) to a writable file, or "off"',
      );
      return true;
    });
    await assert.rejects(
      () =>
        audit.record({
          cluster: "lab",
          tool: "guest_start",
          arguments: {},
          dry_run: false,
          outcome: "ok",
        }),
      AuditError,
    );
  });
});

Deno.test("a disabled audit log records nothing", async () => {
  const audit = AuditLog.disabled();
  assert.equal(audit.enabled, false);
  assert.equal(audit.path, undefined);
  await audit.check();
  const record = await audit.record({
    cluster: "lab",
    tool: "guest_start",
    arguments: { password: "x" },
    dry_run: false,
    outcome: "ok",
  });
  assert.deepEqual(record.arguments, { password: "[redacted]" });
});

Deno.test("a workflow step's line names the step after the tool, and a call's line has no step", async () => {
  await withTempDir(async (dir) => {
    const log = AuditLog.open(`${dir}/audit.jsonl`, { now: fixed });
    await log.record({
      cluster: "lab",
      tool: "node_drain",
      step: "migrate VM 101 to pve3",
      target: { vmid: 101, node: "pve2" },
      arguments: { node: "pve2" },
      dry_run: false,
      outcome: "ok",
      upid: "UPID:pve2:0000A1B2:00C0FFEE:66B0E3C2:qmigrate:101:root@pam:",
    });
    await log.record({
      cluster: "lab",
      tool: "node_drain",
      arguments: { node: "pve2" },
      dry_run: false,
      outcome: "ok",
    });
    const lines = (await Deno.readTextFile(`${dir}/audit.jsonl`)).trim().split("\n");
    assert.deepEqual(Object.keys(JSON.parse(lines[0] ?? "{}")).slice(0, 4), [
      "time",
      "cluster",
      "tool",
      "step",
    ]);
    assert.equal(JSON.parse(lines[0] ?? "{}").step, "migrate VM 101 to pve3");
    assert.equal("step" in JSON.parse(lines[1] ?? "{}"), false);
  });
});
