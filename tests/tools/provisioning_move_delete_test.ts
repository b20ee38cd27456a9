import assert from "node:assert/strict";
import { guestDelete } from "../../src/tools/provisioning/guest_delete.ts";
import { guestMigrate } from "../../src/tools/provisioning/guest_migrate.ts";
import { guestTemplate } from "../../src/tools/provisioning/guest_template.ts";
import { openSession, type SimSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [guestMigrate, guestTemplate, guestDelete];

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

Deno.test("guest_migrate moves a running VM live, copying its local disk, with progress", async () => {
  const s = await openSession({ tools });
  try {
    const progress: string[] = [];
    const result = await s.call("guest_migrate", {
      name: "k8s-node1",
      target_node: "pve3",
      with_local_disks: true,
    }, { onprogress: (p) => progress.push(p.message ?? "") });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    assert.equal(out.mode, "live");
    assert.equal(out.node, "pve3");
    assert.equal(out.from_node, "pve2");
    assert.match(String(out.upid), /:qmigrate:104:/);
    assert.match(textOf(result), /Migrated VM 104 \(k8s-node1\) from pve2 to pve3 \(live\)/);
    assert.ok(progress.some((line) => /scsi0: transferred .*%\)/.test(line)), progress.join("\n"));
    assert.ok(progress.some((line) => /migration active, transferred/.test(line)));
    const writes = await s.writes();
    assert.deepEqual(writes.map((w) => [w.path, w.body]), [[
      "/nodes/pve2/qemu/104/migrate",
      { target: "pve3", online: "1", "with-local-disks": "1" },
    ]]);
    assert.equal(s.sim.sim.state.guests.get(104)?.node, "pve3");
    assert.equal(s.sim.sim.state.guests.get(104)?.status, "running");
  } finally {
    await s.close();
  }
});

Deno.test("guest_migrate restarts a running container and hands an HA-managed VM to the HA manager", async () => {
  const s = await openSession({ tools });
  try {
    const ct = await s.call("guest_migrate", {
      vmid: 202,
      target_node: "pve1",
      with_local_disks: true,
    });
    assert.equal(ct.isError, undefined, textOf(ct));
    assert.equal(structuredOf(ct).mode, "restart");
    assert.equal((await s.writes())[0]?.body.restart, "1");
    assert.equal(s.sim.sim.state.guests.get(202)?.node, "pve1");

    const ha = await s.call("guest_migrate", {
      vmid: 101,
      target_node: "pve1",
      with_local_disks: true,
    });
    assert.equal(ha.isError, undefined, textOf(ha));
    const out = structuredOf(ha);
    assert.equal(out.ha_managed, true);
    assert.equal(out.result, "requested");
    assert.match(String(out.upid), /:hamigrate:101:/);
    assert.match(textOf(ha), /Asked the HA manager to migrate VM 101 \(web02\) from pve2 to pve1/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_migrate checks the target before sending anything", async () => {
  const s = await openSession({ tools });
  try {
    await refused(
      s,
      "guest_migrate",
      { vmid: 104, target_node: "pve3" },
      /has disks on local storage \(scsi0 local-lvm:vm-104-disk-0, 48\.0 GiB\): pass with_local_disks: true/,
    );
    await refused(
      s,
      "guest_migrate",
      { vmid: 100, target_node: "pve2", with_local_disks: true },
      /VM 100 \(web01\) has the CD-ROM image local:iso\/debian-12\.7\.0-amd64-netinst\.iso in ide2, on storage only pve1 has, so PVE will not migrate it: eject it first/,
    );
    await refused(
      s,
      "guest_migrate",
      { vmid: 102, target_node: "pve2", with_local_disks: true },
      /VM 102 \(db01\) has snapshots and disks on local storage .*: delete its snapshots first/,
    );
    await refused(
      s,
      "guest_migrate",
      { vmid: 100, target_node: "pve1" },
      /already on pve1: nothing to migrate. To move it, give another online node as target_node \(pve2, pve3\)/,
    );
    await refused(
      s,
      "guest_migrate",
      { vmid: 100, target_node: "pve7", with_local_disks: true },
      /Node "pve7" is not in this cluster/,
    );
    const pve2 = s.sim.sim.state.nodes.get("pve2");
    pve2?.network.splice(0);
    if (pve2 !== undefined) delete pve2.networkPending;
    await refused(
      s,
      "guest_migrate",
      { vmid: 105, target_node: "pve2", with_local_disks: true },
      /Bridge "vmbr0" does not exist on node pve2/,
    );
    const lvm = s.sim.sim.state.storages.get("local-lvm");
    assert.ok(lvm !== undefined);
    lvm.nodes = ["pve1", "pve3"];
    await refused(
      s,
      "guest_migrate",
      { vmid: 200, target_node: "pve2", with_local_disks: true },
      /Storage "local-lvm" is not available on node pve2/,
    );
    delete lvm.nodes;
    s.sim.sim.state.guests.get(100)!.config.hostpci0 = "0000:01:00.0";
    await refused(
      s,
      "guest_migrate",
      { vmid: 100, target_node: "pve3", with_local_disks: true },
      /VM 100 \(web01\) uses devices of pve1 \(hostpci0\), so PVE will not migrate it/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("a migration target outside policy.scope is refused, and a migration to an offline node too", async () => {
  const s = await openSession({
    tools,
    config: { policy: { scope: { nodes: ["pve1", "pve2"] } } },
  });
  try {
    await refused(
      s,
      "guest_migrate",
      { vmid: 200, target_node: "pve3", with_local_disks: true },
      /scope/i,
    );
    await fetch(`${s.sim.url}/_sim/nodes/pve2/offline`, { method: "POST" }).then((r) =>
      r.body?.cancel()
    );
    await refused(
      s,
      "guest_migrate",
      { vmid: 100, target_node: "pve2", with_local_disks: true },
      /Node "pve2" is offline/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("guest_template converts a stopped VM after confirmation and refuses a running, template or locked one", async () => {
  const s = await openSession({
    tools,
    config: { policy: { confirmation: { fallback: "deny" } } },
    elicit: { action: "accept", content: { confirm: true } },
  });
  try {
    await refused(
      s,
      "guest_template",
      { vmid: 100 },
      /VM 100 \(web01\) is running: shut it down first \(guest_shutdown\)/,
    );
    await refused(s, "guest_template", { vmid: 9000 }, /already a template/);
    const lock = await fetch(`${s.sim.url}/_sim/guests/203/lock`, {
      method: "POST",
      body: JSON.stringify({ lock: "backup" }),
    });
    await lock.body?.cancel();
    await refused(s, "guest_template", { vmid: 203 }, /CT 203 is locked \(backup\)/);
    const result = await s.call("guest_template", { name: "win11-desk" });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(structuredOf(result).template, true);
    assert.match(
      String(s.elicitations.at(-1)?.message),
      /Convert VM 103 \(win11-desk\) on pve3 into a template, irreversibly/,
    );
    assert.equal(s.sim.sim.state.guests.get(103)?.config.template, 1);
  } finally {
    await s.close();
  }
});

Deno.test("guest_template refuses a guest with snapshots before sending, naming them and snapshot_delete", async () => {
  const s = await openSession({ tools });
  try {
    const db01 = s.sim.sim.state.guests.get(102);
    assert.ok(db01 !== undefined && db01.snapshots.size > 0);
    db01.status = "stopped";
    db01.qmpstatus = "stopped";
    const since = await s.mark();
    await refused(
      s,
      "guest_template",
      { vmid: 102 },
      /VM 102 \(db01\) has snapshots \(pre-upgrade.*\): delete them first \(snapshot_delete\)/,
    );
    assert.deepEqual(await s.writes(since), [], "nothing was sent");
    assert.notEqual(db01.config.template, 1);
  } finally {
    await s.close();
  }
});

Deno.test("guest_delete lists every volume in its dry run and asks before destroying them", async () => {
  const declined = await openSession({
    tools,
    config: { policy: { confirmation: { fallback: "deny" } } },
    elicit: { action: "decline" },
  });
  try {
    const db01 = declined.sim.sim.state.guests.get(102);
    assert.ok(db01 !== undefined);
    delete db01.config.protection;
    db01.status = "stopped";
    db01.qmpstatus = "stopped";
    const dry = structuredOf<{ summary: string; calls: Record<string, unknown>[] }>(
      await declined.call("guest_delete", { vmid: 102, dry_run: true }),
    );
    assert.equal(
      dry.summary,
      "Delete VM 102 (db01) on pve1 for good, destroying 3 volume(s): local-lvm:vm-102-disk-0, local-lvm:vm-102-disk-1, local-lvm:vm-102-state-pre-upgrade2; and remove it from backup job backup-5d1c0e2a-7f3b.",
    );
    assert.deepEqual(dry.calls, [{
      method: "DELETE",
      path: "/nodes/pve1/qemu/102",
      params: { purge: 1, "destroy-unreferenced-disks": 1 },
    }]);
    const result = await declined.call("guest_delete", { vmid: 102 });
    assert.equal(result.isError, true);
    assert.equal(declined.elicitations.length, 1);
    assert.match(
      String(declined.elicitations[0]?.message),
      /destroying 3 volume\(s\): local-lvm:vm-102-disk-0/,
    );
    assert.deepEqual(await declined.writes(), []);
    assert.ok(declined.sim.sim.state.guests.has(102));
  } finally {
    await declined.close();
  }

  const accepted = await openSession({
    tools,
    config: { policy: { confirmation: { fallback: "deny" } } },
    elicit: { action: "accept", content: { confirm: true } },
  });
  try {
    const result = await accepted.call("guest_delete", { vmid: 101, stop_first: true });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    assert.deepEqual(out.volumes, ["local-lvm:vm-101-disk-0"]);
    assert.deepEqual(out.backup_jobs, ["backup-5d1c0e2a-7f3b"]);
    assert.equal(out.ha_removed, true);
    assert.deepEqual((await accepted.writes()).map((w) => `${w.method} ${w.path}`), [
      "POST /nodes/pve2/qemu/101/status/stop",
      "DELETE /nodes/pve2/qemu/101",
    ]);
    const state = accepted.sim.sim.state;
    assert.equal(state.guests.has(101), false);
    assert.equal(state.ha.has("vm:101"), false);
    assert.equal(state.backupJobs.get("backup-5d1c0e2a-7f3b")?.vmid, "100,102,200,201");
    assert.ok(!(state.volumes.get("pve2/local-lvm") ?? []).some((v) => v.vmid === 101));
  } finally {
    await accepted.close();
  }
});

Deno.test("guest_delete refuses a protected, running or locked guest with the setting or step that fixes it", async () => {
  const s = await openSession({ tools });
  try {
    await refused(
      s,
      "guest_delete",
      { vmid: 102 },
      /VM 102 \(db01\) is protected \(protection=1\): turn that off first with guest_config_update/,
    );
    await refused(
      s,
      "guest_delete",
      { vmid: 100 },
      /VM 100 \(web01\) is running: shut it down first \(guest_shutdown\), or pass stop_first: true/,
    );
    const lock = await fetch(`${s.sim.url}/_sim/guests/203/lock`, {
      method: "POST",
      body: JSON.stringify({ lock: "backup" }),
    });
    await lock.body?.cancel();
    await refused(s, "guest_delete", { vmid: 203 }, /CT 203 is locked \(backup\)/);
  } finally {
    await s.close();
  }
});
