import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import {
  call,
  checkOutcomeRow,
  type OutcomeRow,
  runTask,
  startGuestSimulator,
} from "./_guest_helpers.ts";

/** Volids of demo backups: a VM (web01) and a CT (pihole) on nas, k8s-node2 and grafana on PBS. */
function archives(handle: SimulatorHandle) {
  const nas = handle.sim.state.volumes.get("nas") ?? [];
  const pbs = handle.sim.state.volumes.get("pbs") ?? [];
  const find = (list: typeof nas, vmid: number) =>
    list.find((v) => v.vmid === vmid && v.content === "backup")?.volid ?? "";
  return {
    vm: find(nas, 100),
    ct: find(nas, 200),
    pbsVm: find(pbs, 105),
    pbsCt: find(pbs, 202),
  };
}

Deno.test("a VM restores from a Proxmox Backup Server snapshot with pbs-restore's lines", async () => {
  const handle = await startGuestSimulator();
  try {
    const { pbsVm } = archives(handle);
    const task = await runTask(handle, "POST", "/nodes/pve3/qemu", { vmid: 305, archive: pbsVm });
    assert.equal(task.exitstatus, "OK");
    assert.match(
      task.lines[0] ?? "",
      /^restore proxmox backup image: \/usr\/bin\/pbs-restore --repository backup@pbs@10\.0\.0\.60:homelab vm\/105\/\S+Z --verbose --format raw --skip-zero$/,
    );
    assert.equal(handle.sim.state.guests.get(305)?.config.name, "k8s-node2");
  } finally {
    await handle.close();
  }
});

Deno.test("a VM restore reads a file archive from its storage's dump directory", async () => {
  const handle = await startGuestSimulator();
  try {
    const { vm } = archives(handle);
    const task = await runTask(handle, "POST", "/nodes/pve1/qemu", { vmid: 306, archive: vm });
    assert.equal(task.exitstatus, "OK");
    assert.match(
      task.lines[0] ?? "",
      /^restore vma archive: zstd -q -d -c \/mnt\/pve\/nas\/dump\/vzdump-qemu-100-\S+\.vma\.zst \| vma extract/,
    );
  } finally {
    await handle.close();
  }
});

Deno.test("restore errors split between the request and the task as qemu-server and pve-container split them", async () => {
  const handle = await startGuestSimulator();
  try {
    const a = archives(handle);
    const rows: OutcomeRow[] = [
      {
        name: "VM from a volume that is no backup",
        setup: () => {},
        path: "/nodes/pve1/qemu",
        params: { vmid: 310, archive: "local:iso/debian-12.7.0-amd64-netinst.iso" },
        expect: {
          sync: 500,
          message:
            "unable to use volume local:iso/debian-12.7.0-amd64-netinst.iso - content type needs to be 'backup'",
        },
      },
      {
        name: "VM from a missing file archive",
        setup: () => {},
        path: "/nodes/pve1/qemu",
        params: { vmid: 310, archive: "nas:backup/vzdump-qemu-100-2020_01_01-00_00_00.vma.zst" },
        expect: {
          sync: 500,
          message: "can't find file 'nas:backup/vzdump-qemu-100-2020_01_01-00_00_00.vma.zst'",
        },
      },
      {
        name: "VM from a container archive",
        setup: () => {},
        path: "/nodes/pve1/qemu",
        params: { vmid: 311, archive: a.ct },
        expect: {
          task: `ERROR: file '/mnt/pve/nas/dump/${
            a.ct.slice("nas:backup/".length)
          }' does not look like a QemuServer vzdump backup`,
        },
        after: (h) => {
          // qemu-server leaves the config it created: "state is NOT cleaned up".
          const left = h.sim.state.guests.get(311);
          assert.deepEqual(left?.config, {});
        },
      },
      {
        name: "VM from a PBS container snapshot",
        setup: () => {},
        path: "/nodes/pve3/qemu",
        params: { vmid: 312, archive: a.pbsCt },
        expect: { task: "got unexpected backup format 'pbs-ct'" },
      },
      {
        name: "VM over a running VM",
        setup: () => {},
        path: "/nodes/pve1/qemu",
        params: { vmid: 100, archive: a.vm, force: 1 },
        expect: { task: "unable to restore VM 100 - vm is running" },
        after: (h) => {
          const web01 = h.sim.state.guests.get(100);
          assert.equal(web01?.status, "running");
          assert.equal(web01?.config.name, "web01");
          assert.equal(web01?.config.lock, undefined);
        },
      },
      {
        name: "VM over a protected VM",
        setup: (h) => {
          const db01 = h.sim.state.guests.get(102);
          if (db01 !== undefined) db01.status = "stopped";
        },
        path: "/nodes/pve1/qemu",
        params: { vmid: 102, archive: a.vm, force: 1 },
        expect: { task: "unable to restore VM 102 - protection mode enabled" },
      },
      {
        name: "VM onto an existing vmid without force",
        setup: () => {},
        path: "/nodes/pve1/qemu",
        params: { vmid: 102, archive: a.vm },
        expect: {
          sync: 500,
          message: "unable to restore VM 102 - VM 102 already exists on node 'pve1'",
        },
      },
      {
        name: "CT from a missing file archive",
        setup: () => {},
        path: "/nodes/pve1/lxc",
        params: {
          vmid: 320,
          ostemplate: "nas:backup/vzdump-lxc-200-2020_01_01-00_00_00.tar.zst",
          restore: 1,
        },
        expect: {
          task:
            "unable to restore CT 320 - can't find file 'nas:backup/vzdump-lxc-200-2020_01_01-00_00_00.tar.zst'",
        },
        after: (h) => assert.equal(h.sim.state.guests.get(320), undefined),
      },
      {
        name: "CT from a VM archive",
        setup: () => {},
        path: "/nodes/pve1/lxc",
        params: { vmid: 321, ostemplate: a.vm, restore: 1 },
        expect: {
          task: "unable to restore CT 321 - ERROR: archive contains no configuration file",
        },
      },
      {
        name: "CT from a PBS VM snapshot",
        setup: () => {},
        path: "/nodes/pve3/lxc",
        params: { vmid: 322, ostemplate: a.pbsVm, restore: 1 },
        expect: { task: "unable to restore CT 322 - got unexpected backup format 'pbs-vm'" },
      },
      {
        name: "CT over a running CT",
        setup: () => {},
        path: "/nodes/pve1/lxc",
        params: { vmid: 200, ostemplate: a.ct, restore: 1, force: 1 },
        expect: { sync: 500, message: "can't overwrite running container" },
      },
      {
        name: "CT onto an existing vmid without force",
        setup: () => {},
        path: "/nodes/pve1/lxc",
        params: { vmid: 200, ostemplate: a.ct, restore: 1 },
        expect: {
          sync: 500,
          message: "unable to restore CT 200 - CT 200 already exists on node 'pve1'",
        },
      },
    ];
    for (const row of rows) await checkOutcomeRow(handle, row);
  } finally {
    await handle.close();
  }
});

Deno.test("a VM restore from an unreachable NFS storage is refused before the task", async () => {
  const handle = await startGuestSimulator();
  try {
    const { vm } = archives(handle);
    await (await fetch(`${handle.url}/_sim/storage/nas/offline`, { method: "POST" })).body
      ?.cancel();
    const r = await call(handle, "POST", "/nodes/pve1/qemu", { vmid: 330, archive: vm });
    assert.equal(r.status, 500);
    assert.equal(r.body.message, "storage 'nas' is not online\n");
  } finally {
    await handle.close();
  }
});
