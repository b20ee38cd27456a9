import assert from "node:assert/strict";
import { allRoutes } from "../../src/simulator/routes/mod.ts";
import { route } from "../../src/simulator/router.ts";
import {
  assertTaskSucceeded,
  parseUpid,
  PveTaskError,
  type TaskProgress,
} from "../../src/pve/mod.ts";
import { control, driveClock, FAST, FROZEN, requests, tokenClient, withSim } from "./_sim.ts";

Deno.test("a clone reports each log line once, in order, with its percentage", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const upid = await pve.post<string>("/nodes/pve1/qemu/9000/clone", {
        newid: 150,
        name: "c1",
        full: true,
      });
      assert.equal(parseUpid(upid).type, "qmclone");
      const seen: TaskProgress[] = [];
      const outcome = await pve.waitForTask(upid, { ...FAST, onProgress: (p) => seen.push(p) });
      assert.equal(outcome.state, "ok");
      assert.deepEqual(seen.map((p) => p.lineNumber), seen.map((_, i) => i + 1));
      assert.deepEqual(seen.flatMap((p) => p.percent ?? []), [20, 40, 60, 80, 100]);
      assert.equal(seen.at(-1)?.line, "TASK OK");
      assert.ok(seen.every((p) => p.upid === upid));
    } finally {
      pve.close();
    }
  });
});

Deno.test("vzdump and download progress percentages come through the callback", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const backup = await pve.post<string>("/nodes/pve1/vzdump", {
        vmid: "100",
        storage: "nas",
        mode: "snapshot",
      });
      const backupPercents: number[] = [];
      const b = await pve.waitForTask(backup, {
        ...FAST,
        onProgress: (p) => p.percent !== undefined && backupPercents.push(p.percent),
      });
      assert.equal(b.state, "ok");
      assert.deepEqual(backupPercents, [10, 25, 50, 75, 100]);
      const download = await pve.post<string>("/nodes/pve1/storage/local/download-url", {
        content: "iso",
        filename: "alpine.iso",
        url: "https://example.com/alpine.iso",
      });
      const downloadPercents: number[] = [];
      const d = await pve.waitForTask(download, {
        ...FAST,
        onProgress: (p) => p.percent !== undefined && downloadPercents.push(p.percent),
      });
      assert.equal(d.state, "ok");
      assert.deepEqual(downloadPercents, [20, 40, 60, 80, 100]);
    } finally {
      pve.close();
    }
  });
});

Deno.test("a failing task returns state failed with PVE's error text and log tail", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const upid = await pve.post<string>("/nodes/pve1/qemu/100/status/start");
      const outcome = await pve.waitForTask(upid, FAST);
      assert.equal(outcome.state, "failed");
      assert.ok(outcome.state === "failed" && /already running/.test(outcome.exitstatus));
      assert.match(outcome.logTail.at(-1) ?? "", /^TASK ERROR: .*already running/);
      assert.throws(() => assertTaskSucceeded(outcome), (error: unknown) => {
        assert.ok(error instanceof PveTaskError);
        assert.equal(error.upid, upid);
        assert.equal(error.node, "pve1");
        assert.match(error.message, /already running/);
        assert.ok(error.logTail.length > 0);
        return true;
      });
    } finally {
      pve.close();
    }
  });
});

Deno.test("a task ending WARNINGS: n is a success with the warnings surfaced", async () => {
  const warns = route(
    "POST",
    "/nodes/{node}/qemu/{vmid}/status/resume",
    ({ sim, auth, params }) =>
      sim.startTask(
        auth,
        { node: String(params.node), type: "qmresume", id: String(params.vmid) },
        (task) => {
          task.log("resuming VM");
          task.warn("guest agent did not answer");
          return Promise.resolve();
        },
      ),
  );
  await withSim({ speed: "instant", routes: [...allRoutes, warns] }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const upid = await pve.post<string>("/nodes/pve1/qemu/100/status/resume");
      const outcome = await pve.waitForTask(upid, FAST);
      assert.equal(outcome.state, "warnings");
      assert.ok(
        outcome.state === "warnings" && outcome.warningCount === 1 &&
          outcome.exitstatus === "WARNINGS: 1",
      );
      assert.deepEqual(outcome.warnings, ["guest agent did not answer"]);
      assertTaskSucceeded(outcome);
    } finally {
      pve.close();
    }
  });
});

Deno.test("waiting stops at the timeout, returns the UPID and leaves the task running", async () => {
  await withSim({ speed: FROZEN }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const upid = await pve.post<string>("/nodes/pve1/qemu/9000/clone", {
        newid: 151,
        name: "c2",
        full: true,
      });
      const outcome = await pve.waitForTask(upid, { pollIntervalsMs: [5], timeoutMs: 40 });
      assert.equal(outcome.state, "timeout");
      assert.equal(outcome.upid, upid);
      const status = await pve.get<{ status: string }>(
        `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`,
      );
      assert.equal(status.status, "running");
      const log = await requests(sim);
      assert.ok(!log.some((r) => r.method === "DELETE"));
      // Waiting again picks the task up where it is and sees it finish.
      const again = pve.waitForTask(upid, FAST);
      await driveClock(sim, again);
      assert.equal((await again).state, "ok");
    } finally {
      pve.close();
    }
  });
});

Deno.test("waiting stops on abort and returns the UPID without stopping the task", async () => {
  await withSim({ speed: FROZEN }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const upid = await pve.post<string>("/nodes/pve1/qemu/9000/clone", {
        newid: 152,
        name: "c3",
        full: true,
      });
      const controller = new AbortController();
      const outcome = await pve.waitForTask(upid, {
        ...FAST,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      });
      assert.equal(outcome.state, "aborted");
      assert.equal(outcome.upid, upid);
      assert.ok(outcome.logTail.length >= 1);
      const status = await pve.get<{ status: string }>(
        `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`,
      );
      assert.equal(status.status, "running");
    } finally {
      pve.close();
    }
  });
});

Deno.test("a task wait survives a transient status-poll failure", async () => {
  await withSim({ speed: FROZEN }, async (sim) => {
    const pve = tokenClient(sim, { retry: { attempts: 0 } });
    try {
      const upid = await pve.post<string>("/nodes/pve1/qemu/9000/clone", {
        newid: 153,
        name: "c4",
        full: true,
      });
      await control(sim, "POST", "/_sim/faults", {
        method: "GET",
        path: "/nodes/*/tasks/*/status",
        status: 503,
        count: 2,
      });
      const waiting = pve.waitForTask(upid, FAST);
      await driveClock(sim, waiting);
      assert.equal((await waiting).state, "ok");
      const statuses = (await requests(sim)).filter((r) => r.path.endsWith("/status")).map((r) =>
        r.status
      );
      assert.deepEqual(statuses.slice(0, 2), [503, 503]);
    } finally {
      pve.close();
    }
  });
});
