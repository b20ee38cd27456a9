import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import {
  addGuest,
  addVolume,
  advanceUntilDone,
  call,
  checkOutcomeRow,
  data,
  type OutcomeRow,
  runTask,
  startGuestSimulator,
  until,
  waitTask,
} from "./_guest_helpers.ts";
import { api, login } from "./_helpers.ts";

const V = "/nodes/pve1/qemu/700";

function vm(
  handle: SimulatorHandle,
  running: boolean,
  extra: Record<string, string | number> = {},
) {
  return addGuest(handle, { vmid: 700, running, config: extra });
}

const TABLE: OutcomeRow[] = [
  {
    name: "start on a running VM is a task error 'already running'",
    setup: (h) => vm(h, true),
    path: `${V}/status/start`,
    expect: { task: "VM 700 already running" },
  },
  {
    name: "start on a locked VM is a task error",
    setup: (h) => vm(h, false, { lock: "snapshot" }),
    path: `${V}/status/start`,
    expect: { task: "VM is locked (snapshot)" },
  },
  {
    name: "start on a running VM locked by backup succeeds (resumes)",
    setup: (h) => vm(h, true, { lock: "backup" }),
    path: `${V}/status/start`,
    expect: { task: "OK" },
  },
  {
    name: "start on a hibernated VM resumes it from disk",
    setup: (h) => vm(h, false, { lock: "suspended" }),
    path: `${V}/status/start`,
    expect: { task: "OK" },
    after: (h) => {
      const g = h.sim.state.guests.get(700);
      assert.equal(g?.status, "running");
      assert.equal(g?.config.lock, undefined);
    },
  },
  {
    name: "start on a template is a task error",
    setup: (h) => vm(h, false, { template: 1 }),
    path: `${V}/status/start`,
    expect: { task: "you can't start a vm if it's a template" },
  },
  {
    name: "start of a VM whose config is on another node is a task error",
    setup: (h) => addGuest(h, { vmid: 700, node: "pve2" }),
    path: `${V}/status/start`,
    expect: { task: "Configuration file 'nodes/pve1/qemu-server/700.conf' does not exist" },
  },
  {
    name: "stop on a stopped VM is task OK",
    setup: (h) => vm(h, false),
    path: `${V}/status/stop`,
    expect: { task: "OK" },
  },
  {
    name: "shutdown on a stopped VM is task OK",
    setup: (h) => vm(h, false),
    path: `${V}/status/shutdown`,
    expect: { task: "OK" },
  },
  {
    name: "shutdown on a paused VM is a sync 500",
    setup: (h) => {
      const g = vm(h, true);
      g.qmpstatus = "paused";
    },
    path: `${V}/status/shutdown`,
    expect: { sync: 500, message: "VM is paused - cannot shutdown" },
  },
  {
    name: "shutdown on a paused VM with forceStop stops it",
    setup: (h) => {
      const g = vm(h, true);
      g.qmpstatus = "paused";
    },
    path: `${V}/status/shutdown`,
    params: { forceStop: 1, timeout: 5 },
    expect: { task: "OK" },
    after: (h) => assert.equal(h.sim.state.guests.get(700)?.status, "stopped"),
  },
  {
    name: "stop on a locked running VM is a task error",
    setup: (h) => vm(h, true, { lock: "backup" }),
    path: `${V}/status/stop`,
    expect: { task: "VM is locked (backup)" },
  },
  {
    name: "skiplock from a token (not root@pam itself) is a 400",
    setup: (h) => vm(h, true, { lock: "backup" }),
    path: `${V}/status/stop`,
    params: { skiplock: 1 },
    expect: { sync: 400, message: "Parameter verification failed." },
  },
  {
    name: "shutdown on a locked running VM is a task error",
    setup: (h) => vm(h, true, { lock: "migrate" }),
    path: `${V}/status/shutdown`,
    expect: { task: "VM is locked (migrate)" },
  },
  {
    name: "shutdown with a timeout shorter than the guest needs fails without forceStop",
    setup: (h) => vm(h, true),
    path: `${V}/status/shutdown`,
    params: { timeout: 1 },
    expect: { task: "VM quit/powerdown failed - got timeout" },
    after: (h) => assert.equal(h.sim.state.guests.get(700)?.status, "running"),
  },
  {
    name: "shutdown with a short timeout and forceStop stops the VM",
    setup: (h) => vm(h, true),
    path: `${V}/status/shutdown`,
    params: { timeout: 1, forceStop: 1 },
    expect: { task: "OK" },
    after: (h) => assert.equal(h.sim.state.guests.get(700)?.status, "stopped"),
  },
  {
    name: "reboot on a stopped VM is a sync 500",
    setup: (h) => vm(h, false),
    path: `${V}/status/reboot`,
    expect: { sync: 500, message: "VM 700 not running" },
  },
  {
    name: "reset on a stopped VM is a sync 500",
    setup: (h) => vm(h, false),
    path: `${V}/status/reset`,
    expect: { sync: 500, message: "VM 700 not running" },
  },
  {
    name: "suspend on a stopped VM is a sync 500",
    setup: (h) => vm(h, false),
    path: `${V}/status/suspend`,
    expect: { sync: 500, message: "VM 700 not running" },
  },
  {
    name: "resume on a stopped VM is a sync 500",
    setup: (h) => vm(h, false),
    path: `${V}/status/resume`,
    expect: { sync: 500, message: "VM 700 not running" },
  },
  {
    name: "resume on a running, unpaused VM is a no-op task OK",
    setup: (h) => vm(h, true),
    path: `${V}/status/resume`,
    expect: { task: "OK" },
  },
  {
    name: "delete of a running VM is a sync 500",
    setup: (h) => vm(h, true),
    method: "DELETE",
    path: V,
    expect: { sync: 500, message: "VM 700 is running - destroy failed" },
  },
  {
    name: "delete of a locked VM is a task error",
    setup: (h) => vm(h, false, { lock: "backup" }),
    method: "DELETE",
    path: V,
    expect: { task: "VM is locked (backup)" },
  },
  {
    name: "delete of a protected VM is a sync 500",
    setup: (h) => vm(h, false, { protection: 1 }),
    method: "DELETE",
    path: V,
    expect: { sync: 500, message: "can't remove VM 700 - protection mode enabled" },
  },
  {
    name: "delete of an HA-managed VM without purge is a sync 500",
    setup: (h) => {
      vm(h, false);
      h.sim.state.ha.set("vm:700", {
        sid: "vm:700",
        type: "vm",
        state: "stopped",
        max_restart: 1,
        max_relocate: 1,
      });
    },
    method: "DELETE",
    path: V,
    expect: {
      sync: 500,
      message: "unable to remove VM 700 - used in HA resources and purge parameter not set.",
    },
  },
  {
    name: "config PUT on a locked VM is a sync 500",
    setup: (h) => vm(h, false, { lock: "backup" }),
    method: "PUT",
    path: `${V}/config`,
    params: { cores: 4 },
    expect: { sync: 500, message: "VM is locked (backup)" },
  },
  {
    name: "config POST on a locked VM is a sync 500",
    setup: (h) => vm(h, false, { lock: "snapshot" }),
    method: "POST",
    path: `${V}/config`,
    params: { cores: 4 },
    expect: { sync: 500, message: "VM is locked (snapshot)" },
  },
  {
    name: "config PUT with a stale digest is a sync 500",
    setup: (h) => vm(h, false),
    method: "PUT",
    path: `${V}/config`,
    params: { cores: 4, digest: "0".repeat(40) },
    expect: { sync: 500, message: "checksum mismatch (file change by other user?)" },
  },
  {
    name: "config PUT without options is a sync 500",
    setup: (h) => vm(h, false),
    method: "PUT",
    path: `${V}/config`,
    expect: { sync: 500, message: "no options specified" },
  },
  {
    name: "resize with a stale digest is a task error",
    setup: (h) => vm(h, false),
    method: "PUT",
    path: `${V}/resize`,
    params: { disk: "scsi0", size: "+1G", digest: "0".repeat(40) },
    expect: { task: "checksum mismatch (file change by other user?)" },
  },
  {
    name: "resize to a smaller size is a task error",
    setup: (h) => vm(h, false),
    method: "PUT",
    path: `${V}/resize`,
    params: { disk: "scsi0", size: "8G" },
    expect: { task: "shrinking disks is not supported" },
  },
  {
    name: "resize of a locked VM is a task error",
    setup: (h) => vm(h, false, { lock: "backup" }),
    method: "PUT",
    path: `${V}/resize`,
    params: { disk: "scsi0", size: "+1G" },
    expect: { task: "VM is locked (backup)" },
  },
  {
    name: "resize of a missing disk is a task error",
    setup: (h) => vm(h, false),
    method: "PUT",
    path: `${V}/resize`,
    params: { disk: "scsi5", size: "+1G" },
    expect: { task: "disk 'scsi5' does not exist" },
  },
  {
    name: "snapshot of a locked VM is a task error",
    setup: (h) => vm(h, false, { lock: "backup" }),
    path: `${V}/snapshot`,
    params: { snapname: "s1" },
    expect: { task: "VM is locked (backup)" },
  },
  {
    name: "snapshot with a reserved name is a sync 500",
    setup: (h) => vm(h, false),
    path: `${V}/snapshot`,
    params: { snapname: "current" },
    expect: { sync: 500, message: "unable to use snapshot name 'current' (reserved name)" },
  },
  {
    name: "clone of a locked VM is a sync 500",
    setup: (h) => vm(h, false, { lock: "backup" }),
    path: `${V}/clone`,
    params: { newid: 701 },
    expect: { sync: 500, message: "VM is locked (backup)" },
  },
  {
    name: "clone onto an existing vmid is a sync 500",
    setup: (h) => {
      vm(h, false);
      addGuest(h, { vmid: 701 });
    },
    path: `${V}/clone`,
    params: { newid: 701 },
    expect: { sync: 500, message: "unable to create VM 701: config file already exists" },
  },
  {
    name: "create with an existing vmid is a sync 500 naming the existing guest's type",
    setup: (h) => addGuest(h, { vmid: 700, type: "lxc", node: "pve2" }),
    path: "/nodes/pve1/qemu",
    params: { vmid: 700 },
    expect: {
      sync: 500,
      message: "unable to create VM 700 - CT 700 already exists on node 'pve2'",
    },
  },
  {
    name: "migrate of a running VM without online is a sync 500",
    setup: (h) => vm(h, true),
    path: `${V}/migrate`,
    params: { target: "pve2" },
    expect: { sync: 500, message: "can't migrate running VM without --online" },
  },
  {
    name: "migrate to the local node is a 400 on target",
    setup: (h) => vm(h, false),
    path: `${V}/migrate`,
    params: { target: "pve1" },
    expect: { sync: 400, message: "Parameter verification failed." },
  },
  {
    name: "status of a missing VM is a sync 500 naming the config file",
    setup: () => {},
    method: "GET",
    path: "/nodes/pve1/qemu/799/status/current",
    expect: {
      sync: 500,
      message: "Configuration file 'nodes/pve1/qemu-server/799.conf' does not exist",
    },
  },
];

Deno.test("QEMU operations fail synchronously or in the task exactly as PVE's table says", async () => {
  const handle = await startGuestSimulator();
  try {
    for (const row of TABLE) {
      await checkOutcomeRow(handle, row);
      handle.sim.state.guests.delete(700);
      handle.sim.state.guests.delete(701);
      handle.sim.state.ha.delete("vm:700");
    }
  } finally {
    await handle.close();
  }
});

Deno.test("skiplock lets root@pam stop a locked VM and is refused to others", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, true, { lock: "backup" });
    const refused = await call(handle, "POST", `${V}/status/stop`, { skiplock: 1 });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.errors, { skiplock: "Only root may use this option." });
    const session = await login(handle);
    const r = await api(handle, "POST", `${V}/status/stop`, { session, params: { skiplock: 1 } });
    assert.equal(r.status, 200, r.text);
    const task = await waitTask(handle, r.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.match(r.body.data, /:qmstop:700:root@pam:$/);
    assert.equal(handle.sim.state.guests.get(700)?.status, "stopped");
  } finally {
    await handle.close();
  }
});

Deno.test("start, suspend, resume, reset and stop move a VM through its states", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, false);
    const start = await runTask(handle, "POST", `${V}/status/start`);
    assert.equal(start.exitstatus, "OK");
    assert.match(
      start.upid,
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmstart:700:root@pam!mcp:$/,
    );
    let status = await data(call(handle, "GET", `${V}/status/current`)) as Record<string, unknown>;
    assert.equal(status.status, "running");
    assert.equal(status.qmpstatus, "running");
    assert.equal(typeof status.pid, "number");
    assert.deepEqual(status.ha, { managed: 0 });
    assert.ok((status.mem as number) > 0 && (status.mem as number) <= (status.maxmem as number));

    assert.equal((await runTask(handle, "POST", `${V}/status/suspend`)).exitstatus, "OK");
    status = await data(call(handle, "GET", `${V}/status/current`)) as Record<string, unknown>;
    assert.equal(status.status, "running");
    assert.equal(status.qmpstatus, "paused");

    assert.equal((await runTask(handle, "POST", `${V}/status/resume`)).exitstatus, "OK");
    assert.equal((await runTask(handle, "POST", `${V}/status/reset`)).exitstatus, "OK");
    const reboot = await runTask(handle, "POST", `${V}/status/reboot`);
    assert.equal(reboot.exitstatus, "OK");

    const hibernate = await runTask(handle, "POST", `${V}/status/suspend`, { todisk: 1 });
    assert.match(hibernate.upid, /:qmsuspend:700:/);
    status = await data(call(handle, "GET", `${V}/status/current`)) as Record<string, unknown>;
    assert.equal(status.status, "stopped");
    assert.equal(status.lock, "suspended");
    assert.equal((await runTask(handle, "POST", `${V}/status/resume`)).exitstatus, "OK");
    status = await data(call(handle, "GET", `${V}/status/current`)) as Record<string, unknown>;
    assert.equal(status.status, "running");
    assert.equal(status.lock, undefined);

    assert.equal((await runTask(handle, "POST", `${V}/status/stop`)).exitstatus, "OK");
    status = await data(call(handle, "GET", `${V}/status/current`)) as Record<string, unknown>;
    assert.equal(status.status, "stopped");
    assert.equal(status.qmpstatus, "stopped");
    assert.equal(status.uptime, 0);
  } finally {
    await handle.close();
  }
});

Deno.test("the VM list shows Perl-shaped entries with default names", async () => {
  const handle = await startGuestSimulator();
  try {
    const g = vm(handle, true, { tags: "prod;web" });
    delete g.config.name;
    const list = await data(call(handle, "GET", "/nodes/pve1/qemu")) as Record<string, unknown>[];
    const item = list.find((v) => v.vmid === 700);
    assert.ok(item);
    assert.equal(item.name, "VM 700");
    assert.equal(item.status, "running");
    assert.equal(item.cpus, 2);
    assert.equal(item.maxmem, 2048 * 1024 ** 2);
    assert.equal(item.maxdisk, 32 * 1024 ** 3);
    assert.equal(item.disk, 0);
    assert.equal(item.tags, "prod;web");
    assert.equal(item.qmpstatus, undefined);
    const full = await data(call(handle, "GET", "/nodes/pve1/qemu", { full: 1 })) as Record<
      string,
      unknown
    >[];
    const fullItem = full.find((v) => v.vmid === 700);
    assert.equal(fullItem?.qmpstatus, "running");
    assert.ok(fullItem?.nics);
  } finally {
    await handle.close();
  }
});

Deno.test("config GET shapes values like Perl and the digest round-trips", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, false, { onboot: 1, cpulimit: 1.5 });
    const conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.memory, "2048");
    assert.equal(conf.cores, 2);
    assert.equal(conf.onboot, 1);
    assert.equal(conf.cpulimit, "1.5");
    assert.match(String(conf.digest), /^[0-9a-f]{40}$/);

    const ok = await call(handle, "PUT", `${V}/config`, { cores: 4, digest: String(conf.digest) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.data, null);
    const stale = await call(handle, "PUT", `${V}/config`, {
      cores: 8,
      digest: String(conf.digest),
    });
    assert.equal(stale.status, 500);
    assert.equal(stale.body.message, "checksum mismatch (file change by other user?)\n");
    const after = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(after.cores, 4);
    assert.notEqual(after.digest, conf.digest);

    const both = await call(handle, "GET", `${V}/config`, { current: 1, snapshot: "x" });
    assert.equal(both.status, 400);
  } finally {
    await handle.close();
  }
});

Deno.test("delete turns disks into unused volumes and force destroys them", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, false);
    let r = await call(handle, "PUT", `${V}/config`, { scsi1: "local-lvm:4" });
    assert.equal(r.status, 200, r.text);
    let conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.scsi1, "local-lvm:vm-700-disk-1,size=4G");

    r = await call(handle, "PUT", `${V}/config`, { delete: "scsi1,tags" });
    assert.equal(r.status, 200, r.text);
    conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.scsi1, undefined);
    assert.equal(conf.unused0, "local-lvm:vm-700-disk-1");

    r = await call(handle, "PUT", `${V}/config`, { delete: "unused0" });
    assert.equal(r.status, 200, r.text);
    const vols = handle.sim.state.volumes.get("pve1/local-lvm") ?? [];
    assert.equal(vols.some((v) => v.volid === "local-lvm:vm-700-disk-1"), false);

    r = await call(handle, "PUT", `${V}/config`, { scsi2: "local-lvm:2" });
    r = await call(handle, "PUT", `${V}/config`, { delete: "scsi2", force: 1 });
    assert.equal(r.status, 200, r.text);
    conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.scsi2, undefined);
    assert.equal(conf.unused0, undefined);
  } finally {
    await handle.close();
  }
});

Deno.test("cold changes on a running VM wait in pending until the next start", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, true);
    let r = await call(handle, "PUT", `${V}/config`, { memory: "4096", name: "renamed" });
    assert.equal(r.status, 200, r.text);
    r = await call(handle, "PUT", `${V}/config`, { delete: "ostype" });
    assert.equal(r.status, 200, r.text);
    const pending = await data(call(handle, "GET", `${V}/pending`)) as Record<string, unknown>[];
    assert.deepEqual(pending.find((p) => p.key === "memory"), {
      key: "memory",
      value: "2048",
      pending: "4096",
    });
    assert.deepEqual(pending.find((p) => p.key === "ostype"), {
      key: "ostype",
      value: "l26",
      delete: 1,
    });
    assert.deepEqual(pending.find((p) => p.key === "name"), { key: "name", value: "renamed" });

    const current = await data(call(handle, "GET", `${V}/config`, { current: 1 })) as Record<
      string,
      unknown
    >;
    assert.equal(current.memory, "2048");
    const withPending = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(withPending.memory, "4096");
    assert.equal(withPending.ostype, undefined);

    r = await call(handle, "PUT", `${V}/config`, { revert: "ostype" });
    assert.equal(r.status, 200, r.text);
    assert.equal((await runTask(handle, "POST", `${V}/status/stop`)).exitstatus, "OK");
    assert.equal((await runTask(handle, "POST", `${V}/status/start`)).exitstatus, "OK");
    const applied = await data(call(handle, "GET", `${V}/config`, { current: 1 })) as Record<
      string,
      unknown
    >;
    assert.equal(applied.memory, "4096");
    assert.equal(applied.ostype, "l26");
    const none = await data(call(handle, "GET", `${V}/pending`)) as Record<string, unknown>[];
    assert.equal(none.some((p) => "pending" in p || "delete" in p), false);
  } finally {
    await handle.close();
  }
});

Deno.test("config POST answers a qmconfig UPID, or null within background_delay", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, false);
    const r = await call(handle, "POST", `${V}/config`, { cores: 3 });
    assert.match(String(r.body.data), /:qmconfig:700:/);
    await waitTask(handle, r.body.data);
    const d = await call(handle, "POST", `${V}/config`, { cores: 5, background_delay: 5 });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.data, null);
    const conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.cores, 5);
  } finally {
    await handle.close();
  }
});

Deno.test("create allocates disks, holds lock create and can start the VM", async () => {
  const handle = await startGuestSimulator({ speed: 0.001 });
  try {
    const r = await call(handle, "POST", "/nodes/pve1/qemu", {
      vmid: 710,
      name: "fresh",
      memory: "1024",
      cores: 2,
      scsi0: "local-lvm:8,iothread=1",
      net0: "virtio,bridge=vmbr0",
      start: 1,
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.data, /:qmcreate:710:root@pam!mcp:$/);
    const during = await data(call(handle, "GET", "/nodes/pve1/qemu/710/config")) as Record<
      string,
      unknown
    >;
    assert.equal(during.lock, "create");
    const task = await advanceUntilDone(handle, r.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.ok(task.lines.includes('  Logical volume "vm-710-disk-0" created.'));
    const conf = await data(call(handle, "GET", "/nodes/pve1/qemu/710/config")) as Record<
      string,
      unknown
    >;
    assert.equal(conf.lock, undefined);
    assert.equal(conf.scsi0, "local-lvm:vm-710-disk-0,iothread=1,size=8G");
    assert.match(
      String(conf.net0),
      /^virtio=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},bridge=vmbr0$/,
    );
    assert.match(String(conf.meta), /^creation-qemu=/);
    const st = await data(call(handle, "GET", "/nodes/pve1/qemu/710/status/current")) as Record<
      string,
      unknown
    >;
    assert.equal(st.status, "running");
    const vols = handle.sim.state.volumes.get("pve1/local-lvm") ?? [];
    assert.ok(vols.some((v) => v.volid === "local-lvm:vm-710-disk-0" && v.size === 8 * 1024 ** 3));
  } finally {
    await handle.close();
  }
});

Deno.test("restore from a backup archive recreates the VM, and force overwrites", async () => {
  const handle = await startGuestSimulator();
  try {
    const archive = "local:backup/vzdump-qemu-720-2025_08_05-14_30_00.vma.zst";
    addVolume(handle, "pve1", "local", {
      volid: archive,
      content: "backup",
      format: "vma.zst",
      size: 1_288_490_188,
      ctime: 1_722_868_200,
      vmid: 720,
      subtype: "qemu",
      backupConfig: {
        name: "restored",
        memory: "2048",
        cores: 2,
        scsi0: "local-lvm:vm-720-disk-0,iothread=1,size=16G",
        net0: "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0",
      },
    });
    const first = await runTask(handle, "POST", "/nodes/pve1/qemu", { vmid: 721, archive });
    assert.match(first.upid, /:qmrestore:721:/);
    assert.equal(first.exitstatus, "OK");
    const conf = await data(call(handle, "GET", "/nodes/pve1/qemu/721/config")) as Record<
      string,
      unknown
    >;
    assert.equal(conf.name, "restored");
    assert.equal(conf.scsi0, "local-lvm:vm-721-disk-0,iothread=1,size=16G");
    assert.equal(conf.net0, "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0");

    const again = await call(handle, "POST", "/nodes/pve1/qemu", { vmid: 721, archive });
    assert.equal(again.status, 500);
    // qemu-server words a restore's failure "unable to restore VM …" (its $emsg).
    assert.equal(
      again.body.message,
      "unable to restore VM 721 - VM 721 already exists on node 'pve1'\n",
    );
    const forced = await runTask(handle, "POST", "/nodes/pve1/qemu", {
      vmid: 721,
      archive,
      force: 1,
      unique: 1,
    });
    assert.equal(forced.exitstatus, "OK");
    const conf2 = await data(call(handle, "GET", "/nodes/pve1/qemu/721/config")) as Record<
      string,
      unknown
    >;
    assert.notEqual(conf2.net0, conf.net0);
  } finally {
    await handle.close();
  }
});

Deno.test("clone logs transfer progress, locks the new VM and names it Copy-of-VM", async () => {
  const handle = await startGuestSimulator({ speed: 0.001 });
  try {
    vm(handle, false);
    const r = await call(handle, "POST", `${V}/clone`, { newid: 702, full: 1 });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.data, /:qmclone:700:/);
    const during = await data(call(handle, "GET", "/nodes/pve1/qemu/702/config")) as Record<
      string,
      unknown
    >;
    assert.equal(during.lock, "clone");
    const task = await advanceUntilDone(handle, r.body.data);
    assert.equal(task.exitstatus, "OK");
    const progress = task.lines.filter((l) => l.startsWith("drive-scsi0: transferred "));
    assert.ok(progress.length >= 3, task.lines.join("\n"));
    assert.match(
      progress[0] ?? "",
      /^drive-scsi0: transferred [\d.]+ GiB of 32\.0 GiB \([\d.]+%\) in 1s$/,
    );
    assert.match(progress.at(-1) ?? "", /\(100\.00%\) in \d+s, ready$/);
    const conf = await data(call(handle, "GET", "/nodes/pve1/qemu/702/config")) as Record<
      string,
      unknown
    >;
    assert.equal(conf.lock, undefined);
    assert.equal(conf.name, "Copy-of-VM-vm700");
    assert.equal(conf.scsi0, "local-lvm:vm-702-disk-0,iothread=1,size=32G");
    const src = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.notEqual(conf.net0, src.net0);
  } finally {
    await handle.close();
  }
});

Deno.test("templates clone linked by default; linked clones of plain VMs fail in the task", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, false);
    const tmpl = await runTask(handle, "POST", `${V}/template`);
    assert.match(tmpl.upid, /:qmtemplate:700:/);
    assert.equal(tmpl.exitstatus, "OK");
    let conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.template, 1);
    assert.equal(conf.scsi0, "local-lvm:base-700-disk-0,iothread=1,size=32G");
    const linked = await runTask(handle, "POST", `${V}/clone`, { newid: 703, name: "linked" });
    assert.equal(linked.exitstatus, "OK");
    conf = await data(call(handle, "GET", "/nodes/pve1/qemu/703/config")) as Record<
      string,
      unknown
    >;
    assert.equal(conf.scsi0, "local-lvm:base-700-disk-0/vm-703-disk-0,iothread=1,size=32G");
    const storage = await call(handle, "POST", `${V}/clone`, { newid: 704, storage: "local-lvm" });
    assert.equal(storage.status, 500);
    assert.equal(storage.body.message, "parameter 'storage' not allowed for linked clones\n");

    addGuest(handle, { vmid: 705 });
    const bad = await runTask(handle, "POST", "/nodes/pve1/qemu/705/clone", {
      newid: 706,
      full: 0,
    });
    assert.equal(
      bad.exitstatus,
      "Linked clone feature is not supported for 'local-lvm:vm-705-disk-0' (scsi0)",
    );
    assert.equal(handle.sim.state.guests.has(706), false);
  } finally {
    await handle.close();
  }
});

Deno.test("delete removes the VM, its volumes and its pool membership", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, false);
    handle.sim.state.pools.set("tmp", {
      poolid: "tmp",
      comment: "",
      vms: new Set([700]),
      storage: new Set(),
    });
    handle.sim.state.backupJobs.set("job-700", {
      id: "job-700",
      schedule: "02:00",
      enabled: 1,
      storage: "nas",
      mode: "snapshot",
      compress: "zstd",
      vmid: "100,700",
    });
    handle.sim.state.ha.set("vm:700", {
      sid: "vm:700",
      type: "vm",
      state: "stopped",
      max_restart: 1,
      max_relocate: 1,
    });
    addVolume(handle, "pve1", "local-lvm", {
      volid: "local-lvm:vm-700-disk-7",
      content: "images",
      format: "raw",
      size: 1024 ** 3,
      ctime: 0,
      vmid: 700,
    });
    const del = await runTask(handle, "DELETE", V, {
      purge: 1,
      "destroy-unreferenced-disks": 1,
    });
    assert.match(del.upid, /:qmdestroy:700:/);
    assert.equal(del.exitstatus, "OK");
    assert.ok(del.lines.includes('  Logical volume "vm-700-disk-0" successfully removed.'));
    assert.equal(handle.sim.state.guests.has(700), false);
    assert.equal(handle.sim.state.pools.get("tmp")?.vms.has(700), false);
    const vols = handle.sim.state.volumes.get("pve1/local-lvm") ?? [];
    assert.equal(vols.some((v) => v.vmid === 700), false);
    assert.equal(handle.sim.state.backupJobs.get("job-700")?.vmid, "100");
    assert.equal(handle.sim.state.ha.has("vm:700"), false);
  } finally {
    await handle.close();
  }
});

Deno.test("resize grows by +size or to an absolute size", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, false);
    const grow = await runTask(handle, "PUT", `${V}/resize`, { disk: "scsi0", size: "+2G" });
    assert.match(grow.upid, /:resize:700:/);
    assert.equal(grow.exitstatus, "OK");
    let conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.scsi0, "local-lvm:vm-700-disk-0,iothread=1,size=34G");
    await runTask(handle, "PUT", `${V}/resize`, { disk: "scsi0", size: "40G" });
    conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal(conf.scsi0, "local-lvm:vm-700-disk-0,iothread=1,size=40G");
  } finally {
    await handle.close();
  }
});

Deno.test("migrate checks preconditions and moves the VM with lock migrate", async () => {
  const handle = await startGuestSimulator({ speed: 0.001 });
  try {
    vm(handle, true);
    const pre = await data(call(handle, "GET", `${V}/migrate`)) as Record<string, unknown>;
    assert.equal(pre.running, 1);
    assert.ok(Array.isArray(pre.allowed_nodes));
    assert.deepEqual(
      (pre.local_disks as Record<string, unknown>[])[0]?.volid,
      "local-lvm:vm-700-disk-0",
    );
    const r = await call(handle, "POST", `${V}/migrate`, {
      target: "pve2",
      online: 1,
      "with-local-disks": 1,
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.data, /:qmigrate:700:/);
    await until(async () => {
      const st = await call(handle, "GET", `${V}/status/current`);
      return st.body.data?.lock === "migrate";
    }, "the VM is locked for migration");
    const task = await advanceUntilDone(handle, r.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.match(task.lines.at(-2) ?? "", /migration finished successfully/);
    assert.equal(handle.sim.state.guests.get(700)?.node, "pve2");
    assert.equal(handle.sim.state.guests.get(700)?.status, "running");
    const moved = await call(handle, "GET", `${V}/status/current`);
    assert.equal(moved.status, 500);
    const there = await data(call(handle, "GET", "/nodes/pve2/qemu/700/status/current")) as Record<
      string,
      unknown
    >;
    assert.equal(there.lock, undefined);
    assert.ok((handle.sim.state.volumes.get("pve2/local-lvm") ?? []).some((v) => v.vmid === 700));
  } finally {
    await handle.close();
  }
});

Deno.test("HA-managed VMs get hastart/hastop tasks that set the requested state", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, false);
    handle.sim.state.ha.set("vm:700", {
      sid: "vm:700",
      type: "vm",
      state: "stopped",
      max_restart: 1,
      max_relocate: 1,
    });
    const start = await runTask(handle, "POST", `${V}/status/start`);
    assert.match(start.upid, /:hastart:700:/);
    assert.equal(start.lines[0], "Requesting HA start for VM 700");
    assert.equal(handle.sim.state.ha.get("vm:700")?.state, "started");
    const status = await data(call(handle, "GET", `${V}/status/current`)) as Record<
      string,
      unknown
    >;
    assert.deepEqual(status.ha, { managed: 1, state: "started" });
    const stop = await runTask(handle, "POST", `${V}/status/shutdown`);
    assert.match(stop.upid, /:hastop:700:/);
    assert.equal(handle.sim.state.ha.get("vm:700")?.state, "stopped");
  } finally {
    await handle.close();
  }
});

Deno.test("rrddata returns deterministic points with PVE's resolution", async () => {
  const handle = await startGuestSimulator();
  try {
    vm(handle, true);
    const hour = await data(call(handle, "GET", `${V}/rrddata`, { timeframe: "hour" })) as Record<
      string,
      number
    >[];
    assert.equal(hour.length, 60);
    const p = hour[10];
    assert.ok(p !== undefined);
    for (
      const key of [
        "time",
        "cpu",
        "maxcpu",
        "mem",
        "maxmem",
        "netin",
        "netout",
        "diskread",
        "diskwrite",
      ]
    ) {
      assert.equal(typeof p[key], "number", key);
    }
    assert.equal((hour[1]?.time ?? 0) - (hour[0]?.time ?? 0), 60);
    const again = await data(call(handle, "GET", `${V}/rrddata`, { timeframe: "hour" }));
    assert.deepEqual(again, hour);
    const week = await data(
      call(handle, "GET", `${V}/rrddata`, { timeframe: "week", cf: "MAX" }),
    ) as unknown[];
    assert.equal(week.length, 336);

    // Slots before the VM existed carry only `time`.
    const g = handle.sim.state.guests.get(700);
    assert.ok(g);
    g.config.meta = `creation-qemu=9.2.0,ctime=${handle.sim.clock.now() - 600}`;
    const young = await data(call(handle, "GET", `${V}/rrddata`, { timeframe: "hour" })) as Record<
      string,
      number
    >[];
    assert.deepEqual(Object.keys(young[0] ?? {}), ["time"]);
    assert.ok("cpu" in (young.at(-1) ?? {}));
  } finally {
    await handle.close();
  }
});

Deno.test("config updates refuse unknown, set-and-deleted and reverted-and-deleted keys with PVE's 400s", async () => {
  const rows: {
    kind: "qemu" | "lxc";
    params: Record<string, string | number>;
    errors: Record<string, string>;
  }[] = [
    { kind: "qemu", params: { delete: "foo" }, errors: { delete: "unknown option 'foo'" } },
    { kind: "qemu", params: { delete: "digest" }, errors: { delete: "unknown option 'digest'" } },
    { kind: "qemu", params: { delete: "net32" }, errors: { delete: "unknown option 'net32'" } },
    { kind: "qemu", params: { revert: "foo" }, errors: { revert: "unknown option 'foo'" } },
    {
      kind: "qemu",
      params: { delete: "cores", cores: 2 },
      errors: { delete: "you can't use '-cores' and -delete cores' at the same time" },
    },
    {
      kind: "qemu",
      params: { delete: "cdrom", ide2: "none,media=cdrom" },
      errors: { delete: "you can't use '-ide2' and -delete ide2' at the same time" },
    },
    {
      // qemu-server reports this one under `delete`, not `revert`.
      kind: "qemu",
      params: { revert: "cores", cores: 2 },
      errors: { delete: "you can't use '-cores' and -revert cores' at the same time" },
    },
    {
      kind: "qemu",
      params: { revert: "cores", delete: "cores" },
      errors: { revert: "you can't use '-delete cores' and -revert cores' at the same time" },
    },
    { kind: "lxc", params: { delete: "foo" }, errors: { delete: "unknown option 'foo'" } },
    {
      kind: "lxc",
      params: { delete: "cores", cores: 2 },
      errors: { delete: "you can't use '-cores' and -delete cores' at the same time" },
    },
    {
      kind: "lxc",
      params: { revert: "cores", cores: 2 },
      errors: { revert: "you can't use '-cores' and '-revert cores' at the same time" },
    },
    {
      kind: "lxc",
      params: { revert: "cores", delete: "cores" },
      errors: { delete: "you can't use '-delete cores' and '-revert cores' at the same time" },
    },
  ];
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 700, running: false, config: { cores: 1 } });
    addGuest(handle, { vmid: 750, type: "lxc", running: false, config: { cores: 1 } });
    for (const row of rows) {
      const path = row.kind === "qemu" ? `${V}/config` : "/nodes/pve1/lxc/750/config";
      const r = await call(handle, "PUT", path, row.params);
      const what = `${row.kind} ${JSON.stringify(row.params)}`;
      assert.equal(r.status, 400, `${what}: ${r.text}`);
      assert.deepEqual(r.body.errors, row.errors, what);
    }
    const cdrom = await call(handle, "PUT", `${V}/config`, { ide2: "none,media=cdrom" });
    assert.equal(cdrom.status, 200, cdrom.text);
    const removed = await call(handle, "PUT", `${V}/config`, { delete: "cdrom" });
    assert.equal(removed.status, 200, removed.text);
    const conf = await data(call(handle, "GET", `${V}/config`)) as Record<string, unknown>;
    assert.equal("ide2" in conf, false, "delete=cdrom removes ide2");
  } finally {
    await handle.close();
  }
});
