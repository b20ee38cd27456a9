import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { volumeKey } from "../../src/simulator/state.ts";
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
    assert.deepEqual(data.map((s) => s.storage), ["local", "local-lvm", "nas"]);
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
    assert.deepEqual(Object.keys(b).sort(), [
      "content",
      "ctime",
      "format",
      "notes",
      "protected",
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
    assert.match(refused.exitstatus, /^cannot remove protected archive '\/var\/lib\/vz\/dump\//);
    const deleted = await api(sim, "DELETE", `${content}/${encodeURIComponent(iso)}`, {
      token: true,
    });
    assert.equal((await finished(sim, "pve1", String(deleted.body.data))).exitstatus, "OK");
    assert.ok(!sim.sim.state.volumes.get("pve1/local")?.some((v) => v.volid === iso));
  } finally {
    await sim.close();
  }
});

Deno.test("download-url fetches into a download task and refuses a duplicate file name", async () => {
  const sim = await startTestSimulator();
  try {
    const params = {
      url: "https://cdimage.example.org/alpine-virt-3.20.3-x86_64.iso",
      content: "iso",
      filename: "alpine-virt-3.20.3-x86_64.iso",
      checksum: "a".repeat(64),
      "checksum-algorithm": "sha256",
    };
    const res = await api(sim, "POST", "/nodes/pve2/storage/local/download-url", {
      token: true,
      params,
    });
    assert.equal(res.status, 200);
    assert.match(res.body.data, /:download:/);
    const task = await finished(sim, "pve2", res.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.ok(task.lines.some((l) => /\s100% /.test(l)));
    assert.ok(task.lines.includes("calculating checksum...OK, checksum verified"));
    assert.equal(task.lines.at(-1), "TASK OK");
    const content = (await api(sim, "GET", "/nodes/pve2/storage/local/content", {
      token: true,
      params: { content: "iso" },
    })).body.data as Entry[];
    assert.ok(content.some((v) => v.volid === "local:iso/alpine-virt-3.20.3-x86_64.iso"));
    const again = await api(sim, "POST", "/nodes/pve2/storage/local/download-url", {
      token: true,
      params,
    });
    const dup = await finished(sim, "pve2", again.body.data);
    assert.match(dup.exitstatus, /^refusing to override existing file '/);
    const wrongExt = await api(sim, "POST", "/nodes/pve2/storage/local/download-url", {
      token: true,
      params: { ...params, filename: "alpine.txt" },
    });
    assert.equal(wrongExt.status, 400);
    assert.deepEqual(wrongExt.body.errors, { filename: "wrong file extension" });
    const wrongStore = await api(sim, "POST", "/nodes/pve2/storage/local-lvm/download-url", {
      token: true,
      params,
    });
    assert.equal(wrongStore.status, 500);
    assert.match(wrongStore.body.message, /not configured for content-type 'iso'/);
  } finally {
    await sim.close();
  }
});
