import assert from "node:assert/strict";
import { encryptPassword } from "../../src/simulator/routes/guest/cloudinit.ts";
import { guestProvision } from "../../src/tools/workflows/guest_provision.ts";
import { openSession, type SimSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [guestProvision];
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyForTests alice@example";
const PASSWORD = "planted-Secret-42";
const GIB = 1024 ** 3;

/** A provisioning request; tests override what they need. */
const API = {
  template: "debian12-tmpl",
  name: "api01",
  cores: 2,
  memory_mib: 2048,
  disk_gib: 20,
  tags: ["api"],
  pool: "prod",
  cloud_init: { user: "alice", ssh_keys: [KEY], nameserver: "1.1.1.1" },
};

interface Step {
  step: string;
  status: string;
  upid?: string;
  detail?: string;
}

async function control(s: SimSession, method: string, path: string, body?: unknown) {
  const response = await fetch(`${s.sim.url}/_sim${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return await response.json();
}

async function refused(
  s: SimSession,
  args: Record<string, unknown>,
  message: RegExp,
): Promise<void> {
  const since = await s.mark();
  const result = await s.call("guest_provision", args);
  assert.equal(result.isError, true, `${JSON.stringify(args)}: ${textOf(result)}`);
  assert.match(textOf(result), message);
  assert.deepEqual(await s.writes(since), [], "guest_provision wrote despite refusing");
}

function statuses(result: Record<string, unknown>): string[] {
  return (result.steps as Step[]).map((s) => `${s.step}:${s.status}`);
}

Deno.test("guest_provision makes a ready VM from a template, step by step, and says how to reach it", async () => {
  const s = await openSession({ tools });
  try {
    const progress: string[] = [];
    const result = await s.call("guest_provision", API, {
      onprogress: (p) => progress.push(p.message ?? ""),
    });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    assert.equal(out.result, "ok");
    assert.equal(out.node, "pve1");
    assert.equal(out.template_vmid, 9000);
    const vmid = Number(out.vmid);
    assert.deepEqual(statuses(out), [
      "clone:done",
      "configure:done",
      "resize:done",
      "start:done",
      "address:done",
    ]);
    assert.deepEqual(out.addresses, [`192.168.1.${100 + (vmid % 150)}`]);
    assert.equal(out.ssh_command, `ssh alice@192.168.1.${100 + (vmid % 150)}`);
    assert.match(textOf(result), new RegExp(`VM ${vmid} \\(api01\\) is ready on pve1`));
    for (const n of [1, 2, 3, 4, 5]) {
      assert.ok(progress.some((line) => line.startsWith(`Step ${n}/5`)), progress.join("\n"));
    }

    const writes = await s.writes();
    assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), [
      "POST /nodes/pve1/qemu/9000/clone",
      `PUT /nodes/pve1/qemu/${vmid}/config`,
      `PUT /nodes/pve1/qemu/${vmid}/resize`,
      `POST /nodes/pve1/qemu/${vmid}/status/start`,
    ]);
    assert.deepEqual(writes[0]?.body, {
      newid: String(vmid),
      full: "0",
      name: "api01",
      pool: "prod",
    });
    assert.deepEqual(writes[1]?.body, {
      ciuser: "alice",
      sshkeys: encodeURIComponent(KEY),
      ipconfig0: "ip=dhcp",
      nameserver: "1.1.1.1",
      ide2: "local-lvm:cloudinit",
      cores: "2",
      memory: "2048",
      tags: "api",
    });
    assert.deepEqual(writes[2]?.body, { disk: "scsi0", size: "20G" });

    const vm = s.sim.sim.state.guests.get(vmid);
    assert.equal(vm?.status, "running");
    assert.match(String(vm?.config.scsi0), /^local-lvm:base-9000-disk-0\/vm-\d+-disk-0,.*size=20G/);
    assert.equal(s.sim.sim.state.pools.get("prod")?.vms.has(vmid), true);

    const audit = await s.auditLines();
    assert.deepEqual(audit.map((line) => line.step ?? "(call)"), [
      `linked clone of 9000 into VM ${vmid}`,
      `configure VM ${vmid} (ciuser, sshkeys, ipconfig0, nameserver, ide2, cores, memory, tags)`,
      `grow scsi0 from 3.5 GiB to 20.0 GiB of VM ${vmid}`,
      `start VM ${vmid}`,
      `wait for the guest agent of VM ${vmid}`,
      "(call)",
    ]);
    assert.ok(audit.every((line) => line.outcome === "ok"), JSON.stringify(audit));
  } finally {
    await s.close();
  }
});

Deno.test("guest_provision's dry run shows every step's calls and changes nothing", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guest_provision", {
      ...API,
      vmid: 150,
      cloud_init: { ...API.cloud_init, password: PASSWORD },
      dry_run: true,
    });
    assert.equal(result.isError, undefined, textOf(result));
    const plan = structuredOf<{ summary: string; calls: Record<string, unknown>[] }>(result);
    assert.deepEqual(plan.calls.map((c) => `${c.method} ${c.path}`), [
      "POST /nodes/pve1/qemu/9000/clone",
      "PUT /nodes/pve1/qemu/150/config",
      "PUT /nodes/pve1/qemu/150/resize",
      "POST /nodes/pve1/qemu/150/status/start",
      "GET /nodes/pve1/qemu/150/agent/network-get-interfaces",
    ]);
    assert.equal((plan.calls[1]?.params as Record<string, unknown>).cipassword, "[redacted]");
    assert.match(
      plan.summary,
      /Provision VM 150 \(api01\) from template VM 9000 \(debian12-tmpl\) on pve1; linked clone of 9000 into VM 150; set .*cipassword.*; grow scsi0 from 3\.5 GiB to 20\.0 GiB; start it; wait up to 180 s for the guest agent to report an address\./,
    );
    assert.ok(!JSON.stringify(result).includes(PASSWORD));
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("a provisioning run that fails at the resize step because the storage filled up is resumed to completion after space is freed", async () => {
  const s = await openSession({ tools });
  try {
    // A thick LVM volume group on a SAN: unlike a thin pool, growing a volume needs free extents.
    s.sim.sim.state.storages.set("san", {
      storage: "san",
      type: "lvm",
      vgname: "san",
      content: ["images", "rootdir"],
      shared: true,
      total: 40 * GIB,
    });
    const args = {
      ...API,
      full: true,
      storage: "san",
      cloud_init: { ...API.cloud_init, password: PASSWORD },
    };
    // Hold the resize a moment; meanwhile something else fills the volume group.
    const { id } = await control(s, "POST", "/faults", {
      method: "PUT",
      path: "/nodes/pve1/qemu/*/resize",
      delay_ms: 300,
    });
    const running = s.call("guest_provision", args);
    for (let i = 0; i < 2000; i++) {
      const faults = await control(s, "GET", "/faults") as { id: number; hits: number }[];
      if ((faults.find((f) => f.id === id)?.hits ?? 0) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await control(s, "POST", "/storage/san/usage", { node: "pve1", used_fraction: 1 });
    await control(s, "DELETE", `/faults/${id}`);
    const failed = await running;

    assert.equal(failed.isError, true, textOf(failed));
    const out = structuredOf(failed);
    const vmid = Number(out.vmid);
    assert.equal(out.result, "failed");
    assert.deepEqual(statuses(out), [
      "clone:done",
      "configure:done",
      "resize:failed",
      "start:not_run",
      "address:not_run",
    ]);
    const text = textOf(failed);
    assert.match(
      text,
      new RegExp(
        `Stopped at step resize: task UPID:pve1:[^ ]+:resize:${vmid}:[^ ]+ failed: error resizing volume '/dev/san/vm-${vmid}-disk-0': Insufficient free space`,
      ),
    );
    assert.match(text, /Done: clone, configure; not done: resize, start, address\./);
    assert.match(
      text,
      new RegExp(
        `Left on the cluster: VM ${vmid} \\(api01\\) on pve1, configured, disk not grown yet, stopped\\.`,
      ),
    );
    const next = out.continue_with as { tool: string; arguments: Record<string, unknown> };
    assert.equal(next.tool, "guest_provision");
    assert.equal(next.arguments.vmid, vmid);
    assert.ok(!JSON.stringify(failed).includes(PASSWORD), "the password leaked into the result");
    assert.equal(s.sim.sim.state.guests.get(vmid)?.status, "stopped");

    await control(s, "POST", "/storage/san/usage", { node: "pve1", used_fraction: 0.1 });
    const since = await s.mark();
    const resumed = await s.call("guest_provision", next.arguments);
    assert.equal(resumed.isError, undefined, textOf(resumed));
    const done = structuredOf(resumed);
    assert.equal(done.result, "ok");
    assert.equal(done.vmid, vmid);
    assert.deepEqual(statuses(done), [
      "clone:already",
      "configure:already",
      "resize:done",
      "start:done",
      "address:done",
    ]);
    assert.deepEqual((await s.writes(since)).map((w) => `${w.method} ${w.path}`), [
      `PUT /nodes/pve1/qemu/${vmid}/resize`,
      `POST /nodes/pve1/qemu/${vmid}/status/start`,
    ]);
    const vm = s.sim.sim.state.guests.get(vmid);
    assert.match(String(vm?.config.scsi0), new RegExp(`^san:vm-${vmid}-disk-0,.*size=20G`));
    assert.equal(
      vm?.config.cipassword,
      encryptPassword(PASSWORD),
      "the first run set the password (PVE stores its hash)",
    );
    assert.equal(vm?.status, "running");
    assert.ok(done.ssh_command !== undefined);
  } finally {
    await s.close();
  }
});

Deno.test("running the same call again recognises the linked clone it made and repeats nothing", async () => {
  const s = await openSession({ tools });
  try {
    const first = await s.call("guest_provision", API);
    assert.equal(first.isError, undefined, textOf(first));
    const since = await s.mark();
    const again = await s.call("guest_provision", API);
    assert.equal(again.isError, undefined, textOf(again));
    const out = structuredOf(again);
    assert.equal(out.vmid, structuredOf(first).vmid);
    assert.deepEqual(statuses(out), [
      "clone:already",
      "configure:already",
      "resize:already",
      "start:already",
      "address:done",
    ]);
    assert.deepEqual(await s.writes(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("guest_provision refuses, before sending anything, what would not work", async () => {
  const s = await openSession({
    tools,
    config: { policy: { scope: { vmids: ["100-299", "9000"] } } },
  });
  try {
    await refused(
      s,
      { ...API, template: "web01" },
      /VM 100 \(web01\) is not a VM template: name a template/,
    );
    await refused(
      s,
      { ...API, name: "db01" },
      /A guest named "db01" already exists \(VM 102 \(db01\) on pve1\): choose another name, or pass vmid: 102/,
    );
    await refused(s, { ...API, vmid: 100 }, /VMID 100 is already used by VM 100 \(web01\)/);
    await refused(
      s,
      { ...API, name: "db01", vmid: 180 },
      /A guest named "db01" already exists \(VM 102 \(db01\) on pve1\), and VMID 180 is free/,
    );
    await refused(s, { ...API, disk_gib: 2 }, /PVE cannot shrink disks: scsi0 of the clone/);
    await refused(
      s,
      { ...API, disk_gib: 5000 },
      /Storage "local-lvm" on pve1 has .* free, less than/,
    );
    await refused(s, { ...API, memory_mib: 200_000 }, /more than node pve1 has in total/);
    await refused(
      s,
      { ...API, cloud_init: { ssh_keys: ["not a key"] } },
      /ssh_keys item 1 is not an OpenSSH public key/,
    );
    await refused(s, { ...API, name: "bad_name" }, /not a valid DNS name/);
    await refused(s, { ...API, vmid: 300 }, /outside the scope/);
    await refused(s, { ...API, template: "nope" }, /nope/);
  } finally {
    await s.close();
  }
});

Deno.test("a cloud-init password reaches PVE but never a result, a continuation or the audit log", async () => {
  const s = await openSession({ tools });
  try {
    await control(s, "POST", "/guests/9000/lock", { lock: "backup" });
    const args = { ...API, cloud_init: { ...API.cloud_init, password: PASSWORD } };
    const locked = await s.call("guest_provision", args);
    assert.equal(locked.isError, true);
    assert.match(textOf(locked), /VM 9000 is locked \(backup\)/);
    await control(s, "DELETE", "/guests/9000/lock");
    const result = await s.call("guest_provision", args);
    assert.equal(result.isError, undefined, textOf(result));
    const vmid = Number(structuredOf(result).vmid);
    assert.equal(s.sim.sim.state.guests.get(vmid)?.config.cipassword, encryptPassword(PASSWORD));
    const audit = JSON.stringify(await s.auditLines());
    for (const text of [JSON.stringify(locked), JSON.stringify(result), audit]) {
      assert.ok(!text.includes(PASSWORD), `password leaked: ${text.slice(0, 200)}`);
    }
  } finally {
    await s.close();
  }
});

Deno.test("cancelling a provisioning run stops between steps and the audit line says where", async () => {
  const s = await openSession({ tools, sim: { speed: 4 } });
  try {
    const abort = new AbortController();
    await assert.rejects(
      s.call("guest_provision", API, {
        signal: abort.signal,
        onprogress: (p) => {
          if (p.message?.startsWith("Step 3/5")) abort.abort();
        },
      }),
    );
    let lines: Record<string, unknown>[] = [];
    for (let i = 0; i < 500; i++) {
      lines = (await s.auditLines()).filter((line) => line.step === undefined);
      if (lines.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(lines[0]?.outcome, "cancelled");
    assert.match(String(lines[0]?.error), /^Cancelled at step (resize|start)/);
    assert.match(String(lines[0]?.error), /Done: clone, configure/);
    assert.ok(
      !(await s.writes()).some((w) => w.path.endsWith("/status/start")),
      "nothing after the cancelled step ran",
    );
  } finally {
    await s.close();
  }
});

Deno.test("a clone without a definite answer says its outcome is unknown and how to check, never to try again", async () => {
  const s = await openSession({ tools });
  try {
    await control(s, "POST", "/faults", {
      method: "POST",
      path: "/nodes/pve1/qemu/9000/clone",
      reset: true,
      count: 1,
    });
    const result = await s.call("guest_provision", { ...API, vmid: 150 });
    assert.equal(result.isError, true, textOf(result));
    const text = textOf(result);
    assert.match(
      text,
      /^Stopped at step clone: It is unknown whether Proxmox VE carried out POST \/nodes\/pve1\/qemu\/9000\/clone/,
    );
    assert.match(text, /check whether VM 150 \(api01\) exists \(guest_get\)/);
    assert.match(text, /Whether VM 150 \(api01\) was created is unknown\./);
    assert.match(text, /Once you know what happened, continue with: guest_provision \{/);
    assert.doesNotMatch(text, /try again/i);
  } finally {
    await s.close();
  }
});
