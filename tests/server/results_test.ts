import assert from "node:assert/strict";
import { errorFromResponse, PveError, PveTaskError } from "../../src/pve/mod.ts";
import {
  describePveError,
  dryRunResult,
  errorResult,
  pveErrorResult,
  scrub,
} from "../../src/server/results.ts";

/** Each sentence of a text, to catch the same advice given twice. */
function sentences(text: string): string[] {
  return text.split(/(?<=[.:])\s+/).map((part) => part.trim().toLowerCase()).filter(Boolean);
}

/** What the client says for a response, as tools see it. */
const clientError = (status: number, path: string, message?: string) =>
  errorFromResponse({
    status,
    method: "POST",
    path,
    auth: "token",
    principal: "root@pam!mcp",
    ...(message === undefined ? {} : { body: { data: null, message: `${message}\n` } }),
  });

Deno.test("client errors reach the model with their one next step, said once", () => {
  for (
    const [error, next] of [
      [clientError(401, "/version"), /check the token id \(user@realm!name\) and secret/i],
      [
        clientError(
          403,
          "/nodes/pve1/qemu/100/status/start",
          "Permission check failed (/vms/100, VM.PowerMgmt)",
        ),
        /grant "root@pam!mcp" a role with VM\.PowerMgmt on \/vms\/100/,
      ],
      [
        clientError(595, "/nodes/pve2/qemu/101/status/current", "595 Connection refused"),
        /node "pve2"[^]*offline/,
      ],
    ] as const
  ) {
    const text = describePveError(error);
    assert.match(text, next);
    const said = sentences(text);
    assert.equal(new Set(said).size, said.length, `no sentence repeats: ${text}`);
    assert.equal(text.match(/offline/g)?.length ?? 0, next.source.includes("offline") ? 1 : 0);
  }
});

Deno.test("a typed lock error from the client gets the wait tools, not its advice again", () => {
  const text = describePveError(
    clientError(500, "/nodes/pve1/qemu/100/status/start", "VM is locked (backup)"),
  );
  assert.match(text, /task_list shows the task holding the lock; task_wait waits for it\.$/);
  assert.equal(text.match(/retry/gi)?.length, 1, `one retry advice: ${text}`);
});

Deno.test("a locked guest says to wait for the task", () => {
  const error = new PveError("Proxmox VE failed PUT /nodes/pve1/qemu/100/config (500)", {
    status: 500,
    pveMessage: "VM 100 is locked (backup)",
  });
  assert.match(describePveError(error), /locked by a running task: wait for it.*task_wait/);
});

Deno.test("a failed task shows the tail of its log", () => {
  const error = new PveTaskError("Task failed: storage full", {
    upid: "UPID:pve1:00001234:00005678:65000000:qmclone:100:root@pam:",
    exitstatus: "storage full",
    logTail: ["copying", "error: no space left"],
  });
  assert.match(describePveError(error), /Task log \(last lines\):\ncopying\nerror: no space left$/);
});

Deno.test("a refusal stays one line whatever the input quoted into it holds", () => {
  // Found by the fuzz suite: `name: "web01\nline2"` came back as a two-line refusal.
  const result = errorResult(
    'No guest with name "web01\nline2\r\u2028\u001b[31m" in cluster lab: list the guests.',
  );
  const text = result.content[0]?.type === "text" ? result.content[0].text : "";
  assert.equal(
    text,
    'No guest with name "web01\\nline2\\r\\u2028\\u001b[31m" in cluster lab: list the guests.',
  );
  const failed = pveErrorResult(
    new PveTaskError("Task failed: bad\nname", {
      upid: "UPID:pve1:00001234:00005678:65000000:qmclone:100:root@pam:",
      exitstatus: "bad",
      logTail: ["copying", "error: no space left"],
    }),
  );
  const tail = failed.content[0]?.type === "text" ? failed.content[0].text : "";
  assert.match(
    tail,
    /^Task failed: bad\\nname\. [^\n]*\nTask log \(last lines\):\ncopying\nerror: no space left$/,
  );
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
