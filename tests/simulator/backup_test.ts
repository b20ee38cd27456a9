import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { pruneList } from "../../src/simulator/routes/prune.ts";
import { api, startTestSimulator } from "./_helpers.ts";

type Entry = Record<string, unknown>;

const NOW = 1_795_000_000;

async function taskStatus(sim: SimulatorHandle, node: string, upid: string): Promise<Entry> {
  const path = `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`;
  return (await api(sim, "GET", path, { token: true })).body.data;
}

async function finished(sim: SimulatorHandle, node: string, upid: string) {
  for (let i = 0; i < 500; i++) {
    const status = await taskStatus(sim, node, upid);
    if (status.status === "stopped") {
      const log = await api(sim, "GET", `/nodes/${node}/tasks/${encodeURIComponent(upid)}/log`, {
        token: true,
        params: { limit: 0 },
      });
      return {
        exitstatus: String(status.exitstatus),
        lines: (log.body.data as { t: string }[]).map((l) => l.t),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`Task "${upid}" did not finish: raise the poll budget`);
}

async function guestLock(sim: SimulatorHandle, vmid: number): Promise<unknown> {
  const data = (await api(sim, "GET", "/cluster/resources", {
    token: true,
    params: { type: "vm" },
  })).body.data as Entry[];
  return data.find((e) => e.vmid === vmid)?.lock;
}

Deno.test("vzdump locks the guest, logs progress and leaves an archive on the storage", async () => {
  // Slow task speed: the task waits on the clock until the test advances it.
  const sim = await startTestSimulator({ speed: 0.01, now: NOW });
  try {
    const res = await api(sim, "POST", "/nodes/pve1/vzdump", {
      token: true,
      params: { vmid: "100", storage: "nas", mode: "snapshot", compress: "zstd" },
    });
    assert.equal(res.status, 200);
    const upid = String(res.body.data);
    assert.match(
      upid,
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:vzdump:100:root@pam!mcp:$/,
    );
    let lock: unknown;
    for (let i = 0; i < 100 && lock === undefined; i++) lock = await guestLock(sim, 100);
    assert.equal(lock, "backup");
    assert.equal((await taskStatus(sim, "pve1", upid)).status, "running");
    for (let i = 0; i < 200; i++) {
      if ((await taskStatus(sim, "pve1", upid)).status === "stopped") break;
      sim.sim.clock.advance(5);
    }
    const task = await finished(sim, "pve1", upid);
    assert.equal(task.exitstatus, "OK");
    assert.equal(
      task.lines[0],
      "INFO: starting new backup job: vzdump 100 --compress zstd --mode snapshot --storage nas",
    );
    assert.ok(task.lines.includes("INFO: Starting Backup of VM 100 (qemu)"));
    assert.ok(task.lines.includes("INFO: status = running"));
    assert.ok(task.lines.includes("INFO: backup mode: snapshot"));
    assert.ok(task.lines.includes("INFO: ionice priority: 7"));
    assert.ok(
      task.lines.some((l) =>
        /^INFO: creating vzdump archive '\/mnt\/pve\/nas\/dump\/vzdump-qemu-100-.*\.vma\.zst'$/
          .test(l)
      ),
    );
    assert.ok(
      task.lines.includes(
        "INFO:  10% (3.2 GiB of 32.0 GiB) in 3s, read: 1.1 GiB/s, write: 1.0 GiB/s",
      ),
    );
    assert.ok(task.lines.some((l) => /^INFO: archive file size: /.test(l)));
    assert.ok(
      task.lines.some((l) => /^INFO: Finished Backup of VM 100 \(\d\d:\d\d:\d\d\)$/.test(l)),
    );
    assert.deepEqual(task.lines.slice(-2), ["INFO: Backup job finished successfully", "TASK OK"]);
    assert.equal(await guestLock(sim, 100), undefined);
    const backups = (await api(sim, "GET", "/nodes/pve1/storage/nas/content", {
      token: true,
      params: { content: "backup", vmid: 100 },
    })).body.data as Entry[];
    assert.equal(backups.length, 3);
    const volume = sim.sim.state.volumes.get("nas")?.find((v) =>
      v.vmid === 100 && v.ctime >= NOW && v.volid.endsWith(".vma.zst") &&
      v.backupConfig?.name === "web01" && v.backupConfig.lock === undefined
    );
    assert.ok(volume !== undefined, "the new archive carries the guest config");
  } finally {
    await sim.close();
  }
});

Deno.test("vzdump of a locked guest fails that guest and ends the job with errors", async () => {
  const sim = await startTestSimulator();
  try {
    const guest = sim.sim.state.guests.get(100);
    assert.ok(guest !== undefined);
    guest.config.lock = "snapshot";
    const res = await api(sim, "POST", "/nodes/pve1/vzdump", {
      token: true,
      params: { vmid: "100", storage: "nas" },
    });
    const task = await finished(sim, "pve1", res.body.data);
    assert.equal(task.exitstatus, "job errors");
    assert.ok(task.lines.includes("ERROR: Backup of VM 100 failed - VM is locked (snapshot)"));
    assert.deepEqual(task.lines.slice(-2), [
      "INFO: Backup job finished with errors",
      "TASK ERROR: job errors",
    ]);
    assert.equal(guest.config.lock, "snapshot");
  } finally {
    await sim.close();
  }
});

Deno.test('vzdump backs up a guest whose lock is present but empty ("lock": "" is no lock)', async () => {
  // Found by the fuzz suite: backup_create failed every guest of an empty-lock server as
  // "VM is locked ()".
  const sim = await startTestSimulator();
  try {
    const guest = sim.sim.state.guests.get(100);
    assert.ok(guest !== undefined);
    guest.config.lock = "";
    const res = await api(sim, "POST", "/nodes/pve1/vzdump", {
      token: true,
      params: { vmid: "100", storage: "nas" },
    });
    const task = await finished(sim, "pve1", res.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.ok(!task.lines.some((line) => /is locked/.test(line)));
  } finally {
    await sim.close();
  }
});

Deno.test("vzdump of several guests has an empty UPID id and skips other nodes' guests", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(sim, "POST", "/nodes/pve1/vzdump", {
      token: true,
      params: {
        vmid: "100,101,200",
        storage: "nas",
        compress: "zstd",
        "notes-template": "{{guestname}} on {{node}}",
        protected: 1,
      },
    });
    assert.match(res.body.data, /:vzdump::root@pam!mcp:$/);
    const task = await finished(sim, "pve1", res.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.ok(task.lines.includes("INFO: skip external VMs: 101"));
    assert.ok(task.lines.includes("INFO: Starting Backup of VM 200 (lxc)"));
    assert.ok(task.lines.includes("INFO: marking backup as protected"));
    const ct = (await api(sim, "GET", "/nodes/pve1/storage/nas/content", {
      token: true,
      params: { vmid: 200 },
    })).body.data as Entry[];
    const fresh = ct.find((v) => v.notes === "pihole on pve1");
    assert.equal(fresh?.format, "tar.zst");
    assert.equal(fresh?.protected, 1);
    assert.equal(fresh?.subtype, "lxc");
  } finally {
    await sim.close();
  }
});

Deno.test("vzdump needs a guest selection and rejects conflicting options", async () => {
  const sim = await startTestSimulator();
  try {
    const none = await api(sim, "POST", "/nodes/pve1/vzdump", { token: true, params: {} });
    assert.equal(none.status, 400);
    assert.deepEqual(none.body.errors, { vmid: "property is missing" });
    const both = await api(sim, "POST", "/nodes/pve1/vzdump", {
      token: true,
      params: { vmid: "100", all: 1 },
    });
    assert.deepEqual(both.body.errors, { all: "option conflicts with option 'vmid'" });
  } finally {
    await sim.close();
  }
});

Deno.test("backup jobs can be listed, created, read, updated and deleted", async () => {
  const sim = await startTestSimulator();
  try {
    const jobs = (await api(sim, "GET", "/cluster/backup", { token: true })).body.data as Entry[];
    assert.deepEqual(jobs.map((j) => j.id), ["backup-5d1c0e2a-7f3b", "backup-pbs-k8s"]);
    const nightly = jobs[0] ?? {};
    assert.equal(nightly.type, "vzdump");
    assert.equal(nightly.schedule, "02:00");
    assert.equal(nightly.storage, "nas");
    assert.equal(nightly.mode, "snapshot");
    assert.equal(nightly.compress, "zstd");
    assert.equal(typeof nightly["next-run"], "number");
    const created = await api(sim, "POST", "/cluster/backup", {
      token: true,
      params: {
        id: "weekly-ct",
        schedule: "sat 03:30",
        storage: "nas",
        pool: "prod",
        mode: "stop",
      },
    });
    assert.equal(created.status, 200);
    assert.equal(created.body.data, null);
    const dup = await api(sim, "POST", "/cluster/backup", {
      token: true,
      params: { id: "weekly-ct", schedule: "sat 03:30", all: 1 },
    });
    assert.equal(dup.status, 500);
    const read = (await api(sim, "GET", "/cluster/backup/weekly-ct", { token: true })).body.data;
    assert.equal(read.pool, "prod");
    assert.equal(read.enabled, 1);
    await api(sim, "PUT", "/cluster/backup/weekly-ct", {
      token: true,
      params: { schedule: "sun 04:00", comment: "weekly", enabled: 0 },
    });
    await api(sim, "PUT", "/cluster/backup/weekly-ct", {
      token: true,
      params: { delete: "comment" },
    });
    const updated = (await api(sim, "GET", "/cluster/backup/weekly-ct", { token: true })).body.data;
    assert.equal(updated.schedule, "sun 04:00");
    assert.equal(updated.enabled, 0);
    assert.equal(updated.comment, undefined);
    const volumes = (await api(sim, "GET", "/cluster/backup/weekly-ct/included_volumes", {
      token: true,
    })).body.data.children as Entry[];
    assert.deepEqual(volumes.map((c) => c.id), [100, 101, 102, 201]);
    const removed = await api(sim, "DELETE", "/cluster/backup/weekly-ct", { token: true });
    assert.equal(removed.status, 200);
    const gone = await api(sim, "GET", "/cluster/backup/weekly-ct", { token: true });
    assert.equal(gone.status, 500);
    assert.match(gone.body.message, /^job 'weekly-ct' not found/);
  } finally {
    await sim.close();
  }
});

Deno.test("backup-info lists guests that no job covers", async () => {
  const sim = await startTestSimulator();
  try {
    const data = (await api(sim, "GET", "/cluster/backup-info/not-backed-up", { token: true }))
      .body.data as Entry[];
    // The nightly job covers 100-102, 200, 201; the weekly PBS job 104 and 105; 9000 is a template.
    assert.deepEqual(data.map((g) => g.vmid), [103, 202, 203, 204]);
    assert.deepEqual(data[0], { vmid: 103, type: "qemu", name: "win11-desk" });
  } finally {
    await sim.close();
  }
});

Deno.test("vzdump prunes older archives with a keep-last retention", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(sim, "POST", "/nodes/pve1/vzdump", {
      token: true,
      params: { vmid: "100", storage: "nas", compress: "zstd", "prune-backups": "keep-last=1" },
    });
    const task = await finished(sim, "pve1", res.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.ok(task.lines.includes("INFO: prune older backups with retention: keep-last=1"));
    assert.ok(
      task.lines.includes("INFO: pruned 2 backup(s) not covered by keep-retention policy"),
    );
    const left = (await api(sim, "GET", "/nodes/pve1/storage/nas/content", {
      token: true,
      params: { content: "backup", vmid: 100 },
    })).body.data as Entry[];
    assert.equal(left.length, 1);
    const plain = await api(sim, "POST", "/nodes/pve1/vzdump", {
      token: true,
      params: { vmid: "200", storage: "nas" },
    });
    const kept = await finished(sim, "pve1", plain.body.data);
    assert.ok(kept.lines.includes("INFO: prune older backups with retention: keep-all=1"));
    assert.ok(kept.lines.includes("INFO: pruned 0 backup(s)"));
  } finally {
    await sim.close();
  }
});

Deno.test("vzdump to a Proxmox Backup Server storage creates a vm/<vmid>/<time> snapshot", async () => {
  const sim = await startTestSimulator({ now: NOW });
  try {
    const res = await api(sim, "POST", "/nodes/pve2/vzdump", {
      token: true,
      params: { vmid: "104", storage: "pbs", "notes-template": "{{guestname}}", protected: 1 },
    });
    const task = await finished(sim, "pve2", res.body.data);
    assert.equal(task.exitstatus, "OK");
    const line = task.lines.find((l) => l.startsWith("INFO: creating Proxmox Backup Server"));
    assert.match(
      line ?? "",
      /^INFO: creating Proxmox Backup Server archive 'vm\/104\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'$/,
    );
    assert.ok(!task.lines.some((l) => l.startsWith("INFO: archive file size")));
    const list = (await api(sim, "GET", "/nodes/pve2/storage/pbs/content", {
      token: true,
      params: { vmid: 104 },
    })).body.data as Entry[];
    const fresh = list.find((v) => Number(v.ctime) >= NOW);
    assert.equal(fresh?.volid, `pbs:backup/${/'(vm\/104\/[^']+)'/.exec(line ?? "")?.[1]}`);
    assert.equal(fresh?.format, "pbs-vm");
    assert.equal(fresh?.notes, "k8s-node1");
    assert.equal(fresh?.protected, 1);
    assert.equal(fresh?.verification, undefined);
  } finally {
    await sim.close();
  }
});

Deno.test("vzdump onto a full storage fails that guest with ENOSPC and the job with errors", async () => {
  const sim = await startTestSimulator();
  try {
    const nas = sim.sim.state.storages.get("nas");
    assert.ok(nas !== undefined);
    const used = (sim.sim.state.volumes.get("nas") ?? []).reduce((sum, v) => sum + v.size, 0);
    nas.total = used + 1024 ** 2;
    const res = await api(sim, "POST", "/nodes/pve1/vzdump", {
      token: true,
      params: { vmid: "100,200", storage: "nas" },
    });
    const task = await finished(sim, "pve1", res.body.data);
    assert.equal(task.exitstatus, "job errors");
    assert.ok(task.lines.includes(
      "ERROR: Backup of VM 100 failed - job failed with err -28 - No space left on device",
    ));
    assert.ok(
      task.lines.some((l) =>
        /^ERROR: Backup of VM 200 failed - command '.*' failed: exit code 70$/.test(l)
      ),
    );
  } finally {
    await sim.close();
  }
});

Deno.test("vzdump to an unreachable storage fails the task before any guest", async () => {
  const sim = await startTestSimulator();
  try {
    await fetch(`${sim.url}/_sim/storage/pbs/offline`, { method: "POST" });
    const res = await api(sim, "POST", "/nodes/pve2/vzdump", {
      token: true,
      params: { vmid: "104", storage: "pbs" },
    });
    const task = await finished(sim, "pve2", res.body.data);
    assert.equal(task.exitstatus, "could not activate storage 'pbs': storage 'pbs' is not online");
  } finally {
    await sim.close();
  }
});

Deno.test("prunebackups previews keep, remove and protected marks per guest", async () => {
  const sim = await startTestSimulator();
  try {
    const pbs = (await api(sim, "GET", "/nodes/pve3/storage/pbs/prunebackups", {
      token: true,
      params: { "prune-backups": "keep-last=1", vmid: 105 },
    })).body.data as Entry[];
    const byTime = [...pbs].sort((a, b) => Number(b.ctime) - Number(a.ctime));
    assert.deepEqual(byTime.map((e) => e.mark), ["keep", "remove", "protected"]);
    assert.deepEqual(Object.keys(byTime[0] ?? {}).sort(), [
      "ctime",
      "mark",
      "type",
      "vmid",
      "volid",
    ]);
    assert.equal(byTime[0]?.type, "qemu");
    const all = (await api(sim, "GET", "/nodes/pve1/storage/local/prunebackups", {
      token: true,
    })).body.data as Entry[];
    assert.deepEqual(all.map((e) => e.mark), ["protected"]);
    const isoOnly = await api(sim, "GET", "/nodes/pve1/storage/local-lvm/prunebackups", {
      token: true,
    });
    assert.equal(isoOnly.status, 500);
    assert.equal(isoOnly.body.message, "storage 'local-lvm' does not support backups\n");
  } finally {
    await sim.close();
  }
});

Deno.test("DELETE prunebackups removes what the preview marks remove, in a prunebackups task", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(sim, "DELETE", "/nodes/pve1/storage/nas/prunebackups", {
      token: true,
      params: { "prune-backups": "keep-last=1", vmid: 100 },
    });
    assert.match(res.body.data, /:prunebackups:100@nas:/);
    const task = await finished(sim, "pve1", res.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.equal(task.lines.filter((l) => l.startsWith("removing backup 'nas:backup/")).length, 1);
    const left = (sim.sim.state.volumes.get("nas") ?? []).filter((v) => v.vmid === 100);
    assert.equal(left.length, 1);
  } finally {
    await sim.close();
  }
});

Deno.test("the retention keeps the newest backup of each day, then of each older ISO week", () => {
  const day = (d: number) => Date.UTC(2026, 2, d, 2, 0, 0) / 1000; // March 2026
  const volumes = [];
  for (let d = 2; d <= 21; d++) {
    volumes.push({
      volid: `nas:backup/vzdump-qemu-100-2026_03_${String(d).padStart(2, "0")}-02_00_00.vma.zst`,
      content: "backup",
      format: "vma.zst",
      size: 1,
      ctime: day(d),
      vmid: 100,
    });
  }
  const marks = pruneList(volumes, { "keep-daily": 7, "keep-weekly": 2 });
  const kept = marks.filter((m) => m.mark === "keep").map((m) => /_03_(\d\d)-/.exec(m.volid)?.[1])
    .sort();
  // Days 15-21 by keep-daily (ISO weeks 11 and 12), then the newest of week 10 (Sunday the 8th).
  assert.deepEqual(kept, ["08", "15", "16", "17", "18", "19", "20", "21"]);
});
