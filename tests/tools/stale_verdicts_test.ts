import assert from "node:assert/strict";
import { PveClient } from "../../src/pve/mod.ts";
import { guestGet } from "../../src/tools/inventory/guest_get.ts";
import { guestList } from "../../src/tools/inventory/guest_list.ts";
import { guestStart } from "../../src/tools/lifecycle/guest_start.ts";
import { guestShutdown } from "../../src/tools/lifecycle/guest_shutdown.ts";
import { snapshotCreate } from "../../src/tools/snapshots/snapshot_create.ts";
import { control } from "../pve/_sim.ts";
import { openSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [guestGet, guestList, guestStart, guestShutdown, snapshotCreate];

Deno.test("a failed inventory read is not cached: the next call asks again and succeeds", async () => {
  const s = await openSession({ tools, client: { retry: { attempts: 0 } } });
  try {
    await control(s.sim, "POST", "/_sim/faults", {
      method: "GET",
      path: "/cluster/resources",
      status: 500,
      reason: "cluster filesystem not ready",
      count: 1,
    });
    const since = await s.mark();
    const failed = await s.call("guest_get", { vmid: 100 });
    assert.equal(failed.isError, true);
    assert.match(textOf(failed), /cluster filesystem not ready/);
    const next = await s.call("guest_get", { vmid: 100 });
    assert.equal(next.isError, undefined, textOf(next));
    const reads = (await s.requests(since)).filter((r) => r.path === "/cluster/resources");
    assert.equal(reads.length, 2, "the second call read the inventory again");
  } finally {
    await s.close();
  }
});

Deno.test("a node back online is not called offline from the cached inventory", async () => {
  const s = await openSession({ tools });
  try {
    await control(s.sim, "POST", "/_sim/nodes/pve3/offline");
    const refused = await s.call("guest_start", { vmid: 103 });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /node "pve3", which is offline/);
    await control(s.sim, "POST", "/_sim/nodes/pve3/online");
    // Within the inventory cache's lifetime: the offline verdict is confirmed by a fresh read.
    const started = await s.call("guest_start", { vmid: 103 });
    assert.equal(started.isError, undefined, textOf(started));
    assert.equal(structuredOf<{ result: string }>(started).result, "ok");
  } finally {
    await s.close();
  }
});

Deno.test("a lock removed since the inventory or the plan was read no longer blocks", async () => {
  const s = await openSession({ tools });
  try {
    await control(s.sim, "POST", "/_sim/guests/100/lock", { lock: "backup" });
    const locked = await s.call("snapshot_create", { vmid: 100, snapshot: "first1" });
    assert.equal(locked.isError, true);
    assert.match(textOf(locked), /VM 100 is locked \(backup\)/);
    // The inventory (cached for seconds) still says "backup"; the guest is free now.
    const listed = structuredOf<{ guests: { vmid: number; lock?: string }[] }>(
      await s.call("guest_list", { fields: ["vmid", "lock"] }),
    );
    assert.equal(listed.guests.find((g) => g.vmid === 100)?.lock, "backup");
    await control(s.sim, "DELETE", "/_sim/guests/100/lock");
    const snap = await s.call("snapshot_create", { vmid: 100, snapshot: "first1" });
    assert.equal(snap.isError, undefined, textOf(snap));
    assert.doesNotMatch(textOf(snap), /qm unlock/);
    const shutdown = await s.call("guest_shutdown", { vmid: 100 });
    assert.equal(shutdown.isError, undefined, textOf(shutdown));
  } finally {
    await s.close();
  }
});

Deno.test("a guest created after a miss is found on the next call", async () => {
  const s = await openSession({ tools });
  const other = new PveClient({
    url: s.sim.url,
    tokenId: s.sim.credentials.tokenId,
    tokenSecret: s.sim.credentials.tokenSecret,
  });
  try {
    const missing = await s.call("guest_get", { vmid: 150 });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /No guest with vmid 150/);
    // Created behind the server's back (another client), so nothing invalidated its cache.
    const upid = await other.post<string>("/nodes/pve1/qemu", { vmid: 150, name: "late01" });
    await other.waitForTask(upid);
    const found = await s.call("guest_get", { vmid: 150 });
    assert.equal(found.isError, undefined, textOf(found));
    assert.equal(structuredOf<{ name: string }>(found).name, "late01");
  } finally {
    other.close();
    await s.close();
  }
});
