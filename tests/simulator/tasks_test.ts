import assert from "node:assert/strict";
import { Clock } from "../../src/simulator/clock.ts";
import { TaskFailure } from "../../src/simulator/errors.ts";
import type { AuthInfo } from "../../src/simulator/router.ts";
import { emptyState } from "../../src/simulator/state.ts";
import { splitTaskUser, TaskEngine } from "../../src/simulator/tasks.ts";
import { formatUpid, parseUpid } from "../../src/simulator/upid.ts";
import {
  addGuest,
  call,
  data,
  runTask,
  startGuestSimulator,
  until,
  waitTask,
} from "./_guest_helpers.ts";
import { api, login, rootToken } from "./_helpers.ts";

const ROOT: AuthInfo = { kind: "ticket", userid: "root@pam" };
const TOKEN: AuthInfo = { kind: "token", userid: "root@pam", tokenid: "root@pam!mcp" };

Deno.test("UPIDs are formatted with uppercase zero-padded hex and parse back", () => {
  const upid = formatUpid({
    node: "pve",
    pid: 0x45530,
    pstart: 0x88bcd9,
    starttime: 0x6a855ec4,
    type: "qmstart",
    id: "100",
    user: "terraform-prov@pve!mytoken",
  });
  assert.equal(upid, "UPID:pve:00045530:0088BCD9:6A855EC4:qmstart:100:terraform-prov@pve!mytoken:");
  assert.deepEqual(parseUpid(upid), {
    node: "pve",
    pid: 0x45530,
    pstart: 0x88bcd9,
    starttime: 0x6a855ec4,
    type: "qmstart",
    id: "100",
    user: "terraform-prov@pve!mytoken",
  });
  assert.equal(parseUpid("UPID:pve:1:2:3:x:y:z:"), undefined);
  assert.equal(parseUpid("UPID:pve:00045530:0088BCD9:6A855EC4:vzdump::root@pam:")?.id, "");
  assert.deepEqual(splitTaskUser("root@pam!mcp"), { user: "root@pam", tokenid: "mcp" });
  assert.deepEqual(splitTaskUser("root@pam"), { user: "root@pam" });
});

Deno.test("a task returns its UPID first, then runs and ends with exactly one final line", async () => {
  const state = emptyState();
  const clock = new Clock("instant", 1_722_868_674);
  const engine = new TaskEngine(state, clock);
  const order: string[] = [];
  const ok = engine.start(TOKEN, { node: "pve", type: "qmstart", id: "100" }, async (task) => {
    order.push("body");
    task.log("first line\nsecond line");
    await task.sleep(2);
  });
  order.push("returned");
  assert.match(ok, /^UPID:pve:[0-9A-F]{8}:[0-9A-F]{8}:66B0E3C2:qmstart:100:root@pam!mcp:$/);
  assert.equal(state.tasks[0]?.status, "running");
  const warn = engine.start(ROOT, { node: "pve", type: "vzdump", id: "" }, (task) => {
    task.warn("something odd");
    task.warn("again");
    return Promise.resolve();
  });
  const fail = engine.start(ROOT, { node: "pve", type: "qmstart", id: "101" }, () => {
    return Promise.reject(new TaskFailure("VM 101 already running\nsecond line\n"));
  });
  await Promise.all([engine.finished(ok), engine.finished(warn), engine.finished(fail)]);
  assert.deepEqual(order, ["returned", "body"]);
  const [a, b, c] = state.tasks;
  assert.deepEqual(a?.log, ["first line", "second line", "TASK OK"]);
  assert.equal(a?.exitstatus, "OK");
  assert.equal(a?.status, "stopped");
  assert.equal(typeof a?.endtime, "number");
  assert.deepEqual(b?.log, ["WARN: something odd", "WARN: again", "TASK WARNINGS: 2"]);
  assert.equal(b?.exitstatus, "WARNINGS: 2");
  assert.equal(c?.log.at(-1), "TASK ERROR: VM 101 already running second line");
  assert.equal(c?.exitstatus, "VM 101 already running second line");
  assert.notEqual(a?.pid, b?.pid);
  await engine.shutdown();
});

Deno.test("stopping a task makes its sleep throw and the task end 'received interrupt'", async () => {
  const state = emptyState();
  const clock = new Clock(1);
  const engine = new TaskEngine(state, clock);
  const upid = engine.start(ROOT, { node: "pve", type: "vzdump", id: "" }, async (task) => {
    task.log("INFO: starting");
    await task.sleep(10_000);
    task.log("never reached");
  });
  await until(() => state.tasks[0]?.log.length === 1, "the task logged");
  state.tasks[0]?.abort.abort();
  await engine.finished(upid);
  assert.deepEqual(state.tasks[0]?.log, ["INFO: starting", "TASK ERROR: received interrupt"]);
  assert.equal(state.tasks[0]?.exitstatus, "received interrupt");
  const late = engine.start(
    ROOT,
    { node: "pve", type: "vzdump", id: "" },
    (task) => task.sleep(10_000),
  );
  await engine.shutdown();
  assert.equal(state.tasks.find((t) => t.upid === late)?.exitstatus, "received interrupt");
});

Deno.test("task status has PVE's exact fields, split token user and no endtime", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 900 });
    const start = await runTask(handle, "POST", "/nodes/pve1/qemu/900/status/start");
    const path = `/nodes/pve1/tasks/${encodeURIComponent(start.upid)}`;
    const status = await data(call(handle, "GET", `${path}/status`)) as Record<string, unknown>;
    const parsed = parseUpid(start.upid);
    assert.deepEqual(status, {
      upid: start.upid,
      node: "pve1",
      pid: parsed?.pid,
      pstart: parsed?.pstart,
      starttime: parsed?.starttime,
      type: "qmstart",
      id: "900",
      user: "root@pam",
      tokenid: "mcp",
      status: "stopped",
      exitstatus: "OK",
    });
    assert.deepEqual(await data(call(handle, "GET", path)), [{ name: "log" }, { name: "status" }]);

    const bad = await call(handle, "GET", "/nodes/pve1/tasks/UPID:nonsense/status");
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors, { upid: "unable to parse worker upid" });
    const unknown = start.upid.replace(":qmstart:", ":qmstop:");
    const missing = await call(
      handle,
      "GET",
      `/nodes/pve1/tasks/${encodeURIComponent(unknown)}/status`,
    );
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.errors, { upid: "no such task" });
    const otherNode = await call(
      handle,
      "GET",
      `/nodes/pve2/tasks/${encodeURIComponent(start.upid)}/log`,
    );
    assert.equal(otherNode.status, 400);
    assert.deepEqual(otherNode.body.errors, { upid: "no such task" });

    const session = await login(handle);
    const ticketTask = await api(handle, "POST", "/nodes/pve1/qemu/900/status/stop", { session });
    assert.match(ticketTask.body.data, /:qmstop:900:root@pam:$/);
    const ticketStatus = await data(
      call(handle, "GET", `/nodes/pve1/tasks/${encodeURIComponent(ticketTask.body.data)}/status`),
    ) as Record<string, unknown>;
    assert.equal(ticketStatus.user, "root@pam");
    assert.equal("tokenid" in ticketStatus, false);
  } finally {
    await handle.close();
  }
});

Deno.test("task logs page with 0-based start, 1-based n, total and limit 0 to the end", async () => {
  const handle = await startGuestSimulator();
  try {
    const upid = handle.sim.startTask(
      { kind: "token", userid: "root@pam", tokenid: "root@pam!mcp" },
      { node: "pve1", type: "vzdump", id: "" },
      (task) => {
        for (let i = 1; i <= 60; i++) task.log(`INFO: line ${i}`);
        return Promise.resolve();
      },
    );
    await waitTask(handle, upid);
    const path = `/nodes/pve1/tasks/${encodeURIComponent(upid)}/log`;
    const first = await call(handle, "GET", path);
    assert.equal(first.body.total, 61);
    assert.equal(first.body.data.length, 50);
    assert.deepEqual(first.body.data[0], { n: 1, t: "INFO: line 1" });
    const page = await call(handle, "GET", path, { start: 58, limit: 5 });
    assert.deepEqual(page.body.data, [
      { n: 59, t: "INFO: line 59" },
      { n: 60, t: "INFO: line 60" },
      {
        n: 61,
        t: "TASK OK",
      },
    ]);
    assert.equal(page.body.total, 61);
    const all = await call(handle, "GET", path, { limit: 0 });
    assert.equal(all.body.data.length, 61);
    const past = await call(handle, "GET", path, { start: 100 });
    assert.deepEqual(past.body.data, []);
    assert.equal(past.body.total, 61);
  } finally {
    await handle.close();
  }
});

Deno.test("DELETE stops a running task; an empty log reads 'no content'", async () => {
  const handle = await startGuestSimulator({ speed: 1 });
  try {
    const upid = handle.sim.startTask(
      { kind: "token", userid: "root@pam", tokenid: "root@pam!mcp" },
      { node: "pve1", type: "vzdump", id: "900" },
      (task) => task.sleep(100_000),
    );
    const path = `/nodes/pve1/tasks/${encodeURIComponent(upid)}`;
    const log = await call(handle, "GET", `${path}/log`);
    assert.deepEqual(log.body.data, [{ n: 1, t: "no content" }]);
    assert.equal(log.body.total, 1);
    const running = await data(call(handle, "GET", `${path}/status`)) as Record<string, unknown>;
    assert.equal(running.status, "running");
    assert.equal("exitstatus" in running, false);

    const active = await call(handle, "GET", "/nodes/pve1/tasks", { source: "active" });
    assert.equal(active.body.data[0]?.upid, upid);
    assert.equal(active.body.data[0]?.status, "RUNNING");
    const archive = await call(handle, "GET", "/nodes/pve1/tasks");
    assert.equal(archive.body.data.some((t: Record<string, unknown>) => t.upid === upid), false);
    const cluster = await data(call(handle, "GET", "/cluster/tasks")) as Record<string, unknown>[];
    const entry = cluster.find((t) => t.upid === upid);
    assert.equal(entry?.saved, 0);

    const stop = await call(handle, "DELETE", path);
    assert.equal(stop.status, 200, stop.text);
    assert.equal(stop.body.data, null);
    const done = await waitTask(handle, upid);
    assert.equal(done.exitstatus, "received interrupt");
    assert.deepEqual(done.lines, ["TASK ERROR: received interrupt"]);
  } finally {
    await handle.close();
  }
});

Deno.test("the task list filters, pages newest first and reports total", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 901 });
    addGuest(handle, { vmid: 902 });
    await runTask(handle, "POST", "/nodes/pve1/qemu/901/status/start");
    await runTask(handle, "POST", "/nodes/pve1/qemu/902/status/start");
    await runTask(handle, "POST", "/nodes/pve1/qemu/901/status/start"); // error: already running
    await runTask(handle, "POST", "/nodes/pve1/qemu/902/status/stop");

    const all = await call(handle, "GET", "/nodes/pve1/tasks", { limit: 1000 });
    const mine = (all.body.data as Record<string, unknown>[]).filter((t) =>
      t.id === "901" || t.id === "902"
    );
    assert.deepEqual(mine.map((t) => `${t.type}:${t.id}`), [
      "qmstop:902",
      "qmstart:901",
      "qmstart:902",
      "qmstart:901",
    ]);
    assert.equal(mine[1]?.status, "VM 901 already running");
    assert.equal(mine[0]?.status, "OK");
    assert.equal(mine[0]?.user, "root@pam");
    assert.equal(mine[0]?.tokenid, "mcp");
    assert.equal(typeof mine[0]?.endtime, "number");
    assert.equal(all.body.total, all.body.data.length);

    const byVmid = await call(handle, "GET", "/nodes/pve1/tasks", { vmid: 901 });
    assert.equal(byVmid.body.total, 2);
    const errors = await call(handle, "GET", "/nodes/pve1/tasks", { vmid: 901, errors: 1 });
    assert.equal(errors.body.total, 1);
    const types = await call(handle, "GET", "/nodes/pve1/tasks", {
      typefilter: "qmstop",
      vmid: 902,
    });
    assert.equal(types.body.total, 1);
    const statusOk = await call(handle, "GET", "/nodes/pve1/tasks", {
      vmid: 901,
      statusfilter: "ok",
    });
    assert.equal(statusOk.body.total, 1);
    const statusErr = await call(handle, "GET", "/nodes/pve1/tasks", {
      vmid: 901,
      statusfilter: "error",
    });
    assert.equal(statusErr.body.data[0]?.status, "VM 901 already running");
    const users = await call(handle, "GET", "/nodes/pve1/tasks", { userfilter: "nobody" });
    assert.equal(users.body.total, 0);
    const paged = await call(handle, "GET", "/nodes/pve1/tasks", { vmid: 901, start: 1, limit: 1 });
    assert.equal(paged.body.data.length, 1);
    assert.equal(paged.body.total, 2);
    const until = await call(handle, "GET", "/nodes/pve1/tasks", { until: 1 });
    assert.equal(until.body.total, 0);

    const cluster = await data(call(handle, "GET", "/cluster/tasks")) as Record<string, unknown>[];
    const finished = cluster.filter((t) => t.node === "pve1" && t.saved === 1);
    assert.ok(finished.length > 0 && finished.length <= 25);
  } finally {
    await handle.close();
  }
});

Deno.test("users without Sys.Audit on the node see and read only their own tasks", async () => {
  const handle = await startGuestSimulator({ speed: 1 });
  try {
    const operator = "operator@pve!ops=a1b2c3d4-0000-4000-8000-000000000002";
    const rootTask = handle.sim.startTask(
      { kind: "ticket", userid: "root@pam" },
      { node: "pve1", type: "vzdump", id: "" },
      (task) => task.sleep(100_000),
    );
    const own = await api(handle, "POST", "/nodes/pve1/qemu/100/status/reboot", {
      token: operator,
    });
    assert.equal(own.status, 200, own.text);
    assert.match(own.body.data, /:qmreboot:100:operator@pve!ops:$/);

    const list = await api(handle, "GET", "/nodes/pve1/tasks", {
      token: operator,
      params: { source: "all" },
    });
    assert.deepEqual(list.body.data.map((t: Record<string, unknown>) => t.upid), [own.body.data]);
    assert.equal(list.body.data[0].user, "operator@pve");
    assert.equal(list.body.data[0].tokenid, "ops");

    const path = `/nodes/pve1/tasks/${encodeURIComponent(rootTask)}`;
    const read = await api(handle, "GET", `${path}/status`, { token: operator });
    assert.equal(read.status, 403);
    assert.equal(read.body.message, "Permission check failed (/nodes/pve1, Sys.Audit)\n");
    const stop = await api(handle, "DELETE", path, { token: operator });
    assert.equal(stop.status, 403);
    const mine = await api(
      handle,
      "GET",
      `/nodes/pve1/tasks/${encodeURIComponent(own.body.data)}/status`,
      {
        token: operator,
      },
    );
    assert.equal(mine.status, 200, mine.text);

    const vms = await api(handle, "GET", "/nodes/pve1/qemu", { token: operator });
    assert.deepEqual(vms.body.data.map((v: Record<string, unknown>) => v.vmid).sort(), [100, 102]);
    assert.equal((await call(handle, "DELETE", path)).status, 200);
  } finally {
    await handle.close();
  }
});

Deno.test("a task log with download=1 is the raw text file and refuses start and limit", async () => {
  const handle = await startGuestSimulator();
  try {
    const upid = handle.sim.startTask(TOKEN, { node: "pve1", type: "vzdump", id: "" }, (task) => {
      task.log("INFO: one");
      task.log("INFO: two");
      return Promise.resolve();
    });
    await waitTask(handle, upid);
    const path = `/nodes/pve1/tasks/${encodeURIComponent(upid)}/log`;
    const response = await fetch(`${handle.api}${path}?download=1`, {
      headers: { Authorization: `PVEAPIToken=${rootToken(handle)}` },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain");
    assert.equal(await response.text(), "INFO: one\nINFO: two\nTASK OK\n");
    for (const name of ["start", "limit"]) {
      const refused = await api(handle, "GET", path, {
        params: { download: 1, [name]: 1 },
        token: true,
      });
      assert.equal(refused.status, 500);
      assert.equal(refused.body.message, `Parameter '${name}' not allowed with 'download'\n`);
    }
  } finally {
    await handle.close();
  }
});
