import assert from "node:assert/strict";
import { normalizeResources, PveNotFoundError, PveValidationError } from "../../src/pve/mod.ts";
import { clusterResourcesSchema, readResources } from "../../src/pve/inventory.ts";
import { control, FAST, fault, requests, tokenClient, withSim } from "./_sim.ts";

Deno.test("one /cluster/resources call tells which guests exist, where and in what state", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const inventory = await pve.resources();
      const web01 = inventory.guests.find((g) => g.vmid === 100);
      assert.equal(web01?.name, "web01");
      assert.equal(web01?.node, "pve1");
      assert.equal(web01?.type, "qemu");
      assert.equal(web01?.status, "running");
      assert.equal(inventory.guests.find((g) => g.vmid === 9000)?.template, true);
      assert.ok(inventory.guests.some((g) => g.type === "lxc"));
      assert.deepEqual(inventory.nodes.map((n) => n.node), ["pve1", "pve2", "pve3"]);
      assert.deepEqual(inventory.offlineNodes, []);
      assert.ok(inventory.storage.length > 0);
      assert.equal((await requests(sim)).filter((r) => r.path === "/cluster/resources").length, 1);
    } finally {
      pve.close();
    }
  });
});

Deno.test("an offline node yields a partial inventory with the node flagged", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await control(sim, "POST", "/_sim/nodes/pve2/offline");
      const inventory = await pve.resources();
      assert.deepEqual(inventory.offlineNodes, ["pve2"]);
      const onPve2 = inventory.guests.filter((g) => g.node === "pve2");
      assert.ok(onPve2.length > 0);
      assert.ok(onPve2.every((g) => g.nodeOnline === false));
      assert.ok(inventory.guests.filter((g) => g.node !== "pve2").every((g) => g.nodeOnline));
      const ref = await pve.resolveGuest(onPve2[0]!.vmid);
      assert.equal(ref.node, "pve2");
      assert.equal(ref.nodeOnline, false);
    } finally {
      pve.close();
    }
  });
});

Deno.test("guests resolve by vmid or name from a cache that writes invalidate", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      assert.deepEqual(
        { ...(await pve.resolveGuest("web01")) },
        { ...(await pve.resolveGuest(100)) },
      );
      const tmpl = await pve.resolveGuest("9000");
      assert.equal(tmpl.template, true);
      const reads = () =>
        requests(sim).then((log) => log.filter((r) => r.path === "/cluster/resources").length);
      assert.equal(await reads(), 1);
      // A write through the client invalidates the cache; the clone named "web01" then makes the name ambiguous.
      const upid = await pve.post<string>("/nodes/pve1/qemu/9000/clone", {
        newid: 160,
        name: "web01",
        full: true,
      });
      await pve.waitForTask(upid, FAST);
      await assert.rejects(pve.resolveGuest("web01"), (error: unknown) => {
        assert.ok(error instanceof PveValidationError);
        assert.match(error.message, /ambiguous/);
        assert.match(error.message, /\b100 \(qemu on pve1\)/);
        assert.match(error.message, /\b160 \(qemu on pve1\)/);
        return true;
      });
      assert.equal(await reads(), 2);
      assert.equal((await pve.resolveGuest(160)).name, "web01");
      assert.equal(await reads(), 2);
      await assert.rejects(pve.resolveGuest(777), PveNotFoundError);
    } finally {
      pve.close();
    }
  });
});

Deno.test("inventory() reuses one read for its time to live, and a write or its expiry reads again", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    let now = 1_000_000;
    const pve = tokenClient(sim, { now: () => now });
    try {
      const reads = () =>
        requests(sim).then((log) => log.filter((r) => r.path === "/cluster/resources").length);
      const first = await pve.inventory();
      assert.equal(await pve.inventory(), first, "the same parsed copy");
      now += 4_999;
      await pve.inventory();
      assert.equal(await reads(), 1);
      now += 1;
      await pve.inventory();
      assert.equal(await reads(), 2, "read again once the time to live has passed");
      await pve.post("/nodes/pve1/qemu/100/config", { description: "changed" });
      await pve.inventory();
      assert.equal(await reads(), 3, "read again after a write");
      const aborted = new AbortController();
      aborted.abort(new Error("stopped"));
      await assert.rejects(pve.inventory({ signal: aborted.signal }), /stopped/);
    } finally {
      pve.close();
    }
  });
});

Deno.test("the version is read once and tells what differs in PVE 9", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const [a, b] = await Promise.all([pve.version(), pve.version()]);
      assert.equal(a, b);
      assert.equal(await pve.isPve9(), true);
      assert.equal(a.features.agentExecPrivilege, "VM.GuestAgent.Unrestricted");
      assert.equal((await requests(sim)).filter((r) => r.path === "/version").length, 1);
    } finally {
      pve.close();
    }
  });
});

Deno.test("a 10,000-guest inventory arrives in one request", async () => {
  await withSim({ seed: "scale", nodes: 20, guests: 10_000, speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      const inventory = await pve.resources();
      assert.equal(inventory.guests.length, 10_000);
      assert.equal(new Set(inventory.guests.map((g) => g.vmid)).size, 10_000);
      assert.equal(inventory.nodes.length, 20);
      const last = inventory.guests.at(-1)!;
      assert.equal((await pve.resolveGuest(last.vmid)).node, last.node);
      assert.equal((await requests(sim)).filter((r) => r.path === "/cluster/resources").length, 1);
    } finally {
      pve.close();
    }
  });
});

Deno.test("the hand-written reader and the schema agree on a real answer with every entry kind", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await control(sim, "POST", "/_sim/nodes/pve3/offline");
      const data = await pve.get<unknown[]>("/cluster/resources");
      const kinds = new Set(data.map((e) => (e as { type: string }).type));
      for (const kind of ["node", "qemu", "lxc", "storage", "pool"]) {
        assert.ok(kinds.has(kind), kind);
      }
      const read = readResources(data);
      assert.ok(read !== undefined);
      assert.deepEqual(read, normalizeResources(clusterResourcesSchema.parse(data)));
      assert.deepEqual(await pve.resources(), read);
      assert.deepEqual(read.offlineNodes, ["pve3"]);
    } finally {
      pve.close();
    }
  });
});

Deno.test("concurrent inventory reads share one request and one parsed copy; a write in between starts a new one", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      // A slow answer keeps the first read in flight while the others arrive.
      await fault(sim, { method: "GET", path: "/cluster/resources", delay_ms: 200, count: 1 });
      const reads = Array.from({ length: 20 }, () => pve.resources());
      const results = await Promise.all(reads);
      assert.ok(results.every((result) => result === results[0]), "one parsed copy");
      const count = async () =>
        (await requests(sim)).filter((r) => r.path === "/cluster/resources").length;
      assert.equal(await count(), 1);

      // A caller that gives up stops waiting; the read it joined goes on for the others.
      await fault(sim, { method: "GET", path: "/cluster/resources", delay_ms: 200, count: 1 });
      const stop = new AbortController();
      const quitter = pve.resources(undefined, { signal: stop.signal });
      const stayer = pve.resources();
      stop.abort(new Error("the client cancelled"));
      await assert.rejects(quitter, /the client cancelled/);
      assert.ok((await stayer).guests.length > 0);
      assert.equal(await count(), 2);

      // A write invalidates: a read after it never joins one that started before it.
      await fault(sim, { method: "GET", path: "/cluster/resources", delay_ms: 200, count: 1 });
      const before = pve.resources();
      await pve.post("/nodes/pve1/qemu/100/status/start").catch(() => undefined);
      const after = pve.resources();
      assert.notEqual(await before, await after);
      assert.equal(await count(), 4);
    } finally {
      pve.close();
    }
  });
});
