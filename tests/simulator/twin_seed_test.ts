import assert from "node:assert/strict";
import { startSimulator, TwinFileError } from "../../src/simulator/mod.ts";
import { runTask } from "./_guest_helpers.ts";
import { api, startTestSimulator } from "./_helpers.ts";

const GiB = 1024 ** 3;

/** A small twin file: two nodes whose local LVM differs in size, one VM, one shared storage. */
function smallTwin(): Record<string, unknown> {
  return {
    format: "proxmox-mcp-twin",
    version: 1,
    id: "0b6c2f7e-3a1d-4c5e-9f80-7a6b5c4d3e2f",
    captured_at: "2026-01-02T03:04:05Z",
    captured_epoch: 1_767_323_045,
    source: {
      cluster: "branch",
      host: "pve-a.example:8006",
      principal: "auditor@pve!twin",
      pve: { version: "8.4.1", release: "8.4", repoid: "2a5fa54a8503f96d" },
      tool: "proxmox-mcp 0.1.0",
    },
    secrets: { notice: "…", replaced_with: "[redacted]", count: 0, where: [] },
    gaps: [],
    nodes: [
      {
        name: "a",
        nodeid: 1,
        ip: "10.9.0.1",
        online: true,
        level: "",
        maxmem: 64 * GiB,
        mem: 20 * GiB,
        maxcpu: 8,
        cpu: 0.1,
        uptime: 3600,
      },
      {
        name: "b",
        nodeid: 2,
        ip: "10.9.0.2",
        online: true,
        level: "",
        maxmem: 32 * GiB,
        mem: 4 * GiB,
        maxcpu: 4,
        cpu: 0.05,
        uptime: 7200,
      },
    ],
    storages: [
      {
        config: { storage: "vg", type: "lvm", vgname: "pve", content: "images,rootdir" },
        nodes: {
          a: { status: "available", total: 100 * GiB, used: 40 * GiB },
          b: { status: "available", total: 200 * GiB, used: 10 * GiB },
        },
        volumes: [
          {
            volid: "vg:vm-100-disk-0",
            content: "images",
            format: "raw",
            size: 32 * GiB,
            ctime: 1,
            vmid: 100,
            node: "a",
          },
        ],
      },
      {
        config: {
          storage: "smb",
          type: "cifs",
          server: "10.9.0.50",
          share: "pve",
          content: "backup,iso",
        },
        nodes: {
          a: { status: "available", total: 1000 * GiB, used: 250 * GiB },
          b: { status: "available", total: 1000 * GiB, used: 250 * GiB },
        },
        volumes: [],
      },
    ],
    guests: [
      {
        vmid: 100,
        type: "qemu",
        node: "a",
        status: "running",
        uptime: 600,
        cpu: 0.02,
        mem: 2 * GiB,
        config: {
          name: "app",
          memory: "4096",
          cores: 2,
          scsi0: "vg:vm-100-disk-0,size=32G",
          cipassword: "[redacted]",
        },
      },
    ],
    pools: [],
    ha: { resources: [], rules: [], groups: [], crm_states: {} },
    firewall: { options: {}, rules: [], aliases: [], ipsets: [], groups: [] },
    backup_jobs: [],
    replication: [],
  };
}

Deno.test("a twin file boots a cluster with the file's nodes, guests, version and usage", async () => {
  const sim = await startTestSimulator({ twin: smallTwin() });
  try {
    const status = await api(sim, "GET", "/cluster/status", { token: true });
    assert.equal(status.body.data[0].name, "branch");
    const version = await api(sim, "GET", "/version", { token: true });
    assert.equal(version.body.data.version, "8.4.1");
    const resources = await api(sim, "GET", "/cluster/resources", { token: true });
    const vm = resources.body.data.find((r: { id: string }) => r.id === "qemu/100");
    assert.equal(vm.status, "running");
    assert.equal(vm.mem, 2 * GiB);
    assert.ok(vm.uptime >= 600, "up since the capture, and counting");
    const a = await api(sim, "GET", "/nodes/a/storage/vg/status", { token: true });
    const b = await api(sim, "GET", "/nodes/b/storage/vg/status", { token: true });
    assert.deepEqual([a.body.data.total, a.body.data.used], [100 * GiB, 40 * GiB]);
    assert.deepEqual([b.body.data.total, b.body.data.used], [200 * GiB, 10 * GiB]);
    const smb = await api(sim, "GET", "/storage/smb", { token: true });
    assert.equal(smb.body.data.type, "nfs", "a type the simulator lacks is served as its nearest");
    const config = await api(sim, "GET", "/nodes/a/qemu/100/config", { token: true });
    assert.equal(config.body.data.cipassword, "**********");
  } finally {
    await sim.close();
  }
});

Deno.test("a twin's storage fills up where the real one would: what it reported used counts", async () => {
  const sim = await startTestSimulator({ twin: smallTwin() });
  try {
    // 100 GiB with 40 GiB used on node a: a 70 GiB disk does not fit there, but fits on b.
    const onA = await runTask(sim, "POST", "/nodes/a/qemu", { vmid: 101, scsi0: "vg:70" });
    assert.match(onA.exitstatus, /not enough free space/);
    const onB = await runTask(sim, "POST", "/nodes/b/qemu", { vmid: 102, scsi0: "vg:70" });
    assert.equal(onB.exitstatus, "OK");
  } finally {
    await sim.close();
  }
});

Deno.test("planting storage usage on a twin changes only that node's capacity", async () => {
  const sim = await startTestSimulator({ twin: smallTwin() });
  try {
    const planted = await fetch(`${sim.url}/_sim/storage/vg/usage`, {
      method: "POST",
      body: JSON.stringify({ node: "a", used_fraction: 0.8 }),
    });
    assert.equal(planted.status, 200);
    const a = await api(sim, "GET", "/nodes/a/storage/vg/status", { token: true });
    const b = await api(sim, "GET", "/nodes/b/storage/vg/status", { token: true });
    assert.equal(a.body.data.total, 50 * GiB);
    assert.equal(b.body.data.total, 200 * GiB);
  } finally {
    await sim.close();
  }
});

Deno.test("the control API names the twin a simulator was booted from, and only then", async () => {
  const twin = await startTestSimulator({ twin: smallTwin() });
  const demo = await startTestSimulator();
  try {
    const named = await fetch(`${twin.url}/_sim/twin`);
    assert.deepEqual(await named.json(), {
      id: "0b6c2f7e-3a1d-4c5e-9f80-7a6b5c4d3e2f",
      cluster: "branch",
      captured_at: "2026-01-02T03:04:05Z",
    });
    const none = await fetch(`${demo.url}/_sim/twin`);
    assert.equal(none.status, 404);
    assert.deepEqual(await none.json(), {
      error: "This simulator was not booted from a twin file",
    });
  } finally {
    await twin.close();
    await demo.close();
  }
});

Deno.test("a file that is not a twin this simulator reads is refused with the part that is wrong", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { ...smallTwin(), format: "other" },
      /^Not a twin file: expected "format": "proxmox-mcp-twin"/,
    ],
    [
      { ...smallTwin(), version: 2 },
      /^Unsupported twin file version 2: .*capture the cluster again$/,
    ],
    [{ ...smallTwin(), nodes: "a,b" }, /^Invalid twin file: nodes must be a list of objects$/],
    [
      { ...smallTwin(), guests: [{ vmid: 100, type: "qemu", node: "z", config: {} }] },
      /^Invalid twin file: guests\[0\] is on node "z", which is not in nodes$/,
    ],
    [
      { ...smallTwin(), guests: [{ vmid: 100, type: "vm", node: "a", config: {} }] },
      /^Invalid twin file: guests\[0\]\.type must be "qemu" or "lxc"$/,
    ],
  ];
  for (const [doc, message] of cases) {
    await assert.rejects(() => startSimulator({ twin: doc }), (error: unknown) => {
      assert.ok(error instanceof TwinFileError);
      assert.match(error.message, message);
      return true;
    });
  }
});
