import assert from "node:assert/strict";
import { allOrAbort } from "../../src/tools/_shared/parallel.ts";
import { findRunningTask } from "../../src/tools/_shared/guest.ts";
import { taskItem } from "../../src/tools/_shared/tasks.ts";
import type { GuestRef } from "../../src/pve/mod.ts";
import type { ToolContext } from "../../src/tools/types.ts";
import { clusterStatus } from "../../src/tools/inventory/cluster_status.ts";
import { guestGet } from "../../src/tools/inventory/guest_get.ts";
import { guestList } from "../../src/tools/inventory/guest_list.ts";
import { guestStart } from "../../src/tools/lifecycle/guest_start.ts";
import { guestShutdown } from "../../src/tools/lifecycle/guest_shutdown.ts";
import { guestClone } from "../../src/tools/provisioning/guest_clone.ts";
import { guestDelete } from "../../src/tools/provisioning/guest_delete.ts";
import { guestTemplate } from "../../src/tools/provisioning/guest_template.ts";
import { snapshotCreate } from "../../src/tools/snapshots/snapshot_create.ts";
import { taskList } from "../../src/tools/tasks/task_list.ts";
import { control } from "../pve/_sim.ts";
import { openSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [
  clusterStatus,
  guestGet,
  guestList,
  guestStart,
  guestShutdown,
  snapshotCreate,
  taskList,
];

Deno.test('a lock key present but empty ("lock": "") reads as unlocked everywhere', async () => {
  const s = await openSession({ tools });
  try {
    await control(s.sim, "POST", "/_sim/guests/100/lock", { lock: "" });
    const raw = await s.pve.get<Record<string, unknown>>("/nodes/pve1/qemu/100/status/current");
    assert.equal(raw.lock, "", "the simulator serves the empty lock");
    const got = structuredOf<{ lock?: string }>(await s.call("guest_get", { vmid: 100 }));
    assert.equal(got.lock, undefined);
    const listed = structuredOf<{ guests: { vmid: number; lock?: string }[] }>(
      await s.call("guest_list", { fields: ["vmid", "lock"] }),
    );
    assert.equal(listed.guests.find((g) => g.vmid === 100)?.lock, undefined);
    const snap = await s.call("snapshot_create", { vmid: 100, snapshot: "empty1" });
    assert.equal(snap.isError, undefined, textOf(snap));
    const shutdown = await s.call("guest_shutdown", { vmid: 100 });
    assert.equal(shutdown.isError, undefined, textOf(shutdown));
    assert.doesNotMatch(textOf(shutdown), /locked/);
  } finally {
    await s.close();
  }
});

Deno.test("task rows without type, start, status or user are completed from the UPID and sorted by start", async () => {
  const s = await openSession({ tools });
  try {
    const first = structuredOf<{ upid: string }>(await s.call("guest_start", { vmid: 103 }));
    await control(s.sim, "POST", "/_sim/clock/advance", { seconds: 60 });
    const second = structuredOf<{ upid: string }>(await s.call("guest_shutdown", { vmid: 103 }));
    const quirks = await control(s.sim, "POST", "/_sim/quirks", { sparse_task_rows: true });
    assert.deepEqual(quirks, { sparse_task_rows: true, json_booleans: false });
    const raw = await s.pve.get<Record<string, unknown>[]>("/nodes/pve3/tasks");
    assert.ok(raw.every((row) => row.type === undefined && row.user === undefined));
    for (const args of [{ node: "pve3", vmid: 103 }, { vmid: 103 }]) {
      const out = structuredOf<{ tasks: Record<string, unknown>[] }>(
        await s.call("task_list", args),
      );
      const ours = out.tasks.filter((t) => t.upid === first.upid || t.upid === second.upid);
      assert.equal(ours.length, 2, JSON.stringify(args));
      assert.equal(ours[0]?.upid, second.upid, "newest first");
      assert.equal(ours[0]?.type, "qmshutdown");
      assert.equal(ours[1]?.type, "qmstart");
      for (const task of ours) {
        assert.equal(task.node, "pve3");
        assert.equal(task.id, "103");
        assert.match(String(task.user), /@/);
        assert.match(String(task.start_time), /^\d{4}-\d\d-\d\dT/);
      }
    }
  } finally {
    await s.close();
  }
});

Deno.test("a sparse finished row is not called running, and a PVE running row still is", () => {
  const upid = "UPID:pve1:00001234:00005678:66B0E3C2:qmstart:100:root@pam:";
  const sparse = taskItem({ upid, node: "pve1", endtime: 1722868700 });
  assert.equal(sparse.running, false);
  assert.equal(sparse.type, "qmstart");
  assert.equal(sparse.user, "root@pam");
  assert.equal(sparse.start_time, "2024-08-05T14:37:54Z");
  const bare = taskItem({ upid });
  assert.equal(bare.running, false);
  assert.equal(bare.status, "unknown");
  const pveRunning = taskItem({ upid, node: "pve1", type: "qmstart", starttime: 1722868674 });
  assert.equal(pveRunning.running, true);
  assert.equal(taskItem({ upid, saved: 0 }).running, true);
});

Deno.test("booleans sent as JSON true/false read like PVE's 0/1", async () => {
  const s = await openSession({ tools });
  try {
    const before = {
      template: structuredOf<{ guests: unknown[] }>(
        await s.call("guest_list", { template: true }),
      ),
      get: structuredOf<Record<string, unknown>>(await s.call("guest_get", { vmid: 9000 })),
      status: structuredOf<Record<string, unknown>>(await s.call("cluster_status")),
    };
    await control(s.sim, "POST", "/_sim/quirks", { json_booleans: true });
    const raw = await s.pve.get<Record<string, unknown>[]>("/cluster/resources", { type: "vm" });
    assert.equal(raw.find((g) => g.vmid === 9000)?.template, true, "the quirk is served");
    s.pve.invalidateInventory();
    const after = {
      template: structuredOf<{ guests: unknown[] }>(
        await s.call("guest_list", { template: true }),
      ),
      get: structuredOf<Record<string, unknown>>(await s.call("guest_get", { vmid: 9000 })),
      status: structuredOf<Record<string, unknown>>(await s.call("cluster_status")),
    };
    assert.deepEqual(after.template, before.template);
    assert.equal(after.get.template, true);
    assert.deepEqual(after.get.template, before.get.template);
    assert.deepEqual(after.status.nodes, before.status.nodes);
    assert.equal(after.status.quorate, before.status.quorate);
  } finally {
    await s.close();
  }
});

Deno.test("the task blamed for a lock is that guest's and still running", async () => {
  const upid = (type: string, id: string) =>
    `UPID:pve1:00001234:00005678:66B0E3C2:${type}:${id}:root@pam:`;
  const rows: Record<string, unknown>[] = [
    { upid: upid("vzdump", "101"), type: "vzdump", status: "RUNNING" }, // another guest
    { upid: upid("vzdump", "100"), type: "vzdump", status: "OK", endtime: 1722868700 }, // done
    { upid: upid("qmsnapshot", "100"), type: "qmsnapshot" }, // ours, running
  ];
  const ctx = {
    signal: new AbortController().signal,
    client: { get: () => Promise.resolve(rows) },
  } as unknown as ToolContext;
  const guest = { vmid: 100, node: "pve1", type: "qemu" } as GuestRef;
  assert.deepEqual(await findRunningTask(guest, ctx), {
    upid: upid("qmsnapshot", "100"),
    type: "qmsnapshot",
  });
  rows.pop();
  assert.equal(await findRunningTask(guest, ctx), undefined);
});

Deno.test("when one parallel request fails, its siblings are aborted", async () => {
  const seen: string[] = [];
  const slow = (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve("late"), 10_000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        seen.push("aborted");
        reject(signal.reason);
      });
    });
  await assert.rejects(
    allOrAbort(new AbortController().signal, [
      slow,
      () => Promise.reject(new Error("config read failed")),
      slow,
    ]),
    /config read failed/,
  );
  assert.deepEqual(seen, ["aborted", "aborted"]);
  const ok = await allOrAbort(new AbortController().signal, [
    () => Promise.resolve(1),
    () => Promise.resolve("two"),
  ]);
  assert.deepEqual(ok, [1, "two"]);
});

Deno.test('guest_clone clones a source whose lock is present but empty ("lock": "")', async () => {
  // Found by the fuzz suite: the clone plan read the empty lock as a lock and refused with
  // "VM 9000 is locked ()".
  const s = await openSession({ tools: [guestClone] });
  try {
    await control(s.sim, "POST", "/_sim/guests/9000/lock", { lock: "" });
    const result = await s.call("guest_clone", { vmid: 9000, new_vmid: 333, dry_run: true });
    assert.notEqual(result.isError, true, textOf(result));
    assert.doesNotMatch(textOf(result), /locked/);
  } finally {
    await s.close();
  }
});

Deno.test('guest_delete and guest_template plan for a guest whose lock is present but empty ("lock": "")', async () => {
  // Found by the fuzz suite: both plans read the empty lock as a lock ("VM 103 is locked ()").
  const s = await openSession({ tools: [guestDelete, guestTemplate] });
  try {
    await control(s.sim, "POST", "/_sim/guests/103/lock", { lock: "" });
    for (const tool of ["guest_delete", "guest_template"]) {
      const result = await s.call(tool, { vmid: 103, dry_run: true });
      assert.notEqual(result.isError, true, `${tool}: ${textOf(result)}`);
      assert.doesNotMatch(textOf(result), /locked/, tool);
    }
  } finally {
    await s.close();
  }
});
