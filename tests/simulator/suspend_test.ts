import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import {
  addGuest,
  checkOutcomeRow,
  type OutcomeRow,
  startGuestSimulator,
} from "./_guest_helpers.ts";
import { api, login } from "./_helpers.ts";

const V = "/nodes/pve1/qemu/700";

function haManaged(handle: SimulatorHandle): void {
  addGuest(handle, { vmid: 700, running: true });
  handle.sim.state.ha.set("vm:700", {
    sid: "vm:700",
    type: "vm",
    state: "started",
    max_restart: 1,
    max_relocate: 1,
  });
}

const TABLE: OutcomeRow[] = [
  {
    name: "an HA-managed VM is not suspended to disk",
    setup: haManaged,
    path: `${V}/status/suspend`,
    params: { todisk: 1 },
    expect: { sync: 500, message: "Cannot suspend HA managed VM to disk" },
    after: (h) => assert.equal(h.sim.state.guests.get(700)?.status, "running"),
  },
  {
    name: "an HA-managed VM is paused",
    setup: haManaged,
    path: `${V}/status/suspend`,
    expect: { task: "OK" },
  },
  {
    name: "a VM with a passed-through PCI device is not suspended to disk",
    setup: (h) => addGuest(h, { vmid: 700, running: true, config: { hostpci0: "0000:01:00.0" } }),
    path: `${V}/status/suspend`,
    params: { todisk: 1 },
    expect: {
      sync: 500,
      message: "cannot suspend VM to disk due to passed-through PCI device(s), which lack the " +
        "possibility to save/restore their internal state",
    },
  },
];

Deno.test("suspend to disk refuses before forking what qemu-server refuses", async () => {
  const handle = await startGuestSimulator();
  try {
    for (const row of TABLE) {
      await checkOutcomeRow(handle, row);
      handle.sim.state.guests.delete(700);
      handle.sim.state.ha.delete("vm:700");
    }
  } finally {
    await handle.close();
  }
});

Deno.test("suspend to disk needs VM.Config.Disk and Datastore.AllocateSpace on the state storage", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 700, running: true });
    const state = handle.sim.state;
    state.users.set("ops@pve", {
      userid: "ops@pve",
      password: "ops-pass",
      enable: 1,
      expire: 0,
      groups: [],
      tokens: new Map(),
    });
    state.acls.push({
      path: "/vms/700",
      ugid: "ops@pve",
      type: "user",
      roleid: "PVEVMUser",
      propagate: 1,
    });
    const session = await login(handle, "ops@pve", "ops-pass");
    const suspend = (params: Record<string, number | string>) =>
      api(handle, "POST", `${V}/status/suspend`, { session, params });

    const disk = await suspend({ todisk: 1 });
    assert.equal(disk.status, 403, disk.text);
    assert.equal(disk.body.message, "Permission check failed (/vms/700, VM.Config.Disk)\n");

    const acl = state.acls.find((a) => a.ugid === "ops@pve");
    assert.ok(acl);
    acl.roleid = "PVEVMAdmin";
    const storage = await suspend({ todisk: 1, statestorage: "local" });
    assert.equal(storage.status, 403, storage.text);
    assert.equal(
      storage.body.message,
      "Permission check failed (/storage/local, Datastore.AllocateSpace)\n",
    );
    assert.equal(state.guests.get(700)?.status, "running");

    const pause = await suspend({});
    assert.equal(pause.status, 200, pause.text);
  } finally {
    await handle.close();
  }
});
