import assert from "node:assert/strict";
import { simulatedChecksum } from "../../src/simulator/routes/storage.ts";
import { storageContent } from "../../src/tools/storage/storage_content.ts";
import { storageDownload } from "../../src/tools/storage/storage_download.ts";
import { storageList } from "../../src/tools/storage/storage_list.ts";
import { volumeDelete } from "../../src/tools/storage/volume_delete.ts";
import { openSession, type SimSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [storageList, storageContent, storageDownload, volumeDelete];

interface Row {
  storage: string;
  type: string;
  node?: string;
  nodes?: string[];
  shared: boolean;
  status: string;
  used_fraction?: number;
  above_threshold?: boolean;
  unavailable_on?: string[];
}
interface ListOut {
  storages: Row[];
  total: number;
  returned: number;
  above_threshold: number;
  unavailable: number;
  next_cursor?: string;
  hint?: string;
}
interface Volume {
  volid: string;
  content: string;
  format: string;
  size_bytes: number;
  time?: string;
  vmid?: number;
  notes?: string;
  protected?: boolean;
  verification?: string;
}
interface ContentOut {
  storage: string;
  node: string;
  available: boolean;
  reason?: string;
  volumes: Volume[];
  total: number;
  total_size_bytes: number;
  by_content: Record<string, number>;
  returned: number;
  next_cursor?: string;
  hint?: string;
}

async function control(s: SimSession, path: string): Promise<void> {
  const response = await fetch(`${s.sim.url}/_sim/${path}`, { method: "POST" });
  await response.body?.cancel();
}

Deno.test("storage_list shows local storage per node, shared storage once, usage and the threshold flag", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const result = await s.call("storage_list", { usage_threshold: 0.1 });
    const out = structuredOf<ListOut>(result);
    assert.deepEqual(
      out.storages.map((r) => `${r.storage}@${r.node ?? r.nodes?.join("+")}`),
      [
        "local@pve1",
        "local@pve2",
        "local@pve3",
        "local-lvm@pve1",
        "local-lvm@pve2",
        "local-lvm@pve3",
        "nas@pve1+pve2+pve3",
        "pbs@pve1+pve2+pve3",
      ],
    );
    const local1 = out.storages[0];
    assert.equal(local1?.status, "available");
    assert.ok((local1?.used_fraction ?? 0) > 0.1);
    assert.equal(local1?.above_threshold, true);
    assert.equal(out.above_threshold, out.storages.filter((r) => r.above_threshold).length);
    assert.match(textOf(result), /local \(dir\) on pve1 \[backup,iso,vztmpl\]: .* ABOVE THRESHOLD/);
    const reads = await s.requests(since);
    assert.deepEqual(
      reads.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`).sort(),
      [
        'GET /cluster/resources {"type":"node"}',
        'GET /cluster/resources {"type":"storage"}',
      ],
    );
    const iso = structuredOf<ListOut>(
      await s.call("storage_list", { content: "iso", node: "pve2" }),
    );
    assert.deepEqual(iso.storages.map((r) => r.storage), ["local", "nas"]);
    const backups = structuredOf<ListOut>(await s.call("storage_list", { content: "backup" }));
    assert.deepEqual([...new Set(backups.storages.map((r) => r.storage))], ["local", "nas", "pbs"]);
  } finally {
    await s.close();
  }
});

Deno.test("storage_list reports an offline node's storage and an unreachable NFS as rows, not a failure", async () => {
  const s = await openSession({ tools });
  try {
    await control(s, "nodes/pve3/offline");
    await control(s, "storage/nas/offline");
    const result = await s.call("storage_list");
    assert.equal(result.isError, undefined);
    const out = structuredOf<ListOut>(result);
    const row = (name: string, node?: string) =>
      out.storages.find((r) => r.storage === name && (node === undefined || r.node === node));
    assert.equal(row("local", "pve3")?.status, "node_offline");
    assert.equal(row("local", "pve1")?.status, "available");
    assert.equal(row("nas")?.status, "unavailable");
    assert.equal(row("pbs")?.status, "available");
    assert.equal(out.unavailable, 3);
    assert.match(textOf(result), /local-lvm \(lvmthin\) on pve3 \[images,rootdir\]: node offline/);
    assert.match(textOf(result), /nas \(nfs\) shared .*: not reachable/);
  } finally {
    await s.close();
  }
});

Deno.test("storage_list pages with a cursor and refuses a cursor of another query", async () => {
  const s = await openSession({ tools });
  try {
    const first = structuredOf<ListOut>(await s.call("storage_list", { limit: 3 }));
    assert.equal(first.returned, 3);
    assert.equal(first.total, 8);
    assert.match(first.hint ?? "", /5 more: pass cursor, or narrow with node or content/);
    const second = structuredOf<ListOut>(
      await s.call("storage_list", { limit: 3, cursor: first.next_cursor }),
    );
    assert.equal(second.storages[0]?.storage, "local-lvm");
    const wrong = await s.call("storage_list", { content: "iso", cursor: first.next_cursor });
    assert.equal(wrong.isError, true);
    assert.match(textOf(wrong), /does not belong to this query/);
  } finally {
    await s.close();
  }
});

Deno.test("storage_content lists backups newest first with notes, and PBS snapshots with verification and protection", async () => {
  const s = await openSession({ tools });
  try {
    const nas = structuredOf<ContentOut>(
      await s.call("storage_content", { storage: "nas", content: "backup" }),
    );
    assert.equal(nas.total, 6);
    assert.equal(nas.by_content.backup, 6);
    const times = nas.volumes.map((v) => v.time ?? "");
    assert.deepEqual([...times].sort().reverse(), times);
    assert.equal(nas.volumes.find((v) => v.vmid === 102)?.notes, "db01");
    const pbs = await s.call("storage_content", { storage: "pbs", vmid: 105 });
    const out = structuredOf<ContentOut>(pbs);
    assert.equal(out.total, 3);
    assert.deepEqual(out.volumes.map((v) => v.verification), ["ok", "failed", "ok"]);
    assert.deepEqual(out.volumes.map((v) => v.protected ?? false), [false, false, true]);
    assert.match(out.volumes[0]?.volid ?? "", /^pbs:backup\/vm\/105\//);
    assert.match(textOf(pbs), /pbs-vm .* verify failed "k8s-node2 weekly"/);
  } finally {
    await s.close();
  }
});

Deno.test("storage_content needs node for per-node storage and refuses malformed or unknown storage ids", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const malformed = await s.call("storage_content", { storage: "1st storage" });
    assert.equal(malformed.isError, true);
    assert.match(textOf(malformed), /^Storage id "1st storage" is not valid: .*a letter first/);
    assert.deepEqual(await s.requests(since), []);
    const unknown = await s.call("storage_content", { storage: "nfs-old" });
    assert.match(
      textOf(unknown),
      /Storage "nfs-old" does not exist .*: known storages are local, local-lvm, nas, pbs\./,
    );
    const local = await s.call("storage_content", { storage: "local" });
    assert.equal(local.isError, true);
    assert.match(textOf(local), /local to each node \(pve1, pve2, pve3\): pass node/);
    const pve1 = structuredOf<ContentOut>(
      await s.call("storage_content", { storage: "local", node: "pve1" }),
    );
    assert.deepEqual(pve1.by_content, { iso: 2, vztmpl: 2, backup: 1 });
    const badNode = await s.call("storage_content", { storage: "local", node: "pve_1" });
    assert.match(textOf(badNode), /^Node name "pve_1" is not valid/);
  } finally {
    await s.close();
  }
});

Deno.test("storage_content says an unreachable storage is unreachable instead of failing", async () => {
  const s = await openSession({ tools });
  try {
    await control(s, "storage/pbs/offline");
    const result = await s.call("storage_content", { storage: "pbs" });
    assert.equal(result.isError, undefined);
    const out = structuredOf<ContentOut>(result);
    assert.equal(out.available, false);
    assert.equal(out.reason, "storage 'pbs' is not online");
    assert.match(textOf(result), /does not answer on pve1 .*cannot be listed now/);
  } finally {
    await s.close();
  }
});

Deno.test("storage_content pages 10,000 backups compactly, with totals and a hint to narrow", async (t) => {
  const s = await openSession({
    tools,
    sim: { seed: "scale", nodes: 50, guests: 10_000, speed: "instant" },
  });
  try {
    const result = await s.call("storage_content", { storage: "shared-nfs", content: "backup" });
    const out = structuredOf<ContentOut>(result);
    assert.ok(out.total > 10_000, `${out.total} backups`);
    assert.equal(out.returned, 50);
    assert.match(out.hint ?? "", /more: pass cursor, or narrow with content or vmid/);
    const bytes = JSON.stringify(result).length;
    await t.step(
      `${out.total} backups answer in ${bytes} bytes (~${
        Math.round(bytes / 4)
      } tokens, budget 10,000)`,
      () => {
        assert.ok(bytes / 4 <= 10_000, `${bytes} bytes`);
      },
    );
  } finally {
    await s.close();
  }
});

Deno.test("storage_download fetches an ISO with progress, verifies the checksum and names the URL's host", async () => {
  const s = await openSession({ tools });
  try {
    const url =
      "https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/debian-13.1.0-amd64-netinst.iso";
    const dry = structuredOf<{ summary: string; calls: unknown[] }>(
      await s.call("storage_download", {
        url,
        storage: "local",
        node: "pve2",
        checksum: simulatedChecksum(url, "sha512"),
        dry_run: true,
      }),
    );
    assert.match(
      dry.summary,
      /^Node pve2 downloads debian-13\.1\.0-amd64-netinst\.iso from host cdimage\.debian\.org to local:iso\/debian-13\.1\.0-amd64-netinst\.iso \(sha512 checked\)\.$/,
    );
    assert.deepEqual(dry.calls, [{
      method: "POST",
      path: "/nodes/pve2/storage/local/download-url",
      params: {
        url,
        content: "iso",
        filename: "debian-13.1.0-amd64-netinst.iso",
        checksum: simulatedChecksum(url, "sha512"),
        "checksum-algorithm": "sha512",
      },
    }]);
    assert.deepEqual(await s.writes(), []);

    const progress: { message?: string | undefined; progress: number }[] = [];
    const result = await s.call("storage_download", {
      url,
      storage: "local",
      node: "pve2",
      checksum: simulatedChecksum(url, "sha256"),
    }, { onprogress: (p) => progress.push(p) });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.volid, "local:iso/debian-13.1.0-amd64-netinst.iso");
    assert.equal(out.host, "cdimage.debian.org");
    assert.equal(out.result, "ok");
    assert.ok(Number(out.size_bytes) > 0);
    assert.match(String(out.upid), /:download:debian-13\.1\.0-amd64-netinst\.iso:/);
    assert.match(
      textOf(result),
      /^Downloaded local:iso\/debian-13\.1\.0-amd64-netinst\.iso \(.+\) from host cdimage\.debian\.org on pve2\.$/,
    );
    assert.ok(progress.some((p) => /\s100% /.test(p.message ?? "")), "download percentages");
    assert.ok(progress.some((p) => /checksum verified/.test(p.message ?? "")));
  } finally {
    await s.close();
  }
});

Deno.test("storage_download reports a finished download as done even when its size cannot be read afterwards", async () => {
  const s = await openSession({ tools, sim: { speed: 2 } });
  try {
    const url = "https://example.com/images/alpine-virt-3.22.1-x86_64.iso";
    let planted: Promise<unknown> | undefined;
    const result = await s.call("storage_download", { url, storage: "local", node: "pve2" }, {
      // Once the download runs, the storage's listing starts failing (the plan read it before).
      onprogress: () => {
        planted ??= fetch(`${s.sim.url}/_sim/faults`, {
          method: "POST",
          body: JSON.stringify({
            method: "GET",
            path: "/nodes/pve2/storage/local/content",
            status: 500,
            reason: "storage 'local' is not online",
          }),
        }).then((r) => r.body?.cancel());
      },
    });
    await planted;
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.result, "ok");
    assert.equal(out.size_bytes, undefined, "the size could not be read");
    assert.match(textOf(result), /^Downloaded local:iso\/alpine-virt-3\.22\.1-x86_64\.iso /);
    assert.equal(
      s.sim.sim.state.volumes.get("pve2/local")?.some((v) =>
        v.volid === "local:iso/alpine-virt-3.22.1-x86_64.iso"
      ),
      true,
    );
  } finally {
    await s.close();
  }
});

Deno.test("storage_download refuses before sending: bad URL, credentials, checksum, extension, storage and an existing file", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const iso = "https://example.org/alpine-virt-3.22.1-x86_64.iso";
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { url: "not a url at all", storage: "nas" },
        /^URL "not a url at all" is not valid: give a full http/,
      ],
      [
        { url: "ftp://example.org/a.iso", storage: "nas" },
        /^URL scheme "ftp" is not supported: .*give the file.s http:\/\/ or https:\/\/ address/,
      ],
      [
        { url: "https://u:pw@example.org/a.iso", storage: "nas" },
        /carries a user name or password/,
      ],
      [{ url: "https://example.org/", storage: "nas" }, /^The URL names no file .*pass filename/],
      [
        { url: iso, storage: "nas", checksum: "abc".repeat(11) },
        /cannot match: pass checksum_algorithm/,
      ],
      [
        { url: iso, storage: "nas", checksum: "a".repeat(64), checksum_algorithm: "md5" },
        /a md5 has 32 digits/,
      ],
      [{ url: iso, storage: "nas", checksum: "z".repeat(64) }, /hexadecimal/],
      [{ url: iso, storage: "nas", checksum_algorithm: "sha256" }, /needs a checksum/],
      [
        { url: iso, storage: "nas", checksum: "a".repeat(64), checksum_algorithm: "crc32" },
        /checksum_algorithm/,
      ],
      [{ url: "https://example.org/readme.txt", storage: "nas" }, /Cannot tell from "readme\.txt"/],
      [{ url: iso, storage: "nas", content: "vztmpl" }, /wrong extension for a container template/],
      [
        { url: iso, storage: "nas", decompress: "zst", content: "vztmpl", filename: "a.tar.zst" },
        /decompresses only ISO images/,
      ],
      [
        { url: iso, storage: "local-lvm", node: "pve1" },
        /"local-lvm" \(lvmthin\) keeps no files.*use local or nas/,
      ],
      [{ url: iso, storage: "pbs" }, /"pbs" \(pbs\) keeps no files/],
      [
        { url: "https://example.org/t.tar.zst", storage: "nas" },
        /not configured for vztmpl content: use local/,
      ],
      [{ url: iso, storage: "local" }, /local to each node .*: pass node/],
      [{
        url: "https://example.org/debian-12.7.0-amd64-netinst.iso",
        storage: "local",
        node: "pve1",
      }, /already exists on pve1: PVE refuses to overwrite it/],
      [{ url: iso, storage: "local:x" }, /^Storage id "local:x" is not valid/],
    ];
    for (const [args, why] of cases) {
      const result = await s.call("storage_download", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), why, JSON.stringify(args));
    }
    assert.deepEqual(await s.writes(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("storage_download reports a checksum mismatch as a failure that keeps nothing", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("storage_download", {
      url: "https://example.org/alpine-virt-3.22.1-x86_64.iso",
      storage: "nas",
      checksum: "0".repeat(64),
    });
    assert.equal(result.isError, true);
    assert.match(
      textOf(result),
      /^The file from host example\.org does not match the checksum \(checksum mismatch: got '[0-9a-f]{64}' != expect '0{64}'\); nothing was kept/,
    );
    assert.equal(structuredOf(result).result, "failed");
  } finally {
    await s.close();
  }
});

Deno.test("volume_delete removes an ISO no guest uses and waits for the imgdel task", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("volume_delete", {
      volid: "local:iso/debian-12.7.0-amd64-netinst.iso",
      node: "pve2",
    });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.result, "ok");
    assert.match(String(out.upid), /:imgdel:local:/);
    const writes = await s.writes();
    assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), [
      "DELETE /nodes/pve2/storage/local/content/local:iso/debian-12.7.0-amd64-netinst.iso",
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("volume_delete refuses protected backups, disks and ISOs in use, snapshot state and malformed ids", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const local102 = [...(s.sim.sim.state.volumes.get("pve1/local") ?? [])].find((v) =>
      v.content === "backup"
    );
    const pbsProtected = s.sim.sim.state.volumes.get("pbs")?.find((v) => v.protected === 1);
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { volid: local102?.volid, node: "pve1" },
        /is protected, and PVE refuses to delete it: remove the protection first \(pve_api_call PUT \/nodes\/pve1\/storage\/local\/content\/.* with protected=0\)/,
      ],
      [{ volid: pbsProtected?.volid }, /^Backup "pbs:backup\/vm\/105\/.*" is protected/],
      [
        { volid: "local-lvm:vm-100-disk-0", node: "pve1" },
        /^local-lvm:vm-100-disk-0 is scsi0 of VM 100 \(web01\), which still uses it: detach it/,
      ],
      [
        { volid: "local-lvm:vm-102-state-pre-upgrade2", node: "pve1" },
        /RAM state of snapshot "pre-upgrade2" of VM 102 \(db01\): delete that snapshot with snapshot_delete/,
      ],
      [
        { volid: "local:iso/debian-12.7.0-amd64-netinst.iso", node: "pve1" },
        /is in the CD drive \(ide2\) of VM 100 \(web01\): eject it first/,
      ],
      [
        { volid: "nas:iso/nothing-here.iso" },
        /^Volume "nas:iso\/nothing-here\.iso" does not exist on storage "nas": list what is there with storage_content/,
      ],
      [
        { volid: "no-storage-part" },
        /^Volume id "no-storage-part" is not valid: it has no storage part; a volume id is storage:path/,
      ],
      [{ volid: "9x:iso/a.iso" }, /"9x" is not a storage id/],
      [{ volid: "local:iso/../etc/passwd", node: "pve1" }, /'\.' or '\.\.' path parts/],
      [{ volid: "local:iso/a.iso", node: "pve 1" }, /^Node name "pve 1" is not valid/],
    ];
    for (const [args, why] of cases) {
      const result = await s.call("volume_delete", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), why, JSON.stringify(args));
    }
    assert.deepEqual(await s.writes(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("volume_delete removes a guest's unused disk through the guest's config", async () => {
  const s = await openSession({ tools });
  try {
    const state = s.sim.sim.state;
    const guest = state.guests.get(103);
    assert.ok(guest !== undefined);
    guest.config.unused0 = "local-lvm:vm-103-disk-7";
    state.volumes.get("pve3/local-lvm")?.push({
      volid: "local-lvm:vm-103-disk-7",
      content: "images",
      format: "raw",
      size: 1024 ** 3,
      ctime: 1,
      vmid: 103,
    });
    const result = await s.call("volume_delete", {
      volid: "local-lvm:vm-103-disk-7",
      node: "pve3",
    });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(structuredOf(result).via, "guest_config");
    const writes = await s.writes();
    assert.equal(writes.length, 1);
    assert.equal(writes[0]?.method, "PUT");
    assert.equal(writes[0]?.path, "/nodes/pve3/qemu/103/config");
    assert.equal(writes[0]?.body.delete, "unused0");
    assert.equal(guest.config.unused0, undefined);
    assert.ok(
      !state.volumes.get("pve3/local-lvm")?.some((v) => v.volid === "local-lvm:vm-103-disk-7"),
    );
  } finally {
    await s.close();
  }
});

Deno.test("volume_delete asks for confirmation with the plan and deletes nothing when declined", async () => {
  const s = await openSession({
    tools,
    config: { policy: { confirmation: { fallback: "deny" } } },
    elicit: { action: "decline" },
  });
  try {
    const result = await s.call("volume_delete", {
      volid: "nas:iso/ubuntu-24.04.1-live-server-amd64.iso",
    });
    assert.equal(result.isError, true);
    assert.match(
      String(s.elicitations[0]?.message),
      /Delete ISO image nas:iso\/ubuntu-24\.04\.1-live-server-amd64\.iso \(2\.6 GiB\) from storage "nas" on pve1\./,
    );
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("storage_list and storage_content refuse a malformed node and a foreign cursor", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const list = await s.call("storage_list", { node: "pve.1" });
    assert.match(textOf(list), /^Node name "pve\.1" is not valid/);
    assert.deepEqual(await s.requests(since), []);
    const page = structuredOf<ContentOut>(
      await s.call("storage_content", { storage: "nas", limit: 1 }),
    );
    const foreign = await s.call("storage_content", {
      storage: "pbs",
      cursor: page.next_cursor,
    });
    assert.equal(foreign.isError, true);
    assert.match(textOf(foreign), /does not belong to this query/);
  } finally {
    await s.close();
  }
});
