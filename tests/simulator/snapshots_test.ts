import assert from "node:assert/strict";
import {
  addGuest,
  advanceUntilDone,
  call,
  data,
  runTask,
  startGuestSimulator,
  until,
  waitTask,
} from "./_guest_helpers.ts";

const V = "/nodes/pve1/qemu/800";

Deno.test("snapshots form a tree with parents and the current pseudo entry last", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 800, running: true });
    const s1 = await runTask(handle, "POST", `${V}/snapshot`, { snapname: "pre-upgrade" });
    // The schema facts lack the `description` parameter, so set it in the state.
    const snap = handle.sim.state.guests.get(800)?.snapshots.get("pre-upgrade");
    assert.ok(snap);
    snap.description = "before apt upgrade";
    assert.match(s1.upid, /:qmsnapshot:800:/);
    assert.equal(s1.exitstatus, "OK");
    assert.ok(s1.lines.includes("snapshotting 'drive-scsi0' (local-lvm:vm-800-disk-0)"));
    const s2 = await runTask(handle, "POST", `${V}/snapshot`, { snapname: "with-ram", vmstate: 1 });
    assert.equal(s2.exitstatus, "OK");
    assert.ok(s2.lines.some((l) => l.startsWith("saving VM state and RAM using storage")));

    const list = await data(call(handle, "GET", `${V}/snapshot`)) as Record<string, unknown>[];
    assert.equal(list.length, 3);
    const current = list.at(-1);
    const conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.deepEqual(current, {
      name: "current",
      digest: conf.digest,
      running: 1,
      description: "You are here!",
      parent: "with-ram",
    });
    const first = list.find((s) => s.name === "pre-upgrade");
    assert.equal(first?.description, "before apt upgrade");
    assert.equal(first?.vmstate, 0);
    assert.equal(first?.parent, undefined);
    assert.equal(typeof first?.snaptime, "number");
    const second = list.find((s) => s.name === "with-ram");
    assert.deepEqual(
      { parent: second?.parent, vmstate: second?.vmstate, description: second?.description },
      { parent: "pre-upgrade", vmstate: 1, description: "" },
    );
    assert.equal(conf.parent, "with-ram");

    const snapConf = await data(call(handle, "GET", `${V}/snapshot/pre-upgrade/config`)) as Record<
      string,
      unknown
    >;
    assert.equal(snapConf.description, "before apt upgrade");
    assert.equal(snapConf.memory, "2048");
    const viaConfig = await data(
      call(handle, "GET", `${V}/config`, { snapshot: "pre-upgrade" }),
    ) as Record<
      string,
      unknown
    >;
    assert.equal(viaConfig.description, "before apt upgrade");
    assert.equal(viaConfig.parent, undefined);
    const idx = await data(call(handle, "GET", `${V}/snapshot/pre-upgrade`));
    assert.deepEqual(idx, [{ cmd: "rollback" }, { cmd: "config" }]);

    const dup = await runTask(handle, "POST", `${V}/snapshot`, { snapname: "pre-upgrade" });
    assert.equal(dup.exitstatus, "snapshot name 'pre-upgrade' already used");
    const reserved = await call(handle, "POST", `${V}/snapshot`, { snapname: "pending" });
    assert.equal(reserved.status, 500);
    assert.equal(reserved.body.message, "unable to use snapshot name 'pending' (reserved name)\n");
  } finally {
    await handle.close();
  }
});

Deno.test("rollback restores the snapshot config and starts a VM whose snapshot has RAM", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 800, running: true });
    await runTask(handle, "POST", `${V}/snapshot`, { snapname: "base" });
    await runTask(handle, "POST", `${V}/snapshot`, { snapname: "ram", vmstate: 1 });
    let r = await call(handle, "PUT", `${V}/config`, { name: "changed" });
    assert.equal(r.status, 200, r.text);

    const back = await runTask(handle, "POST", `${V}/snapshot/base/rollback`);
    assert.match(back.upid, /:qmrollback:800:/);
    assert.equal(back.exitstatus, "OK");
    let conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.name, "vm800");
    assert.equal(conf.parent, "base");
    assert.equal(handle.sim.state.guests.get(800)?.status, "stopped");

    const ram = await runTask(handle, "POST", `${V}/snapshot/ram/rollback`);
    assert.equal(ram.exitstatus, "OK");
    assert.equal(handle.sim.state.guests.get(800)?.status, "running");

    await runTask(handle, "POST", `${V}/status/stop`);
    const started = await runTask(handle, "POST", `${V}/snapshot/base/rollback`, { start: 1 });
    assert.equal(started.exitstatus, "OK");
    assert.equal(handle.sim.state.guests.get(800)?.status, "running");

    const missing = await runTask(handle, "POST", `${V}/snapshot/nope/rollback`);
    assert.equal(missing.exitstatus, "snapshot 'nope' does not exist");

    // Deleting a snapshot re-parents its children and the current state.
    const del = await runTask(handle, "DELETE", `${V}/snapshot/base`);
    assert.match(del.upid, /:qmdelsnapshot:800:/);
    assert.equal(del.exitstatus, "OK");
    const list = await data(call(handle, "GET", `${V}/snapshot`)) as Record<string, unknown>[];
    assert.deepEqual(list.map((s) => s.name), ["ram", "current"]);
    assert.equal(list[0]?.parent, undefined);
    assert.equal(list[1]?.parent, undefined);
    conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.parent, undefined);
    const gone = await runTask(handle, "DELETE", `${V}/snapshot/base`);
    assert.equal(gone.exitstatus, "snapshot 'base' does not exist");
    r = await call(handle, "GET", `${V}/snapshot/base/config`);
    assert.equal(r.status, 500);
  } finally {
    await handle.close();
  }
});

Deno.test("a running snapshot holds lock snapshot, so concurrent operations fail", async () => {
  // A nearly stopped clock: the snapshot task only moves on when the test advances time.
  const handle = await startGuestSimulator({ speed: 0.001 });
  try {
    addGuest(handle, { vmid: 800, running: true, config: { memory: "8192" } });
    const r = await call(handle, "POST", `${V}/snapshot`, { snapname: "slow", vmstate: 1 });
    assert.equal(r.status, 200, r.text);
    await until(() => handle.sim.state.guests.get(800)?.config.lock === "snapshot", "locked");
    const put = await call(handle, "PUT", `${V}/config`, { cores: 4 });
    assert.equal(put.status, 500);
    assert.equal(put.body.message, "VM is locked (snapshot)\n");
    const status = await data(call(handle, "GET", `${V}/status/current`)) as Record<
      string,
      unknown
    >;
    assert.equal(status.lock, "snapshot");
    const second = await call(handle, "POST", `${V}/snapshot`, { snapname: "other" });
    const other = await waitTask(handle, second.body.data);
    assert.equal(handle.sim.state.guests.get(800)?.config.lock, "snapshot");
    assert.equal(other.exitstatus, "VM is locked (snapshot)");
    const clone = await call(handle, "POST", `${V}/clone`, { newid: 801 });
    assert.equal(clone.status, 500);
    assert.equal(clone.body.message, "VM is locked (snapshot)\n");
    const done = await advanceUntilDone(handle, r.body.data);
    assert.equal(done.exitstatus, "OK");
    assert.equal(handle.sim.state.guests.get(800)?.config.lock, undefined);
  } finally {
    await handle.close();
  }
});

Deno.test("templates cannot be snapshotted, and LXC snapshots carry no vmstate", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 800, config: { template: 1 } });
    const tmpl = await runTask(handle, "POST", `${V}/snapshot`, { snapname: "s1" });
    assert.equal(tmpl.exitstatus, "you can't take a snapshot if it's a template");

    addGuest(handle, { vmid: 850, type: "lxc" });
    const ct = await runTask(handle, "POST", "/nodes/pve1/lxc/850/snapshot", { snapname: "s1" });
    assert.match(ct.upid, /:vzsnapshot:850:/);
    assert.equal(ct.exitstatus, "OK");
    const list = await data(call(handle, "GET", "/nodes/pve1/lxc/850/snapshot")) as Record<
      string,
      unknown
    >[];
    assert.equal(list[0]?.name, "s1");
    assert.equal("vmstate" in (list[0] ?? {}), false);
    assert.equal(list[1]?.name, "current");
    assert.equal(list[1]?.running, 0);
    const rb = await runTask(handle, "POST", "/nodes/pve1/lxc/850/snapshot/s1/rollback");
    assert.match(rb.upid, /:vzrollback:850:/);
    const del = await runTask(handle, "DELETE", "/nodes/pve1/lxc/850/snapshot/s1");
    assert.match(del.upid, /:vzdelsnapshot:850:/);
    assert.equal(del.exitstatus, "OK");
  } finally {
    await handle.close();
  }
});
