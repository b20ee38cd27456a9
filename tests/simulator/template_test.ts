import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import {
  addGuest,
  call,
  checkOutcomeRow,
  data,
  type OutcomeRow,
  runTask,
  startGuestSimulator,
} from "./_guest_helpers.ts";

const V = "/nodes/pve1/qemu/700";
const C = "/nodes/pve1/lxc/750";

function withSnapshot(handle: SimulatorHandle, type: "qemu" | "lxc", vmid: number): void {
  const guest = addGuest(handle, { vmid, type, running: false });
  guest.snapshots.set("pre-upgrade", {
    name: "pre-upgrade",
    snaptime: 1_700_000_000,
    vmstate: 0,
    description: "",
    config: { ...guest.config },
  });
  guest.config.parent = "pre-upgrade";
}

const TABLE: OutcomeRow[] = [
  {
    name: "a VM with snapshots is refused before forking",
    setup: (h) => withSnapshot(h, "qemu", 700),
    path: `${V}/template`,
    expect: { sync: 500, message: "unable to create template, because VM contains snapshots" },
    after: (h) => assert.equal(h.sim.state.guests.get(700)?.config.template, undefined),
  },
  {
    name: "a CT with snapshots is refused before forking",
    setup: (h) => withSnapshot(h, "lxc", 750),
    path: `${C}/template`,
    expect: { sync: 500, message: "unable to create template, because CT contains snapshots" },
    after: (h) => assert.equal(h.sim.state.guests.get(750)?.config.template, undefined),
  },
  {
    name: "the lock is checked before the snapshots",
    setup: (h) => {
      withSnapshot(h, "qemu", 700);
      const g = h.sim.state.guests.get(700);
      if (g !== undefined) g.config.lock = "backup";
    },
    path: `${V}/template`,
    expect: { sync: 500, message: "VM is locked (backup)" },
  },
  {
    name: "the snapshots are checked before the running state",
    setup: (h) => {
      withSnapshot(h, "lxc", 750);
      const g = h.sim.state.guests.get(750);
      if (g !== undefined) g.status = "running";
    },
    path: `${C}/template`,
    expect: { sync: 500, message: "unable to create template, because CT contains snapshots" },
  },
  {
    name: "a template is refused as a whole",
    setup: (h) => addGuest(h, { vmid: 700, running: false, config: { template: 1 } }),
    path: `${V}/template`,
    expect: { sync: 500, message: "you can't convert a template to a template" },
  },
];

Deno.test("template refuses what qemu-server and pve-container refuse, in their order", async () => {
  const handle = await startGuestSimulator();
  try {
    for (const row of TABLE) {
      await checkOutcomeRow(handle, row);
      handle.sim.state.guests.delete(700);
      handle.sim.state.guests.delete(750);
    }
  } finally {
    await handle.close();
  }
});

Deno.test("one disk of a VM template converts to a base volume", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 701, running: false, config: { template: 1 } });
    const disk = await runTask(handle, "POST", "/nodes/pve1/qemu/701/template", { disk: "scsi0" });
    assert.equal(disk.exitstatus, "OK");
    const after = await data(call(handle, "GET", "/nodes/pve1/qemu/701/config")) as Record<
      string,
      unknown
    >;
    assert.equal(after.scsi0, "local-lvm:base-701-disk-0,iothread=1,size=32G");
  } finally {
    await handle.close();
  }
});
