import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import {
  addGuest,
  checkOutcomeRow,
  type OutcomeRow,
  startGuestSimulator,
} from "./_guest_helpers.ts";

const V = "/nodes/pve1/qemu/700";
const C = "/nodes/pve1/lxc/750";

function haManaged(handle: SimulatorHandle, sid: string): void {
  handle.sim.state.ha.set(sid, {
    sid,
    type: sid.startsWith("vm:") ? "vm" : "ct",
    state: "started",
    max_restart: 1,
    max_relocate: 1,
  });
}

const TABLE: OutcomeRow[] = [
  {
    name: "a locked CT is refused before forking",
    setup: (h) => addGuest(h, { vmid: 750, type: "lxc", config: { lock: "backup" } }),
    method: "DELETE",
    path: C,
    expect: { sync: 500, message: "CT is locked (backup)" },
    after: (h) => assert.equal(h.sim.state.guests.has(750), true),
  },
  {
    name: "a CT's protection is checked before its lock",
    setup: (h) =>
      addGuest(h, { vmid: 750, type: "lxc", config: { lock: "backup", protection: 1 } }),
    method: "DELETE",
    path: C,
    expect: { sync: 500, message: "can't remove CT 750 - protection mode enabled" },
  },
  {
    name: "a VM's protection is checked before its HA resource",
    setup: (h) => {
      addGuest(h, { vmid: 700, config: { protection: 1 } });
      haManaged(h, "vm:700");
    },
    method: "DELETE",
    path: V,
    expect: { sync: 500, message: "can't remove VM 700 - protection mode enabled" },
  },
  {
    name: "a CT's lock is checked before its HA resource",
    setup: (h) => {
      addGuest(h, { vmid: 750, type: "lxc", config: { lock: "migrate" } });
      haManaged(h, "ct:750");
    },
    method: "DELETE",
    path: C,
    expect: { sync: 500, message: "CT is locked (migrate)" },
  },
];

Deno.test("destroy makes its early checks in qemu-server's and pve-container's order", async () => {
  const handle = await startGuestSimulator();
  try {
    for (const row of TABLE) {
      await checkOutcomeRow(handle, row);
      handle.sim.state.guests.delete(700);
      handle.sim.state.guests.delete(750);
      handle.sim.state.ha.clear();
    }
  } finally {
    await handle.close();
  }
});
