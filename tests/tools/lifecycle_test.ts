import assert from "node:assert/strict";
import { guestReboot } from "../../src/tools/lifecycle/guest_reboot.ts";
import { guestShutdown } from "../../src/tools/lifecycle/guest_shutdown.ts";
import { guestStart } from "../../src/tools/lifecycle/guest_start.ts";
import { guestStop } from "../../src/tools/lifecycle/guest_stop.ts";
import { guestGet } from "../../src/tools/inventory/guest_get.ts";
import { snapshotList } from "../../src/tools/snapshots/snapshot_list.ts";
import { openSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [guestStart, guestShutdown, guestReboot, guestStop];

interface PowerOut {
  vmid: number;
  action: string;
  result: string;
  status_before: string;
  upid?: string;
  task_state?: string;
  lock?: string;
}

Deno.test("guest_start starts a stopped VM, waits for the task and reports progress", async () => {
  const s = await openSession({ tools });
  try {
    const progress: string[] = [];
    const result = await s.call("guest_start", { name: "win11-desk" }, {
      onprogress: (p) => progress.push(p.message ?? ""),
    });
    assert.equal(result.isError, undefined);
    const out = structuredOf<PowerOut>(result);
    assert.equal(out.vmid, 103);
    assert.equal(out.result, "ok");
    assert.equal(out.status_before, "stopped");
    assert.match(out.upid ?? "", /^UPID:pve3:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmstart:103:/);
    assert.match(textOf(result), /VM 103 \(win11-desk\) started on pve3/);
    assert.ok(progress.length > 0, "expected progress notifications");
    assert.ok(progress.some((m) => /Waiting for task|TASK OK|Start/.test(m)));
    const writes = await s.writes();
    assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), [
      "POST /nodes/pve3/qemu/103/status/start",
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("guest_start on a running guest succeeds with a note and starts no task", async () => {
  const s = await openSession({ tools });
  try {
    for (const vmid of [100, 200]) {
      const result = await s.call("guest_start", { vmid });
      assert.equal(result.isError, undefined);
      const out = structuredOf<PowerOut>(result);
      assert.equal(out.result, "already");
      assert.match(textOf(result), /already running: nothing to do/);
    }
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("guest_start refuses a template with the next step, before any write", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guest_start", { vmid: 9000 });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /is a template and cannot be started: clone it/);
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("guest_shutdown shuts down a container with timeout and force, and is a no-op when stopped", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guest_shutdown", {
      vmid: 202,
      timeout_seconds: 30,
      force_after_timeout: true,
    });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(structuredOf<PowerOut>(result).result, "ok");
    const writes = await s.writes();
    assert.equal(writes.length, 1);
    assert.equal(writes[0]?.path, "/nodes/pve3/lxc/202/status/shutdown");
    assert.equal(String(writes[0]?.body.timeout), "30");
    assert.equal(String(writes[0]?.body.forceStop), "1");

    const again = await s.call("guest_shutdown", { vmid: 202 });
    assert.equal(structuredOf<PowerOut>(again).result, "already");
    assert.match(textOf(again), /already stopped/);
    assert.equal((await s.writes()).length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("guest_reboot of a stopped guest is an error that says to start it", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guest_reboot", { vmid: 103 });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /not running.*guest_start/);
    const ok = await s.call("guest_reboot", { vmid: 104 });
    assert.equal(structuredOf<PowerOut>(ok).result, "ok");
    assert.match(structuredOf<PowerOut>(ok).upid ?? "", /:qmreboot:104:/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_stop under dry_run returns the exact call and sends no write", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guest_stop", { name: "k8s-node2", dry_run: true });
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.dry_run, true);
    assert.deepEqual(out.calls, [{ method: "POST", path: "/nodes/pve3/qemu/105/status/stop" }]);
    assert.deepEqual(await s.writes(), []);
    const real = await s.call("guest_stop", { name: "k8s-node2" });
    assert.equal(structuredOf<PowerOut>(real).result, "ok");
    assert.equal((await s.writes()).length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("a locked guest is reported with the lock and the next step, without a write", async () => {
  const s = await openSession({ tools });
  try {
    await fetch(`${s.sim.url}/_sim/guests/104/lock`, {
      method: "POST",
      body: JSON.stringify({ lock: "backup" }),
    }).then((r) => r.body?.cancel());
    const result = await s.call("guest_shutdown", { vmid: 104 });
    assert.equal(result.isError, true);
    const out = structuredOf<PowerOut>(result);
    assert.equal(out.result, "locked");
    assert.equal(out.lock, "backup");
    assert.match(textOf(result), /^VM 104 is locked \(backup\)/);
    assert.deepEqual(await s.writes(), []);

    const dry = await s.call("guest_shutdown", { vmid: 104, dry_run: true });
    assert.match(String(structuredOf(dry).summary), /locked \(backup\)/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_start on a slow task times out and returns the UPID for task_wait", async () => {
  const s = await openSession({
    tools,
    sim: { speed: 0.001 },
    config: { policy: { wait: { defaultSeconds: 0, maxSeconds: 5 } } },
  });
  try {
    const result = await s.call("guest_start", { vmid: 103 });
    const out = structuredOf<PowerOut>(result);
    assert.equal(out.result, "timeout");
    assert.match(out.upid ?? "", /^UPID:pve3:/);
    assert.match(textOf(result), /still running .*task_wait/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_start on a paused VM says to resume it instead", async () => {
  const s = await openSession({ tools });
  try {
    await s.pve.waitForTask(await s.pve.post<string>("/nodes/pve2/qemu/104/status/suspend"));
    const since = await s.mark();
    const result = await s.call("guest_start", { vmid: 104 });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /is paused, not stopped: resume it/);
    assert.match(textOf(result), /guest_resume/);
    assert.deepEqual(await s.writes(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("a 2026-era client gets the same lifecycle result", async () => {
  const s = await openSession({ tools, era: "modern" });
  try {
    const result = await s.call("guest_start", { vmid: 203 });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(structuredOf<PowerOut>(result).result, "ok");
  } finally {
    await s.close();
  }
});

Deno.test("a power action on an HA-managed guest reports the HA request, not a finished action", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guest_shutdown", { vmid: 101 });
    assert.equal(result.isError, undefined);
    const out = structuredOf<PowerOut>(result);
    assert.equal(out.result, "requested");
    assert.equal(out.task_state, "ok");
    assert.match(out.upid ?? "", /:hastop:101:/);
    assert.match(
      textOf(result),
      /^VM 101 \(web02\) is HA-managed: HA stop requested on pve2; .*guest_get/,
    );
    assert.doesNotMatch(textOf(result), /shut down on pve2/);
  } finally {
    await s.close();
  }
});

Deno.test("a guest on an offline node is refused in one sentence before any call to that node", async () => {
  const s = await openSession({ tools });
  try {
    await fetch(`${s.sim.url}/_sim/nodes/pve3/offline`, { method: "POST" }).then((r) =>
      r.body?.cancel()
    );
    const since = await s.mark();
    const result = await s.call("guest_start", { vmid: 103 });
    assert.equal(result.isError, true);
    assert.equal(
      textOf(result),
      'VM 103 (win11-desk) is on node "pve3", which is offline: it cannot be reached until the node is back (cluster_status shows the nodes).',
    );
    const reached = (await s.requests(since)).filter((r) => r.path.startsWith("/nodes/pve3"));
    assert.deepEqual(reached, []);
  } finally {
    await s.close();
  }
});

Deno.test("guest tools refuse an out-of-scope guest before any request to its node", async () => {
  const s = await openSession({
    tools: [...tools, guestGet, snapshotList],
    config: { policy: { scope: { vmids: ["100-102"] } } },
  });
  try {
    for (
      const [tool, args] of [
        ["guest_start", { name: "win11-desk" }],
        ["guest_stop", { vmid: 103, dry_run: true }],
        ["guest_get", { vmid: 103 }],
        ["snapshot_list", { name: "win11-desk" }],
      ] as const
    ) {
      const since = await s.mark();
      const result = await s.call(tool, args);
      assert.equal(result.isError, true, `${tool} is refused`);
      assert.match(textOf(result), /outside the (configured )?scope/);
      assert.doesNotMatch(textOf(result), /pve3|win11-desk/, `${tool} says nothing of the guest`);
      const touched = (await s.requests(since)).filter((r) => r.path.includes("/103"));
      assert.deepEqual(touched, [], `${tool} sent nothing about guest 103`);
    }
  } finally {
    await s.close();
  }
});
