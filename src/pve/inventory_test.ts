import assert from "node:assert/strict";
import { clusterResourcesSchema, normalizeResources, resolveGuestIn } from "./inventory.ts";
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
  assert.equal(r.raw.length, raw.length);
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
