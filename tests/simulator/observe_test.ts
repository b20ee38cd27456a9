import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { AUDITOR_TOKEN_SECRET } from "../../src/simulator/seeds/mod.ts";
import { api, startTestSimulator } from "./_helpers.ts";

type Entry = Record<string, unknown>;

// A simulated start time on a whole week, so RRD windows stay put while a test runs.
const NOW = 1_795_000_000 - (1_795_000_000 % 604_800);
const AUDITOR = `auditor@pve!ro=${AUDITOR_TOKEN_SECRET}`;

async function control(
  sim: SimulatorHandle,
  method: string,
  path: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${sim.url}/_sim${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
  });
  return { status: response.status, body: await response.json() };
}

async function get(sim: SimulatorHandle, path: string, params?: Record<string, string>) {
  return await api(sim, "GET", path, { token: true, ...(params ? { params } : {}) });
}

Deno.test("GET /nodes/{node}/services lists PVE's units unsorted, with a failed one as systemd reports it", async () => {
  const sim = await startTestSimulator();
  try {
    const before = (await get(sim, "/nodes/pve1/services")).body.data as Entry[];
    assert.ok(before.length >= 20);
    const names = before.map((s) => String(s.service));
    assert.notDeepEqual(names, [...names].sort(), "hash order, not sorted");
    const proxy = before.find((s) => s.service === "pveproxy");
    assert.deepEqual(proxy, {
      service: "pveproxy",
      name: "pveproxy",
      desc: "PVE API Proxy Server",
      state: "running",
      "active-state": "active",
      "unit-state": "enabled",
    });
    const planted = await control(sim, "POST", "/nodes/pve1/services/pvescheduler", {
      state: "failed",
    });
    assert.equal(planted.status, 200);
    const state = (await get(sim, "/nodes/pve1/services/pvescheduler/state")).body.data as Entry;
    assert.equal(state.state, "failed");
    assert.equal(state["active-state"], "failed");
    const other = (await get(sim, "/nodes/pve2/services/pvescheduler/state")).body.data as Entry;
    assert.equal(other.state, "running", "only pve1's unit failed");
    const bad = await control(sim, "POST", "/nodes/pve1/services/pveproxy", { state: "odd" });
    assert.equal(bad.status, 400);
    const forbidden = await api(sim, "GET", "/nodes/pve1/services", {
      token: `operator@pve!ops=a1b2c3d4-0000-4000-8000-000000000002`,
    });
    assert.equal(forbidden.status, 403);
  } finally {
    await sim.close();
  }
});

Deno.test("GET /nodes/{node}/subscription says notfound without a key and hides the key from non-auditors", async () => {
  const sim = await startTestSimulator();
  try {
    const none = (await get(sim, "/nodes/pve2/subscription")).body.data as Entry;
    assert.equal(none.status, "notfound");
    assert.equal(none.message, "There is no subscription key");
    assert.match(String(none.serverid), /^[0-9A-F]{32}$/);
    const set = await control(sim, "POST", "/nodes/pve2/subscription", {
      status: "expired",
      level: "b",
    });
    assert.equal(set.status, 200);
    const expired = (await get(sim, "/nodes/pve2/subscription")).body.data as Entry;
    assert.equal(expired.status, "expired");
    assert.equal(expired.level, "b");
    assert.match(String(expired.key), /^pve\d[cbsp]-[0-9a-f]{10}$/);
    const operator = (await api(sim, "GET", "/nodes/pve2/subscription", {
      token: `operator@pve!ops=a1b2c3d4-0000-4000-8000-000000000002`,
    })).body.data as Entry;
    assert.equal(operator.status, "expired");
    assert.equal(operator.key, undefined, "the key needs Sys.Audit on the node");
    const nodes = (await get(sim, "/nodes")).body.data as Entry[];
    assert.equal(nodes.find((n) => n.node === "pve2")?.level, "", "expired: no level");
    await control(sim, "POST", "/nodes/pve2/subscription", { status: "active", level: "c" });
    const after = (await get(sim, "/nodes")).body.data as Entry[];
    assert.equal(after.find((n) => n.node === "pve2")?.level, "c");
  } finally {
    await sim.close();
  }
});

Deno.test("GET /nodes/{node}/network shows bonds, VLAN-aware bridges and VLANs with PVE's keys and types", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await get(sim, "/nodes/pve1/network");
    assert.equal(res.body.changes, undefined, "nothing pending on pve1");
    const list = res.body.data as Entry[];
    const byName = new Map(list.map((i) => [i.iface, i]));
    assert.deepEqual(
      [...byName.keys()].sort(),
      ["bond0", "eno1", "eno2", "vlan50", "vmbr0"],
    );
    const bond = byName.get("bond0") ?? {};
    assert.equal(bond.type, "bond");
    assert.equal(bond.slaves, "eno1 eno2");
    assert.equal(bond.bond_mode, "802.3ad");
    assert.equal(bond.bond_miimon, "100", "values read from the file are strings");
    const bridge = byName.get("vmbr0") ?? {};
    assert.equal(bridge.bridge_vlan_aware, 1);
    assert.equal(bridge.bridge_vids, "2-4094");
    assert.equal(bridge.bridge_ports, "bond0");
    assert.equal(bridge.netmask, "24");
    const vlan = byName.get("vlan50") ?? {};
    assert.equal(vlan["vlan-id"], "50");
    assert.equal(vlan["vlan-raw-device"], "vmbr0");
    assert.equal(vlan.comments, "storage network (NAS)\n");
    const one = (await get(sim, "/nodes/pve1/network/vmbr0")).body.data as Entry;
    assert.equal(one.iface, undefined, "a single interface has no iface key");
    assert.equal(one.cidr, "10.0.0.11/24");
    const missing = await get(sim, "/nodes/pve1/network/vmbr9");
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.errors, { iface: "interface does not exist" });
  } finally {
    await sim.close();
  }
});

Deno.test("pending network edits are listed with the diff of interfaces.new in the answer's changes", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await get(sim, "/nodes/pve2/network");
    const list = res.body.data as Entry[];
    const staged = list.find((i) => i.iface === "vmbr1");
    assert.equal(staged?.type, "bridge");
    assert.equal(staged?.active, undefined, "not up until the change is applied");
    const changes = String(res.body.changes);
    assert.match(
      changes,
      /^--- \/etc\/network\/interfaces\t.*\n\+\+\+ \/etc\/network\/interfaces\.new\t/,
    );
    assert.match(changes, /\n@@ -\d+,\d+ \+\d+,\d+ @@\n/);
    assert.match(changes, /\n\+auto vmbr1\n\+iface vmbr1 inet manual\n\+\tbridge-ports eno2\n/);
    assert.match(changes, /\n\+#isolated lab network\n/);
    const bridges = await get(sim, "/nodes/pve2/network", { type: "any_bridge" });
    assert.deepEqual((bridges.body.data as Entry[]).map((i) => i.iface).sort(), ["vmbr0", "vmbr1"]);
  } finally {
    await sim.close();
  }
});

Deno.test("storage rrddata has total and used per slot, and a storage the node lacks is an RRD error", async () => {
  const sim = await startTestSimulator({ now: NOW });
  try {
    const rows = (await get(sim, "/nodes/pve1/storage/local-lvm/rrddata", { timeframe: "week" }))
      .body.data as Entry[];
    assert.equal(rows.length, 336);
    assert.equal(Number(rows[1]?.time) - Number(rows[0]?.time), 1800);
    for (const row of rows) {
      assert.deepEqual(Object.keys(row).sort(), ["time", "total", "used"]);
      assert.ok(Number(row.used) <= Number(row.total));
    }
    const again = (await get(sim, "/nodes/pve1/storage/local-lvm/rrddata", { timeframe: "week" }))
      .body.data;
    assert.deepEqual(again, rows, "deterministic");
    const missing = await get(sim, "/nodes/pve1/storage/nope/rrddata", { timeframe: "hour" });
    assert.equal(missing.status, 500);
    assert.match(
      missing.body.message,
      /^RRD error: opening '\/var\/lib\/rrdcached\/db\/pve-storage-9\.0\/pve1\/nope': No such file/,
    );
    const badFrame = await get(sim, "/nodes/pve1/storage/local/rrddata", { timeframe: "decade" });
    assert.equal(badFrame.status, 400, "storages have no decade RRD");
  } finally {
    await sim.close();
  }
});

Deno.test("a storage can be planted nearly full on a node through the control API", async () => {
  const sim = await startTestSimulator();
  try {
    const planted = await control(sim, "POST", "/storage/local-lvm/usage", {
      node: "pve1",
      used_fraction: 0.96,
    });
    assert.equal(planted.status, 200);
    const status = (await get(sim, "/nodes/pve1/storage/local-lvm/status")).body.data as Entry;
    assert.ok(Math.abs(Number(status.used) / Number(status.total) - 0.96) < 0.001);
    const empty = await control(sim, "POST", "/storage/nas/usage", {
      node: "pve1",
      used_fraction: 2,
    });
    assert.equal(empty.status, 400);
  } finally {
    await sim.close();
  }
});

Deno.test("a planted task runs through the task engine and ends with the given status", async () => {
  const sim = await startTestSimulator();
  try {
    const planted = await control(sim, "POST", "/tasks", {
      node: "pve3",
      type: "vzdump",
      id: "202",
      status: "job errors",
      log: [
        "INFO: starting new backup job: vzdump 202",
        "ERROR: Backup of VM 202 failed - no space",
      ],
    });
    assert.equal(planted.status, 200);
    const upid = String(planted.body.upid);
    assert.match(upid, /^UPID:pve3:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzdump:202:root@pam:$/);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const failed = (await get(sim, "/nodes/pve3/tasks", { statusfilter: "error" })).body
      .data as Entry[];
    assert.equal(failed[0]?.upid, upid);
    assert.equal(failed[0]?.status, "job errors");
    const log = (await get(sim, `/nodes/pve3/tasks/${encodeURIComponent(upid)}/log`)).body
      .data as Entry[];
    assert.deepEqual(log.map((l) => l.t), [
      "INFO: starting new backup job: vzdump 202",
      "ERROR: Backup of VM 202 failed - no space",
      "TASK ERROR: job errors",
    ]);
    const bad = await control(sim, "POST", "/tasks", { node: "nope", type: "x", status: "OK" });
    assert.equal(bad.status, 400);
  } finally {
    await sim.close();
  }
});

Deno.test("node memory and root disk usage can be planted and show in status and /nodes", async () => {
  const sim = await startTestSimulator();
  try {
    const planted = await control(sim, "POST", "/nodes/pve3/usage", {
      mem_fraction: 0.97,
      disk_fraction: 0.93,
    });
    assert.equal(planted.status, 200);
    const status = (await get(sim, "/nodes/pve3/status")).body.data as {
      memory: { total: number; used: number };
      rootfs: { total: number; used: number };
    };
    assert.ok(Math.abs(status.memory.used / status.memory.total - 0.97) < 0.001);
    assert.ok(Math.abs(status.rootfs.used / status.rootfs.total - 0.93) < 0.001);
    const bad = await control(sim, "POST", "/nodes/pve3/usage", { mem_fraction: 3 });
    assert.equal(bad.status, 400);
  } finally {
    await sim.close();
  }
});

Deno.test("HA rules list PVE 9's node-affinity rules with defaults, order and digest", async () => {
  const sim = await startTestSimulator();
  try {
    const rules = (await get(sim, "/cluster/ha/rules")).body.data as Entry[];
    assert.equal(rules.length, 1);
    const [rule] = rules;
    assert.equal(rule?.rule, "web02-prefers-pve2");
    assert.equal(rule?.type, "node-affinity");
    assert.equal(rule?.resources, "vm:101");
    assert.equal(rule?.nodes, "pve2:2,pve3:1");
    assert.equal(rule?.strict, 0);
    assert.equal(rule?.order, 1);
    assert.match(String(rule?.digest), /^[0-9a-f]{40}$/);
    const filtered = await get(sim, "/cluster/ha/rules", { type: "resource-affinity" });
    assert.deepEqual(filtered.body.data, []);
    const byResource = await get(sim, "/cluster/ha/rules", { resource: "vm:100" });
    assert.deepEqual(byResource.body.data, []);
    const one = (await get(sim, "/cluster/ha/rules/web02-prefers-pve2")).body.data as Entry;
    assert.equal(one.rule, "web02-prefers-pve2");
    const missing = await get(sim, "/cluster/ha/rules/nope");
    assert.equal(missing.status, 500);
    assert.equal(missing.body.message, "no such ha rule 'nope'\n");
    const auditor = await api(sim, "GET", "/cluster/ha/rules", { token: AUDITOR });
    assert.equal(auditor.status, 200);
  } finally {
    await sim.close();
  }
});

Deno.test("HA status reports fence for a service on a dead node and a planted error state", async () => {
  const sim = await startTestSimulator();
  try {
    const service = async () =>
      ((await get(sim, "/cluster/ha/status/current")).body.data as Entry[])
        .find((e) => e.id === "service:vm:101") ?? {};
    assert.equal((await service()).status, "vm:101 (pve2, started)");
    await control(sim, "POST", "/nodes/pve2/offline");
    const fenced = await service();
    assert.equal(fenced.crm_state, "fence");
    assert.equal(fenced.state, "fence");
    assert.equal(fenced.request_state, "started");
    await control(sim, "POST", "/nodes/pve2/online");
    assert.equal((await control(sim, "POST", "/ha/vm:101/state", { state: "error" })).status, 200);
    const error = await service();
    assert.equal(error.crm_state, "error");
    assert.equal(error.status, "vm:101 (pve2, error)");
    await control(sim, "DELETE", "/ha/vm:101/state");
    assert.equal((await service()).crm_state, "started");
    assert.equal((await control(sim, "POST", "/ha/vm:999/state", { state: "error" })).status, 404);
  } finally {
    await sim.close();
  }
});

Deno.test("a lost quorum shows in the HA status with PVE's wording", async () => {
  const sim = await startTestSimulator();
  try {
    await control(sim, "POST", "/nodes/pve2/offline");
    await control(sim, "POST", "/nodes/pve3/offline");
    const quorum = ((await get(sim, "/cluster/ha/status/current")).body.data as Entry[])[0];
    assert.equal(quorum?.quorate, 0);
    assert.equal(quorum?.status, "No quorum on node 'pve1'!");
  } finally {
    await sim.close();
  }
});

Deno.test("guest rrddata carries live values only while the guest runs; other slots have only time and the max* capacities", async () => {
  const sim = await startTestSimulator({ now: NOW });
  try {
    const stopped = (await get(sim, "/nodes/pve3/qemu/103/rrddata", { timeframe: "day" })).body
      .data as Entry[];
    assert.equal(stopped.length, 1440);
    for (const row of stopped) {
      assert.deepEqual(Object.keys(row).sort(), ["maxcpu", "maxdisk", "maxmem", "time"]);
    }
    const running = (await get(sim, "/nodes/pve1/qemu/100/rrddata", { timeframe: "hour" })).body
      .data as Entry[];
    for (const key of ["cpu", "mem", "disk", "netin", "netout", "diskread", "diskwrite"]) {
      assert.equal(typeof running.at(-1)?.[key], "number", key);
    }
    // Started ten minutes ago: the older slots of the hour have no live values.
    const guest = sim.sim.state.guests.get(200);
    assert.ok(guest !== undefined);
    guest.startedAt = sim.sim.clock.now() - 600;
    const young = (await get(sim, "/nodes/pve1/lxc/200/rrddata", { timeframe: "hour" })).body
      .data as Entry[];
    const live = young.filter((row) => "cpu" in row).length;
    assert.ok(live >= 10 && live <= 11, `${live} live slots`);
    assert.equal(young[0]?.cpu, undefined);
    assert.equal(typeof young[0]?.maxmem, "number");
  } finally {
    await sim.close();
  }
});

Deno.test("a running VM's status/current has blockstat per drive, adding up to diskread and diskwrite", async () => {
  const sim = await startTestSimulator();
  try {
    const status = (await get(sim, "/nodes/pve1/qemu/102/status/current")).body.data as {
      diskread: number;
      diskwrite: number;
      blockstat: Record<string, Record<string, unknown>>;
    };
    assert.deepEqual(Object.keys(status.blockstat).sort(), ["scsi0", "scsi1"]);
    const sum = (key: string) =>
      Object.values(status.blockstat).reduce((total, s) => total + Number(s[key]), 0);
    assert.equal(sum("rd_bytes"), status.diskread);
    assert.equal(sum("wr_bytes"), status.diskwrite);
    assert.equal(status.blockstat.scsi0?.account_failed, true, "QMP booleans stay booleans");
    const web = (await get(sim, "/nodes/pve1/qemu/100/status/current")).body.data as {
      blockstat: Record<string, Record<string, unknown>>;
    };
    assert.equal(web.blockstat.ide2?.rd_bytes, 0, "the CD-ROM drive is listed too");
    const stopped = (await get(sim, "/nodes/pve3/qemu/103/status/current")).body.data as Entry;
    assert.equal(stopped.blockstat, undefined);
  } finally {
    await sim.close();
  }
});

Deno.test("a node's VM list comes in the same unsorted order on every call, as PVE's vmlist hash gives it", async () => {
  const sim = await startTestSimulator();
  try {
    const list = async () =>
      ((await get(sim, "/nodes/pve1/qemu")).body.data as Entry[]).map((e) => Number(e.vmid));
    const first = await list();
    assert.deepEqual([...first].sort((a, b) => a - b), [100, 102, 9000]);
    assert.notDeepEqual(first, [100, 102, 9000]);
    assert.deepEqual(await list(), first);
  } finally {
    await sim.close();
  }
});
