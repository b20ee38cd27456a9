import assert from "node:assert/strict";
import { ctCreate } from "../../src/tools/provisioning/ct_create.ts";
import { vmCreate } from "../../src/tools/provisioning/vm_create.ts";
import { openSession, type SimSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [vmCreate, ctCreate];
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyForTests alice@example";
const TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
const PASSWORD = "planted-Secret-42";

/** A minimal valid VM request; tests override one field to make it wrong. */
const VM = { name: "web03", node: "pve1", storage: "local-lvm", disk_gib: 8 };

/** Calls a tool that must refuse, and checks that nothing was written. */
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

Deno.test("vm_create makes a VM with cloud-init on the named storage and starts it", async () => {
  const s = await openSession({ tools });
  try {
    const progress: string[] = [];
    const result = await s.call("vm_create", {
      ...VM,
      vmid: 150,
      disk_gib: 16,
      cores: 2,
      vlan: 20,
      firewall: true,
      tags: ["web"],
      pool: "prod",
      start: true,
      cloud_init: {
        user: "alice",
        ssh_keys: [KEY],
        password: PASSWORD,
        ip: "192.168.1.60/24",
        gateway: "192.168.1.1",
        nameserver: "1.1.1.1",
      },
    }, { onprogress: (p) => progress.push(p.message ?? "") });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    assert.equal(out.result, "ok");
    assert.equal(out.started, true);
    assert.equal(out.vmid, 150);
    assert.match(String(out.upid), /:qmcreate:150:/);
    assert.match(textOf(result), /Created VM 150 \(web03\) on pve1 and started it/);
    assert.ok(progress.some((line) => /successfully created disk/.test(line)), progress.join("\n"));

    const writes = await s.writes();
    assert.equal(writes.length, 1);
    assert.equal(writes[0]?.path, "/nodes/pve1/qemu");
    const body = writes[0]?.body ?? {};
    assert.equal(body.scsi0, "local-lvm:16,iothread=1");
    assert.equal(body.ide2, "local-lvm:cloudinit");
    assert.equal(body.net0, "virtio,bridge=vmbr0,tag=20,firewall=1");
    assert.equal(body.ipconfig0, "ip=192.168.1.60/24,gw=192.168.1.1");
    assert.equal(body.sshkeys, encodeURIComponent(KEY));
    assert.equal(body.pool, "prod");

    const guest = s.sim.sim.state.guests.get(150);
    assert.equal(guest?.status, "running");
    assert.equal(guest?.config.cipassword, PASSWORD, "the real password reached PVE");
    assert.equal(guest?.config.ide2, "local-lvm:vm-150-cloudinit,media=cdrom");
    assert.equal(s.sim.sim.state.pools.get("prod")?.vms.has(150), true);
  } finally {
    await s.close();
  }
});

Deno.test("a cloud-init or root password never appears in a dry run, a result or the audit log", async () => {
  const s = await openSession({ tools });
  try {
    const vmArgs = { ...VM, vmid: 151, cloud_init: { user: "bob", password: PASSWORD } };
    const ctArgs = {
      hostname: "ct151",
      ostemplate: TEMPLATE,
      node: "pve1",
      vmid: 152,
      storage: "local-lvm",
      disk_gib: 4,
      password: PASSWORD,
    };
    const dryVm = await s.call("vm_create", { ...vmArgs, dry_run: true });
    const dryCt = await s.call("ct_create", { ...ctArgs, dry_run: true });
    for (const dry of [dryVm, dryCt]) {
      assert.equal(dry.isError, undefined, textOf(dry));
      const calls = structuredOf<{ calls: { params: Record<string, unknown> }[] }>(dry).calls;
      const params = calls[0]?.params ?? {};
      assert.equal(params.cipassword ?? params.password, "[redacted]");
    }
    assert.deepEqual(await s.writes(), []);
    const realVm = await s.call("vm_create", vmArgs);
    const realCt = await s.call("ct_create", ctArgs);
    assert.equal(realVm.isError, undefined, textOf(realVm));
    assert.equal(realCt.isError, undefined, textOf(realCt));
    assert.equal(s.sim.sim.state.guests.get(152)?.status, "stopped");
    const audit = await s.auditLines();
    assert.equal(audit.length, 4);
    for (const text of [dryVm, dryCt, realVm, realCt].map((r) => JSON.stringify(r))) {
      assert.ok(!text.includes(PASSWORD), `password leaked into a result: ${text}`);
    }
    assert.ok(!JSON.stringify(audit).includes(PASSWORD), "password leaked into the audit log");
    assert.equal(s.sim.sim.state.guests.get(151)?.config.cipassword, PASSWORD);
  } finally {
    await s.close();
  }
});

Deno.test("vm_create without node picks the node with the storage, bridge and most free memory, and says why", async () => {
  const s = await openSession({ tools });
  try {
    const dry = await s.call("vm_create", {
      name: "auto",
      storage: "local-lvm",
      disk_gib: 8,
      dry_run: true,
    });
    const plan = structuredOf<{ summary: string; calls: { path: string }[] }>(dry);
    assert.match(
      plan.summary,
      /picked node pve2: it has storage local-lvm .* and bridge vmbr0, and the most free memory/,
    );
    assert.equal(plan.calls[0]?.path, "/nodes/pve2/qemu");
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("vm_create warns, without refusing, when the memory exceeds what the node has free", async () => {
  const s = await openSession({ tools });
  try {
    const dry = await s.call("vm_create", { ...VM, memory_mib: 48 * 1024, dry_run: true });
    assert.equal(dry.isError, undefined, textOf(dry));
    assert.match(
      structuredOf<{ summary: string }>(dry).summary,
      /more than node pve1 has free .*overcommit memory/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("vm_create refuses, before sending anything, every request PVE or the cluster would not take", async () => {
  const s = await openSession({ tools });
  try {
    await refused(
      s,
      "vm_create",
      { ...VM, vmid: 105 },
      /VMID 105 is already used by VM 105 \(k8s-node2\) on pve3/,
    );
    await refused(s, "vm_create", { ...VM, vmid: 99 }, /vmid/);
    await refused(s, "vm_create", { ...VM, vmid: 1_000_000_000 }, /vmid/);
    await refused(s, "vm_create", { ...VM, name: "web_03" }, /not a valid DNS name.*"web-03"/);
    await refused(
      s,
      "vm_create",
      { ...VM, node: "pve9" },
      /Node "pve9" is not in this cluster: use one of pve1, pve2, pve3/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, cores: 13 },
      /13 cores is more than node pve1 has \(12 CPUs\)/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, memory_mib: 80 * 1024 },
      /more than node pve1 has in total \(64\.0 GiB\)/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, storage: "tank" },
      /Storage "tank" is not available on node pve1: use one that holds VM disks there: local-lvm/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, storage: "local" },
      /Storage "local" does not hold VM disks/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, disk_gib: 5000 },
      /has .* free, less than the 4\.9 TiB needed/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, bridge: "vmbr9" },
      /Bridge "vmbr9" does not exist on node pve1: use one of vmbr0/,
    );
    await refused(s, "vm_create", { ...VM, vlan: 4095 }, /vlan/);
    await refused(
      s,
      "vm_create",
      { ...VM, iso: "local:iso/missing.iso" },
      /ISO image "local:iso\/missing\.iso" does not exist on node pve1: use one that does \(local:iso\/debian-12/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, iso: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst" },
      /iso "local:vztmpl\/debian-12-standard_12\.7-1_amd64\.tar\.zst" is not an ISO volume: give it as storage:iso\/file\.iso/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, pool: "lab" },
      /Pool "lab" does not exist: use one of prod/,
    );
    await refused(s, "vm_create", { ...VM, tags: ["bad tag"] }, /Tag "bad tag" is not valid/);
    await refused(
      s,
      "vm_create",
      { ...VM, cloud_init: { ip: "192.168.1.60" } },
      /cloud_init\.ip "192\.168\.1\.60" is neither dhcp nor an IPv4 address in CIDR form/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, cloud_init: { gateway: "10.0.0.1" } },
      /gateway goes with a static ip/,
    );
    await refused(
      s,
      "vm_create",
      { ...VM, cloud_init: { ssh_keys: ["not a key"] } },
      /ssh_keys item 1 is not an OpenSSH public key/,
    );

    const lvm = s.sim.sim.state.storages.get("local-lvm");
    assert.ok(lvm !== undefined);
    lvm.disable = true;
    await refused(s, "vm_create", { ...VM }, /Storage "local-lvm" is disabled on node pve1/);
    lvm.disable = false;

    await fetch(`${s.sim.url}/_sim/nodes/pve3/offline`, { method: "POST" }).then((r) =>
      r.body?.cancel()
    );
    await refused(
      s,
      "vm_create",
      { ...VM, node: "pve3" },
      /Node "pve3" is offline: use an online node \(pve1, pve2\)/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("ct_create refuses a missing template, a storage without container volumes and bad network settings", async () => {
  const s = await openSession({ tools });
  try {
    const CT = {
      hostname: "ct1",
      ostemplate: TEMPLATE,
      node: "pve1",
      storage: "local-lvm",
      disk_gib: 4,
    };
    await refused(
      s,
      "ct_create",
      { ...CT, ostemplate: "local:vztmpl/alpine.tar.xz" },
      /container template "local:vztmpl\/alpine\.tar\.xz" does not exist on node pve1: use one that does/,
    );
    await refused(s, "ct_create", {
      ...CT,
      ostemplate: "local:iso/debian-12.7.0-amd64-netinst.iso",
    }, /is not a container template volume/);
    await refused(
      s,
      "ct_create",
      { ...CT, storage: "nas" },
      /Storage "nas" does not hold container volumes/,
    );
    await refused(
      s,
      "ct_create",
      { ...CT, ip: "dhcp", gateway: "10.0.0.1" },
      /gateway goes with a static ip/,
    );
    await refused(s, "ct_create", { ...CT, hostname: "-bad" }, /not a valid DNS name/);
    await refused(
      s,
      "ct_create",
      { ...CT, vmid: 200 },
      /VMID 200 is already used by CT 200 \(pihole\) on pve1/,
    );
    await refused(s, "ct_create", { ...CT, password: "abc" }, /password/);
  } finally {
    await s.close();
  }
});

Deno.test("ct_create makes an unprivileged container from a template, and a privileged one only when asked, saying so", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("ct_create", {
      hostname: "cache01",
      ostemplate: TEMPLATE,
      storage: "local-lvm",
      disk_gib: 4,
      memory_mib: 1024,
      ssh_keys: [KEY],
      nesting: true,
      ip: "192.168.1.70/24",
      gateway: "192.168.1.1",
      start: true,
    });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    assert.equal(out.unprivileged, true);
    assert.equal(out.started, true);
    assert.match(String(out.upid), /:vzcreate:/);
    const vmid = Number(out.vmid);
    const ct = s.sim.sim.state.guests.get(vmid);
    assert.equal(ct?.status, "running");
    assert.equal(ct?.config.unprivileged, 1);
    assert.equal(ct?.config.features, "nesting=1");
    assert.match(String(ct?.config.net0), /(^|,)ip=192\.168\.1\.70\/24(,|$)/);
    assert.match(String(ct?.config.net0), /(^|,)gw=192\.168\.1\.1(,|$)/);

    const privileged = await s.call("ct_create", {
      hostname: "legacy01",
      ostemplate: TEMPLATE,
      node: "pve1",
      storage: "local-lvm",
      disk_gib: 4,
      unprivileged: false,
    });
    assert.equal(privileged.isError, undefined, textOf(privileged));
    assert.equal(structuredOf(privileged).unprivileged, false);
    assert.match(
      textOf(privileged),
      /Created privileged container .*privileged container \(asked for with unprivileged=false\)/s,
    );
    const legacy = s.sim.sim.state.guests.get(Number(structuredOf(privileged).vmid));
    assert.equal(legacy?.config.unprivileged, undefined);
  } finally {
    await s.close();
  }
});

Deno.test("a new guest outside policy.scope is refused before anything is sent", async () => {
  const s = await openSession({
    tools,
    config: { policy: { scope: { pools: ["prod"], nodes: ["pve1", "pve2"], vmids: ["100-199"] } } },
  });
  try {
    const inScope = await s.call("vm_create", { ...VM, vmid: 160, pool: "prod", dry_run: true });
    assert.equal(inScope.isError, undefined, textOf(inScope));
    await refused(s, "vm_create", { ...VM, vmid: 160 }, /scope/i);
    await refused(s, "vm_create", { ...VM, vmid: 260, pool: "prod" }, /scope/i);
    await refused(s, "vm_create", { ...VM, node: "pve3", vmid: 160, pool: "prod" }, /scope/i);
    await refused(
      s,
      "ct_create",
      {
        hostname: "c",
        ostemplate: TEMPLATE,
        node: "pve1",
        vmid: 170,
        storage: "local-lvm",
        disk_gib: 4,
      },
      /scope/i,
    );
  } finally {
    await s.close();
  }
});

Deno.test("a create whose answer is lost says the outcome is unknown and how to check, not to repeat it", async () => {
  const s = await openSession({ tools });
  try {
    const fault = await fetch(`${s.sim.url}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({ method: "POST", path: "/nodes/pve1/qemu", reset: true, count: 1 }),
    });
    assert.equal(fault.status, 200);
    await fault.body?.cancel();
    const result = await s.call("vm_create", { ...VM, vmid: 180 });
    assert.equal(result.isError, true);
    assert.match(
      textOf(result),
      /It is unknown whether Proxmox VE carried out POST \/nodes\/pve1\/qemu \(.*\): do not repeat it yet; check whether VM 180 exists \(guest_get\) and its tasks with task_list \(node "pve1", type "qmcreate"\), and repeat it only if it did not happen\./,
    );
    assert.doesNotMatch(textOf(result), /try again/i);
    const audit = await s.auditLines();
    assert.equal(audit.at(-1)?.outcome, "error");
  } finally {
    await s.close();
  }
});
