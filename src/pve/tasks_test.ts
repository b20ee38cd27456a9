import assert from "node:assert/strict";
import {
  assertTaskSucceeded,
  isTaskSuccess,
  parseProgressPercent,
  type TaskApi,
  type TaskProgress,
  waitForTask,
} from "./tasks.ts";
import { PveAuthError, PveConnectionError, PveTaskError } from "./errors.ts";
import type { TaskLogLine, TaskStatus } from "./coerce.ts";

const UPID = "UPID:pve1:0003A1F2:01B2C3D4:66B0E3C2:qmclone:9000:root@pam!mcp:";

/** A scripted task: each status poll advances one step; the log grows with the steps. */
function scripted(
  steps: { lines: string[]; exitstatus?: string }[],
  faults: Record<number, Error> = {},
): TaskApi & { polls: number; starts: number[] } {
  const log: string[] = [];
  let step = 0;
  const api = {
    polls: 0,
    starts: [] as number[],
    taskStatus(): Promise<TaskStatus> {
      const poll = api.polls++;
      const fault = faults[poll];
      if (fault !== undefined) return Promise.reject(fault);
      const current = steps[Math.min(step, steps.length - 1)]!;
      if (step < steps.length) log.push(...current.lines);
      step++;
      return Promise.resolve(
        current.exitstatus === undefined
          ? { status: "running" }
          : { status: "stopped", exitstatus: current.exitstatus },
      );
    },
    taskLog(_node: string, _upid: string, start: number): Promise<TaskLogLine[]> {
      api.starts.push(start);
      if (log.length === 0) return Promise.resolve([{ n: 1, t: "no content" }]);
      return Promise.resolve(log.slice(start).map((t, i) => ({ n: start + i + 1, t })));
    },
  };
  return api;
}

const fast = { pollIntervalsMs: [0] };

Deno.test("progress percentages are read from clone, vzdump, restore and download lines", () => {
  assert.equal(parseProgressPercent("transferred 2.0 GiB of 32.0 GiB (6.25%)"), 6.25);
  assert.equal(
    parseProgressPercent("drive-scsi0: transferred 1.0 GiB of 1.0 GiB (100.00%) in 3s"),
    100,
  );
  assert.equal(parseProgressPercent("INFO:  10% (3.2 GiB of 32.0 GiB) in 5s, read: 600 MiB/s"), 10);
  assert.equal(parseProgressPercent("progress 45% (read 1 GiB)"), 45);
  assert.equal(parseProgressPercent("   512.0 MiB of 600.0 MiB   85.33%", "download"), 85.33);
  assert.equal(parseProgressPercent("   512.0 MiB of 600.0 MiB   85.33%", "qmstart"), undefined);
  assert.equal(parseProgressPercent("INFO: compression ratio 50% saved"), undefined);
  assert.equal(isTaskSuccess("OK"), true);
  assert.equal(isTaskSuccess("WARNINGS: 2"), true);
  assert.equal(isTaskSuccess("VM 100 already running"), false);
});

Deno.test("waitForTask reports every log line once, in order, with percentages", async () => {
  const api = scripted([
    { lines: [] },
    { lines: ["create full clone of drive scsi0 (local-lvm:base-9000-disk-0)"] },
    {
      lines: ["transferred 1.0 GiB of 4.0 GiB (25.00%)", "transferred 2.0 GiB of 4.0 GiB (50.00%)"],
    },
    { lines: ["transferred 4.0 GiB of 4.0 GiB (100.00%)", "TASK OK"], exitstatus: "OK" },
  ]);
  const seen: TaskProgress[] = [];
  const outcome = await waitForTask(api, UPID, { ...fast, onProgress: (p) => seen.push(p) });
  assert.equal(outcome.state, "ok");
  assert.deepEqual(seen.map((p) => p.lineNumber), [1, 2, 3, 4, 5]);
  assert.deepEqual(seen.map((p) => p.percent), [undefined, 25, 50, 100, undefined]);
  assert.equal(outcome.logTail.at(-1), "TASK OK");
  assert.equal(outcome.node, "pve1");
  assert.equal(outcome.type, "qmclone");
  assert.deepEqual(api.starts, [0, 0, 1, 3]);
});

Deno.test("WARNINGS: n is success with the warnings surfaced", async () => {
  const api = scripted([{
    lines: ["WARN: disk 'unused0' not found", "TASK WARNINGS: 1"],
    exitstatus: "WARNINGS: 1",
  }]);
  const outcome = await waitForTask(api, UPID, fast);
  assert.equal(outcome.state, "warnings");
  assert.ok(outcome.state === "warnings" && outcome.warningCount === 1);
  assert.deepEqual(outcome.warnings, ["disk 'unused0' not found"]);
  assertTaskSucceeded(outcome);
});

Deno.test("a failed task returns its error text and log tail, and assertTaskSucceeded throws PveTaskError", async () => {
  const api = scripted([{
    lines: ["starting", "TASK ERROR: VM is locked (backup)"],
    exitstatus: "VM is locked (backup)",
  }]);
  const outcome = await waitForTask(api, UPID, fast);
  assert.equal(outcome.state, "failed");
  assert.ok(outcome.state === "failed" && outcome.exitstatus === "VM is locked (backup)");
  assert.deepEqual(outcome.logTail, ["starting", "TASK ERROR: VM is locked (backup)"]);
  assert.throws(() => assertTaskSucceeded(outcome), (error: unknown) => {
    assert.ok(error instanceof PveTaskError);
    assert.equal(error.upid, UPID);
    assert.equal(error.exitstatus, "VM is locked (backup)");
    assert.match(error.message, /VM is locked \(backup\)/);
    return true;
  });
});

Deno.test("a transient status-poll failure is survived", async () => {
  const api = scripted(
    [{ lines: ["one"] }, { lines: ["TASK OK"], exitstatus: "OK" }],
    { 1: new PveConnectionError("flaky", { status: 595 }) },
  );
  const outcome = await waitForTask(api, UPID, fast);
  assert.equal(outcome.state, "ok");
  assert.deepEqual(outcome.logTail, ["one", "TASK OK"]);
});

Deno.test("an auth failure while polling is not swallowed", async () => {
  const api = scripted([{ lines: [] }], { 0: new PveAuthError("nope", { status: 401 }) });
  await assert.rejects(waitForTask(api, UPID, fast), PveAuthError);
});

Deno.test("too many consecutive poll failures give up with the last error", async () => {
  const err = new PveConnectionError("down");
  const api = scripted([{ lines: [] }], { 0: err, 1: err, 2: err });
  await assert.rejects(waitForTask(api, UPID, { ...fast, maxPollFailures: 2 }), PveConnectionError);
});

Deno.test("waiting stops on timeout and returns the UPID; the task is not stopped", async () => {
  const api = scripted([{ lines: ["still going"] }]);
  const outcome = await waitForTask(api, UPID, { pollIntervalsMs: [5], timeoutMs: 20 });
  assert.equal(outcome.state, "timeout");
  assert.equal(outcome.upid, UPID);
  assert.deepEqual(outcome.logTail, ["still going"]);
});

Deno.test("waiting stops on abort and returns the UPID", async () => {
  const controller = new AbortController();
  const api = scripted([{ lines: ["x"] }]);
  const outcome = await waitForTask(api, UPID, {
    pollIntervalsMs: [1],
    signal: controller.signal,
    onProgress: () => controller.abort(),
  });
  assert.equal(outcome.state, "aborted");
  assert.equal(outcome.upid, UPID);
  const already = await waitForTask(api, UPID, { signal: AbortSignal.abort() });
  assert.equal(already.state, "aborted");
});

Deno.test("a malformed UPID is refused before polling", async () => {
  const api = scripted([{ lines: [] }]);
  await assert.rejects(waitForTask(api, "UPID:nope", fast), /Cannot parse UPID/);
  assert.equal(api.polls, 0);
});
