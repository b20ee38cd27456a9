import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { addGuest, startGuestSimulator, waitTask } from "./_guest_helpers.ts";
import { api, login, type Session } from "./_helpers.ts";

/** A user with PVEVMAdmin on the two test guests (so `VM.Config.Disk`) and no storage rights. */
async function vmAdmin(handle: SimulatorHandle): Promise<Session> {
  const state = handle.sim.state;
  state.users.set("disks@pve", {
    userid: "disks@pve",
    password: "disks-pass",
    enable: 1,
    expire: 0,
    groups: [],
    tokens: new Map(),
  });
  for (const vmid of [700, 750]) {
    state.acls.push({
      path: `/vms/${vmid}`,
      ugid: "disks@pve",
      type: "user",
      roleid: "PVEVMAdmin",
      propagate: 1,
    });
  }
  return await login(handle, "disks@pve", "disks-pass");
}

Deno.test("resize needs Datastore.AllocateSpace on the disk's storage: a VM's task fails, a CT's request is refused", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 700 });
    addGuest(handle, { vmid: 750, type: "lxc" });
    const session = await vmAdmin(handle);
    const denied = "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)";

    const vm = await api(handle, "PUT", "/nodes/pve1/qemu/700/resize", {
      session,
      params: { disk: "scsi0", size: "+1G" },
    });
    assert.equal(vm.status, 200, vm.text);
    const task = await waitTask(handle, String(vm.body.data));
    assert.equal(task.exitstatus, denied);

    const ct = await api(handle, "PUT", "/nodes/pve1/lxc/750/resize", {
      session,
      params: { disk: "rootfs", size: "+1G" },
    });
    assert.equal(ct.status, 403, ct.text);
    assert.equal(ct.body.message, `${denied}\n`);

    const state = handle.sim.state;
    assert.equal(
      state.guests.get(700)?.config.scsi0,
      "local-lvm:vm-700-disk-0,iothread=1,size=32G",
    );
    assert.equal(state.guests.get(750)?.config.rootfs, "local-lvm:vm-750-disk-0,size=8G");
  } finally {
    await handle.close();
  }
});
