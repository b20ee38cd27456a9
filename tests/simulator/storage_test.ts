import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { volumeKey } from "../../src/simulator/state.ts";
import { simulatedChecksum } from "../../src/simulator/routes/storage.ts";
import { api, startTestSimulator } from "./_helpers.ts";

type Entry = Record<string, unknown>;

async function finished(sim: SimulatorHandle, node: string, upid: string) {
  const path = `/nodes/${node}/tasks/${encodeURIComponent(upid)}`;
  for (let i = 0; i < 500; i++) {
    const status = (await api(sim, "GET", `${path}/status`, { token: true })).body.data;
    if (status.status === "stopped") {
      const log = await api(sim, "GET", `${path}/log`, { token: true, params: { limit: 0 } });
      return {
        exitstatus: String(status.exitstatus),
        lines: (log.body.data as { t: string }[]).map((l) => l.t),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`Task "${upid}" did not finish: raise the poll budget`);
}

Deno.test("GET /storage returns storage.cfg entries and filters by type", async () => {
  const sim = await startTestSimulator();
  try {
    const data = (await api(sim, "GET", "/storage", { token: true })).body.data as Entry[];
    assert.deepEqual(data.map((s) => s.storage), ["local", "local-lvm", "nas", "pbs"]);
    const local = data[0] ?? {};
    assert.equal(local.type, "dir");
    assert.equal(local.path, "/var/lib/vz");
    assert.equal(local.content, "iso,vztmpl,backup");
    assert.match(String(local.digest), /^[0-9a-f]{40}$/);
    assert.equal(local.shared, undefined);
    const nfs = (await api(sim, "GET", "/storage", { token: true, params: { type: "nfs" } }))
      .body.data as Entry[];
    assert.deepEqual(nfs.map((s) => [s.storage, s.server, s.export]), [
      ["nas", "10.0.0.50", "/export/pve"],
    ]);
    const one = await api(sim, "GET", "/storage/local-lvm", { token: true });
    assert.equal(one.body.data.thinpool, "data");
    const pbs = (await api(sim, "GET", "/storage/pbs", { token: true })).body.data;
    assert.deepEqual(
      [pbs.type, pbs.server, pbs.datastore, pbs.username, pbs.content, pbs.shared],
      ["pbs", "10.0.0.60", "homelab", "backup@pbs", "backup", undefined],
    );
    assert.match(String(pbs.fingerprint), /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
    assert.equal(pbs["prune-backups"], "keep-all=1");
  } finally {
    await sim.close();
  }
});

Deno.test("GET /nodes/{node}/storage reports status and honours its filters", async () => {
  const sim = await startTestSimulator();
  try {
    const data = (await api(sim, "GET", "/nodes/pve1/storage", { token: true })).body
      .data as Entry[];
    const lvm = data.find((s) => s.storage === "local-lvm") ?? {};
    assert.deepEqual(Object.keys(lvm).sort(), [
      "active",
      "avail",
      "content",
      "enabled",
      "shared",
      "storage",
      "total",
      "type",
      "used",
      "used_fraction",
    ]);
    assert.equal(Number(lvm.used) + Number(lvm.avail), lvm.total);
    assert.equal(data.find((s) => s.storage === "nas")?.shared, 1);
    const iso = (await api(sim, "GET", "/nodes/pve1/storage", {
      token: true,
      params: { content: "iso" },
    })).body.data as Entry[];
    assert.deepEqual(iso.map((s) => s.storage), ["local", "nas"]);
    const missing = await api(sim, "GET", "/nodes/pve1/storage", {
      token: true,
      params: { storage: "nope" },
    });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.errors, { storage: "No such storage." });
    const status = await api(sim, "GET", "/nodes/pve2/storage/local/status", { token: true });
    assert.equal(status.body.data.active, 1);
    assert.equal(status.body.data.type, "dir");
  } finally {
    await sim.close();
  }
});

Deno.test("storage content lists volumes with PVE's keys and filters", async () => {
  const sim = await startTestSimulator();
  try {
    const backups = (await api(sim, "GET", "/nodes/pve1/storage/nas/content", {
      token: true,
      params: { content: "backup", vmid: 100 },
    })).body.data as Entry[];
    assert.equal(backups.length, 2);
    const b = backups[0] ?? {};
    // `protected` appears only on protected backups, as the storage plugins list them.
    assert.deepEqual(Object.keys(b).sort(), [
      "content",
      "ctime",
      "format",
      "notes",
      "size",
      "subtype",
      "vmid",
      "volid",
    ]);
    assert.equal(b.format, "vma.zst");
    assert.equal(b.subtype, "qemu");
    const isos = (await api(sim, "GET", "/nodes/pve2/storage/local/content", {
      token: true,
      params: { content: "iso" },
    })).body.data as Entry[];
    assert.deepEqual(isos.map((v) => v.volid), ["local:iso/debian-12.7.0-amd64-netinst.iso"]);
    const disks = (await api(sim, "GET", "/nodes/pve1/storage/local-lvm/content", {
      token: true,
    })).body.data as Entry[];
    assert.ok(disks.some((v) => v.volid === "local-lvm:base-9000-disk-0"));
  } finally {
    await sim.close();
  }
});

Deno.test("deleting a guest's image is refused; an orphan image is removed by an imgdel task", async () => {
  const sim = await startTestSimulator();
  try {
    const refused = await api(
      sim,
      "DELETE",
      `/nodes/pve1/storage/local-lvm/content/${encodeURIComponent("local-lvm:vm-100-disk-0")}`,
      { token: true },
    );
    assert.equal(refused.status, 500);
    assert.match(refused.body.message, /^Cannot remove image, a guest with VMID '100' exists!/);
    const lvm = sim.sim.state.storages.get("local-lvm");
    assert.ok(lvm !== undefined);
    const list = sim.sim.state.volumes.get(volumeKey(lvm, "pve1")) ?? [];
    list.push({
      volid: "local-lvm:vm-999-disk-0",
      content: "images",
      format: "raw",
      size: 1024 ** 3,
      ctime: 1,
      vmid: 999,
    });
    const res = await api(
      sim,
      "DELETE",
      `/nodes/pve1/storage/local-lvm/content/${encodeURIComponent("local-lvm:vm-999-disk-0")}`,
      { token: true },
    );
    assert.match(
      res.body.data,
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:imgdel:999@local-lvm:/,
    );
    const task = await finished(sim, "pve1", res.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.ok(task.lines.includes("Removed volume 'local-lvm:vm-999-disk-0'"));
    assert.ok(!list.some((v) => v.volid === "local-lvm:vm-999-disk-0"));
  } finally {
    await sim.close();
  }
});

Deno.test("volume ids with a slash route over HTTP, encoded or not, for info, notes and deletion", async () => {
  const sim = await startTestSimulator();
  try {
    const iso = "local:iso/debian-12.7.0-amd64-netinst.iso";
    const content = "/nodes/pve1/storage/local/content";
    for (const volume of [encodeURIComponent(iso), iso]) {
      const info = await api(sim, "GET", `${content}/${volume}`, { token: true });
      assert.equal(info.status, 200, `GET with volume segment "${volume}"`);
      assert.equal(info.body.data.path, "/var/lib/vz/template/iso/debian-12.7.0-amd64-netinst.iso");
      assert.equal(info.body.data.format, "iso");
    }
    const backup = sim.sim.state.volumes.get("pve1/local")?.find((v) => v.content === "backup");
    assert.ok(backup !== undefined);
    const backupPath = `${content}/${encodeURIComponent(backup.volid)}`;
    const notes = await api(sim, "PUT", backupPath, {
      token: true,
      params: { notes: "keep forever" },
    });
    assert.equal(notes.status, 200);
    assert.equal(backup.notes, "keep forever");
    const protectedDelete = await api(sim, "DELETE", backupPath, { token: true });
    const refused = await finished(sim, "pve1", String(protectedDelete.body.data));
    assert.match(
      refused.exitstatus,
      /^cannot remove protected volume 'backup\/vzdump-qemu-102-[0-9_-]+\.vma\.zst' on 'local'$/,
    );
    const deleted = await api(sim, "DELETE", `${content}/${encodeURIComponent(iso)}`, {
      token: true,
    });
    assert.equal((await finished(sim, "pve1", String(deleted.body.data))).exitstatus, "OK");
    assert.ok(!sim.sim.state.volumes.get("pve1/local")?.some((v) => v.volid === iso));
  } finally {
    await sim.close();
  }
});

Deno.test("download-url verifies the checksum, logs progress and keeps an existing file", async () => {
  const sim = await startTestSimulator();
  try {
    const url = "https://cdimage.example.org/alpine-virt-3.20.3-x86_64.iso";
    const params = {
      url,
      content: "iso",
      filename: "alpine-virt-3.20.3-x86_64.iso",
      checksum: simulatedChecksum(url, "sha256"),
      "checksum-algorithm": "sha256",
    };
    const res = await api(sim, "POST", "/nodes/pve2/storage/local/download-url", {
      token: true,
      params,
    });
    assert.equal(res.status, 200);
    assert.match(res.body.data, /:download:alpine-virt-3\.20\.3-x86_64\.iso:/);
    const task = await finished(sim, "pve2", res.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.equal(
      task.lines[0],
      `downloading ${url} to /var/lib/vz/template/iso/alpine-virt-3.20.3-x86_64.iso`,
    );
    assert.ok(task.lines.some((l) => /\s100% /.test(l)));
    assert.ok(task.lines.includes("calculating checksum...OK, checksum verified"));
    assert.equal(task.lines.at(-1), "TASK OK");
    const content = (await api(sim, "GET", "/nodes/pve2/storage/local/content", {
      token: true,
      params: { content: "iso" },
    })).body.data as Entry[];
    assert.ok(content.some((v) => v.volid === "local:iso/alpine-virt-3.20.3-x86_64.iso"));

    const again = await finished(
      sim,
      "pve2",
      (await api(sim, "POST", "/nodes/pve2/storage/local/download-url", { token: true, params }))
        .body.data,
    );
    assert.equal(again.exitstatus, "OK");
    assert.ok(again.lines.includes(
      "calculating checksum of existing file...OK, got correct file already, no need to download",
    ));
    const { checksum: _c, "checksum-algorithm": _a, ...unchecked } = params;
    const dup = await finished(
      sim,
      "pve2",
      (await api(sim, "POST", "/nodes/pve2/storage/local/download-url", {
        token: true,
        params: unchecked,
      })).body.data,
    );
    assert.equal(
      dup.exitstatus,
      "refusing to override existing file '/var/lib/vz/template/iso/alpine-virt-3.20.3-x86_64.iso'",
    );
  } finally {
    await sim.close();
  }
});

Deno.test("download-url fails the task on a checksum mismatch and keeps nothing", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(sim, "POST", "/nodes/pve1/storage/local/download-url", {
      token: true,
      params: {
        url: "https://cdimage.example.org/debian-13.1.0-amd64-netinst.iso",
        content: "iso",
        filename: "debian-13.1.0-amd64-netinst.iso",
        checksum: "0".repeat(64),
        "checksum-algorithm": "sha256",
      },
    });
    const task = await finished(sim, "pve1", res.body.data);
    assert.match(task.exitstatus, /^checksum mismatch: got '[0-9a-f]{64}' != expect '0{64}'$/);
    assert.equal(task.lines.at(-2), "calculating checksum...");
    assert.ok(
      !sim.sim.state.volumes.get("pve1/local")?.some((v) => v.volid.includes("debian-13")),
    );
  } finally {
    await sim.close();
  }
});

Deno.test("download-url refuses wrong extensions, non-file storages and other content types before forking", async () => {
  const sim = await startTestSimulator();
  try {
    const params = {
      url: "https://cdimage.example.org/alpine.iso",
      content: "iso",
      filename: "alpine.iso",
    };
    const post = (storage: string, extra: Record<string, string> = {}) =>
      api(sim, "POST", `/nodes/pve2/storage/${storage}/download-url`, {
        token: true,
        params: { ...params, ...extra },
      });
    const wrongExt = await post("local", { filename: "alpine.txt" });
    assert.equal(wrongExt.status, 400);
    assert.deepEqual(wrongExt.body.errors, { filename: "wrong file extension" });
    const tmpl = await post("local", { content: "vztmpl", filename: "alpine.tar.7z" });
    assert.deepEqual(tmpl.body.errors, { filename: "wrong file extension" });
    const lvm = await post("local-lvm");
    assert.equal(lvm.status, 500);
    assert.equal(
      lvm.body.message,
      "can't upload to storage type 'lvmthin', not a file based storage!\n",
    );
    const pbs = await post("pbs");
    assert.equal(
      pbs.body.message,
      "can't upload to storage type 'pbs', not a file based storage!\n",
    );
    const nasTmpl = await post("nas", { content: "vztmpl", filename: "alpine.tar.zst" });
    assert.equal(
      nasTmpl.body.message,
      "storage 'nas' is not configured for content-type 'vztmpl'\n",
    );
    const ftp = await post("local", { url: "ftp://example.org/alpine.iso" });
    assert.equal(ftp.status, 400);
    assert.match(ftp.body.errors.url, /does not match the regex pattern/);
  } finally {
    await sim.close();
  }
});

Deno.test("download-url normalizes the file name as PVE does", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(sim, "POST", "/nodes/pve1/storage/local/download-url", {
      token: true,
      params: {
        url: "https://example.org/x.iso",
        content: "iso",
        filename: "../my image (1).iso",
      },
    });
    assert.equal((await finished(sim, "pve1", res.body.data)).exitstatus, "OK");
    assert.ok(
      sim.sim.state.volumes.get("pve1/local")?.some((v) =>
        v.volid === "local:iso/my_image__1_.iso"
      ),
    );
  } finally {
    await sim.close();
  }
});

Deno.test("a full storage refuses a download with wget's write error", async () => {
  const sim = await startTestSimulator();
  try {
    const local = sim.sim.state.storages.get("local");
    assert.ok(local !== undefined);
    local.total = 1024 ** 3; // less than what is already on pve3's local storage
    const res = await api(sim, "POST", "/nodes/pve3/storage/local/download-url", {
      token: true,
      params: { url: "https://example.org/big.iso", content: "iso", filename: "big.iso" },
    });
    const task = await finished(sim, "pve3", res.body.data);
    assert.match(
      task.exitstatus,
      /^download failed: command 'wget --progress=dot:giga -O \/var\/lib\/vz\/template\/iso\/big\.iso\.tmp_dwnl\.\d+ https:\/\/example\.org\/big\.iso' failed: exit code 3$/,
    );
    assert.ok(task.lines.some((l) => /\(No space left on device\)\.$/.test(l)));
  } finally {
    await sim.close();
  }
});

Deno.test("storage usage follows the volumes created and deleted on it", async () => {
  const sim = await startTestSimulator();
  try {
    const used = async () =>
      Number(
        (await api(sim, "GET", "/nodes/pve1/storage/local/status", { token: true })).body
          .data.used,
      );
    const before = await used();
    const res = await api(sim, "POST", "/nodes/pve1/storage/local/download-url", {
      token: true,
      params: { url: "https://example.org/a.iso", content: "iso", filename: "a.iso" },
    });
    await finished(sim, "pve1", res.body.data);
    const grown = await used();
    const volume = sim.sim.state.volumes.get("pve1/local")?.find((v) =>
      v.volid === "local:iso/a.iso"
    );
    assert.equal(grown - before, volume?.size);
    const del = await api(
      sim,
      "DELETE",
      `/nodes/pve1/storage/local/content/${encodeURIComponent("local:iso/a.iso")}`,
      { token: true },
    );
    await finished(sim, "pve1", del.body.data);
    assert.equal(await used(), before);
  } finally {
    await sim.close();
  }
});

Deno.test("a PBS storage lists backups with PBS volids, verification and protection only where set", async () => {
  const sim = await startTestSimulator();
  try {
    const list = (await api(sim, "GET", "/nodes/pve3/storage/pbs/content", {
      token: true,
      params: { vmid: 105 },
    })).body.data as Entry[];
    assert.equal(list.length, 3);
    for (const item of list) {
      assert.match(String(item.volid), /^pbs:backup\/vm\/105\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(item.format, "pbs-vm");
      assert.equal(item.subtype, "qemu");
      assert.equal(item.content, "backup");
    }
    const verification = list.map((i) => (i.verification as { state: string } | undefined)?.state);
    assert.deepEqual(verification.sort(), ["failed", "ok", "ok"]);
    assert.equal(list.filter((i) => i.protected === 1).length, 1);
    assert.equal(list.filter((i) => "protected" in i).length, 1);
    const upid = (list[0]?.verification as { upid: string }).upid;
    assert.match(upid, /^UPID:pbs:.*:verificationjob:/);
    const isos = (await api(sim, "GET", "/nodes/pve3/storage/pbs/content", {
      token: true,
      params: { content: "iso" },
    })).body.data as Entry[];
    assert.deepEqual(isos, []);
    const info = await api(
      sim,
      "GET",
      `/nodes/pve3/storage/pbs/content/${encodeURIComponent(String(list[0]?.volid))}`,
      { token: true },
    );
    assert.match(info.body.data.path, /^pbs:\/\/backup@pbs@10\.0\.0\.60:homelab\/vm\/105\//);
  } finally {
    await sim.close();
  }
});

Deno.test("deleting a protected PBS snapshot fails in the task as proxmox-backup-client reports it", async () => {
  const sim = await startTestSimulator();
  try {
    const volume = sim.sim.state.volumes.get("pbs")?.find((v) => v.protected === 1);
    assert.ok(volume !== undefined);
    const res = await api(
      sim,
      "DELETE",
      `/nodes/pve1/storage/pbs/content/${encodeURIComponent(volume.volid)}`,
      { token: true },
    );
    assert.match(res.body.data, /:imgdel:105@pbs:/);
    const task = await finished(sim, "pve1", res.body.data);
    assert.equal(
      task.exitstatus,
      "proxmox-backup-client failed: Error: cannot remove protected snapshot",
    );
  } finally {
    await sim.close();
  }
});

Deno.test("a volume of another storage in the path is a storage ID mismatch", async () => {
  const sim = await startTestSimulator();
  try {
    const res = await api(
      sim,
      "GET",
      `/nodes/pve1/storage/local/content/${encodeURIComponent("nas:iso/x.iso")}`,
      { token: true },
    );
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors, { volume: "storage ID mismatch (nas != local)" });
  } finally {
    await sim.close();
  }
});

Deno.test("an unreachable storage is inactive, reports no usage and refuses listing its content", async () => {
  const sim = await startTestSimulator();
  try {
    const off = await fetch(`${sim.url}/_sim/storage/nas/offline`, { method: "POST" });
    assert.deepEqual(await off.json(), { storage: "nas", online: false });
    const status = (await api(sim, "GET", "/nodes/pve1/storage", { token: true })).body
      .data as Entry[];
    const nas = status.find((s) => s.storage === "nas") ?? {};
    assert.deepEqual([nas.active, nas.enabled, nas.total, nas.used_fraction], [0, 1, 0, undefined]);
    const resources = (await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "storage" },
    })).body.data as Entry[];
    const entry = resources.find((e) => e.id === "storage/pve1/nas") ?? {};
    assert.equal(entry.status, "unknown");
    assert.equal(entry.disk, undefined);
    const content = await api(sim, "GET", "/nodes/pve1/storage/nas/content", { token: true });
    assert.equal(content.status, 500);
    assert.equal(content.body.message, "storage 'nas' is not online\n");
    await fetch(`${sim.url}/_sim/storage/nas/online`, { method: "POST" });
    const back = await api(sim, "GET", "/nodes/pve1/storage/nas/content", { token: true });
    assert.equal(back.status, 200);
  } finally {
    await sim.close();
  }
});

Deno.test("a full storage refuses a new disk in the task, in the storage tool's words", async () => {
  const sim = await startTestSimulator();
  try {
    // Thin volumes may overcommit the pool (lvcreate warns); the pool is then full.
    const big = await api(sim, "POST", "/nodes/pve1/qemu", {
      token: true,
      params: { vmid: 709, name: "overcommit", scsi0: "local-lvm:900" },
    });
    assert.equal(big.status, 200, big.text);
    assert.equal((await finished(sim, "pve1", big.body.data)).exitstatus, "OK");
    const res = await api(sim, "POST", "/nodes/pve1/qemu", {
      token: true,
      params: { vmid: 710, name: "too-big", scsi0: "local-lvm:8" },
    });
    assert.equal(res.status, 200, res.text);
    const task = await finished(sim, "pve1", res.body.data);
    assert.match(
      task.exitstatus,
      /lvcreate 'pve\/vm-710-disk-0' error: {3}Cannot create new thin volume, free space in thin pool pve\/data reached threshold\.$/,
    );
    assert.equal(sim.sim.state.guests.get(710), undefined);
    const freed = await api(sim, "DELETE", "/nodes/pve1/qemu/709", { token: true });
    assert.equal((await finished(sim, "pve1", freed.body.data)).exitstatus, "OK");
    const small = await api(sim, "POST", "/nodes/pve1/qemu", {
      token: true,
      params: { vmid: 711, name: "fits", scsi0: "local-lvm:8" },
    });
    assert.equal((await finished(sim, "pve1", small.body.data)).exitstatus, "OK");
  } finally {
    await sim.close();
  }
});
