import assert from "node:assert/strict";
import { pvePath, PveValidationError } from "../../src/pve/mod.ts";
import { control, requests, tokenClient, withSim } from "./_sim.ts";

Deno.test("a -list parameter given as an array reaches PVE as one comma-separated value", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await pve.put(pvePath`/nodes/pve1/qemu/${100}/config`, {
        description: "to go",
        tags: "a;b",
      });
      await control(sim, "DELETE", "/_sim/requests");
      await pve.put(pvePath`/nodes/pve1/qemu/${100}/config`, { delete: ["description", "tags"] });
      const [put] = await requests(sim);
      assert.equal(put?.status, 200);
      assert.equal((put?.body as Record<string, unknown>).delete, "description,tags");
      const config = await pve.get<Record<string, unknown>>(
        pvePath`/nodes/pve1/qemu/${100}/config`,
      );
      assert.equal(config.description, undefined);
      assert.equal(config.tags, undefined);

      const upid = await pve.post<string>("/nodes/pve1/vzdump", {
        vmid: [100, 102],
        storage: "local",
        mode: "snapshot",
      });
      const outcome = await pve.waitForTask(upid, { pollIntervalsMs: [1] });
      assert.notEqual(outcome.state, "failed", JSON.stringify(outcome));
      const log = await requests(sim);
      const vzdump = log.find((entry) => entry.path.endsWith("/vzdump"));
      assert.equal(vzdump?.status, 200);
      assert.equal((vzdump?.body as Record<string, unknown>).vmid, "100,102");
    } finally {
      pve.close();
    }
  });
});

Deno.test("agent exec's command array still goes as repeated keys, one per argument", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const result = await pve.post<{ pid: number }>(
        pvePath`/nodes/pve1/qemu/${100}/agent/exec`,
        { command: ["ls", "-l", "/tmp"] },
      );
      assert.equal(typeof result.pid, "number");
      const log = await requests(sim);
      const exec = log.find((entry) => entry.path.endsWith("/agent/exec"));
      assert.equal(exec?.status, 200);
      // The simulator logs the parsed form: repeated keys arrive as one array.
      assert.deepEqual((exec?.body as Record<string, unknown>).command, ["ls", "-l", "/tmp"]);
    } finally {
      pve.close();
    }
  });
});

Deno.test("an array for a one-value parameter is refused before anything is sent", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await control(sim, "DELETE", "/_sim/requests");
      await assert.rejects(
        pve.put(pvePath`/nodes/pve1/qemu/${100}/config`, { name: ["a", "b"] }),
        PveValidationError,
      );
      assert.deepEqual(await requests(sim), []);
    } finally {
      pve.close();
    }
  });
});

Deno.test("a form body over PVE's 512 KiB limit is refused before sending", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await control(sim, "DELETE", "/_sim/requests");
      await assert.rejects(
        pve.put(pvePath`/nodes/pve1/qemu/${100}/config`, { description: "x".repeat(600 * 1024) }),
        (error: unknown) => {
          assert.ok(error instanceof PveValidationError);
          assert.match(error.message, /are 601 KiB and Proxmox VE accepts at most 512 KiB/);
          return true;
        },
      );
      assert.deepEqual(await requests(sim), []);
      await pve.put(pvePath`/nodes/pve1/qemu/${100}/config`, { description: "x".repeat(4000) });
    } finally {
      pve.close();
    }
  });
});
