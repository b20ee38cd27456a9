import assert from "node:assert/strict";
import { AUDITOR_TOKEN_SECRET } from "../../src/simulator/seeds/mod.ts";
import { api, startTestSimulator } from "./_helpers.ts";

type Entry = Record<string, unknown>;

Deno.test("GET /pools lists pools, and with poolid their members by type", async () => {
  const sim = await startTestSimulator();
  try {
    const list = await api(sim, "GET", "/pools", { token: true });
    assert.deepEqual(list.body.data, [{ poolid: "prod", comment: "Production services" }]);
    const full = (await api(sim, "GET", "/pools", { token: true, params: { poolid: "prod" } }))
      .body.data as Entry[];
    const members = (full[0]?.members ?? []) as Entry[];
    assert.deepEqual(
      members.filter((m) => m.type !== "storage").map((m) => m.id),
      ["qemu/100", "qemu/101", "qemu/102", "lxc/201"],
    );
    assert.deepEqual(
      members.filter((m) => m.type === "storage").map((m) => m.id),
      ["storage/pve1/nas", "storage/pve2/nas", "storage/pve3/nas"],
    );
    const lxc = (await api(sim, "GET", "/pools", {
      token: true,
      params: { poolid: "prod", type: "lxc" },
    })).body.data as Entry[];
    assert.deepEqual((lxc[0]?.members as Entry[]).map((m) => m.vmid), [201]);
    const legacy = await api(sim, "GET", "/pools/prod", { token: true });
    assert.equal(legacy.body.data.comment, "Production services");
    assert.equal((legacy.body.data.members as Entry[]).length, 7);
    const missing = await api(sim, "GET", "/pools", { token: true, params: { poolid: "nope" } });
    assert.equal(missing.status, 500);
    assert.match(missing.body.message, /^pool 'nope' does not exist/);
  } finally {
    await sim.close();
  }
});

Deno.test("pools are created, filled, moved between and deleted like PVE does", async () => {
  const sim = await startTestSimulator();
  try {
    const created = await api(sim, "POST", "/pools", {
      token: true,
      params: { poolid: "lab", comment: "Experiments" },
    });
    assert.equal(created.status, 200);
    const dup = await api(sim, "POST", "/pools", { token: true, params: { poolid: "lab" } });
    assert.equal(dup.status, 500);
    assert.match(dup.body.message, /^pool 'lab' already exists/);
    await api(sim, "PUT", "/pools", {
      token: true,
      params: { poolid: "lab", vms: "103,104", storage: "local" },
    });
    assert.deepEqual([...(sim.sim.state.pools.get("lab")?.vms ?? [])].sort(), [103, 104]);
    const taken = await api(sim, "PUT", "/pools/lab", { token: true, params: { vms: "100" } });
    assert.equal(taken.status, 500);
    assert.match(
      taken.body.message,
      /^VM 100 belongs already to pool 'prod' and 'allow-move' is not set/,
    );
    await api(sim, "PUT", "/pools/lab", {
      token: true,
      params: { vms: "100", "allow-move": 1 },
    });
    assert.ok(sim.sim.state.pools.get("lab")?.vms.has(100));
    assert.ok(!sim.sim.state.pools.get("prod")?.vms.has(100));
    const resources = (await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "vm" },
    })).body.data as Entry[];
    assert.equal(resources.find((e) => e.vmid === 100)?.pool, "lab");
    const notEmpty = await api(sim, "DELETE", "/pools/lab", { token: true });
    assert.equal(notEmpty.status, 500);
    assert.match(notEmpty.body.message, /^pool 'lab' is not empty/);
    await api(sim, "PUT", "/pools", {
      token: true,
      params: { poolid: "lab", vms: "100,103,104", storage: "local", delete: 1 },
    });
    const deleted = await api(sim, "DELETE", "/pools", { token: true, params: { poolid: "lab" } });
    assert.equal(deleted.status, 200);
    assert.ok(!sim.sim.state.pools.has("lab"));
  } finally {
    await sim.close();
  }
});

Deno.test("HA resources are listed, read by sid or vmid, created, updated and removed", async () => {
  const sim = await startTestSimulator();
  try {
    const list = (await api(sim, "GET", "/cluster/ha/resources", { token: true })).body
      .data as Entry[];
    assert.deepEqual(list.map((r) => [r.sid, r.type, r.state]), [["vm:101", "vm", "started"]]);
    const bySid = await api(sim, "GET", "/cluster/ha/resources/vm:101", { token: true });
    const byVmid = await api(sim, "GET", "/cluster/ha/resources/101", { token: true });
    assert.deepEqual(bySid.body.data, byVmid.body.data);
    assert.equal(bySid.body.data.max_restart, 1);
    const created = await api(sim, "POST", "/cluster/ha/resources", {
      token: true,
      params: { sid: "ct:200", state: "stopped", comment: "dns" },
    });
    assert.equal(created.status, 200);
    const again = await api(sim, "POST", "/cluster/ha/resources", {
      token: true,
      params: { sid: "200" },
    });
    assert.equal(again.status, 500);
    assert.match(again.body.message, /^resource ID 'ct:200' already defined/);
    const cts = (await api(sim, "GET", "/cluster/ha/resources", {
      token: true,
      params: { type: "ct" },
    })).body.data as Entry[];
    assert.deepEqual(cts.map((r) => r.sid), ["ct:200"]);
    await api(sim, "PUT", "/cluster/ha/resources/ct:200", {
      token: true,
      params: { state: "started", max_restart: 3, delete: "comment" },
    });
    const updated = (await api(sim, "GET", "/cluster/ha/resources/ct:200", { token: true })).body
      .data;
    assert.equal(updated.state, "started");
    assert.equal(updated.max_restart, 3);
    assert.equal(updated.comment, undefined);
    const resources = (await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "vm" },
    })).body.data as Entry[];
    assert.equal(resources.find((e) => e.vmid === 200)?.hastate, "started");
    assert.equal(
      (await api(sim, "DELETE", "/cluster/ha/resources/ct:200", { token: true })).status,
      200,
    );
    const gone = await api(sim, "DELETE", "/cluster/ha/resources/ct:200", { token: true });
    assert.equal(gone.status, 500);
    assert.match(gone.body.message, /^cannot delete service 'ct:200', not HA managed!/);
    const missing = await api(sim, "GET", "/cluster/ha/resources/vm:999", { token: true });
    assert.equal(missing.status, 500);
    assert.deepEqual((await api(sim, "GET", "/cluster/ha/groups", { token: true })).body.data, []);
  } finally {
    await sim.close();
  }
});

Deno.test("HA status shows quorum, the master, one LRM per node and each service", async () => {
  const sim = await startTestSimulator();
  try {
    const data = (await api(sim, "GET", "/cluster/ha/status/current", { token: true })).body
      .data as Entry[];
    assert.deepEqual(data.map((e) => e.id), [
      "quorum",
      "master",
      "lrm:pve1",
      "lrm:pve2",
      "lrm:pve3",
      "service:vm:101",
    ]);
    assert.equal(data[0]?.status, "OK");
    assert.equal(data[0]?.quorate, 1);
    assert.match(
      String(data[1]?.status),
      /^pve1 \(active, \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\)$/,
    );
    assert.match(String(data.find((e) => e.id === "lrm:pve2")?.status), /^pve2 \(active, /);
    assert.match(String(data.find((e) => e.id === "lrm:pve1")?.status), /^pve1 \(idle, /);
    const service = data.at(-1);
    assert.equal(service?.sid, "vm:101");
    assert.equal(service?.node, "pve2");
    assert.equal(service?.state, "started");
  } finally {
    await sim.close();
  }
});

Deno.test("HA endpoints need Sys.Audit; the auditor may read but not write", async () => {
  const sim = await startTestSimulator();
  try {
    const token = `auditor@pve!ro=${AUDITOR_TOKEN_SECRET}`;
    const read = await api(sim, "GET", "/cluster/ha/resources", { token });
    assert.equal(read.status, 200);
    const write = await api(sim, "POST", "/cluster/ha/resources", {
      token,
      params: { sid: "vm:100" },
    });
    assert.equal(write.status, 403);
    assert.ok(!sim.sim.state.ha.has("vm:100"));
  } finally {
    await sim.close();
  }
});
