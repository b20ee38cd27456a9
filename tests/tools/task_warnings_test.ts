import assert from "node:assert/strict";
import { guestStart } from "../../src/tools/lifecycle/guest_start.ts";
import { guestShutdown } from "../../src/tools/lifecycle/guest_shutdown.ts";
import { taskGet } from "../../src/tools/tasks/task_get.ts";
import { taskWait } from "../../src/tools/tasks/task_wait.ts";
import { control } from "../pve/_sim.ts";
import { openSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [guestStart, guestShutdown, taskGet, taskWait];
const WARNING = "no efidisk configured! Using temporary efivars disk.";

Deno.test("a task ending WARNINGS: n is success with warnings in the power tools, task_get, task_wait and the audit", async () => {
  const s = await openSession({ tools });
  try {
    const injected = await control(s.sim, "POST", "/_sim/tasks/warnings", {
      type: "qmstart",
      lines: [WARNING],
      count: 1,
    });
    assert.deepEqual(injected, { type: "qmstart", warnings: 1 });
    const started = await s.call("guest_start", { vmid: 103 });
    assert.equal(started.isError, undefined, textOf(started));
    const out = structuredOf<
      { result: string; task_state: string; exitstatus: string; upid: string; warnings?: string[] }
    >(started);
    assert.equal(out.result, "warnings");
    assert.equal(out.task_state, "warnings");
    assert.equal(out.exitstatus, "WARNINGS: 1");
    assert.deepEqual(out.warnings, [WARNING]);
    assert.match(textOf(started), /started on pve3, with 1 warning\(s\)/);

    const got = await s.call("task_get", { upid: out.upid });
    assert.equal(got.isError, undefined);
    assert.equal(structuredOf<{ task_state: string }>(got).task_state, "warnings");
    assert.match(textOf(got), /finished: WARNINGS: 1/);

    const waited = await s.call("task_wait", { upid: out.upid });
    assert.equal(waited.isError, undefined);
    assert.equal(structuredOf<{ task_state: string }>(waited).task_state, "warnings");

    const audit = await s.auditLines();
    const record = audit.find((line) => line.tool === "guest_start");
    assert.equal(record?.outcome, "warnings");
    assert.equal(record?.error, undefined);
    assert.equal(record?.upid, out.upid);

    // The next start is clean again (count 1), so the injection is what made the warning.
    const stop = await s.call("guest_shutdown", { vmid: 103 });
    assert.equal(structuredOf<{ result: string }>(stop).result, "ok");
  } finally {
    await s.close();
  }
});
