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
  waitTask,
} from "./_guest_helpers.ts";

const C = "/nodes/pve1/lxc/750";

function ct(
  handle: SimulatorHandle,
  running: boolean,
  extra: Record<string, string | number> = {},
) {
  return addGuest(handle, { vmid: 750, type: "lxc", running, config: extra });
}

const TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

const TABLE: OutcomeRow[] = [
  {
    name: "start on a running CT is a sync 500 (unlike QEMU)",
    setup: (h) => ct(h, true),
    path: `${C}/status/start`,
    expect: { sync: 500, message: "CT 750 already running" },
  },
  {
    name: "stop on a stopped CT is a sync 500 (unlike QEMU)",
    setup: (h) => ct(h, false),
    path: `${C}/status/stop`,
    expect: { sync: 500, message: "CT 750 not running" },
  },
  {
    name: "shutdown on a stopped CT is a sync 500",
    setup: (h) => ct(h, false),
    path: `${C}/status/shutdown`,
    expect: { sync: 500, message: "CT 750 not running" },
  },
  {
    name: "suspend on a stopped CT is a sync 500",
    setup: (h) => ct(h, false),
    path: `${C}/status/suspend`,
    expect: { sync: 500, message: "CT 750 not running" },
  },
  {
    name: "resume on a running CT is a sync 500 'already running'",
    setup: (h) => ct(h, true),
    path: `${C}/status/resume`,
    expect: { sync: 500, message: "CT 750 already running" },
  },
  {
    name: "reboot on a stopped CT says VM (sic)",
    setup: (h) => ct(h, false),
    path: `${C}/status/reboot`,
    expect: { sync: 500, message: "VM 750 not running" },
  },
  {
    name: "start on a locked CT is a task error naming CT",
    setup: (h) => ct(h, false, { lock: "backup" }),
    path: `${C}/status/start`,
    expect: { task: "CT is locked (backup)" },
  },
  {
    name: "start on a CT locked 'mounted' is allowed",
    setup: (h) => ct(h, false, { lock: "mounted" }),
    path: `${C}/status/start`,
    expect: { task: "OK" },
  },
  {
    name: "start on a template CT is a task error",
    setup: (h) => ct(h, false, { template: 1 }),
    path: `${C}/status/start`,
    expect: { task: "you can't start a CT if it's a template" },
  },
  {
    name: "stop on a locked running CT is a task error",
    setup: (h) => ct(h, true, { lock: "snapshot" }),
    path: `${C}/status/stop`,
    expect: { task: "CT is locked (snapshot)" },
  },
  {
    name: "shutdown on a locked running CT is a task error",
    setup: (h) => ct(h, true, { lock: "backup" }),
    path: `${C}/status/shutdown`,
    expect: { task: "CT is locked (backup)" },
  },
  {
    name: "shutdown with a too short timeout fails without forceStop",
    setup: (h) => ct(h, true),
    path: `${C}/status/shutdown`,
    params: { timeout: 1 },
    expect: { task: "container did not stop" },
  },
  {
    name: "shutdown with a too short timeout and forceStop stops the CT",
    setup: (h) => ct(h, true),
    path: `${C}/status/shutdown`,
    params: { timeout: 1, forceStop: 1 },
    expect: { task: "OK" },
    after: (h) => assert.equal(h.sim.state.guests.get(750)?.status, "stopped"),
  },
  {
    name: "config PUT on a locked CT is a sync 500",
    setup: (h) => ct(h, false, { lock: "snapshot" }),
    method: "PUT",
    path: `${C}/config`,
    params: { cores: 2 },
    expect: { sync: 500, message: "CT is locked (snapshot)" },
  },
  {
    name: "config PUT with a stale digest is a sync 500 in assert_if_modified's words",
    setup: (h) => ct(h, false),
    method: "PUT",
    path: `${C}/config`,
    params: { cores: 2, digest: "0".repeat(40) },
    expect: {
      sync: 500,
      message: "detected modified configuration - file changed by other user? Try again.",
    },
  },
  {
    name: "resize of a locked CT is a sync 500 (checked before forking, unlike QEMU)",
    setup: (h) => ct(h, false, { lock: "backup" }),
    method: "PUT",
    path: `${C}/resize`,
    params: { disk: "rootfs", size: "+1G" },
    expect: { sync: 500, message: "CT is locked (backup)" },
  },
  {
    name: "resize with a stale digest is a sync 500 in assert_if_modified's words",
    setup: (h) => ct(h, false),
    method: "PUT",
    path: `${C}/resize`,
    params: { disk: "rootfs", size: "+1G", digest: "0".repeat(40) },
    expect: {
      sync: 500,
      message: "detected modified configuration - file changed by other user? Try again.",
    },
  },
  {
    name: "resize to a smaller size is a sync 500",
    setup: (h) => ct(h, false),
    method: "PUT",
    path: `${C}/resize`,
    params: { disk: "rootfs", size: "1G" },
    expect: { sync: 500, message: "unable to shrink disk size" },
  },
  {
    name: "resize by nothing is a sync 500",
    setup: (h) => ct(h, false),
    method: "PUT",
    path: `${C}/resize`,
    params: { disk: "rootfs", size: "+0" },
    expect: { sync: 500, message: "disk is already at specified size" },
  },
  {
    name: "delete of a running CT is a sync 500",
    setup: (h) => ct(h, true),
    method: "DELETE",
    path: C,
    expect: { sync: 500, message: "unable to destroy CT 750 - container is running" },
  },
  {
    name: "delete of a running CT with force stops and destroys it",
    setup: (h) => ct(h, true),
    method: "DELETE",
    path: C,
    params: { force: 1 },
    expect: { task: "OK" },
    after: (h) => assert.equal(h.sim.state.guests.has(750), false),
  },
  {
    name: "delete of a protected CT is a sync 500",
    setup: (h) => ct(h, false, { protection: 1 }),
    method: "DELETE",
    path: C,
    expect: { sync: 500, message: "can't remove CT 750 - protection mode enabled" },
  },
  {
    name: "create with an existing vmid names the existing VM",
    setup: (h) => addGuest(h, { vmid: 750 }),
    path: "/nodes/pve1/lxc",
    params: { vmid: 750, ostemplate: TEMPLATE },
    expect: {
      sync: 500,
      message: "unable to create CT 750 - VM 750 already exists on node 'pve1'",
    },
  },
  {
    name: "migrate of a running CT without restart is a sync 500",
    setup: (h) => ct(h, true),
    path: `${C}/migrate`,
    params: { target: "pve2" },
    expect: {
      sync: 500,
      message: "can't migrate running container without --online or --restart",
    },
  },
  {
    name: "template of a running CT is a sync 500",
    setup: (h) => ct(h, true),
    path: `${C}/template`,
    expect: { sync: 500, message: "you can't convert a CT to template if the CT is running" },
  },
];

Deno.test("LXC operations fail before or after forking where pve-container does", async () => {
  const handle = await startGuestSimulator();
  try {
    for (const row of TABLE) {
      await checkOutcomeRow(handle, row);
      handle.sim.state.guests.delete(750);
    }
  } finally {
    await handle.close();
  }
});

Deno.test("containers list with type lxc, CT<id> names and integer memory", async () => {
  const handle = await startGuestSimulator();
  try {
    const g = ct(handle, true, { tags: "dns" });
    delete g.config.hostname;
    const list = await data(call(handle, "GET", "/nodes/pve1/lxc")) as Record<string, unknown>[];
    const item = list.find((c) => c.vmid === 750);
    assert.ok(item);
    assert.equal(item.type, "lxc");
    assert.equal(item.name, "CT750");
    assert.equal(item.status, "running");
    assert.equal(item.maxmem, 512 * 1024 ** 2);
    assert.equal(item.maxswap, 512 * 1024 ** 2);
    assert.equal(item.maxdisk, 8 * 1024 ** 3);
    assert.ok((item.disk as number) > 0);
    const status = await data(call(handle, "GET", `${C}/status/current`)) as Record<
      string,
      unknown
    >;
    assert.deepEqual(status.ha, { managed: 0 });
    const conf = await data(call(handle, "GET", `${C}/config`)) as Record<string, unknown>;
    assert.equal(conf.memory, 512);
    assert.equal(conf.unprivileged, 1);
    assert.equal(conf.rootfs, "local-lvm:vm-750-disk-0,size=8G");
    assert.match(String(conf.digest), /^[0-9a-f]{40}$/);
  } finally {
    await handle.close();
  }
});

Deno.test("power operations move a CT through its states", async () => {
  const handle = await startGuestSimulator();
  try {
    ct(handle, false);
    const start = await runTask(handle, "POST", `${C}/status/start`);
    assert.match(start.upid, /:vzstart:750:/);
    assert.equal(handle.sim.state.guests.get(750)?.status, "running");
    const reboot = await runTask(handle, "POST", `${C}/status/reboot`);
    assert.match(reboot.upid, /:vzreboot:750:/);
    assert.equal(reboot.exitstatus, "OK");
    const suspend = await runTask(handle, "POST", `${C}/status/suspend`);
    assert.match(suspend.upid, /:vzsuspend:750:/);
    const resume = await runTask(handle, "POST", `${C}/status/resume`);
    assert.equal(resume.exitstatus, "OK");
    assert.equal(handle.sim.state.guests.get(750)?.status, "running");
    const shutdown = await runTask(handle, "POST", `${C}/status/shutdown`);
    assert.match(shutdown.upid, /:vzshutdown:750:/);
    assert.equal(handle.sim.state.guests.get(750)?.status, "stopped");
  } finally {
    await handle.close();
  }
});

Deno.test("create from a template sets defaults, a MAC and lock create during the task", async () => {
  const handle = await startGuestSimulator({ speed: 0.001 });
  try {
    const r = await call(handle, "POST", "/nodes/pve1/lxc", {
      vmid: 760,
      ostemplate: TEMPLATE,
      hostname: "dns1",
      rootfs: "local-lvm:8",
      net0: "name=eth0,bridge=vmbr0,ip=dhcp",
      password: "secret-pass",
      start: 1,
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.data, /:vzcreate:760:/);
    const during = await data(call(handle, "GET", "/nodes/pve1/lxc/760/config")) as Record<
      string,
      unknown
    >;
    assert.equal(during.lock, "create");
    const task = await advanceUntilDone(handle, r.body.data);
    assert.equal(task.exitstatus, "OK");
    assert.ok(
      task.lines.some((l) => l.startsWith("extracting archive '/var/lib/vz/template/cache/")),
    );
    const conf = await data(call(handle, "GET", "/nodes/pve1/lxc/760/config")) as Record<
      string,
      unknown
    >;
    assert.equal(conf.hostname, "dns1");
    assert.equal(conf.memory, 512);
    assert.equal(conf.swap, 512);
    assert.equal(conf.unprivileged, 1);
    assert.equal(conf.ostype, "debian");
    assert.equal(conf.arch, "amd64");
    assert.equal(conf.rootfs, "local-lvm:vm-760-disk-0,size=8G");
    assert.match(
      String(conf.net0),
      /^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F:]{8},ip=dhcp,type=veth$/,
    );
    assert.equal(conf.password, undefined);
    assert.equal(conf.lock, undefined);
    assert.equal(handle.sim.state.guests.get(760)?.status, "running");
  } finally {
    await handle.close();
  }
});

Deno.test("restore from a CT backup with restore=1 recreates the container", async () => {
  const handle = await startGuestSimulator();
  try {
    const archive = "local:backup/vzdump-lxc-770-2025_08_05-14_31_10.tar.zst";
    addVolume(handle, "pve1", "local", {
      volid: archive,
      content: "backup",
      format: "tar.zst",
      size: 200_000_000,
      ctime: 1_722_868_270,
      vmid: 770,
      subtype: "lxc",
      backupConfig: {
        hostname: "restored-ct",
        memory: 1024,
        swap: 256,
        rootfs: "local-lvm:vm-770-disk-0,size=4G",
        net0: "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:12:34:56,ip=dhcp,type=veth",
        unprivileged: 1,
        ostype: "debian",
        arch: "amd64",
      },
    });
    const r = await runTask(handle, "POST", "/nodes/pve1/lxc", {
      vmid: 771,
      ostemplate: archive,
      restore: 1,
    });
    assert.match(r.upid, /:vzrestore:771:/);
    assert.equal(r.exitstatus, "OK");
    const conf = await data(call(handle, "GET", "/nodes/pve1/lxc/771/config")) as Record<
      string,
      unknown
    >;
    assert.equal(conf.hostname, "restored-ct");
    assert.equal(conf.memory, 1024);
    assert.equal(conf.rootfs, "local-lvm:vm-771-disk-0,size=4G");
  } finally {
    await handle.close();
  }
});

Deno.test("clone of a CT uses hostname and a vzclone task; migrate with restart moves it", async () => {
  const handle = await startGuestSimulator();
  try {
    ct(handle, false);
    const clone = await runTask(handle, "POST", `${C}/clone`, { newid: 751, hostname: "copy" });
    assert.match(clone.upid, /:vzclone:750:/);
    assert.equal(clone.exitstatus, "OK");
    assert.ok(clone.lines.some((l) => /^rootfs: transferred .* \(100\.00%\)/.test(l)));
    const conf = await data(call(handle, "GET", "/nodes/pve1/lxc/751/config")) as Record<
      string,
      unknown
    >;
    assert.equal(conf.hostname, "copy");
    assert.equal(conf.rootfs, "local-lvm:vm-751-disk-0,size=8G");

    ct(handle, true);
    const migrate = await runTask(handle, "POST", `${C}/migrate`, { target: "pve3", restart: 1 });
    assert.match(migrate.upid, /:vzmigrate:750:/);
    assert.equal(migrate.exitstatus, "OK");
    assert.equal(handle.sim.state.guests.get(750)?.node, "pve3");
    assert.equal(handle.sim.state.guests.get(750)?.status, "running");

    const resize = await runTask(handle, "PUT", "/nodes/pve3/lxc/750/resize", {
      disk: "rootfs",
      size: "+2G",
    });
    assert.equal(resize.exitstatus, "OK");
    const after = await data(call(handle, "GET", "/nodes/pve3/lxc/750/config")) as Record<
      string,
      unknown
    >;
    assert.equal(after.rootfs, "local-lvm:vm-750-disk-0,size=10G");
  } finally {
    await handle.close();
  }
});

Deno.test("LXC template forks vztemplate but answers null", async () => {
  const handle = await startGuestSimulator();
  try {
    ct(handle, false);
    const r = await call(handle, "POST", `${C}/template`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data, null);
    const task = handle.sim.state.tasks.find((t) => t.type === "vztemplate" && t.id === "750");
    assert.ok(task);
    await waitTask(handle, task.upid);
    const conf = await data(call(handle, "GET", `${C}/config`)) as Record<string, unknown>;
    assert.equal(conf.template, 1);
    assert.equal(conf.rootfs, "local-lvm:base-750-disk-0,size=8G");
  } finally {
    await handle.close();
  }
});
