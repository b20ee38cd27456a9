import assert from "node:assert/strict";
import { structuredOf, textOf } from "./_helpers.ts";
import { control, openObserveSession } from "./_observe.ts";

interface Finding {
  severity: string;
  check: string;
  detail: string;
  next_step: string;
  count?: number;
  examples?: string[];
}

interface Health {
  healthy: boolean;
  counts: { critical: number; warning: number; info: number };
  findings: Finding[];
  checked: { nodes: number; guests: number; backups: boolean };
  skipped: string[];
}

Deno.test("cluster_health says in one line that a cluster without problems has none", async () => {
  const s = await openObserveSession();
  try {
    // The demo keeps backups of only some guests: without any backups that check stays out.
    for (const [key, list] of s.sim.sim.state.volumes) {
      s.sim.sim.state.volumes.set(key, list.filter((v) => v.content !== "backup"));
    }
    const result = await s.call("cluster_health");
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Health>(result);
    assert.equal(out.healthy, true, textOf(result));
    assert.deepEqual(out.findings, []);
    assert.deepEqual(out.skipped, []);
    assert.equal(out.checked.nodes, 3);
    assert.equal(out.checked.guests, 12);
    assert.equal(out.checked.backups, false);
    assert.equal(textOf(result).split("\n").length, 1);
    assert.match(
      textOf(result),
      /^No problems found: 3 node\(s\), 12 guest\(s\), \d+ storage\(s\)/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("cluster_health finds an offline node, a nearly full storage and a failed task planted through the control API", async () => {
  const s = await openObserveSession();
  try {
    await control(s, "POST", "/nodes/pve3/offline");
    await control(s, "POST", "/storage/local-lvm/usage", { node: "pve1", used_fraction: 0.97 });
    const planted = await control(s, "POST", "/tasks", {
      node: "pve2",
      type: "vzdump",
      id: "104",
      status: "job errors",
      log: ["ERROR: Backup of VM 104 failed - storage 'nas' is not online"],
    });
    const upid = String(planted.upid);
    const result = await s.call("cluster_health");
    const out = structuredOf<Health>(result);
    const text = textOf(result);
    assert.equal(out.healthy, false);
    const byCheck = new Map(out.findings.map((f) => [f.check, f]));
    const offline = byCheck.get("node_offline");
    assert.equal(offline?.severity, "critical");
    assert.match(
      offline?.detail ?? "",
      /^Node pve3 is offline; 4 guest\(s\) on it cannot be managed\.$/,
    );
    assert.match(offline?.next_step ?? "", /power, network and corosync/);
    const full = byCheck.get("storage_full");
    assert.equal(full?.severity, "critical");
    assert.match(full?.detail ?? "", /^Storage local-lvm on pve1 is nearly full: 97\.0% \(/);
    const failed = byCheck.get("failed_tasks");
    assert.equal(failed?.severity, "warning");
    assert.equal(failed?.count, 1);
    assert.deepEqual(failed?.examples, [`${upid} vzdump 104: job errors`]);
    assert.match(text, /^2 critical, \d+ warning\(s\)/);
    assert.ok(text.includes(upid), "the text names the failed task's UPID");
    assert.equal(out.findings[0]?.severity, "critical", "most severe first");
    assert.equal(byCheck.get("quorum"), undefined, "two of three nodes keep quorum");
  } finally {
    await s.close();
  }
});

Deno.test("cluster_health reports HA errors, stale locks, full nodes, bad subscriptions and guests without a recent backup", async () => {
  const s = await openObserveSession();
  try {
    await control(s, "POST", "/ha/vm:101/state", { state: "error" });
    await control(s, "POST", "/guests/104/lock", { lock: "backup" });
    await control(s, "POST", "/nodes/pve2/usage", { mem_fraction: 0.9 });
    await control(s, "POST", "/nodes/pve1/subscription", { status: "active", level: "c" });
    await control(s, "POST", "/nodes/pve2/subscription", { status: "expired", level: "c" });
    const out = structuredOf<Health>(await s.call("cluster_health", { backup_days: 30 }));
    const byCheck = new Map(out.findings.map((f) => [f.check, f]));
    assert.deepEqual(byCheck.get("ha_error")?.examples, ["vm:101 on pve2"]);
    assert.equal(byCheck.get("ha_error")?.severity, "critical");
    assert.deepEqual(byCheck.get("stale_lock")?.examples, ["VM 104 (k8s-node1) lock backup"]);
    assert.match(
      byCheck.get("node_memory")?.detail ?? "",
      /^Node pve2 memory is nearly full: 90\.0% /,
    );
    assert.equal(byCheck.get("node_memory")?.severity, "warning");
    assert.deepEqual(byCheck.get("subscription")?.examples, ["pve2: expired"]);
    assert.equal(byCheck.get("subscription_mixed")?.severity, "info");
    const backups = byCheck.get("no_recent_backup");
    assert.equal(out.checked.backups, true);
    assert.match(backups?.detail ?? "", /have no backup from the last 30 day\(s\)/);
    assert.ok(backups?.examples?.some((e) => e.startsWith("VM 103 (win11-desk): none")));
    assert.ok(!backups?.examples?.some((e) => e.includes("9000")), "templates need no backup");
  } finally {
    await s.close();
  }
});

Deno.test("cluster_health refuses a threshold out of range before sending anything", async () => {
  const s = await openObserveSession();
  try {
    const since = await s.mark();
    const result = await s.call("cluster_health", { threshold_percent: 20 });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /threshold_percent/);
    assert.deepEqual(await s.requests(since), []);
  } finally {
    await s.close();
  }
});

interface NodeOut {
  node: string;
  cpu_model: string;
  sockets: number;
  cores: number;
  loadavg: number[];
  mem_total_bytes: number;
  rootfs_used_bytes: number;
  kernel: string;
  pve_version: string;
  subscription: string;
  failed_services: string[];
  storages: string[];
  bridges: string[];
}

Deno.test("node_get shows CPU, memory, versions, failed services, storages and bridges of one node", async () => {
  const s = await openObserveSession();
  try {
    await control(s, "POST", "/nodes/pve1/services/pvescheduler", { state: "failed" });
    const result = await s.call("node_get", { node: "pve1" });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<NodeOut>(result);
    assert.equal(out.cpu_model, "Intel(R) Xeon(R) E-2236 CPU @ 3.40GHz");
    assert.equal(out.sockets, 1);
    assert.equal(out.cores, 6);
    assert.deepEqual(out.loadavg, [0.82, 0.74, 0.69]);
    assert.equal(out.mem_total_bytes, 64 * 1024 ** 3);
    assert.equal(out.pve_version, "9.1.1");
    assert.equal(out.kernel, "6.17.2-1-pve");
    assert.equal(out.subscription, "none");
    assert.deepEqual(out.failed_services, ["pvescheduler"]);
    assert.ok(
      out.storages.some((line) => /^local-lvm \(lvmthin\): .* used \(\d+\.\d%\)$/.test(line)),
    );
    assert.ok(out.storages.some((line) => line.startsWith("nas (nfs, shared): ")));
    assert.deepEqual(out.bridges, [
      "vmbr0: 10.0.0.11/24 gw 10.0.0.1, ports bond0, VLAN-aware 2-4094",
    ]);
    assert.match(textOf(result), /FAILED services: pvescheduler/);
  } finally {
    await s.close();
  }
});

Deno.test("node_get marks a bridge that exists only in pending changes", async () => {
  const s = await openObserveSession();
  try {
    const out = structuredOf<NodeOut>(await s.call("node_get", { node: "pve2" }));
    assert.deepEqual(out.bridges, [
      "vmbr0: 10.0.0.12/24 gw 10.0.0.1, ports eno1",
      "vmbr1: ports eno2, pending, not applied",
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("node_get answers an unknown or offline node with one sentence and the valid names, sending nothing to it", async () => {
  const s = await openObserveSession();
  try {
    const since = await s.mark();
    const unknown = await s.call("node_get", { node: "pve9" });
    assert.equal(unknown.isError, true);
    assert.equal(
      textOf(unknown),
      'Node "pve9" is not in the cluster: use one of "pve1", "pve2", "pve3".',
    );
    await control(s, "POST", "/nodes/pve3/offline");
    const offline = await s.call("node_get", { node: "pve3" });
    assert.equal(offline.isError, true);
    assert.match(
      textOf(offline),
      /^Node "pve3" is offline, so it cannot answer: ask about an online node \("pve1", "pve2"\)/,
    );
    const paths = (await s.requests(since)).map((r) => r.path);
    assert.ok(paths.every((p) => p === "/nodes"), paths.join(", "));
  } finally {
    await s.close();
  }
});

interface Metrics {
  target: string;
  points_total?: number;
  points_with_data?: number;
  step_seconds?: number;
  stats?: Record<string, { avg: number; max: number; last: number }>;
  capacity?: Record<string, number>;
  samples?: Record<string, number | string>[];
  top?: Record<string, unknown>[];
  guests_considered?: number;
}

Deno.test("metrics_get on a stopped guest reports no samples instead of inventing numbers", async () => {
  const s = await openObserveSession();
  try {
    const result = await s.call("metrics_get", { name: "win11-desk", timeframe: "day" });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Metrics>(result);
    assert.equal(out.target, "VM 103 (win11-desk)");
    assert.deepEqual(out.stats, {});
    assert.equal(out.points_with_data, 0);
    assert.equal(out.points_total, 1440);
    assert.equal(out.capacity?.maxmem_bytes, 8192 * 1024 ** 2, "capacities are known");
    assert.match(textOf(result), /No samples: VM 103 \(win11-desk\) is not running/);
  } finally {
    await s.close();
  }
});

Deno.test("metrics_get summarizes a running guest per series with units, and downsamples only when asked", async () => {
  const s = await openObserveSession();
  try {
    const result = await s.call("metrics_get", { vmid: 100 });
    const out = structuredOf<Metrics>(result);
    assert.equal(out.points_total, 60);
    assert.equal(out.step_seconds, 60);
    assert.deepEqual(Object.keys(out.stats ?? {}).sort(), [
      "cpu_fraction",
      "diskread_bytes_per_second",
      "diskwrite_bytes_per_second",
      "mem_bytes",
      "netin_bytes_per_second",
      "netout_bytes_per_second",
    ]);
    for (const stats of Object.values(out.stats ?? {})) {
      assert.ok(stats.avg <= stats.max && stats.last <= stats.max);
    }
    assert.equal(out.samples, undefined, "no point dump by default");
    const sampled = structuredOf<Metrics>(
      await s.call("metrics_get", {
        vmid: 100,
        timeframe: "week",
        points: 12,
        series: ["cpu", "pressureiosome"],
      }),
    );
    assert.equal(sampled.samples?.length, 12);
    assert.deepEqual(Object.keys(sampled.samples?.[0] ?? {}).sort(), [
      "cpu_fraction",
      "pressureiosome_percent",
      "time",
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("metrics_get covers nodes and storage, finding the node of a shared storage itself", async () => {
  const s = await openObserveSession();
  try {
    const node = structuredOf<Metrics>(await s.call("metrics_get", { node: "pve2", cf: "MAX" }));
    assert.ok("loadavg_1m" in (node.stats ?? {}));
    assert.ok("memused_bytes" in (node.stats ?? {}));
    const shared = structuredOf<Metrics>(await s.call("metrics_get", { storage: "nas" }));
    assert.match(shared.target, /^storage nas on pve[123]$/);
    assert.ok("used_bytes" in (shared.stats ?? {}));
    const local = await s.call("metrics_get", { storage: "local-lvm" });
    assert.equal(local.isError, true);
    assert.match(textOf(local), /local to each node: give node, one of "pve1", "pve2", "pve3"/);
    const unknown = await s.call("metrics_get", { storage: "nope", node: "pve1" });
    assert.equal(
      textOf(unknown),
      'Storage "nope" does not exist: use one of "local", "local-lvm", "nas", "pbs".',
    );
    const onNode = structuredOf<Metrics>(
      await s.call("metrics_get", { storage: "local-lvm", node: "pve2" }),
    );
    assert.equal(onNode.target, "storage local-lvm on pve2");
  } finally {
    await s.close();
  }
});

Deno.test("metrics_get refuses an unknown series or timeframe before sending anything", async () => {
  const s = await openObserveSession();
  try {
    const since = await s.mark();
    const series = await s.call("metrics_get", { node: "pve1", series: ["cpu", "temperature"] });
    assert.equal(series.isError, true);
    assert.match(textOf(series), /No node series "temperature": a node has cpu, iowait, loadavg/);
    const frame = await s.call("metrics_get", { node: "pve1", timeframe: "decade" });
    assert.equal(frame.isError, true);
    assert.match(textOf(frame), /timeframe/);
    const none = await s.call("metrics_get", {});
    assert.equal(none.isError, true);
    assert.match(textOf(none), /^Say what to measure/);
    const paths = (await s.requests(since)).map((r) => r.path);
    assert.ok(paths.every((p) => !p.endsWith("/rrddata")), paths.join(", "));
  } finally {
    await s.close();
  }
});

Deno.test("metrics_get refuses a guest given with a node or storage, and limit without top, sending nothing", async () => {
  const s = await openObserveSession();
  try {
    const since = await s.mark();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ vmid: 100, node: "pve1" }, /^Give a guest \(vmid or name\) alone: its node is found/],
      [{ name: "web01", storage: "nas" }, /^Give a guest \(vmid or name\) alone/],
      [{ node: "pve1", limit: 5 }, /^limit goes with top: drop it, or add top\.$/],
    ];
    for (const [args, why] of cases) {
      const result = await s.call("metrics_get", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), why, JSON.stringify(args));
    }
    assert.deepEqual(await s.requests(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("metrics_get top ranks the running guests from one /cluster/resources read", async () => {
  const s = await openObserveSession();
  try {
    const since = await s.mark();
    const out = structuredOf<Metrics>(await s.call("metrics_get", { top: "cpu", limit: 3 }));
    assert.equal(out.top?.length, 3);
    assert.equal(out.guests_considered, 8, "the 8 running guests");
    const cores = (out.top ?? []).map((t) => Number(t.cpu_cores));
    assert.deepEqual(cores, [...cores].sort((a, b) => b - a));
    const requests = await s.requests(since);
    assert.deepEqual(requests.map((r) => `${r.method} ${r.path}`), ["GET /cluster/resources"]);
    const net = structuredOf<Metrics>(await s.call("metrics_get", { top: "net" }));
    assert.ok((net.top ?? []).every((t) => typeof t.net_bytes_per_second === "number"));
    const mixed = await s.call("metrics_get", { top: "mem", vmid: 100 });
    assert.equal(mixed.isError, true);
    assert.match(textOf(mixed), /drop vmid, or drop top/);
  } finally {
    await s.close();
  }
});
