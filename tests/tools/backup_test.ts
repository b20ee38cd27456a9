import assert from "node:assert/strict";
import { backupCreate } from "../../src/tools/backup/backup_create.ts";
import { backupJobs } from "../../src/tools/backup/backup_jobs.ts";
import { backupList } from "../../src/tools/backup/backup_list.ts";
import { backupRestore } from "../../src/tools/backup/backup_restore.ts";
import { backupRestoreOverwrite } from "../../src/tools/backup/backup_restore_overwrite.ts";
import { backupStatus } from "../../src/tools/backup/backup_status.ts";
import { openSession, type SimSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [
  backupList,
  backupJobs,
  backupStatus,
  backupCreate,
  backupRestore,
  backupRestoreOverwrite,
];

interface Backup {
  volid: string;
  storage: string;
  node?: string;
  type?: string;
  format: string;
  size_bytes: number;
  time?: string;
  vmid?: number;
  notes?: string;
  protected?: boolean;
  verification?: string;
}
interface ListOut {
  vmid: number;
  name?: string;
  exists: boolean;
  backups: Backup[];
  total: number;
  newest_time?: string;
  unreadable?: { storage: string; node?: string; reason: string }[];
}
interface StatusRow {
  vmid: number;
  name?: string;
  state: string;
  newest_time?: string;
  where?: string;
}
interface StatusOut {
  guests: number;
  recent: number;
  stale: number;
  missing: number;
  rows: StatusRow[];
  total_rows: number;
  returned: number;
  next_cursor?: string;
  hint?: string;
  unreadable?: unknown[];
}
interface CreateOut {
  storage: string;
  guests: { vmid: number; node: string; result: string; volid?: string; error?: string }[];
  ok: number;
  failed: number;
  tasks: { node: string; upid: string; task_state: string; exitstatus?: string }[];
}

async function control(s: SimSession, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${s.sim.url}/_sim/${path}`, {
    method: "POST",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await response.body?.cancel();
}

Deno.test("backup_list shows a guest's Proxmox Backup Server snapshots newest first with verification and protection", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("backup_list", { name: "k8s-node2" });
    const out = structuredOf<ListOut>(result);
    assert.equal(out.vmid, 105);
    assert.equal(out.exists, true);
    assert.equal(out.total, 3);
    assert.deepEqual(out.backups.map((b) => b.storage), ["pbs", "pbs", "pbs"]);
    assert.deepEqual(out.backups.map((b) => b.verification), ["ok", "failed", "ok"]);
    assert.deepEqual(out.backups.map((b) => b.protected ?? false), [false, false, true]);
    assert.equal(out.backups[0]?.type, "qemu");
    assert.equal(out.backups[0]?.format, "pbs-vm");
    assert.equal(out.newest_time, out.backups[0]?.time);
    assert.match(textOf(result), /^VM 105 \(k8s-node2\): 3 backup\(s\), .* newest .* on pbs;/);
  } finally {
    await s.close();
  }
});

Deno.test("backup_list finds backups on shared and on the guest node's own storage", async () => {
  const s = await openSession({ tools });
  try {
    const out = structuredOf<ListOut>(await s.call("backup_list", { vmid: 102 }));
    assert.deepEqual(out.backups.map((b) => `${b.storage}${b.node ? `@${b.node}` : ""}`), [
      "nas",
      "local@pve1",
    ]);
    assert.equal(out.backups[1]?.protected, true);
    assert.equal(out.backups[0]?.notes, "db01");
  } finally {
    await s.close();
  }
});

Deno.test("backup_list lists what is left of a deleted guest and names a storage it could not read", async () => {
  const s = await openSession({ tools });
  try {
    s.sim.sim.state.volumes.get("nas")?.push({
      volid: "nas:backup/vzdump-qemu-777-2026_01_02-03_04_05.vma.zst",
      content: "backup",
      format: "vma.zst",
      size: 123_456_789,
      ctime: 1_767_323_045,
      vmid: 777,
      subtype: "qemu",
    });
    await control(s, "storage/pbs/offline");
    const result = await s.call("backup_list", { vmid: 777 });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<ListOut>(result);
    assert.equal(out.exists, false);
    assert.deepEqual(out.backups.map((b) => b.volid), [
      "nas:backup/vzdump-qemu-777-2026_01_02-03_04_05.vma.zst",
    ]);
    assert.deepEqual(out.unreadable?.map((u) => u.storage), ["pbs"]);
    assert.match(textOf(result), /^Guest 777 \(no longer exists\): 1 backup/);
    assert.match(
      textOf(result),
      /Not read: pbs \(not reachable .*\) — backups there are not counted\./,
    );
  } finally {
    await s.close();
  }
});

Deno.test("backup_list refuses a malformed storage id and a guest outside the scope before reading backups", async () => {
  const s = await openSession({ tools, config: { policy: { scope: { vmids: ["100-199"] } } } });
  try {
    const since = await s.mark();
    const bad = await s.call("backup_list", { vmid: 100, storage: "-nas" });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /^Storage id "-nas" is not valid/);
    assert.deepEqual(await s.requests(since), []);
    const outside = await s.call("backup_list", { vmid: 200 });
    assert.equal(outside.isError, true);
    assert.match(textOf(outside), /outside the scope/);
    const reads = await s.requests(since);
    assert.ok(!reads.some((r) => r.path.includes("/content")));
  } finally {
    await s.close();
  }
});

Deno.test("backup_jobs shows schedules, next runs, selections and the guests no job covers", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("backup_jobs");
    const out = structuredOf<{
      jobs: Record<string, unknown>[];
      not_covered: { vmid: number; name: string }[];
      not_covered_total: number;
    }>(result);
    assert.deepEqual(out.jobs.map((j) => j.id), ["backup-5d1c0e2a-7f3b", "backup-pbs-k8s"]);
    const [nightly, weekly] = out.jobs;
    assert.equal(nightly?.schedule, "02:00");
    assert.equal(nightly?.selection, "vmid 100,101,102,200,201");
    assert.equal(nightly?.retention, "keep-daily=7,keep-weekly=4");
    assert.match(String(nightly?.next_run), /^\d{4}-\d\d-\d\dT02:00:00Z$/);
    assert.equal(weekly?.storage, "pbs");
    assert.equal(weekly?.compress, "zstd");
    assert.deepEqual(out.not_covered.map((g) => g.vmid), [103, 202, 203, 204]);
    assert.equal(out.not_covered_total, 4);
    assert.match(
      textOf(result),
      /4 guest\(s\) covered by no job: 103 \(win11-desk\), 202 \(grafana\)/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("backup_jobs pages the uncovered guests of a large cluster", async () => {
  const s = await openSession({
    tools,
    sim: { seed: "scale", nodes: 5, guests: 2_000, speed: "instant" },
  });
  try {
    const result = await s.call("backup_jobs", { limit: 20 });
    const out = structuredOf<{ not_covered: unknown[]; not_covered_total: number; hint?: string }>(
      result,
    );
    assert.equal(out.not_covered.length, 20);
    assert.ok(out.not_covered_total > 1_000);
    assert.match(out.hint ?? "", /more uncovered guests: pass cursor/);
    assert.ok(JSON.stringify(result).length < 10_000);
  } finally {
    await s.close();
  }
});

Deno.test("backup_status names the stale and never backed-up guests, oldest first, with totals", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("backup_status", { max_age_hours: 192 });
    const out = structuredOf<StatusOut>(result);
    assert.equal(out.guests, 11, "every guest but the template");
    assert.deepEqual([out.recent, out.stale, out.missing], [7, 1, 3]);
    assert.deepEqual(out.rows.map((r) => `${r.vmid}:${r.state}`), [
      "103:missing",
      "203:missing",
      "204:missing",
      "202:stale",
    ]);
    assert.equal(out.rows[3]?.where, "pbs");
    assert.match(
      textOf(result),
      /^11 guest\(s\): 7 backed up within 192 h, 1 older, 3 never\.\n103 win11-desk \(pve3\): no backup/,
    );
    const all = structuredOf<StatusOut>(
      await s.call("backup_status", { max_age_hours: 192, show: "all", node: "pve1" }),
    );
    assert.deepEqual(all.rows.map((r) => `${r.vmid}:${r.state}:${r.where}`), [
      "100:recent:nas",
      "102:recent:nas",
      "200:recent:nas",
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("backup_status answers the 10,000-guest scale seed within the token budget", async (t) => {
  const s = await openSession({
    tools,
    sim: { seed: "scale", nodes: 50, guests: 10_000, speed: "instant" },
  });
  try {
    const since = await s.mark();
    const result = await s.call("backup_status");
    const out = structuredOf<StatusOut>(result);
    assert.equal(out.guests, 10_000);
    assert.equal(out.recent + out.stale + out.missing, 10_000);
    assert.ok(out.missing > 1_500 && out.stale > 1_000, JSON.stringify(out).slice(0, 200));
    assert.equal(out.returned, 50);
    assert.equal(out.rows[0]?.state, "missing");
    assert.match(out.hint ?? "", /more: pass cursor, or narrow with node or pool/);
    const reads = await s.requests(since);
    assert.equal(reads.filter((r) => r.path === "/cluster/resources").length, 1);
    assert.equal(reads.filter((r) => r.path.endsWith("/content")).length, 51);
    const bytes = JSON.stringify(result).length;
    await t.step(
      `10,000 guests answer in ${bytes} bytes (~${Math.round(bytes / 4)} tokens, budget 10,000)`,
      () => assert.ok(bytes / 4 <= 10_000, `${bytes} bytes`),
    );
  } finally {
    await s.close();
  }
});

Deno.test("backup_create backs up two guests on two nodes, and when one fails the result names it and why", async () => {
  const s = await openSession({ tools });
  try {
    await control(s, "guests/104/lock", { lock: "snapshot" });
    const result = await s.call("backup_create", {
      vmids: [100, 104],
      storage: "nas",
      notes: "{{guestname}} before upgrade",
    });
    assert.equal(result.isError, true);
    const out = structuredOf<CreateOut>(result);
    assert.deepEqual(out.guests.map((g) => `${g.vmid}@${g.node}:${g.result}`), [
      "100@pve1:ok",
      "104@pve2:failed",
    ]);
    assert.match(out.guests[0]?.volid ?? "", /^nas:backup\/vzdump-qemu-100-.*\.vma\.zst$/);
    assert.equal(out.guests[1]?.error, "VM is locked (snapshot)");
    assert.deepEqual(out.tasks.map((t) => `${t.node}:${t.task_state}:${t.exitstatus}`), [
      "pve1:ok:OK",
      "pve2:failed:job errors",
    ]);
    assert.match(
      textOf(result),
      /^Backed up 1 of 2 guest\(s\) to "nas"\.\n100 \(web01\): nas:backup\/vzdump-qemu-100-.*\n104 \(k8s-node1\): FAILED - VM is locked \(snapshot\)/,
    );
    const writes = await s.writes();
    assert.deepEqual(
      writes.filter((w) => w.path.endsWith("/vzdump")).map((w) => `${w.path} ${w.body.vmid}`),
      ["/nodes/pve1/vzdump 100", "/nodes/pve2/vzdump 104"],
    );
    assert.equal(writes[1]?.body["notes-template"], "{{guestname}} before upgrade");
    const listed = structuredOf<ListOut>(await s.call("backup_list", { vmid: 100 }));
    assert.equal(listed.backups[0]?.volid, out.guests[0]?.volid);
    assert.equal(listed.backups[0]?.notes, "web01 before upgrade");
  } finally {
    await s.close();
  }
});

Deno.test("backup_create reports the backups it started when a later node's vzdump is refused or unanswered", async () => {
  const s = await openSession({ tools });
  try {
    const fault = (spec: Record<string, unknown>) =>
      fetch(`${s.sim.url}/_sim/faults`, {
        method: "POST",
        body: JSON.stringify({ method: "POST", path: "/nodes/pve2/vzdump", count: 1, ...spec }),
      }).then((r) => r.body?.cancel());
    await fault({ status: 500, reason: "unable to open file '/var/log/vzdump/qemu-104.log'" });
    const refused = await s.call("backup_create", { vmids: [100, 104], storage: "nas" });
    assert.equal(refused.isError, true);
    const out = structuredOf<CreateOut>(refused);
    assert.deepEqual(out.guests.map((g) => `${g.vmid}@${g.node}:${g.result}`), [
      "100@pve1:ok",
      "104@pve2:failed",
    ]);
    assert.match(out.guests[0]?.volid ?? "", /^nas:backup\/vzdump-qemu-100-/);
    assert.match(out.guests[1]?.error ?? "", /unable to open file/);
    assert.deepEqual(out.tasks.map((t) => `${t.node}:${t.task_state}`), ["pve1:ok"]);
    assert.match(textOf(refused), /^Backed up 1 of 2 guest\(s\) to "nas"\./);

    await fault({ reset: true });
    const dropped = await s.call("backup_create", { vmids: [100, 104], storage: "nas" });
    const text = textOf(dropped);
    assert.equal(structuredOf<CreateOut>(dropped).guests[0]?.result, "ok", text);
    assert.match(text, /104 \(k8s-node1\): FAILED - It is unknown whether Proxmox VE carried out/);
    assert.match(
      text,
      /Whether vzdump started on pve2 is unknown: check task_list \(node "pve2", type "vzdump"\) before backing up 104 again\.$/,
    );
    assert.doesNotMatch(text, /try again|then back up those guests again/);
  } finally {
    await s.close();
  }
});

Deno.test("backup_create to a Proxmox Backup Server storage by name reports the snapshot volid, protected", async () => {
  const s = await openSession({ tools });
  try {
    const progress: string[] = [];
    const result = await s.call("backup_create", {
      names: ["k8s-node2"],
      storage: "pbs",
      protected: true,
    }, { onprogress: (p) => progress.push(p.message ?? "") });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<CreateOut>(result);
    assert.match(
      out.guests[0]?.volid ?? "",
      /^pbs:backup\/vm\/105\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    assert.ok(progress.some((m) => /^INFO:\s+\d+% /.test(m)), "vzdump percentages as progress");
    const writes = await s.writes();
    assert.deepEqual(writes[0]?.body, { vmid: "105", storage: "pbs", protected: "1" });
    const listed = structuredOf<ListOut>(await s.call("backup_list", { vmid: 105 }));
    assert.equal(listed.backups[0]?.volid, out.guests[0]?.volid);
    assert.equal(listed.backups[0]?.protected, true);
  } finally {
    await s.close();
  }
});

Deno.test("backup_create plans one vzdump per node for a pool and sends nothing under dry_run", async () => {
  const s = await openSession({ tools });
  try {
    const dry = structuredOf<{ summary: string; calls: { path: string; params: unknown }[] }>(
      await s.call("backup_create", { pool: "prod", storage: "nas", mode: "stop", dry_run: true }),
    );
    assert.deepEqual(dry.calls.map((c) => [c.path, c.params]), [
      ["/nodes/pve1/vzdump", { vmid: "100,102", storage: "nas", mode: "stop", compress: "zstd" }],
      ["/nodes/pve2/vzdump", { vmid: "101,201", storage: "nas", mode: "stop", compress: "zstd" }],
    ]);
    assert.match(
      dry.summary,
      /^Back up VM 100 \(web01\), VM 101 \(web02\), VM 102 \(db01\), CT 201 \(nginx-proxy\) to "nas" \(stop mode\)\.$/,
    );
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("backup_create refuses bad selections and storages before sending anything", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ storage: "nas" }, /^No guests given: pass vmids, names or pool\./],
      [{ vmids: [100], pool: "prod", storage: "nas" }, /Give only one of vmids, names or pool/],
      [{ vmids: [150], storage: "nas" }, /^No guest 150 in this cluster/],
      [{ names: ["nope"], storage: "nas" }, /^No guest named "nope"/],
      [
        { pool: "dev", storage: "nas" },
        /^Pool "dev" has no guests: known pools with guests are prod\./,
      ],
      [
        { vmids: [100], storage: "local-lvm" },
        /"local-lvm" does not take backups .*storage_list content=backup/,
      ],
      [{ vmids: [100], storage: "n@s" }, /^Storage id "n@s" is not valid/],
      [{ vmids: [100], storage: "nas", notes: "a\nb" }, /notes must be one line/],
      [
        { vmids: [99], storage: "nas" },
        /Invalid arguments for backup_create: `vmids\[0\]` must be at least 100/,
      ],
      [
        { vmids: [100], storage: "nas", mode: "hot" },
        /Invalid arguments for backup_create: `mode` must be one of/,
      ],
    ];
    for (const [args, why] of cases) {
      const result = await s.call("backup_create", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), why, JSON.stringify(args));
    }
    assert.deepEqual(await s.writes(since), []);
    await control(s, "nodes/pve3/offline");
    const offline = await s.call("backup_create", { vmids: [105], storage: "nas" });
    assert.match(textOf(offline), /VM 105 \(k8s-node2\) is on an offline node/);
    await control(s, "storage/nas/offline");
    const unreachable = await s.call("backup_create", { vmids: [100], storage: "nas" });
    assert.match(textOf(unreachable), /Storage "nas" does not answer on pve1/);
    assert.deepEqual(await s.writes(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("backup_restore restores a VM backup as a new vmid next to the original, with new MACs", async () => {
  const s = await openSession({ tools });
  try {
    const newest = structuredOf<ListOut>(await s.call("backup_list", { vmid: 100 })).backups[0];
    assert.ok(newest !== undefined);
    const result = await s.call("backup_restore", { volid: newest.volid });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.vmid, 106);
    assert.equal(out.node, "pve1");
    assert.equal(out.type, "qemu");
    assert.match(String(out.upid), /:qmrestore:106:/);
    assert.match(textOf(result), /^Restored nas:backup\/.* as VM 106 on pve1\.$/);
    const writes = await s.writes();
    assert.deepEqual(writes.map((w) => [w.path, w.body]), [
      ["/nodes/pve1/qemu", { vmid: "106", archive: newest.volid, unique: "1" }],
    ]);
    const state = s.sim.sim.state;
    const copy = state.guests.get(106);
    const original = state.guests.get(100);
    assert.equal(copy?.config.name, "web01");
    assert.equal(original?.status, "running", "the original is untouched");
    assert.notEqual(
      String(copy?.config.net0).split(",")[0],
      String(original?.config.net0).split(",")[0],
      "new MAC address",
    );
  } finally {
    await s.close();
  }
});

Deno.test("backup_restore restores a container from Proxmox Backup Server onto another node and storage", async () => {
  const s = await openSession({ tools });
  try {
    const volid = s.sim.sim.state.volumes.get("pbs")?.find((v) => v.vmid === 202)?.volid ?? "";
    const result = await s.call("backup_restore", {
      volid,
      vmid: 302,
      node: "pve2",
      target_storage: "local-lvm",
      unique: false,
      start: true,
    });
    assert.equal(result.isError, undefined, textOf(result));
    assert.match(String(structuredOf(result).upid), /^UPID:pve2:.*:vzrestore:302:/);
    const writes = await s.writes();
    assert.deepEqual(writes[0]?.body, {
      vmid: "302",
      ostemplate: volid,
      restore: "1",
      storage: "local-lvm",
      start: "1",
    });
    const ct = s.sim.sim.state.guests.get(302);
    assert.equal(ct?.type, "lxc");
    assert.equal(ct?.node, "pve2");
    assert.equal(ct?.status, "running");
  } finally {
    await s.close();
  }
});

Deno.test("backup_restore refuses what PVE would refuse, and a new guest outside the scope, before sending", async () => {
  const s = await openSession({ tools, config: { policy: { scope: { vmids: ["100-299"] } } } });
  try {
    const since = await s.mark();
    const nasBackup = s.sim.sim.state.volumes.get("nas")?.find((v) => v.vmid === 100)?.volid;
    const local102 = s.sim.sim.state.volumes.get("pve1/local")?.find((v) => v.content === "backup")
      ?.volid;
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { volid: "local:iso/debian-12.7.0-amd64-netinst.iso" },
        /is not a backup \(it is a iso volume\): pass a backup volid from backup_list/,
      ],
      [
        { volid: "nas:backup/vzdump-qemu-100-2020_01_01-00_00_00.vma.zst" },
        /^Backup "nas:backup\/vzdump-qemu-100-2020_01_01-00_00_00\.vma\.zst" does not exist on storage "nas": list the guest's backups with backup_list/,
      ],
      [{ volid: "nas backup" }, /^Volume id "nas backup" is not valid/],
      [
        { volid: nasBackup, vmid: 101 },
        /^VM 101 \(web02\) already exists: omit vmid .* or overwrite it with backup_restore_overwrite/,
      ],
      [
        { volid: local102, node: "pve2" },
        /is on node pve1's own storage, so only pve1 can restore it/,
      ],
      [{ volid: nasBackup, target_storage: "local" }, /"local" does not hold VM disks \(images\)/],
      [
        { volid: nasBackup, pool: "staging" },
        /^Pool "staging" does not exist: known pools are prod\./,
      ],
      [{ volid: nasBackup, vmid: 300 }, /^Guest 300 is outside the scope/],
      [{ volid: nasBackup, node: "pve 2" }, /^Node name "pve 2" is not valid/],
    ];
    for (const [args, why] of cases) {
      const result = await s.call("backup_restore", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), why, JSON.stringify(args));
    }
    assert.deepEqual(await s.writes(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("backup_restore_overwrite replaces a stopped container with its backup after confirmation", async () => {
  const s = await openSession({ tools, elicit: { action: "accept", content: { confirm: true } } });
  try {
    const made = structuredOf<CreateOut>(
      await s.call("backup_create", { vmids: [203], storage: "nas" }),
    );
    const volid = made.guests[0]?.volid ?? "";
    const since = await s.mark();
    const result = await s.call("backup_restore_overwrite", { volid, vmid: 203 });
    assert.equal(result.isError, undefined, textOf(result));
    assert.match(String(structuredOf(result).upid), /:vzrestore:203:/);
    const writes = await s.writes(since);
    assert.deepEqual(writes.map((w) => [w.path, w.body]), [
      ["/nodes/pve2/lxc", { vmid: "203", ostemplate: volid, restore: "1", force: "1" }],
    ]);
    assert.equal(s.sim.sim.state.guests.get(203)?.config.hostname, "build-runner");
  } finally {
    await s.close();
  }
});

Deno.test("backup_restore_overwrite refuses a backup of the other guest type, a running, protected or locked guest", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const vmBackup = s.sim.sim.state.volumes.get("nas")?.find((v) => v.vmid === 100)?.volid;
    const ctBackup = s.sim.sim.state.volumes.get("nas")?.find((v) => v.vmid === 200)?.volid;
    const db01 = s.sim.sim.state.guests.get(102);
    assert.ok(db01 !== undefined);
    db01.status = "stopped"; // protection matters on a stopped guest
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { volid: vmBackup, vmid: 203 },
        /is a VM backup but CT 203 \(build-runner\) is a container: restore it as a new guest with backup_restore/,
      ],
      [{ volid: ctBackup, vmid: 103 }, /is a container backup but VM 103 \(win11-desk\) is a VM/],
      [
        { volid: vmBackup, vmid: 100 },
        /^VM 100 \(web01\) is running: shut it down first \(guest_shutdown\)/,
      ],
      [{ volid: vmBackup, vmid: 999 }, /999/],
    ];
    for (const [args, why] of cases) {
      const result = await s.call("backup_restore_overwrite", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), why, JSON.stringify(args));
    }
    const protectedGuest = await s.call("backup_restore_overwrite", { volid: vmBackup, vmid: 102 });
    assert.match(
      textOf(protectedGuest),
      /VM 102 \(db01\) has protection on, and PVE refuses to restore over it/,
    );
    await control(s, "guests/103/lock", { lock: "backup" });
    const locked = await s.call("backup_restore_overwrite", { volid: vmBackup, vmid: 103 });
    assert.match(textOf(locked), /^VM 103 \(win11-desk\) is locked \(backup\)/);
    // An empty lock ("lock": "", as some servers send it) locks nothing.
    await control(s, "guests/103/lock", { lock: "" });
    const unlocked = await s.call("backup_restore_overwrite", {
      volid: vmBackup,
      vmid: 103,
      dry_run: true,
    });
    assert.equal(unlocked.isError, undefined, textOf(unlocked));
    assert.deepEqual(await s.writes(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("backup_restore reports a restore that fails in its task, and what PVE may leave behind", async () => {
  const s = await openSession({ tools });
  try {
    const lvm = s.sim.sim.state.storages.get("local-lvm");
    assert.ok(lvm !== undefined);
    lvm.total = 100 * 1024 ** 3; // db01's 132 GiB of disks no longer fit on pve1
    const volid = s.sim.sim.state.volumes.get("nas")?.find((v) => v.vmid === 102)?.volid;
    const result = await s.call("backup_restore", { volid, target_storage: "local-lvm" });
    assert.equal(result.isError, true);
    assert.equal(structuredOf(result).result, "failed");
    assert.match(
      textOf(result),
      /^Task UPID:pve1:.*:qmrestore:106:.* failed: .*Cannot create new thin volume/,
    );
    assert.match(
      textOf(result),
      /PVE may have left an incomplete VM 106 behind: check with guest_get/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("backup_list still lists a guest's shared backups while its node is offline", async () => {
  const s = await openSession({ tools });
  try {
    await control(s, "nodes/pve3/offline");
    const result = await s.call("backup_list", { name: "k8s-node2" });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<ListOut>(result);
    assert.equal(out.total, 3);
    assert.deepEqual(out.unreadable, [{ storage: "local", node: "pve3", reason: "node offline" }]);
  } finally {
    await s.close();
  }
});

Deno.test("backup_status, backup_list and backup_jobs refuse a foreign cursor and backup_status a malformed node", async () => {
  const s = await openSession({ tools });
  try {
    const page = structuredOf<{ next_cursor?: string }>(
      await s.call("backup_status", { max_age_hours: 1, limit: 1 }),
    );
    assert.ok(page.next_cursor !== undefined);
    for (
      const [tool, args, why] of [
        [
          "backup_status",
          { max_age_hours: 2, cursor: page.next_cursor },
          /does not belong to this query/,
        ],
        ["backup_list", { vmid: 100, cursor: page.next_cursor }, /does not belong to this query/],
        ["backup_jobs", { cursor: "bm9wZQ" }, /is not one of backup_jobs/],
        ["backup_status", { node: "-pve1" }, /^Node name "-pve1" is not valid/],
      ] as const
    ) {
      const result = await s.call(tool, args);
      assert.equal(result.isError, true, tool);
      assert.match(textOf(result), why, tool);
    }
  } finally {
    await s.close();
  }
});
