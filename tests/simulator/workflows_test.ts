import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import {
  addGuest,
  call,
  data,
  runTask,
  startGuestSimulator,
  testAgent,
  waitTask,
} from "./_guest_helpers.ts";

async function control(
  handle: SimulatorHandle,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${handle.url}/_sim${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

/** Polls until `check` holds (the HA manager and agents act after the request). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

Deno.test("GET /nodes/{node}/time answers the node's clock in UTC", async () => {
  const handle = await startGuestSimulator();
  try {
    const time = await data(call(handle, "GET", "/nodes/pve2/time")) as Record<string, unknown>;
    assert.equal(time.timezone, "UTC");
    assert.equal(time.time, time.localtime);
    assert.ok(Math.abs(Number(time.time) - handle.sim.clock.now()) <= 1);
  } finally {
    await handle.close();
  }
});

Deno.test("an HA migration request answers at once and the HA manager migrates the VM with its local disks", async () => {
  const handle = await startGuestSimulator();
  try {
    const answer = await data(
      call(handle, "POST", "/cluster/ha/resources/vm:101/migrate", { node: "pve3" }),
    );
    assert.deepEqual(answer, { sid: "vm:101", "requested-node": "pve3" });
    const status = await data(call(handle, "GET", "/cluster/ha/status/current")) as Record<
      string,
      unknown
    >[];
    const service = status.find((s) => s.sid === "vm:101");
    assert.equal(service?.state, "migrate");
    assert.equal(service?.node, "pve2");

    const tasks = await data(
      call(handle, "GET", "/nodes/pve2/tasks", {
        source: "all",
        vmid: 101,
        typefilter: "qmigrate",
      }),
    ) as Record<string, unknown>[];
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]?.user, "root@pam");
    const done = await waitTask(handle, String(tasks[0]?.upid));
    assert.equal(done.exitstatus, "OK", done.lines.join("\n"));
    assert.ok(
      done.lines.some((l) => l.endsWith("found local disk 'local-lvm:vm-101-disk-0' (attached)")),
    );
    assert.ok(done.lines.some((l) => /migration active, transferred/.test(l)));
    const guest = handle.sim.state.guests.get(101);
    assert.equal(guest?.node, "pve3");
    assert.equal(guest?.status, "running");
    const after = (await data(call(handle, "GET", "/cluster/ha/status/current")) as Record<
      string,
      unknown
    >[]).find((s) => s.sid === "vm:101");
    assert.equal(after?.state, "started");
    assert.equal(after?.node, "pve3");
  } finally {
    await handle.close();
  }
});

Deno.test("the HA API refuses an unmanaged guest and a service in the error state, and relocates a container", async () => {
  const handle = await startGuestSimulator();
  try {
    const unmanaged = await call(handle, "POST", "/cluster/ha/resources/vm:100/migrate", {
      node: "pve2",
    });
    assert.equal(unmanaged.status, 500);
    assert.equal(unmanaged.body.message, "resource 'vm:100' is not HA managed\n");

    await control(handle, "POST", "/ha/vm:101/state", { state: "error" });
    const broken = await call(handle, "POST", "/cluster/ha/resources/101/migrate", {
      node: "pve3",
    });
    assert.equal(broken.status, 500);
    assert.equal(
      broken.body.message,
      "service 'vm:101' in error state, must be disabled and fixed first\n",
    );

    await data(call(handle, "POST", "/cluster/ha/resources", { sid: "ct:201" }));
    await data(call(handle, "POST", "/cluster/ha/resources/ct:201/migrate", { node: "pve1" }));
    const service = (await data(call(handle, "GET", "/cluster/ha/status/current")) as Record<
      string,
      unknown
    >[]).find((s) => s.sid === "ct:201");
    assert.equal(service?.state, "relocate", "HA relocates containers");
    await until(() => handle.sim.state.guests.get(201)?.node === "pve1", "CT 201 on pve1");
    await until(() => handle.sim.state.ha.get("ct:201")?.motion === undefined, "the relocation");
    assert.equal(handle.sim.state.guests.get(201)?.status, "running");
  } finally {
    await handle.close();
  }
});

Deno.test("migrating a VM with an ISO on local storage stops in phase 1 with PVE's message, and the precondition lists the CD-ROM", async () => {
  const handle = await startGuestSimulator();
  try {
    const pre = await data(call(handle, "GET", "/nodes/pve1/qemu/100/migrate")) as Record<
      string,
      unknown
    >;
    const cdrom = (pre.local_disks as Record<string, unknown>[]).find((d) => d.cdrom === 1);
    assert.equal(cdrom?.volid, "local:iso/debian-12.7.0-amd64-netinst.iso");

    const run = await runTask(handle, "POST", "/nodes/pve1/qemu/100/migrate", {
      target: "pve2",
      online: 1,
      "with-local-disks": 1,
    });
    assert.equal(run.exitstatus, "migration aborted");
    assert.ok(
      run.lines.some((l) =>
        l.endsWith(
          "can't migrate local disk 'local:iso/debian-12.7.0-amd64-netinst.iso': local cdrom image",
        )
      ),
      run.lines.join("\n"),
    );
    assert.ok(
      run.lines.some((l) =>
        l.endsWith(
          "ERROR: Problem found while scanning volumes - can't migrate VM - check log",
        )
      ),
    );
    assert.equal(handle.sim.state.guests.get(100)?.node, "pve1");
  } finally {
    await handle.close();
  }
});

Deno.test("local snapshots, a used template base and a linked clone on local storage stop a migration", async () => {
  const handle = await startGuestSimulator();
  try {
    const snapshots = await runTask(handle, "POST", "/nodes/pve1/qemu/102/migrate", {
      target: "pve2",
      online: 1,
      "with-local-disks": 1,
    });
    assert.equal(snapshots.exitstatus, "migration aborted");
    assert.ok(snapshots.lines.some((l) =>
      l.endsWith(
        "can't migrate local disk 'local-lvm:vm-102-disk-0': online storage migration not possible if non-replicated snapshot exists",
      )
    ));

    const clone = await runTask(handle, "POST", "/nodes/pve1/qemu/9000/clone", {
      newid: 901,
      name: "linked",
    });
    assert.equal(clone.exitstatus, "OK");
    const template = await runTask(handle, "POST", "/nodes/pve1/qemu/9000/migrate", {
      target: "pve2",
    });
    assert.equal(template.exitstatus, "migration aborted");
    assert.ok(
      template.lines.some((l) =>
        l.endsWith(
          "can't migrate local disk 'local-lvm:base-9000-disk-0': referenced by linked clone(s)",
        )
      ),
      template.lines.join("\n"),
    );
    const linked = await runTask(handle, "POST", "/nodes/pve1/qemu/901/migrate", {
      target: "pve2",
    });
    assert.equal(linked.exitstatus, "migration aborted");
    assert.ok(
      linked.lines.some((l) =>
        l.endsWith(
          "Problem found while scanning volumes - can't migrate 'local-lvm:base-9000-disk-0/vm-901-disk-0' as it's a clone of 'base-9000-disk-0'",
        )
      ),
      linked.lines.join("\n"),
    );
  } finally {
    await handle.close();
  }
});

Deno.test("a start failure planted through the control API fails the next start task, once", async () => {
  const handle = await startGuestSimulator();
  try {
    const planted = await control(handle, "POST", "/guests/103/start-failure", {});
    assert.equal(planted.status, 200);
    assert.equal(planted.body.message, "start failed: QEMU exited with code 1");
    const failed = await runTask(handle, "POST", "/nodes/pve3/qemu/103/status/start");
    assert.equal(failed.exitstatus, "start failed: QEMU exited with code 1");
    assert.equal(handle.sim.state.guests.get(103)?.status, "stopped");
    const again = await runTask(handle, "POST", "/nodes/pve3/qemu/103/status/start");
    assert.equal(again.exitstatus, "OK");

    await control(handle, "POST", "/guests/204/start-failure", { count: 2 });
    assert.equal(
      (await runTask(handle, "POST", "/nodes/pve3/lxc/204/status/start")).exitstatus,
      "startup for container '204' failed",
    );
    assert.equal((await control(handle, "DELETE", "/guests/204/start-failure")).status, 200);
    assert.equal(
      (await runTask(handle, "POST", "/nodes/pve3/lxc/204/status/start")).exitstatus,
      "OK",
    );

    const bad = await control(handle, "POST", "/guests/204/start-failure", { count: 0 });
    assert.equal(bad.status, 400);
    assert.equal((await control(handle, "POST", "/guests/999/start-failure", {})).status, 404);
  } finally {
    await handle.close();
  }
});

Deno.test("the agent answers only after the VM has booted, and a cloud image's agent reports its cloud-init address", async () => {
  const handle = await startGuestSimulator({ speed: 5 });
  try {
    addGuest(handle, { vmid: 780, config: { agent: "1" }, agent: testAgent("vm780") });
    const start = await call(handle, "POST", "/nodes/pve1/qemu/780/status/start");
    await until(() => handle.sim.state.guests.get(780)?.status === "running", "VM 780 running");
    const early = await call(handle, "GET", "/nodes/pve1/qemu/780/agent/get-host-name");
    assert.equal(early.status, 500);
    assert.equal(early.body.message, "QEMU guest agent is not running\n");
    handle.sim.clock.advance(20);
    const later = await data(call(handle, "GET", "/nodes/pve1/qemu/780/agent/get-host-name"));
    assert.deepEqual(later, { result: { "host-name": "vm780" } });
    await waitTask(handle, String(start.body.data));

    addGuest(handle, {
      vmid: 781,
      config: {
        agent: "1",
        ide2: "local-lvm:vm-781-cloudinit,media=cdrom",
        ipconfig0: "ip=10.0.0.81/24,gw=10.0.0.1",
      },
    });
    await call(handle, "POST", "/nodes/pve1/qemu/781/status/start");
    await until(() => handle.sim.state.guests.get(781)?.status === "running", "VM 781 running");
    handle.sim.clock.advance(20);
    const ifaces = await data(
      call(handle, "GET", "/nodes/pve1/qemu/781/agent/network-get-interfaces"),
    ) as { result: Record<string, unknown>[] };
    const eth0 = ifaces.result.find((i) => i.name === "eth0");
    const addresses = (eth0?.["ip-addresses"] as Record<string, unknown>[]).map((a) =>
      a["ip-address"]
    );
    assert.ok(addresses.includes("10.0.0.81"), JSON.stringify(addresses));
    assert.equal(eth0?.["hardware-address"], "bc:24:11:00:0d:01");
  } finally {
    await handle.close();
  }
});

Deno.test("growing a thick LVM volume needs free extents, and a thin volume may outgrow its pool with LVM's warning", async () => {
  const handle = await startGuestSimulator();
  try {
    const state = handle.sim.state;
    state.storages.set("san", {
      storage: "san",
      type: "lvm",
      vgname: "san",
      content: ["images", "rootdir"],
      shared: true,
      total: 40 * 1024 ** 3,
    });
    const clone = await runTask(handle, "POST", "/nodes/pve1/qemu/9000/clone", {
      newid: 902,
      name: "thick",
      full: 1,
      storage: "san",
    });
    assert.equal(clone.exitstatus, "OK", clone.lines.join("\n"));
    const full = await runTask(handle, "PUT", "/nodes/pve1/qemu/902/resize", {
      disk: "scsi0",
      size: "+40G",
    });
    assert.match(
      full.exitstatus,
      /^error resizing volume '\/dev\/san\/vm-902-disk-0': Insufficient free space: 10240 extents needed, but only \d+ available$/,
    );
    const ok = await runTask(handle, "PUT", "/nodes/pve1/qemu/902/resize", {
      disk: "scsi0",
      size: "+10G",
    });
    assert.equal(ok.exitstatus, "OK");

    const lvm = state.storages.get("local-lvm");
    if (lvm !== undefined) lvm.total = 100 * 1024 ** 3;
    const thin = await runTask(handle, "PUT", "/nodes/pve1/qemu/100/resize", {
      disk: "scsi0",
      size: "+500G",
    });
    assert.equal(thin.exitstatus, "OK");
    assert.ok(
      thin.lines.some((l) =>
        /WARNING: Sum of all thin volume sizes .* exceeds the size of thin pool pve\/data/.test(l)
      ),
    );
  } finally {
    await handle.close();
  }
});
