import assert from "node:assert/strict";
import { guestClone } from "../../src/tools/provisioning/guest_clone.ts";
import { guestConfigUpdate } from "../../src/tools/provisioning/guest_config_update.ts";
import { guestDiskResize } from "../../src/tools/provisioning/guest_disk_resize.ts";
import { openSession, type SimSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [guestClone, guestConfigUpdate, guestDiskResize];
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyForTests alice@example";

async function refused(
  s: SimSession,
  tool: string,
  args: Record<string, unknown>,
  message: RegExp,
): Promise<void> {
  const since = await s.mark();
  const result = await s.call(tool, args);
  assert.equal(result.isError, true, `${tool} ${JSON.stringify(args)}: ${textOf(result)}`);
  assert.match(textOf(result), message);
  assert.deepEqual(await s.writes(since), [], `${tool} wrote despite refusing`);
}

Deno.test("guest_clone makes a linked clone of the demo template, sets cloud-init and starts it", async () => {
  const s = await openSession({ tools });
  try {
    const dry = structuredOf<{ summary: string; calls: Record<string, unknown>[] }>(
      await s.call("guest_clone", {
        name: "debian12-tmpl",
        new_vmid: 300,
        new_name: "web04",
        cloud_init: { user: "alice", ssh_keys: [KEY], password: "clone-Secret-7" },
        start: true,
        dry_run: true,
      }),
    );
    assert.match(
      dry.summary,
      /^Linked clone of VM 9000 \(debian12-tmpl\) into VM 300 \(web04\) on pve1, then set cloud-init \(adds a cloud-init drive on local-lvm\), then start it\.$/,
    );
    assert.deepEqual(dry.calls.map((c) => `${c.method} ${c.path}`), [
      "POST /nodes/pve1/qemu/9000/clone",
      "PUT /nodes/pve1/qemu/300/config",
      "POST /nodes/pve1/qemu/300/status/start",
    ]);
    assert.equal((dry.calls[1]?.params as Record<string, unknown>).cipassword, "[redacted]");
    assert.deepEqual(await s.writes(), []);

    const progress: string[] = [];
    const result = await s.call("guest_clone", {
      name: "debian12-tmpl",
      new_vmid: 300,
      new_name: "web04",
      cloud_init: { user: "alice", ssh_keys: [KEY] },
      start: true,
    }, { onprogress: (p) => progress.push(p.message ?? "") });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    assert.equal(out.linked, true);
    assert.equal(out.started, true);
    assert.equal(out.source_vmid, 9000);
    assert.ok(progress.some((line) => /create linked clone of drive scsi0/.test(line)));
    const clone = s.sim.sim.state.guests.get(300);
    assert.match(String(clone?.config.scsi0), /^local-lvm:base-9000-disk-0\/vm-300-disk-0,/);
    assert.equal(clone?.config.ide2, "local-lvm:vm-300-cloudinit,media=cdrom");
    assert.equal(clone?.config.ciuser, "alice");
    assert.equal(clone?.status, "running");
  } finally {
    await s.close();
  }
});

Deno.test("guest_clone of a VM is a full copy and reports the clone's transfer percentages", async () => {
  const s = await openSession({ tools });
  try {
    const progress: { message: string; progress: number }[] = [];
    const result = await s.call("guest_clone", { vmid: 104, new_name: "k8s-node3" }, {
      onprogress: (p) => progress.push({ message: p.message ?? "", progress: p.progress }),
    });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(structuredOf(result).linked, false);
    assert.ok(
      progress.some((p) => /drive-scsi0: transferred .* \(100\.00%\)/.test(p.message)),
      progress.map((p) => p.message).join("\n"),
    );
  } finally {
    await s.close();
  }
});

Deno.test("guest_clone refuses what PVE would refuse, saying why, before sending anything", async () => {
  const s = await openSession({ tools });
  try {
    await refused(
      s,
      "guest_clone",
      { vmid: 100, full: false },
      /A linked clone needs a template, and VM 100 \(web01\) is not one: pass full: true/,
    );
    await refused(
      s,
      "guest_clone",
      { vmid: 9000, storage: "local-lvm" },
      /storage applies to full clones only/,
    );
    await refused(
      s,
      "guest_clone",
      { vmid: 9000, target_node: "pve2" },
      /has disks on local storage .* only as a full clone onto shared storage/,
    );
    await refused(
      s,
      "guest_clone",
      { vmid: 9000, new_vmid: 100 },
      /VMID 100 is already used by VM 100 \(web01\)/,
    );
    await refused(s, "guest_clone", { vmid: 9000, new_name: "bad name" }, /not a valid DNS name/);
    await refused(
      s,
      "guest_clone",
      { vmid: 200, cloud_init: { user: "x" } },
      /cloud_init is for VMs/,
    );
    await refused(
      s,
      "guest_clone",
      { vmid: 9000, full: true, storage: "local" },
      /Storage "local" does not hold VM disks/,
    );
    await refused(s, "guest_clone", { vmid: 9000, pool: "nope" }, /Pool "nope" does not exist/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_clone checks the new guest against policy.scope", async () => {
  const s = await openSession({
    tools,
    config: { policy: { scope: { vmids: ["100-199", "9000"] } } },
  });
  try {
    await refused(s, "guest_clone", { vmid: 9000, new_vmid: 500 }, /scope/i);
    const ok = await s.call("guest_clone", { vmid: 9000, new_vmid: 150, dry_run: true });
    assert.equal(ok.isError, undefined, textOf(ok));
  } finally {
    await s.close();
  }
});

Deno.test("guest_config_update shows a before/after diff, sends the digest and reports pending changes", async () => {
  const s = await openSession({ tools });
  try {
    const config = s.sim.sim.state.guests.get(100)?.config ?? {};
    const dry = structuredOf<{
      diff: { key: string; before?: unknown; after?: unknown }[];
      calls: { params: Record<string, unknown> }[];
    }>(
      await s.call("guest_config_update", {
        name: "web01",
        set: { cores: 4, description: "frontend", cipassword: "cfg-Secret-9" },
        delete: ["onboot"],
        dry_run: true,
      }),
    );
    assert.deepEqual(dry.diff, [
      { key: "cores", before: 2, after: 4 },
      { key: "description", after: "frontend" },
      { key: "cipassword", after: "[redacted]" },
      { key: "onboot", before: 1 },
    ]);
    assert.match(String(dry.calls[0]?.params.digest), /^[0-9a-f]{40}$/);
    assert.equal(dry.calls[0]?.params.delete, "onboot");
    assert.deepEqual(await s.writes(), []);

    const result = await s.call("guest_config_update", {
      vmid: 100,
      set: { cores: 4, description: "frontend", cipassword: "cfg-Secret-9" },
      delete: ["onboot"],
    });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<{ pending: string[] }>(result);
    assert.deepEqual(out.pending, ["cores"]);
    assert.match(
      textOf(result),
      /Pending until the next reboot \(guest_reboot\): cores; applied now: description, cipassword, onboot/,
    );
    assert.equal(config.description, "frontend");
    assert.equal(config.onboot, undefined);
    assert.ok(!JSON.stringify(result).includes("cfg-Secret-9"));
    assert.ok(!JSON.stringify(await s.auditLines()).includes("cfg-Secret-9"));
    const writes = await s.writes();
    assert.equal(writes.length, 1);
    assert.match(String(writes[0]?.body.digest), /^[0-9a-f]{40}$/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_config_update fails, changing nothing, when the config changes between reading and writing", async () => {
  const s = await openSession({ tools });
  try {
    const fault = await fetch(`${s.sim.url}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({
        method: "PUT",
        path: "/nodes/pve1/qemu/100/config",
        delay_ms: 300,
      }),
    });
    assert.equal(fault.status, 200);
    await fault.body?.cancel();
    const call = s.call("guest_config_update", { vmid: 100, set: { memory: 4096 } });
    // Wait until the tool's PUT is held by the fault, then edit the config behind its back.
    for (let i = 0; i < 500; i++) {
      const faults = await (await fetch(`${s.sim.url}/_sim/faults`)).json() as { hits: number }[];
      if ((faults[0]?.hits ?? 0) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    // The other edit goes through POST …/config (a qmconfig task), which the PUT fault does not hold.
    const upid = await s.pve.post("/nodes/pve1/qemu/100/config", {
      description: "edited by someone else",
    });
    assert.equal((await s.pve.waitForTask(String(upid))).state, "ok");
    const result = await call;
    assert.equal(result.isError, true);
    assert.match(
      textOf(result),
      /The config of VM 100 \(web01\) changed after it was read \(digest mismatch\), so nothing was changed/,
    );
    const config = s.sim.sim.state.guests.get(100)?.config ?? {};
    assert.equal(config.memory, "2048");
    assert.equal(config.description, "edited by someone else");
  } finally {
    await s.close();
  }
});

Deno.test("guest_config_update refuses disk edits and invalid values with the tool or format to use", async () => {
  const s = await openSession({ tools });
  try {
    await refused(
      s,
      "guest_config_update",
      { vmid: 102, delete: ["scsi1"] },
      /Detaching disk scsi1 of VM 102 \(db01\) is not a config edit here: detach it with pve_api_call PUT \/nodes\/pve1\/qemu\/102\/config delete=scsi1/,
    );
    await refused(
      s,
      "guest_config_update",
      { vmid: 102, set: { scsi1: "local-lvm:50" } },
      /Replacing disk scsi1/,
    );
    await refused(s, "guest_config_update", {
      vmid: 100,
      set: { scsi0: "local-lvm:vm-100-disk-0,size=64G" },
    }, /grow scsi0 with guest_disk_resize/);
    await refused(
      s,
      "guest_config_update",
      { vmid: 200, delete: ["rootfs"] },
      /Detaching disk rootfs/,
    );
    await refused(
      s,
      "guest_config_update",
      { vmid: 100, set: { scsi5: "local-lvm:vm-100-disk-9" } },
      /scsi5: new disks are given as <storage>:<GiB>/,
    );
    await refused(
      s,
      "guest_config_update",
      { vmid: 100, set: { cores: 4 }, delete: ["cores"] },
      /"cores" is both set and deleted: keep it in one of set or delete/,
    );
    await refused(s, "guest_config_update", { vmid: 100, set: { template: 1 } }, /guest_template/);
    await refused(
      s,
      "guest_config_update",
      { vmid: 100, set: { memory: "lots" } },
      /Proxmox VE would refuse PUT \/nodes\/\{node\}\/qemu\/\{vmid\}\/config: memory: /,
    );
    await refused(
      s,
      "guest_config_update",
      { vmid: 100, set: { nonsense: 1 } },
      /nonsense: property is not defined in schema/,
    );
    await refused(
      s,
      "guest_config_update",
      { vmid: 100, set: { cores: 2 } },
      /Nothing would change on VM 100 \(web01\): cores already has that value/,
    );
    await refused(
      s,
      "guest_config_update",
      { vmid: 100, set: { scsi1: "local-lvm:9000" } },
      /free, less than the 8\.8 TiB needed/,
    );
    await refused(s, "guest_config_update", { vmid: 100 }, /Nothing to change/);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`tag${i}`, "x"]));
    await refused(
      s,
      "guest_config_update",
      { vmid: 100, set: many },
      /`set` must have at most 32 entries/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("guest_config_update adds a NIC and a cloud-init drive to a stopped VM", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guest_config_update", {
      vmid: 103,
      set: { net1: "virtio,bridge=vmbr0,tag=30", ide0: "local-lvm:cloudinit", ciuser: "ops" },
    });
    assert.equal(result.isError, undefined, textOf(result));
    assert.deepEqual(structuredOf(result).pending, []);
    const config = s.sim.sim.state.guests.get(103)?.config ?? {};
    assert.match(String(config.net1), /^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0,tag=30$/);
    assert.equal(config.ide0, "local-lvm:vm-103-cloudinit,media=cdrom");
  } finally {
    await s.close();
  }
});

Deno.test("guest_disk_resize grows a disk and refuses a shrink with the current size", async () => {
  const s = await openSession({ tools });
  try {
    await refused(
      s,
      "guest_disk_resize",
      { vmid: 100, disk: "scsi0", size: "16G" },
      /PVE cannot shrink disks: scsi0 of VM 100 \(web01\) is 32\.0 GiB now/,
    );
    await refused(
      s,
      "guest_disk_resize",
      { vmid: 100, disk: "scsi0", size: "32G" },
      /is already 32\.0 GiB/,
    );
    await refused(
      s,
      "guest_disk_resize",
      { vmid: 100, disk: "scsi3", size: "+1G" },
      /has no disk "scsi3": resize one of scsi0 \(32\.0 GiB\)/,
    );
    await refused(
      s,
      "guest_disk_resize",
      { vmid: 100, disk: "scsi0", size: "+5000G" },
      /free, less than the 4\.9 TiB needed/,
    );

    const dry = structuredOf<{ diff: unknown[]; calls: { params: Record<string, unknown> }[] }>(
      await s.call("guest_disk_resize", { vmid: 100, disk: "scsi0", size: "+8G", dry_run: true }),
    );
    assert.deepEqual(dry.diff, [{ key: "scsi0", before: "32.0 GiB", after: "40.0 GiB" }]);
    assert.match(String(dry.calls[0]?.params.digest), /^[0-9a-f]{40}$/);

    const result = await s.call("guest_disk_resize", { vmid: 100, disk: "scsi0", size: "+8G" });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    assert.equal(out.size_after_bytes, 40 * 1024 ** 3);
    assert.match(String(out.upid), /:resize:100:/);
    assert.match(String(s.sim.sim.state.guests.get(100)?.config.scsi0), /size=40G/);

    const ct = await s.call("guest_disk_resize", { vmid: 200, disk: "rootfs", size: "12G" });
    assert.equal(ct.isError, undefined, textOf(ct));
    assert.match(textOf(ct), /file system grew with it/);
  } finally {
    await s.close();
  }
});
