import assert from "node:assert/strict";
import { OPERATOR_TOKEN_SECRET } from "../../src/simulator/seeds/mod.ts";
import { api, startTestSimulator } from "./_helpers.ts";

type Entry = Record<string, unknown>;

// A simulated start time on a whole week, so RRD windows stay put while a test runs.
const NOW = 1_795_000_000 - (1_795_000_000 % 604_800);

Deno.test("GET /nodes lists every node with stats and an SSL fingerprint", async () => {
  const sim = await startTestSimulator();
  try {
    const data = (await api(sim, "GET", "/nodes", { token: true })).body.data as Entry[];
    assert.deepEqual(data.map((n) => n.node), ["pve2", "pve1", "pve3"], "PVE's hash order");
    const pve1 = data.find((n) => n.node === "pve1") ?? {};
    assert.deepEqual(Object.keys(pve1).sort(), [
      "cpu",
      "disk",
      "id",
      "level",
      "maxcpu",
      "maxdisk",
      "maxmem",
      "mem",
      "node",
      "ssl_fingerprint",
      "status",
      "type",
      "uptime",
    ]);
    assert.equal(pve1.id, "node/pve1");
    assert.match(String(pve1.ssl_fingerprint), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  } finally {
    await sim.close();
  }
});

Deno.test("GET /nodes shows an offline node without stats, and hides stats without Sys.Audit", async () => {
  const sim = await startTestSimulator();
  try {
    const pve2 = sim.sim.state.nodes.get("pve2");
    assert.ok(pve2 !== undefined);
    pve2.online = false;
    const data = (await api(sim, "GET", "/nodes", { token: true })).body.data as Entry[];
    const offline = data.find((n) => n.node === "pve2");
    assert.equal(offline?.status, "offline");
    assert.equal(offline?.uptime, undefined);
    const operator = `operator@pve!ops=${OPERATOR_TOKEN_SECRET}`;
    const limited = (await api(sim, "GET", "/nodes", { token: operator })).body.data as Entry[];
    assert.equal(limited.length, 3);
    assert.ok(limited.every((n) => n.cpu === undefined));
  } finally {
    await sim.close();
  }
});

Deno.test("GET /nodes/{node}/status keeps PVE's Perl string quirks", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(sim, "GET", "/nodes/pve1/status", { token: true });
    assert.equal(res.status, 200);
    const s = res.body.data;
    assert.deepEqual(s.loadavg, ["0.82", "0.74", "0.69"]);
    assert.equal(typeof s.cpuinfo.mhz, "string");
    assert.equal(s.cpuinfo.hvm, "1");
    assert.equal(s.cpuinfo.cpus, 12);
    assert.equal(s.memory.used, s.memory.total - s.memory.available);
    assert.equal(s.pveversion, "pve-manager/9.1.1/42db4a6cf33dac83");
    assert.equal(s["current-kernel"].machine, "x86_64");
    assert.ok(s.uptime > 0);
    assert.deepEqual(Object.keys(s.rootfs).sort(), ["avail", "free", "total", "used"]);
  } finally {
    await sim.close();
  }
});

Deno.test("GET /nodes/{node}/version and the node index answer", async () => {
  const sim = await startTestSimulator();
  try {
    const version = await api(sim, "GET", "/nodes/pve2/version", { token: true });
    assert.deepEqual(version.body.data, {
      version: "9.1.1",
      release: "9.1",
      repoid: "42db4a6cf33dac83",
    });
    const index = (await api(sim, "GET", "/nodes/pve2", { token: true })).body.data as Entry[];
    assert.ok(index.some((e) => e.name === "qemu") && index.some((e) => e.name === "storage"));
  } finally {
    await sim.close();
  }
});

Deno.test("GET /nodes/{node}/network filters by interface type", async () => {
  const sim = await startTestSimulator();
  try {
    const all = (await api(sim, "GET", "/nodes/pve3/network", { token: true })).body
      .data as Entry[];
    assert.deepEqual(all.map((i) => i.iface).sort(), ["eno1", "eno2", "vmbr0"]);
    const bridges = (await api(sim, "GET", "/nodes/pve3/network", {
      token: true,
      params: { type: "any_bridge" },
    })).body.data as Entry[];
    assert.equal(bridges.length, 1);
    assert.equal(bridges[0]?.cidr, "10.0.0.13/24");
    assert.equal(bridges[0]?.bridge_ports, "eno1");
    const eth = (await api(sim, "GET", "/nodes/pve3/network", {
      token: true,
      params: { type: "eth" },
    })).body.data as Entry[];
    assert.deepEqual(eth.map((i) => i.iface).sort(), ["eno1", "eno2"]);
  } finally {
    await sim.close();
  }
});

Deno.test("GET /nodes/{node}/rrddata returns PVE 9's point counts, deterministically", async () => {
  const sim = await startTestSimulator({ now: NOW });
  try {
    const expected: Record<string, [number, number]> = {
      hour: [60, 60],
      day: [1440, 60],
      week: [336, 1800],
      month: [1440, 1800],
      year: [1440, 21600],
      decade: [570, 604800],
    };
    for (const [timeframe, [points, step]] of Object.entries(expected)) {
      const res = await api(sim, "GET", "/nodes/pve1/rrddata", {
        token: true,
        params: { timeframe },
      });
      const data = res.body.data as Entry[];
      assert.equal(data.length, points, timeframe);
      assert.equal(Number(data[1]?.time) - Number(data[0]?.time), step);
    }
    const first = await api(sim, "GET", "/nodes/pve1/rrddata", {
      token: true,
      params: { timeframe: "hour" },
    });
    const again = await api(sim, "GET", "/nodes/pve1/rrddata", {
      token: true,
      params: { timeframe: "hour" },
    });
    assert.deepEqual(first.body.data, again.body.data);
    const point = (first.body.data as Entry[])[0] ?? {};
    for (
      const key of ["cpu", "maxcpu", "memtotal", "memused", "loadavg", "netin", "roottotal"]
    ) {
      assert.equal(typeof point[key], "number", key);
    }
    const max = await api(sim, "GET", "/nodes/pve1/rrddata", {
      token: true,
      params: { timeframe: "hour", cf: "MAX" },
    });
    assert.ok(Number((max.body.data as Entry[])[0]?.cpu) >= Number(point.cpu));
  } finally {
    await sim.close();
  }
});
