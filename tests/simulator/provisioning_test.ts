import assert from "node:assert/strict";
import { addGuest, addVolume, call, data, runTask, startGuestSimulator } from "./_guest_helpers.ts";
import { api } from "./_helpers.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyForTests alice@example";

Deno.test("create allocates a cloud-init drive, regenerates it on start and dumps its data", async () => {
  const handle = await startGuestSimulator();
  try {
    const created = await runTask(handle, "POST", "/nodes/pve1/qemu", {
      vmid: 760,
      name: "ci-vm",
      memory: "2048",
      scsi0: "local-lvm:8",
      ide2: "local-lvm:cloudinit",
      net0: "virtio,bridge=vmbr0",
      ciuser: "alice",
      cipassword: "s3cret-pw",
      sshkeys: encodeURIComponent(KEY),
      ipconfig0: "ip=192.168.1.60/24,gw=192.168.1.1",
      nameserver: "1.1.1.1",
      start: 1,
    });
    assert.equal(created.exitstatus, "OK", created.lines.join("\n"));
    assert.ok(
      created.lines.includes(
        "ide2: successfully created disk 'local-lvm:vm-760-cloudinit,media=cdrom'",
      ),
      created.lines.join("\n"),
    );
    assert.ok(created.lines.includes("generating cloud-init ISO"));
    const conf = await data(call(handle, "GET", "/nodes/pve1/qemu/760/config")) as Record<
      string,
      unknown
    >;
    assert.equal(conf.ide2, "local-lvm:vm-760-cloudinit,media=cdrom");
    assert.equal(conf.cipassword, "**********");
    const vols = handle.sim.state.volumes.get("pve1/local-lvm") ?? [];
    assert.equal(vols.find((v) => v.volid === "local-lvm:vm-760-cloudinit")?.size, 4 * 1024 ** 2);

    const ci = await data(call(handle, "GET", "/nodes/pve1/qemu/760/cloudinit")) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(ci.find((e) => e.key === "ciuser"), { key: "ciuser", value: "alice" });
    assert.deepEqual(ci.find((e) => e.key === "cipassword"), {
      key: "cipassword",
      value: "**********",
    });

    const user = await data(
      call(handle, "GET", "/nodes/pve1/qemu/760/cloudinit/dump", { type: "user" }),
    );
    assert.match(String(user), /^#cloud-config\nhostname: ci-vm\n/);
    assert.match(String(user), /\nuser: alice\n/);
    assert.match(String(user), new RegExp(`ssh_authorized_keys:\\n  - ${KEY}\\n`));
    const network = await data(
      call(handle, "GET", "/nodes/pve1/qemu/760/cloudinit/dump", { type: "network" }),
    );
    assert.match(String(network), /- type: static\n {8}address: '192\.168\.1\.60'\n/);
    assert.match(String(network), /netmask: '255\.255\.255\.0'\n {8}gateway: '192\.168\.1\.1'/);
    assert.match(String(network), /address:\n {4} {2}- '1\.1\.1\.1'/);
    const meta = await data(
      call(handle, "GET", "/nodes/pve1/qemu/760/cloudinit/dump", { type: "meta" }),
    );
    assert.match(String(meta), /^instance-id: [0-9a-f]{40}\n$/);
  } finally {
    await handle.close();
  }
});

Deno.test("cloud-init changes on a running VM wait for regeneration, and cipassword is stored hashed", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, {
      vmid: 761,
      running: true,
      config: { ide2: "local-lvm:vm-761-cloudinit,media=cdrom", ciuser: "alice" },
    });
    const put = await call(handle, "PUT", "/nodes/pve1/qemu/761/config", {
      ciuser: "bob",
      cipassword: "n3w-password",
    });
    assert.equal(put.status, 200, put.text);
    const ci = await data(call(handle, "GET", "/nodes/pve1/qemu/761/cloudinit")) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(ci.find((e) => e.key === "ciuser"), {
      key: "ciuser",
      value: "alice",
      pending: "bob",
    });
    assert.deepEqual(ci.find((e) => e.key === "cipassword"), {
      key: "cipassword",
      pending: "**********",
    });
    assert.match(String(handle.sim.state.guests.get(761)?.config.cipassword), /^\$6\$/);
    const regen = await call(handle, "PUT", "/nodes/pve1/qemu/761/cloudinit");
    assert.equal(regen.status, 200, regen.text);
    const after = await data(call(handle, "GET", "/nodes/pve1/qemu/761/cloudinit")) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(after.find((e) => e.key === "ciuser"), { key: "ciuser", value: "bob" });

    const second = await call(handle, "PUT", "/nodes/pve1/qemu/761/config", {
      ide0: "local-lvm:cloudinit",
    });
    assert.equal(second.status, 500);
    assert.equal(
      second.body.message,
      "ide0 - cloud-init drive is already attached at 'ide2'\n",
    );
  } finally {
    await handle.close();
  }
});

Deno.test("a new disk needs a storage with images content and room on it", async () => {
  const handle = await startGuestSimulator();
  try {
    const wrong = await call(handle, "POST", "/nodes/pve1/qemu", { vmid: 762, scsi0: "local:8" });
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.body.errors, { storage: "storage 'local' does not support vm images" });
    assert.equal(handle.sim.state.guests.has(762), false);

    const lvm = handle.sim.state.storages.get("local-lvm");
    assert.ok(lvm !== undefined);
    addVolume(handle, "pve1", "local-lvm", {
      volid: "local-lvm:vm-999-disk-0",
      content: "images",
      format: "raw",
      size: lvm.total,
      ctime: 0,
      vmid: 999,
    });
    const full = await runTask(handle, "POST", "/nodes/pve1/qemu", {
      vmid: 762,
      scsi0: "local-lvm:8",
    });
    assert.equal(
      full.exitstatus,
      "unable to create VM 762 - lvcreate 'pve/vm-762-disk-0' error:   Cannot create new thin volume, free space in thin pool pve/data reached threshold.",
    );
    assert.equal(handle.sim.state.guests.has(762), false);

    const ct = await call(handle, "POST", "/nodes/pve1/lxc", {
      vmid: 763,
      ostemplate: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
      rootfs: "local:8",
    });
    assert.equal(ct.status, 400);
    assert.deepEqual(ct.body.errors, {
      storage: "storage 'local' does not support container directories",
    });
  } finally {
    await handle.close();
  }
});

Deno.test("a privileged container has no unprivileged key; an unprivileged one has 1", async () => {
  const handle = await startGuestSimulator();
  try {
    const tmpl = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
    for (const [vmid, unprivileged] of [[764, 0], [765, 1]] as const) {
      const task = await runTask(handle, "POST", "/nodes/pve1/lxc", {
        vmid,
        ostemplate: tmpl,
        rootfs: "local-lvm:4",
        unprivileged,
      });
      assert.equal(task.exitstatus, "OK", task.lines.join("\n"));
    }
    assert.equal(handle.sim.state.guests.get(764)?.config.unprivileged, undefined);
    assert.equal(handle.sim.state.guests.get(765)?.config.unprivileged, 1);
  } finally {
    await handle.close();
  }
});

Deno.test("a clone gets its own cloud-init drive, even when linked", async () => {
  const handle = await startGuestSimulator();
  try {
    const tmpl = handle.sim.state.guests.get(9000);
    assert.ok(tmpl !== undefined);
    tmpl.config.ide2 = "local-lvm:vm-9000-cloudinit,media=cdrom";
    addVolume(handle, "pve1", "local-lvm", {
      volid: "local-lvm:vm-9000-cloudinit",
      content: "images",
      format: "raw",
      size: 4 * 1024 ** 2,
      ctime: 0,
      vmid: 9000,
    });
    const clone = await runTask(handle, "POST", "/nodes/pve1/qemu/9000/clone", {
      newid: 766,
      name: "from-tmpl",
    });
    assert.equal(clone.exitstatus, "OK", clone.lines.join("\n"));
    assert.equal(clone.lines[0], "creating a clone of VM 9000 with ID 766");
    assert.ok(
      clone.lines.includes("create full clone of drive ide2 (local-lvm:vm-9000-cloudinit)"),
    );
    const conf = handle.sim.state.guests.get(766)?.config;
    assert.equal(conf?.ide2, "local-lvm:vm-766-cloudinit,media=cdrom");
    assert.match(String(conf?.scsi0), /^local-lvm:base-9000-disk-0\/vm-766-disk-0,/);
  } finally {
    await handle.close();
  }
});

Deno.test("delete refuses a replicated guest without purge and purges its replication job with it", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 767 });
    handle.sim.state.replication.set("767-0", {
      id: "767-0",
      type: "local",
      guest: 767,
      jobnum: 0,
      target: "pve2",
      schedule: "*/15",
    });
    const jobs = await data(call(handle, "GET", "/cluster/replication")) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(jobs, [{
      id: "767-0",
      type: "local",
      guest: 767,
      jobnum: 0,
      target: "pve2",
      schedule: "*/15",
    }]);
    const refused = await call(handle, "DELETE", "/nodes/pve1/qemu/767");
    assert.equal(refused.status, 500);
    assert.equal(
      refused.body.message,
      "There is a replication job '767-0' for guest '767' - Please remove that first.\n",
    );
    const purged = await runTask(handle, "DELETE", "/nodes/pve1/qemu/767", { purge: 1 });
    assert.equal(purged.exitstatus, "OK");
    assert.ok(purged.lines.includes("purging VM 767 from related configurations.."));
    assert.equal(handle.sim.state.replication.size, 0);
  } finally {
    await handle.close();
  }
});

Deno.test("migrate checks the target's storages, local disks of a running VM and its bridges", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 768, running: true });
    const noDisks = await runTask(handle, "POST", "/nodes/pve1/qemu/768/migrate", {
      target: "pve2",
      online: 1,
    });
    assert.equal(noDisks.exitstatus, "migration aborted");
    assert.ok(
      noDisks.lines.some((l) =>
        l.endsWith(
          "can't migrate local disk 'local-lvm:vm-768-disk-0': can't live migrate attached local disks without with-local-disks option",
        )
      ),
      noDisks.lines.join("\n"),
    );
    assert.equal(handle.sim.state.guests.get(768)?.node, "pve1");

    handle.sim.state.nodes.get("pve3")?.network.splice(0);
    const noBridge = await runTask(handle, "POST", "/nodes/pve1/qemu/768/migrate", {
      target: "pve3",
      online: 1,
      "with-local-disks": 1,
    });
    assert.equal(noBridge.exitstatus, "migration problems");
    assert.ok(noBridge.lines.some((l) => l.endsWith("[pve3] bridge 'vmbr0' does not exist")));
    assert.equal(handle.sim.state.guests.get(768)?.node, "pve1");
    assert.equal(handle.sim.state.guests.get(768)?.config.lock, undefined);

    const lvm = handle.sim.state.storages.get("local-lvm");
    assert.ok(lvm !== undefined);
    lvm.nodes = ["pve1", "pve3"];
    const noStorage = await call(handle, "POST", "/nodes/pve1/qemu/768/migrate", {
      target: "pve2",
      online: 1,
      "with-local-disks": 1,
    });
    assert.equal(noStorage.status, 500);
    assert.equal(noStorage.body.message, "storage 'local-lvm' is not available on node 'pve2'\n");

    handle.sim.state.guests.get(768)!.config.hostpci0 = "0000:01:00.0";
    const pre = await data(call(handle, "GET", "/nodes/pve1/qemu/768/migrate")) as Record<
      string,
      unknown
    >;
    assert.deepEqual(pre.local_resources, ["hostpci0"]);
  } finally {
    await handle.close();
  }
});

Deno.test("a VM whose bridge the node lacks fails to start", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 769, config: { net0: "virtio=BC:24:11:00:01:69,bridge=vmbr7" } });
    const start = await runTask(handle, "POST", "/nodes/pve1/qemu/769/status/start");
    assert.equal(start.exitstatus, "bridge 'vmbr7' does not exist");
    assert.equal(handle.sim.state.guests.get(769)?.status, "stopped");
  } finally {
    await handle.close();
  }
});

Deno.test("the cloud-init dump masks the password for callers without VM.Config.Cloudinit", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, {
      vmid: 770,
      config: { ide2: "local-lvm:vm-770-cloudinit,media=cdrom", cipassword: "plain-on-create" },
    });
    const auditor = await api(handle, "GET", "/nodes/pve1/qemu/770/cloudinit/dump", {
      token: "auditor@pve!ro=a1b2c3d4-0000-4000-8000-000000000001",
      params: { type: "user" },
    });
    assert.equal(auditor.status, 200, auditor.text);
    assert.match(String(auditor.body.data), /\npassword: \*{10}\n/);
  } finally {
    await handle.close();
  }
});
