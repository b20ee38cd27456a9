import assert from "node:assert/strict";
import { guestShutdown } from "../../src/tools/lifecycle/guest_shutdown.ts";
import { snapshotCreate } from "../../src/tools/snapshots/snapshot_create.ts";
import { snapshotDelete } from "../../src/tools/snapshots/snapshot_delete.ts";
import { snapshotList } from "../../src/tools/snapshots/snapshot_list.ts";
import { snapshotRollback } from "../../src/tools/snapshots/snapshot_rollback.ts";
import { openSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [snapshotList, snapshotCreate, snapshotRollback, snapshotDelete, guestShutdown];

interface Snap {
  name: string;
  parent?: string;
  time?: string;
  vmstate: boolean;
  current: boolean;
}

Deno.test("snapshot_list shows the tree with parents, RAM state, ISO times and the current marker", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("snapshot_list", { name: "db01" });
    const out = structuredOf<{ snapshots: Snap[]; current_parent?: string; count: number }>(result);
    assert.equal(out.count, 2);
    assert.equal(out.current_parent, "pre-upgrade2");
    const [first, second] = out.snapshots;
    assert.equal(first?.name, "pre-upgrade");
    assert.equal(first?.current, false);
    assert.equal(second?.name, "pre-upgrade2");
    assert.equal(second?.parent, "pre-upgrade");
    assert.equal(second?.vmstate, true);
    assert.equal(second?.current, true);
    assert.match(second?.time ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(
      textOf(result),
      /- pre-upgrade.*\n {2}- pre-upgrade2 \(.*with RAM, <- current state\)/,
    );
    const none = await s.call("snapshot_list", { vmid: 200 });
    assert.match(textOf(none), /has no snapshots/);
  } finally {
    await s.close();
  }
});

Deno.test("snapshot_create rejects invalid names before any request", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    for (
      const [name, why] of [
        ["1st", /must start with a letter/],
        ["a", /at least 2 characters/],
        ["has space", /only letters, digits/],
        ["current", /reserved name/],
        ["x".repeat(41), /40 characters/],
      ] as const
    ) {
      const result = await s.call("snapshot_create", { vmid: 100, snapshot: name });
      assert.equal(result.isError, true);
      assert.match(textOf(result), why);
      assert.match(textOf(result), /Use a name like "/);
    }
    assert.deepEqual(await s.requests(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("snapshot_create takes a described snapshot with RAM, waits, and refuses a duplicate name in the plan", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("snapshot_create", {
      name: "web01",
      snapshot: "before-patch",
      description: "before the kernel patch",
      vmstate: true,
    });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.result, "ok");
    assert.match(String(out.upid), /:qmsnapshot:100:/);
    const writes = await s.writes();
    assert.equal(writes.length, 1);
    assert.equal(writes[0]?.path, "/nodes/pve1/qemu/100/snapshot");
    assert.equal(writes[0]?.body.snapname, "before-patch");
    assert.equal(String(writes[0]?.body.vmstate), "1");
    assert.equal(writes[0]?.body.description, "before the kernel patch");

    const list = structuredOf<{ snapshots: Snap[] }>(await s.call("snapshot_list", { vmid: 100 }));
    assert.deepEqual(list.snapshots.map((x) => x.name), ["before-patch"]);

    const dup = await s.call("snapshot_create", { vmid: 100, snapshot: "before-patch" });
    assert.equal(dup.isError, true);
    assert.match(textOf(dup), /already exists on VM 100 \(web01\): choose another name/);
    assert.equal((await s.writes()).length, 1);

    const ct = await s.call("snapshot_create", { vmid: 200, snapshot: "ct-snap", vmstate: true });
    assert.equal(ct.isError, true);
    assert.match(textOf(ct), /vmstate is only for VMs/);
  } finally {
    await s.close();
  }
});

Deno.test("snapshot_rollback and snapshot_delete check the snapshot exists and list the real names", async () => {
  const s = await openSession({ tools });
  try {
    for (const tool of ["snapshot_rollback", "snapshot_delete"]) {
      const result = await s.call(tool, { vmid: 102, snapshot: "pre-upgrde" });
      assert.equal(result.isError, true);
      assert.match(
        textOf(result),
        /Snapshot "pre-upgrde" does not exist on VM 102 \(db01\): existing snapshots are "pre-upgrade", "pre-upgrade2"/,
      );
    }
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("snapshot_delete and snapshot_rollback run their task; dry_run sends nothing", async () => {
  const s = await openSession({ tools });
  try {
    const dry = structuredOf<Record<string, unknown>>(
      await s.call("snapshot_delete", {
        vmid: 102,
        snapshot: "pre-upgrade2",
        force: true,
        dry_run: true,
      }),
    );
    assert.deepEqual(dry.calls, [{
      method: "DELETE",
      path: "/nodes/pve1/qemu/102/snapshot/pre-upgrade2",
      params: { force: 1 },
    }]);
    assert.deepEqual(await s.writes(), []);

    const rollback = await s.call("snapshot_rollback", { vmid: 102, snapshot: "pre-upgrade" });
    assert.equal(rollback.isError, undefined, textOf(rollback));
    assert.match(String(structuredOf(rollback).upid), /:qmrollback:102:/);

    const deleted = await s.call("snapshot_delete", { vmid: 102, snapshot: "pre-upgrade2" });
    assert.equal(deleted.isError, undefined, textOf(deleted));
    const left = structuredOf<{ snapshots: Snap[] }>(await s.call("snapshot_list", { vmid: 102 }));
    assert.deepEqual(left.snapshots.map((x) => x.name), ["pre-upgrade"]);
  } finally {
    await s.close();
  }
});

Deno.test("a guest locked by a running snapshot task names that task's UPID", async () => {
  const s = await openSession({
    tools,
    sim: { speed: 0.001 },
    config: { policy: { wait: { defaultSeconds: 0, maxSeconds: 5 } } },
  });
  try {
    const started = structuredOf<Record<string, unknown>>(
      await s.call("snapshot_create", { vmid: 104, snapshot: "slow", vmstate: true }),
    );
    assert.equal(started.result, "timeout");
    const upid = String(started.upid);
    const blocked = await s.call("guest_shutdown", { vmid: 104 });
    assert.equal(blocked.isError, true);
    assert.equal(
      textOf(blocked),
      `VM 104 is locked (snapshot): wait for task ${upid} with task_wait, then retry.`,
    );
  } finally {
    await s.close();
  }
});

Deno.test("snapshot_delete asks the user with the plan's summary and does nothing when declined", async () => {
  const declined = await openSession({
    tools,
    config: { policy: { confirmation: { fallback: "deny" } } },
    elicit: { action: "decline" },
  });
  try {
    const result = await declined.call("snapshot_delete", { vmid: 102, snapshot: "pre-upgrade" });
    assert.equal(result.isError, true);
    assert.equal(declined.elicitations.length, 1);
    assert.match(
      String(declined.elicitations[0]?.message),
      /Delete snapshot "pre-upgrade" of VM 102 \(db01\)\. \[DELETE \/nodes\/pve1\/qemu\/102\/snapshot\/pre-upgrade\]/,
    );
    assert.deepEqual(await declined.writes(), []);
  } finally {
    await declined.close();
  }
  const accepted = await openSession({
    tools,
    config: { policy: { confirmation: { fallback: "deny" } } },
    elicit: { action: "accept", content: { confirm: true } },
  });
  try {
    const result = await accepted.call("snapshot_delete", { vmid: 102, snapshot: "pre-upgrade2" });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal((await accepted.writes()).length, 1);
    const audit = await accepted.auditLines();
    assert.equal(audit.at(-1)?.tool, "snapshot_delete");
    assert.equal(audit.at(-1)?.outcome, "ok");
    assert.match(String(audit.at(-1)?.upid), /:qmdelsnapshot:102:/);
  } finally {
    await accepted.close();
  }
});

Deno.test("snapshot_rollback warns that a running guest ends up stopped, and 'current' is not a snapshot", async () => {
  const s = await openSession({ tools });
  try {
    const dry = structuredOf<{ summary: string }>(
      await s.call("snapshot_rollback", { vmid: 102, snapshot: "pre-upgrade", dry_run: true }),
    );
    assert.match(dry.summary, /It is running: the rollback stops it and leaves it stopped/);
    const withRam = structuredOf<{ summary: string }>(
      await s.call("snapshot_rollback", { vmid: 102, snapshot: "pre-upgrade2", dry_run: true }),
    );
    assert.doesNotMatch(withRam.summary, /stops it/);
    const restarted = structuredOf<{ summary: string }>(
      await s.call("snapshot_rollback", {
        vmid: 102,
        snapshot: "pre-upgrade",
        start: true,
        dry_run: true,
      }),
    );
    assert.doesNotMatch(restarted.summary, /stops it/);

    const done = await s.call("snapshot_rollback", { vmid: 102, snapshot: "pre-upgrade" });
    assert.equal(done.isError, undefined, textOf(done));
    assert.match(textOf(done), /it is now stopped: start it with guest_start/);

    const current = await s.call("snapshot_rollback", { vmid: 200, snapshot: "current" });
    assert.equal(current.isError, true);
    assert.match(
      textOf(current),
      /"current" is the live state of CT 200 \(pihole\), not a snapshot/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("snapshot_create of a stopped VM with vmstate says no RAM is saved and does not send it", async () => {
  const s = await openSession({ tools });
  try {
    const dry = structuredOf<{ summary: string; calls: { params?: Record<string, unknown> }[] }>(
      await s.call("snapshot_create", {
        vmid: 103,
        snapshot: "cold",
        vmstate: true,
        dry_run: true,
      }),
    );
    assert.match(dry.summary, /\(stopped, so without RAM\)/);
    assert.equal(dry.calls[0]?.params?.vmstate, undefined);
  } finally {
    await s.close();
  }
});
