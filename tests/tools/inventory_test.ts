import assert from "node:assert/strict";
import { clusterStatus } from "../../src/tools/inventory/cluster_status.ts";
import { guestGet } from "../../src/tools/inventory/guest_get.ts";
import { guestList } from "../../src/tools/inventory/guest_list.ts";
import { openSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [clusterStatus, guestList, guestGet];

interface Row {
  vmid: number;
  name?: string;
  type?: string;
  node?: string;
  status?: string;
  [key: string]: unknown;
}

interface ListOut {
  guests: Row[];
  total_matching: number;
  totals: Record<string, { qemu?: number; lxc?: number }>;
  returned: number;
  next_cursor?: string;
  hint?: string;
}

Deno.test("cluster_status reports quorum, nodes with units, versions, and flags an offline node", async () => {
  const s = await openSession({ tools });
  try {
    const first = structuredOf<Record<string, unknown>>(await s.call("cluster_status"));
    assert.equal(first.cluster_name, "homelab");
    assert.equal(first.quorate, true);
    assert.equal(first.nodes_online, 3);
    assert.deepEqual(first.versions, ["9.1.1"]);
    const nodes = first.nodes as Record<string, unknown>[];
    assert.equal(nodes[0]?.node, "pve1");
    assert.equal(typeof nodes[0]?.cpu_fraction, "number");
    assert.equal(typeof nodes[0]?.maxmem_bytes, "number");
    assert.equal(typeof nodes[0]?.uptime_seconds, "number");
    assert.ok((nodes[0]?.rootfs_used_bytes as number) > 0);
    assert.ok((nodes[0]?.rootfs_total_bytes as number) > (nodes[0]?.rootfs_used_bytes as number));

    await fetch(`${s.sim.url}/_sim/nodes/pve3/offline`, { method: "POST" }).then((r) =>
      r.body?.cancel()
    );
    const result = await s.call("cluster_status");
    const second = structuredOf<Record<string, unknown>>(result);
    assert.deepEqual(second.offline_nodes, ["pve3"]);
    assert.equal(second.nodes_online, 2);
    assert.match(textOf(result), /pve3: OFFLINE/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_list filters by type, status, tag, pool, node, name glob and template", async () => {
  const s = await openSession({ tools });
  try {
    const ids = async (args: Record<string, unknown>) =>
      structuredOf<ListOut>(await s.call("guest_list", args)).guests.map((g) => g.vmid);
    assert.deepEqual(await ids({ type: "lxc" }), [200, 201, 202, 203, 204]);
    assert.deepEqual(await ids({ type: "lxc", status: "stopped" }), [203, 204]);
    assert.deepEqual(await ids({ tag: "web" }), [100, 101, 201]);
    assert.deepEqual(await ids({ pool: "prod" }), [100, 101, 102, 201]);
    assert.deepEqual(await ids({ node: "pve3" }), [103, 105, 202, 204]);
    assert.deepEqual(await ids({ name: "web*" }), [100, 101]);
    assert.deepEqual(await ids({ name: "K8S-NODE?" }), [104, 105]);
    assert.deepEqual(await ids({ template: true }), [9000]);
    const none = await s.call("guest_list", { name: "nothing*" });
    assert.equal(structuredOf<ListOut>(none).total_matching, 0);
    assert.match(textOf(none), /No guests match/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_list totals count the whole match by status and type, not only the page", async () => {
  const s = await openSession({ tools });
  try {
    const all = structuredOf<ListOut>(await s.call("guest_list", {}));
    const expected: Record<string, { qemu?: number; lxc?: number }> = {};
    for (const g of all.guests) {
      const byType = expected[g.status ?? ""] ??= {};
      const type = g.type as "qemu" | "lxc";
      byType[type] = (byType[type] ?? 0) + 1;
    }
    assert.deepEqual(all.totals, expected);
    assert.ok((all.totals.running?.qemu ?? 0) > 0 && (all.totals.stopped?.lxc ?? 0) > 0);

    const result = await s.call("guest_list", { limit: 2 });
    const page = structuredOf<ListOut>(result);
    assert.equal(page.returned, 2);
    assert.deepEqual(page.totals, expected);
    const running = (expected.running?.qemu ?? 0) + (expected.running?.lxc ?? 0);
    assert.match(
      textOf(result),
      new RegExp(
        `totals: running ${running} \\(qemu ${expected.running?.qemu}, lxc ${expected.running?.lxc}\\)`,
      ),
    );

    const lxc = structuredOf<ListOut>(await s.call("guest_list", { type: "lxc", limit: 1 }));
    assert.deepEqual(lxc.totals, { running: { lxc: 3 }, stopped: { lxc: 2 } });
  } finally {
    await s.close();
  }
});

Deno.test("guest_list sorts, selects fields and pages with a cursor bound to its query", async () => {
  const s = await openSession({ tools });
  try {
    const byName = structuredOf<ListOut>(
      await s.call("guest_list", { sort: "name", order: "desc" }),
    );
    const names = byName.guests.map((g) => g.name ?? "");
    assert.deepEqual(names, [...names].sort().reverse());

    const byMem = structuredOf<ListOut>(
      await s.call("guest_list", { sort: "mem", order: "desc", status: "running", limit: 1 }),
    );
    assert.equal(byMem.guests[0]?.vmid, 102);

    const wide = structuredOf<ListOut>(
      await s.call("guest_list", {
        fields: ["tags", "pool", "maxmem_bytes"],
        vmid: undefined,
        name: "web01",
      }),
    );
    assert.deepEqual(Object.keys(wide.guests[0] ?? {}).sort(), [
      "maxmem_bytes",
      "pool",
      "tags",
      "vmid",
    ]);
    assert.deepEqual(wide.guests[0]?.tags, ["prod", "web"]);

    const page1 = structuredOf<ListOut>(await s.call("guest_list", { limit: 5 }));
    assert.equal(page1.returned, 5);
    assert.equal(page1.total_matching, 12);
    assert.ok(page1.next_cursor);
    assert.match(page1.hint ?? "", /7 more/);
    const page2 = structuredOf<ListOut>(
      await s.call("guest_list", { limit: 5, cursor: page1.next_cursor }),
    );
    const page3 = structuredOf<ListOut>(
      await s.call("guest_list", { limit: 5, cursor: page2.next_cursor }),
    );
    assert.equal(page3.returned, 2);
    assert.equal(page3.next_cursor, undefined);
    const all = [...page1.guests, ...page2.guests, ...page3.guests].map((g) => g.vmid);
    assert.deepEqual(all, [100, 101, 102, 103, 104, 105, 200, 201, 202, 203, 204, 9000]);

    const wrong = await s.call("guest_list", { limit: 5, type: "lxc", cursor: page1.next_cursor });
    assert.equal(wrong.isError, true);
    assert.match(textOf(wrong), /does not belong to this query: repeat the call without cursor/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_list hides guests outside the configured scope", async () => {
  const s = await openSession({ tools, config: { policy: { scope: { pools: ["prod"] } } } });
  try {
    const out = structuredOf<ListOut>(await s.call("guest_list"));
    assert.deepEqual(out.guests.map((g) => g.vmid), [100, 101, 102, 201]);
    const refused = await s.call("guest_get", { vmid: 200 });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /outside the scope/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_list answers a 10,000-guest cluster within 40 KB by default, with total and hint", async () => {
  const s = await openSession({
    tools,
    sim: { seed: "scale", nodes: 50, guests: 10_000, speed: "instant" },
  });
  try {
    const since = await s.mark();
    const result = await s.call("guest_list");
    const out = structuredOf<ListOut>(result);
    assert.equal(out.total_matching, 10_000);
    assert.equal(out.returned, 50);
    assert.ok(out.next_cursor);
    assert.match(out.hint ?? "", /narrow with node, type, status, tag, pool or name/);
    const bytes = JSON.stringify(result).length;
    assert.ok(bytes <= 40_000, `result is ${bytes} bytes`);
    const reads = (await s.requests(since)).filter((r) => r.path === "/cluster/resources");
    assert.equal(reads.length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("guest_get shows a VM by name with config digest, snapshots and agent IPs", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guest_get", { name: "web01" });
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.vmid, 100);
    assert.equal(out.node, "pve1");
    assert.equal(out.pool, "prod");
    assert.match(String(out.digest), /^[0-9a-f]{40}$/);
    const agent = out.agent as { enabled: boolean; ips: { address: string }[] };
    assert.equal(agent.enabled, true);
    assert.ok(agent.ips.some((ip) => ip.address === "192.168.1.50"));
    assert.ok(!agent.ips.some((ip) => ip.address.startsWith("127.")));
    assert.match(textOf(result), /IPs: 192\.168\.1\.50 \(eth0\)/);

    const db = structuredOf<Record<string, unknown>>(await s.call("guest_get", { vmid: 102 }));
    assert.equal(db.snapshot_count, 2);
    assert.equal(db.name, "db01");
  } finally {
    await s.close();
  }
});

Deno.test("guest_get skips agent errors gracefully and reports HA state", async () => {
  const s = await openSession({ tools });
  try {
    const out = structuredOf<Record<string, unknown>>(await s.call("guest_get", { vmid: 101 }));
    const agent = out.agent as { enabled: boolean; ips?: unknown; note?: string };
    assert.equal(agent.enabled, true);
    assert.equal(agent.ips, undefined);
    assert.match(agent.note ?? "", /agent not answering/);
    assert.deepEqual((out.ha as { managed: boolean }).managed, true);
  } finally {
    await s.close();
  }
});

Deno.test("guest_get needs vmid or name and names a missing guest", async () => {
  const s = await openSession({ tools });
  try {
    const neither = await s.call("guest_get", {});
    assert.equal(neither.isError, true);
    assert.match(textOf(neither), /pass vmid or name/);
    const missing = await s.call("guest_get", { vmid: 777 });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /No guest with vmid 777/);
    const conflict = await s.call("guest_get", { vmid: 100, name: "db01" });
    assert.equal(conflict.isError, true);
    assert.match(textOf(conflict), /pass only vmid or only name/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_list flags guests of an offline node", async () => {
  const s = await openSession({ tools });
  try {
    await fetch(`${s.sim.url}/_sim/nodes/pve3/offline`, { method: "POST" }).then((r) =>
      r.body?.cancel()
    );
    const result = await s.call("guest_list", { node: "pve3" });
    const out = structuredOf<ListOut & { offline_nodes?: string[] }>(result);
    assert.equal(out.total_matching, 4);
    assert.deepEqual(out.offline_nodes, ["pve3"]);
    assert.ok(out.guests.every((g) => g.node_online === false));
    assert.match(textOf(result), /pve3 offline/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_list says why a node or pool filter matches nothing and refuses an unknown status", async () => {
  const s = await openSession({ tools });
  try {
    const node = await s.call("guest_list", { node: "pve9" });
    assert.equal(node.isError, undefined);
    assert.match(
      textOf(node),
      /node "pve9" is not in this cluster; its nodes are pve1, pve2, pve3/,
    );
    assert.doesNotMatch(textOf(node), /scope/);
    const pool = await s.call("guest_list", { pool: "nope" });
    assert.match(
      structuredOf<ListOut>(pool).hint ?? "",
      /no pool "nope" is visible; known pools: prod/,
    );
    const status = await s.call("guest_list", { status: "Running" });
    assert.equal(status.isError, true);
    assert.match(textOf(status), /running/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_list and guest_get leave out a VM's disk usage, which PVE always reports as 0", async () => {
  const s = await openSession({ tools });
  try {
    const rows = structuredOf<ListOut>(
      await s.call("guest_list", { fields: ["vmid", "disk_bytes", "maxdisk_bytes"] }),
    ).guests;
    const vm = rows.find((g) => g.vmid === 100);
    assert.equal(vm?.disk_bytes, undefined);
    assert.equal(typeof vm?.maxdisk_bytes, "number");
    assert.equal(typeof rows.find((g) => g.vmid === 200)?.disk_bytes, "number");
    const got = structuredOf<Record<string, unknown>>(await s.call("guest_get", { vmid: 100 }));
    assert.equal(got.disk_bytes, undefined);
    assert.equal(got.ha, undefined, "no HA block for a guest HA does not manage");
    assert.equal(got.maxcpu, 2, "the same name for the CPU count as guest_list and cluster_status");
    assert.equal(typeof got.maxdisk_bytes, "number");
  } finally {
    await s.close();
  }
});

Deno.test("guest_get names a protected guest and gives PVE's reason when the agent is silent", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guest_get", { vmid: 102 });
    assert.match(textOf(result), /protected \(cannot be removed\)/);
    assert.match(textOf(result), /Agent not answering: QEMU guest agent is not running/);
    assert.doesNotMatch(textOf(result), /GET \/nodes/);
  } finally {
    await s.close();
  }
});
