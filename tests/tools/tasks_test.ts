import assert from "node:assert/strict";
import { guestStart } from "../../src/tools/lifecycle/guest_start.ts";
import { taskGet } from "../../src/tools/tasks/task_get.ts";
import { taskList } from "../../src/tools/tasks/task_list.ts";
import { taskWait } from "../../src/tools/tasks/task_wait.ts";
import { openSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [taskList, taskGet, taskWait, guestStart];

interface TaskItem {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  status: string;
  running: boolean;
  start_time?: string;
  end_time?: string;
}

Deno.test("task_list shows recent tasks cluster-wide and per node, with filters", async () => {
  const s = await openSession({ tools });
  try {
    const started = structuredOf<{ upid: string }>(await s.call("guest_start", { vmid: 103 }));
    const all = structuredOf<{ tasks: TaskItem[] }>(await s.call("task_list"));
    const mine = all.tasks.find((t) => t.upid === started.upid);
    assert.ok(mine, "the start task is listed");
    assert.equal(mine.type, "qmstart");
    assert.equal(mine.id, "103");
    assert.equal(mine.status, "OK");
    assert.equal(mine.running, false);
    assert.match(mine.start_time ?? "", /Z$/);
    assert.match(mine.user, /^root@pam!mcp$/);

    const node = structuredOf<{ tasks: TaskItem[] }>(
      await s.call("task_list", { node: "pve3", vmid: 103, type: "qmstart" }),
    );
    assert.deepEqual(node.tasks.map((t) => t.upid), [started.upid]);
    const errors = structuredOf<{ tasks: TaskItem[] }>(await s.call("task_list", { errors: true }));
    assert.ok(errors.tasks.every((t) => t.status !== "OK"));
    const limited = structuredOf<{ returned: number }>(await s.call("task_list", { limit: 1 }));
    assert.equal(limited.returned, 1);
  } finally {
    await s.close();
  }
});

Deno.test("task_get shows status and the log tail", async () => {
  const s = await openSession({ tools });
  try {
    const { upid } = structuredOf<{ upid: string }>(await s.call("guest_start", { vmid: 203 }));
    const result = await s.call("task_get", { upid, lines: 1 });
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.running, false);
    assert.equal(out.exitstatus, "OK");
    assert.equal(out.task_state, "ok");
    assert.deepEqual(out.log_tail, ["TASK OK"]);
    assert.match(textOf(result), /finished: OK/);

    const bad = await s.call("task_get", { upid: "UPID:nope" });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /Cannot parse UPID/);
  } finally {
    await s.close();
  }
});

Deno.test("task_wait follows a running task to its end, with progress", async () => {
  const s = await openSession({
    tools,
    sim: { speed: 0.001 },
    config: { policy: { wait: { defaultSeconds: 0, maxSeconds: 30 } } },
  });
  try {
    const started = structuredOf<{ upid: string; result: string }>(
      await s.call("guest_start", { vmid: 103 }),
    );
    assert.equal(started.result, "timeout");
    const progress: string[] = [];
    const waiting = s.call("task_wait", { upid: started.upid, timeout_seconds: 30 }, {
      onprogress: (p) => progress.push(p.message ?? ""),
    });
    // Finish the task by moving simulated time (a task sleeps in several steps), not by
    // waiting on the wall clock.
    let settled = false;
    waiting.finally(() => settled = true);
    for (let i = 0; i < 500 && !settled; i++) {
      s.sim.sim.clock.advance(5);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const out = structuredOf<Record<string, unknown>>(await waiting);
    assert.equal(out.task_state, "ok");
    assert.equal(out.exitstatus, "OK");
    assert.equal(out.type, "qmstart");
    assert.ok(progress.length > 0);
  } finally {
    await s.close();
  }
});

Deno.test("task tools hide tasks of guests outside the scope", async () => {
  const s = await openSession({ tools, config: { policy: { scope: { vmids: ["100-102"] } } } });
  try {
    const refusedStart = await s.call("guest_start", { vmid: 103 });
    assert.equal(refusedStart.isError, true);
    const pve = s.pve;
    const upid = await pve.post<string>("/nodes/pve3/qemu/103/status/start");
    await pve.waitForTask(upid);
    const listed = structuredOf<{ tasks: TaskItem[] }>(await s.call("task_list"));
    assert.ok(!listed.tasks.some((t) => t.upid === upid));
    const refused = await s.call("task_get", { upid });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /outside the scope/);
  } finally {
    await s.close();
  }
});

Deno.test("task_wait reports a failed task with its exit status and log tail", async () => {
  const s = await openSession({ tools });
  try {
    await fetch(`${s.sim.url}/_sim/guests/103/lock`, {
      method: "POST",
      body: JSON.stringify({ lock: "backup" }),
    }).then((r) => r.body?.cancel());
    const upid = await s.pve.post<string>("/nodes/pve3/qemu/103/status/start");
    const result = await s.call("task_wait", { upid });
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.task_state, "failed");
    assert.match(String(out.exitstatus), /locked \(backup\)/);
    assert.ok(Array.isArray(out.log_tail) && out.log_tail.length > 0);
    assert.match(textOf(result), /failed: .*locked \(backup\)/);
  } finally {
    await s.close();
  }
});

Deno.test("task tools name an unknown node or task and say how to find the right one", async () => {
  const s = await openSession({ tools });
  try {
    const gone = "UPID:pve1:00001234:00005678:6B020BF8:qmstart:100:root@pam:";
    for (const tool of ["task_get", "task_wait"]) {
      const result = await s.call(tool, { upid: gone });
      assert.equal(result.isError, true, tool);
      assert.match(textOf(result), /^No task UPID:pve1:\S+ on node "pve1": .*task_list/, tool);
      assert.doesNotMatch(textOf(result), /%3A/, tool);
    }
    const elsewhere = await s.call("task_get", { upid: gone.replace("pve1", "pve9") });
    assert.equal(elsewhere.isError, true);
    assert.match(
      textOf(elsewhere),
      /^No node "pve9" in cluster lab: use one of pve1, pve2, pve3\./,
    );
    const list = await s.call("task_list", { node: "pve9" });
    assert.equal(list.isError, true);
    assert.match(textOf(list), /^No node "pve9" in cluster lab/);
  } finally {
    await s.close();
  }
});

Deno.test("task tools refuse a node or UPID no task can have in one sentence, with nothing sent", async () => {
  // Found by the fuzz suite: task_list {node: "db01\ud800"} answered as a bug ("URI malformed"),
  // and {node: "web01\u001b[31m"} with a refusal about an encoded API path and no next step.
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    for (const node of ["db01\ud800", "web01\u001b[31m", "/nodes?x=1", ".."]) {
      const result = await s.call("task_list", { node });
      assert.equal(result.isError, true, node);
      assert.match(
        textOf(result),
        /^Node name ".*" is not valid: .*cluster_status lists the nodes\.$/,
      );
    }
    const broken = "UPID:pve1:00001234:00005678:6B020BF8:qm\ud800:100:root@pam:";
    for (const tool of ["task_get", "task_wait"]) {
      const result = await s.call(tool, { upid: broken });
      assert.equal(result.isError, true, tool);
      assert.match(textOf(result), /broken UTF-16 character, so give the name as plain text\.$/);
    }
    assert.deepEqual(await s.requests(since), []);
  } finally {
    await s.close();
  }
});
