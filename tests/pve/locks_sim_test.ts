import assert from "node:assert/strict";
import {
  assertTaskSucceeded,
  PveError,
  PveLockedError,
  pvePath,
  PveTaskError,
} from "../../src/pve/mod.ts";
import { isLockError } from "../../src/server/results.ts";
import { control, tokenClient, withSim } from "./_sim.ts";

Deno.test("a config change on a locked guest is a PveLockedError naming the lock", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await control(sim, "POST", "/_sim/guests/100/lock", { lock: "backup" });
      await assert.rejects(
        pve.put(pvePath`/nodes/pve1/qemu/${100}/config`, { description: "x" }),
        (error: unknown) => {
          assert.ok(error instanceof PveLockedError);
          assert.ok(error instanceof PveError);
          assert.equal(error.status, 500);
          assert.equal(error.lock, "backup");
          assert.equal(error.guestType, "qemu");
          assert.equal(error.vmid, 100);
          assert.equal(error.pveMessage, "VM is locked (backup)");
          assert.match(error.message, /VM is locked \(backup\): a backup is running\. Retry/);
          assert.match(error.message, /"qm unlock 100"/);
          // The server's message check keeps working.
          assert.ok(isLockError(error));
          return true;
        },
      );

      await control(sim, "POST", "/_sim/guests/200/lock", { lock: "snapshot" });
      await assert.rejects(
        pve.put(pvePath`/nodes/pve1/lxc/${200}/config`, { description: "x" }),
        (error: unknown) => {
          assert.ok(error instanceof PveLockedError);
          assert.equal(error.lock, "snapshot");
          assert.equal(error.guestType, "lxc");
          assert.match(error.message, /CT is locked \(snapshot\)/);
          assert.match(error.message, /"pct unlock 200"/);
          return true;
        },
      );
    } finally {
      pve.close();
    }
  });
});

Deno.test("a task that fails on a guest lock reports the lock in its outcome and error", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await control(sim, "POST", "/_sim/guests/103/lock", { lock: "backup" });
      const upid = await pve.post<string>(pvePath`/nodes/pve3/qemu/${103}/status/start`);
      const outcome = await pve.waitForTask(upid, { pollIntervalsMs: [1] });
      assert.equal(outcome.state, "failed");
      assert.ok(outcome.state === "failed");
      assert.equal(outcome.exitstatus, "VM is locked (backup)");
      assert.equal(outcome.lock, "backup");
      assert.throws(() => assertTaskSucceeded(outcome), (error: unknown) => {
        assert.ok(error instanceof PveTaskError);
        assert.equal(error.lock, "backup");
        assert.match(error.message, /failed: VM is locked \(backup\): a backup is running/);
        assert.match(error.message, /"qm unlock 103"/);
        assert.ok(isLockError(error));
        return true;
      });
    } finally {
      pve.close();
    }
  });
});
