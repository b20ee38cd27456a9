import assert from "node:assert/strict";
import { AUDITOR_TOKEN_SECRET, OPERATOR_TOKEN_SECRET } from "../../src/simulator/seeds/mod.ts";
import { api, startTestSimulator } from "./_helpers.ts";

const AUDITOR = `auditor@pve!ro=${AUDITOR_TOKEN_SECRET}`;
const OPERATOR = `operator@pve!ops=${OPERATOR_TOKEN_SECRET}`;

type Entry = Record<string, unknown>;

Deno.test("GET /version reports the cluster's pve-manager version", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(sim, "GET", "/version", { token: true });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body.data).sort(), [
      "console",
      "release",
      "repoid",
      "version",
    ]);
    assert.equal(res.body.data.version, "9.1.1");
    assert.equal(res.body.data.release, "9.1");
    assert.match(res.body.data.repoid, /^[0-9a-f]{8,64}$/);
  } finally {
    await sim.close();
  }
});

Deno.test("GET /cluster/status lists the cluster and each member node", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(sim, "GET", "/cluster/status", { token: true });
    const [cluster, ...nodes] = res.body.data as Entry[];
    assert.deepEqual(cluster, {
      type: "cluster",
      id: "cluster",
      name: "homelab",
      nodes: 3,
      version: 3,
      quorate: 1,
    });
    // PVE walks a hash: nodes come unsorted (pve2 first here), the same way every time.
    assert.deepEqual(nodes.map((n) => n.name), ["pve2", "pve1", "pve3"]);
    assert.deepEqual(nodes.find((n) => n.name === "pve1"), {
      type: "node",
      id: "node/pve1",
      name: "pve1",
      nodeid: 1,
      ip: "10.0.0.11",
      local: 1,
      online: 1,
      level: "",
    });
    assert.deepEqual(nodes.map((n) => n.local), [0, 1, 0]);
  } finally {
    await sim.close();
  }
});

Deno.test("GET /cluster/status of a standalone node has no cluster entry", async () => {
  const sim = await startTestSimulator();
  try {
    sim.sim.state.clusterName = null;
    const res = await api(sim, "GET", "/cluster/status", { token: true });
    assert.deepEqual(res.body.data, [{
      type: "node",
      id: "node/pve1",
      name: "pve1",
      ip: "10.0.0.11",
      local: 1,
      nodeid: 0,
      online: 1,
      level: "",
    }]);
  } finally {
    await sim.close();
  }
});

Deno.test("GET /cluster/resources returns guests, nodes, storages and pools with PVE's keys", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(sim, "GET", "/cluster/resources", { token: true });
    const data = res.body.data as Entry[];
    const web01 = data.find((e) => e.id === "qemu/100");
    assert.deepEqual(Object.keys(web01 ?? {}).sort(), [
      "cpu",
      "disk",
      "diskread",
      "diskwrite",
      "id",
      "maxcpu",
      "maxdisk",
      "maxmem",
      "mem",
      "memhost",
      "name",
      "netin",
      "netout",
      "node",
      "pool",
      "status",
      "tags",
      "template",
      "type",
      "uptime",
      "vmid",
    ]);
    assert.equal(web01?.vmid, 100);
    assert.equal(web01?.status, "running");
    assert.equal(web01?.maxmem, 2 * 1024 ** 3);
    assert.equal(web01?.maxdisk, 32 * 1024 ** 3);
    assert.equal(web01?.tags, "prod;web");
    assert.equal(web01?.pool, "prod");
    assert.equal(data.find((e) => e.id === "qemu/9000")?.template, 1);
    assert.equal(data.find((e) => e.id === "qemu/101")?.hastate, "started");
    const ct = data.find((e) => e.id === "lxc/200");
    assert.equal(ct?.type, "lxc");
    assert.ok(Number(ct?.disk) > 0);
    const node = data.find((e) => e.id === "node/pve1");
    assert.equal(node?.["cgroup-mode"], 2);
    assert.equal(node?.["host-arch"], "x86_64");
    assert.equal(node?.status, "online");
    const storages = data.filter((e) => e.type === "storage");
    // local, local-lvm, nas and pbs on each of the three nodes.
    assert.equal(storages.length, 12);
    assert.deepEqual(
      Object.keys(storages.find((e) => e.id === "storage/pve1/local-lvm") ?? {}).sort(),
      [
        "content",
        "disk",
        "id",
        "maxdisk",
        "node",
        "plugintype",
        "shared",
        "status",
        "storage",
        "type",
      ],
    );
    assert.equal(storages.find((e) => e.id === "storage/pve2/nas")?.shared, 1);
    const pbs = storages.find((e) => e.id === "storage/pve3/pbs");
    assert.equal(pbs?.plugintype, "pbs");
    assert.equal(pbs?.content, "backup");
    assert.equal(pbs?.shared, 1);
    const pool = data.find((e) => e.id === "/pool/prod");
    assert.equal(pool?.type, "pool");
    assert.equal(pool?.pool, "prod");
  } finally {
    await sim.close();
  }
});

Deno.test("GET /cluster/resources filters by type and rejects unknown types", async () => {
  const sim = await startTestSimulator();
  try {
    const vms = (await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "vm" },
    })).body.data as Entry[];
    assert.equal(vms.length, 12);
    assert.ok(vms.every((e) => e.type === "qemu" || e.type === "lxc"));
    const nodes = (await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "node" },
    })).body.data as Entry[];
    assert.deepEqual(nodes.map((e) => e.id), ["node/pve2", "node/pve1", "node/pve3"]);
    const again = (await api(sim, "GET", "/cluster/resources", { token: true })).body
      .data as Entry[];
    const guestIds = again.filter((e) => e.type === "qemu" || e.type === "lxc").map((e) => e.vmid);
    assert.deepEqual(guestIds, vms.map((e) => e.vmid), "the same order on every call");
    assert.notDeepEqual(guestIds, [...guestIds].sort((a, b) => Number(a) - Number(b)));
    const storage = (await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "storage" },
    })).body.data as Entry[];
    assert.ok(storage.every((e) => e.type === "storage"));
    const bad = await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "pool" },
    });
    assert.equal(bad.status, 400);
    assert.ok(typeof bad.body.errors?.type === "string");
  } finally {
    await sim.close();
  }
});

Deno.test("an offline node's guests are listed with status unknown and no stats", async () => {
  const sim = await startTestSimulator();
  try {
    const pve3 = sim.sim.state.nodes.get("pve3");
    assert.ok(pve3 !== undefined);
    pve3.online = false;
    const data = (await api(sim, "GET", "/cluster/resources", { token: true })).body
      .data as Entry[];
    const k8s2 = data.find((e) => e.id === "qemu/105");
    assert.equal(k8s2?.status, "unknown");
    assert.equal(k8s2?.maxmem, undefined);
    assert.equal(k8s2?.name, "k8s-node2");
    const node = data.find((e) => e.id === "node/pve3");
    assert.equal(node?.status, "offline");
    assert.equal(node?.cpu, undefined);
    assert.equal(data.find((e) => e.id === "storage/pve3/local")?.status, "unknown");
    const status = (await api(sim, "GET", "/cluster/status", { token: true })).body
      .data as Entry[];
    assert.equal(status.find((e) => e.id === "node/pve3")?.online, 0);
  } finally {
    await sim.close();
  }
});

Deno.test("GET /cluster/resources only shows what the caller may audit", async () => {
  const sim = await startTestSimulator();
  try {
    const audited = (await api(sim, "GET", "/cluster/resources", {
      token: AUDITOR,
      params: { type: "vm" },
    })).body.data as Entry[];
    assert.equal(audited.length, 12);
    const operated = (await api(sim, "GET", "/cluster/resources", { token: OPERATOR })).body
      .data as Entry[];
    const guests = operated.filter((e) => e.type === "qemu" || e.type === "lxc");
    assert.deepEqual(guests.map((e) => e.vmid).sort(), [100, 101, 102, 201]);
    const node = operated.find((e) => e.id === "node/pve1");
    assert.equal(node?.status, "online");
    assert.equal(node?.maxmem, undefined);
  } finally {
    await sim.close();
  }
});

Deno.test("GET /cluster/nextid returns a string and refuses a taken vmid", async () => {
  const sim = await startTestSimulator();
  try {
    const free = await api(sim, "GET", "/cluster/nextid", { token: true });
    assert.equal(free.body.data, "106");
    const wanted = await api(sim, "GET", "/cluster/nextid", { token: true, params: { vmid: 150 } });
    assert.equal(wanted.body.data, "150");
    const taken = await api(sim, "GET", "/cluster/nextid", { token: true, params: { vmid: 105 } });
    assert.equal(taken.status, 400);
    assert.deepEqual(taken.body.errors, { vmid: "VM 105 already exists" });
  } finally {
    await sim.close();
  }
});

Deno.test("a 50-node cluster with 10,000 guests answers /cluster/resources in full", async () => {
  const sim = await startTestSimulator({ seed: "scale", nodes: 50, guests: 10_000, random: 3 });
  try {
    const vms = (await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "vm" },
    })).body.data as Entry[];
    assert.equal(vms.length, 10_000);
    assert.equal(new Set(vms.map((e) => e.vmid)).size, 10_000);
    const all = (await api(sim, "GET", "/cluster/resources", { token: true })).body.data as Entry[];
    assert.equal(all.filter((e) => e.type === "node").length, 50);
    assert.ok(all.some((e) => e.type === "pool"));
    assert.ok(vms.some((e) => typeof e.lock === "string"));
  } finally {
    await sim.close();
  }
});
