import assert from "node:assert/strict";
import {
  clusterResourcesSchema,
  normalizeResources,
  readResources,
  resolveGuestIn,
} from "./inventory.ts";
import { resourceEntrySchema } from "./coerce.ts";
import { PveValidationError } from "./errors.ts";

const raw = [
  { id: "node/pve1", type: "node", node: "pve1", status: "online", maxcpu: 12, level: "" },
  { id: "node/pve2", type: "node", node: "pve2", status: "offline" },
  {
    id: "qemu/100",
    type: "qemu",
    vmid: 100,
    node: "pve1",
    name: "web01",
    status: "running",
    template: 0,
    tags: "prod;web",
    pool: "prod",
  },
  {
    id: "lxc/201",
    type: "lxc",
    vmid: "201",
    node: "pve2",
    name: "web01",
    status: "unknown",
    lock: "backup",
  },
  {
    id: "qemu/9000",
    type: "qemu",
    vmid: 9000,
    node: "pve1",
    name: "tmpl",
    status: "stopped",
    template: "1",
  },
  {
    id: "storage/pve1/local",
    type: "storage",
    storage: "local",
    node: "pve1",
    plugintype: "dir",
    status: "available",
    shared: 0,
    content: "iso,backup",
    disk: 1,
    maxdisk: 2,
  },
  { id: "/pool/prod", type: "pool", pool: "prod" },
  { id: "network/pve1/zone/localnetwork", type: "network", node: "pve1", "network-type": "zone" },
];

Deno.test("resources are normalized and an offline node is flagged, not fatal", () => {
  const r = normalizeResources(clusterResourcesSchema.parse(raw));
  assert.deepEqual(r.guests.map((g) => g.vmid), [100, 201, 9000]);
  assert.deepEqual(r.offlineNodes, ["pve2"]);
  const ct = r.guests.find((g) => g.vmid === 201)!;
  assert.equal(ct.type, "lxc");
  assert.equal(ct.nodeOnline, false);
  assert.equal(ct.lock, "backup");
  assert.equal(r.guests.find((g) => g.vmid === 9000)?.template, true);
  assert.deepEqual(r.guests[0]?.tags, ["prod", "web"]);
  assert.deepEqual(r.storage[0]?.content, ["iso", "backup"]);
  assert.equal(r.storage[0]?.shared, false);
  assert.deepEqual(r.pools, ["prod"]);
  assert.deepEqual(Object.keys(r), ["guests", "nodes", "storage", "pools", "offlineNodes"]);
});

Deno.test("guests resolve by vmid or unique name; ambiguous names list the vmids", () => {
  const { guests } = normalizeResources(clusterResourcesSchema.parse(raw));
  assert.equal(resolveGuestIn(guests, 9000)?.node, "pve1");
  assert.equal(resolveGuestIn(guests, "201")?.type, "lxc");
  assert.equal(resolveGuestIn(guests, "TMPL")?.vmid, 9000);
  assert.equal(resolveGuestIn(guests, 555), undefined);
  assert.equal(resolveGuestIn(guests, "nope"), undefined);
  assert.throws(() => resolveGuestIn(guests, "web01"), (error: unknown) => {
    assert.ok(error instanceof PveValidationError);
    assert.match(error.message, /ambiguous/);
    assert.match(error.message, /100 \(qemu on pve1\), 201 \(lxc on pve2\)/);
    return true;
  });
  assert.throws(() => resolveGuestIn(guests, " "), PveValidationError);
});

Deno.test("resolveGuestIn refuses a name with spaces around it or control characters instead of trimming it into another guest's", () => {
  // Found by the fuzz suite: guest_reboot {name: "k8s-node1\t"} rebooted k8s-node1.
  const { guests } = normalizeResources(clusterResourcesSchema.parse(raw));
  for (const name of ["TMPL\t", " tmpl", "tmpl\n", "tmpl\u2028", "tm\u0000pl"]) {
    assert.throws(() => resolveGuestIn(guests, name), (error: unknown) => {
      assert.ok(error instanceof PveValidationError, name);
      assert.match(
        error.message,
        /^No guest can be named "[^\n]*" \(spaces around it or control characters\): give the name/,
      );
      return true;
    });
  }
  assert.equal(resolveGuestIn(guests, "tmpl")?.vmid, 9000);
});

Deno.test("readResources coerces numeric strings, 0/1 booleans and keeps the field order", () => {
  const r = readResources([
    { id: "node/pve1", type: "node", node: "pve1", status: "online", cpu: "0.25", maxcpu: "8" },
    {
      id: "qemu/100",
      type: "qemu",
      vmid: "100",
      node: "pve1",
      name: 100,
      status: "running",
      template: "0",
      hastate: "started",
      tags: "db;prod",
      pool: "prod",
      lock: "backup",
      cpu: " 0.5 ",
      maxcpu: 2,
      mem: "1073741824",
      maxmem: 2147483648,
      memhost: "1e9",
      disk: "0",
      maxdisk: 34359738368,
      uptime: "3600",
      netin: "12",
      diskwrite: 7,
    },
    {
      id: "storage/pve1/local",
      type: "storage",
      storage: "local",
      node: "pve1",
      status: "available",
      shared: "1",
      content: "iso,,backup",
      plugintype: "dir",
      disk: "5",
      maxdisk: 10,
    },
  ]);
  assert.ok(r !== undefined);
  // Serialized to compare key order too: a guest reads the same whichever fields PVE sent.
  assert.equal(
    JSON.stringify(r.guests[0]),
    JSON.stringify({
      vmid: 100,
      type: "qemu",
      node: "pve1",
      name: "100",
      status: "running",
      template: false,
      pool: "prod",
      lock: "backup",
      tags: ["db", "prod"],
      hastate: "started",
      nodeOnline: true,
      cpu: 0.5,
      maxcpu: 2,
      mem: 1073741824,
      maxmem: 2147483648,
      memhost: 1e9,
      disk: 0,
      maxdisk: 34359738368,
      uptime: 3600,
    }),
  );
  assert.equal(
    JSON.stringify(r.nodes),
    JSON.stringify([{ node: "pve1", status: "online", cpu: 0.25, maxcpu: 8 }]),
  );
  assert.equal(
    JSON.stringify(r.storage),
    JSON.stringify([{
      storage: "local",
      node: "pve1",
      plugintype: "dir",
      status: "available",
      shared: true,
      content: ["iso", "backup"],
      disk: 5,
      maxdisk: 10,
    }]),
  );
});

Deno.test("every boolean form PVE sends is read as the schema reads it", () => {
  for (
    const [value, expected] of [[1, true], ["1", true], [true, true], [0, false], ["0", false], [
      false,
      false,
    ], ["", false]] as const
  ) {
    const r = readResources([{ type: "qemu", vmid: 1, template: value }, {
      type: "storage",
      storage: "s",
      shared: value,
    }]);
    assert.equal(r?.guests[0]?.template, expected, JSON.stringify(value));
    assert.equal(r?.storage[0]?.shared, expected, JSON.stringify(value));
  }
});

Deno.test("stopped and unknown guests without stats get defaults and no undefined keys", () => {
  const r = readResources([
    { id: "node/pve2", type: "node", node: "pve2", status: "offline" },
    { id: "lxc/201", type: "lxc", vmid: 201, node: "pve2", status: "unknown" },
    { id: "qemu/300", type: "qemu", node: "pve2" },
    { id: "qemu/bad", type: "qemu" },
    { type: "lxc" },
  ]);
  assert.ok(r !== undefined);
  assert.deepEqual(r.guests, [
    {
      vmid: 0,
      type: "lxc",
      node: "",
      name: "",
      status: "unknown",
      template: false,
      tags: [],
      nodeOnline: false,
    },
    {
      vmid: 201,
      type: "lxc",
      node: "pve2",
      name: "",
      status: "unknown",
      template: false,
      tags: [],
      nodeOnline: false,
    },
    {
      vmid: 300,
      type: "qemu",
      node: "pve2",
      name: "",
      status: "unknown",
      template: false,
      tags: [],
      nodeOnline: false,
    },
  ]);
  assert.deepEqual(r.nodes, [{ node: "pve2", status: "offline" }]);
  assert.deepEqual(r.offlineNodes, ["pve2"]);
});

Deno.test("without node entries (a ?type=vm read) every guest counts as on an online node", () => {
  const r = readResources([{ type: "qemu", vmid: 100, node: "pve9", status: "running" }]);
  assert.equal(r?.guests[0]?.nodeOnline, true);
  assert.deepEqual(r?.offlineNodes, []);
});

Deno.test("names fall back to the id: node, storage, pool and vmid", () => {
  const r = readResources([
    { id: "node/pve3", type: "node" },
    { id: "storage/pve3/nfs", type: "storage" },
    { id: "/pool/lab", type: "pool" },
    { id: "/pool/", type: "pool" },
    { id: "lxc/205", type: "lxc" },
  ]);
  assert.deepEqual(r?.nodes, [{ node: "pve3", status: "unknown" }]);
  assert.deepEqual(r?.storage, [{
    storage: "nfs",
    node: "",
    status: "unknown",
    shared: false,
    content: [],
  }]);
  assert.deepEqual(r?.pools, ["lab"]);
  assert.deepEqual(r?.guests.map((g) => g.vmid), [205]);
});

Deno.test("unknown 9.x kinds and extra fields are accepted and left out", () => {
  const r = readResources([
    { id: "network/pve1/zone/localnetwork", type: "network", node: "pve1", "network-type": "zone" },
    { id: "sdn/pve1/localnetwork", type: "sdn", sdn: "localnetwork", node: "pve1" },
    { id: "future/1", type: "future-kind", whatever: { nested: [1] } },
    { type: "qemu", vmid: 7, "new-9x-field": [1, 2], tags: "" },
  ]);
  assert.ok(r !== undefined);
  assert.deepEqual(r.nodes, []);
  assert.deepEqual(r.storage, []);
  assert.deepEqual(r.guests.map((g) => [g.vmid, g.tags]), [[7, []]]);
  assert.ok(!("new-9x-field" in r.guests[0]!));
});

Deno.test("readResources rejects what the schema rejects, wherever it is", () => {
  const cases: unknown[] = [
    null,
    {},
    "qemu/100",
    [null],
    [[]],
    ["qemu/100"],
    [{ id: "qemu/100", vmid: 100 }],
    [{ type: 5 }],
    [{ type: "qemu", vmid: "abc" }],
    [{ type: "qemu", vmid: 1.5 }],
    [{ type: "qemu", vmid: 1, tags: ["a"] }],
    [{ type: "qemu", vmid: 1, template: "yes" }],
    [{ type: "qemu", vmid: 1, cpu: null }],
    [{ type: "qemu", vmid: 1, netout: "" }],
    [{ type: "network", node: 1 }],
    [{ type: "sdn", sdn: 1 }],
    [{ type: "node", node: "a" }, { type: "storage", shared: "true" }],
  ];
  for (const data of cases) {
    assert.equal(clusterResourcesSchema.safeParse(data).success, false, JSON.stringify(data));
    assert.equal(readResources(data), undefined, JSON.stringify(data));
  }
  assert.throws(() => normalizeResources([{ type: "qemu", vmid: 1.5 }]), TypeError);
});

// Values of every JSON kind and the quirks in between, tried in every field the schema declares.
const SAMPLES: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  1,
  2,
  -3,
  1.5,
  1e21,
  Infinity,
  NaN,
  "",
  " ",
  "0",
  "1",
  "2",
  "101",
  " 42 ",
  "1.5",
  ".5",
  "1e3",
  "-7",
  "+8",
  "0x10",
  "12abc",
  "abc",
  "prod;web",
  [],
  ["a"],
  {},
  { a: 1 },
];

Deno.test("readResources agrees with the schema on every declared field and sample value", () => {
  const keys = Object.keys(resourceEntrySchema.shape);
  assert.ok(keys.length >= 29);
  for (const key of keys) {
    for (const type of ["qemu", "lxc", "node", "storage", "pool", "network"]) {
      for (const value of SAMPLES) {
        const entry: Record<string, unknown> = { id: `${type}/100`, type };
        if (value !== undefined) entry[key] = value;
        const data = [entry];
        const label = `${type}.${key} = ${JSON.stringify(value)}`;
        const parsed = clusterResourcesSchema.safeParse(data);
        const read = readResources(data);
        assert.equal(read !== undefined, parsed.success, label);
        if (read !== undefined && parsed.success) {
          // Same result from the raw entry and from the schema's coerced copy of it.
          assert.deepEqual(read, normalizeResources(parsed.data), label);
        }
      }
    }
  }
});
