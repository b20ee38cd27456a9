import assert from "node:assert/strict";
import { diffTwins, formatDiff } from "./diff.ts";
import type { TwinFile, TwinGuest } from "./format.ts";

const GiB = 1024 ** 3;

function guest(vmid: number, node: string, extra: Partial<TwinGuest> = {}): TwinGuest {
  return {
    vmid,
    type: "qemu",
    node,
    status: "running",
    config: { name: `vm${vmid}`, memory: "2048", scsi0: `local-lvm:vm-${vmid}-disk-0,size=32G` },
    ...extra,
  };
}

function twin(id: string, guests: TwinGuest[], volumes: [string, string, number][]): TwinFile {
  return {
    format: "proxmox-mcp-twin",
    version: 1,
    id,
    captured_at: `2026-01-0${id === "a" ? 1 : 2}T00:00:00Z`,
    captured_epoch: 0,
    source: {
      cluster: "lab",
      host: "pve:8006",
      principal: "root@pam!mcp",
      pve: { version: "9.1.1", release: "9.1", repoid: "x" },
      tool: "proxmox-mcp",
    },
    secrets: { notice: "", replaced_with: "[redacted]", count: 0, where: [] },
    gaps: [],
    nodes: [
      { name: "n1", nodeid: 1, ip: "", online: true, level: "" },
      { name: "n2", nodeid: 2, ip: "", online: true, level: "" },
    ],
    storages: [{
      config: { storage: "local-lvm", type: "lvmthin", content: "images" },
      nodes: {},
      volumes: volumes.map(([volid, node, size]) => ({
        volid,
        node,
        size,
        content: "images",
        format: "raw",
        ctime: 1,
      })),
    }],
    guests,
    pools: [{ poolid: "prod", comment: "", vms: [100], storage: [] }],
    ha: { resources: [], rules: [], groups: [], crm_states: {} },
    firewall: { options: {}, rules: [], aliases: [], ipsets: [], groups: [] },
    backup_jobs: [],
    replication: [],
  };
}

Deno.test("twin diff names moved guests and their volumes, config changes, new and gone guests", () => {
  const before = twin("a", [guest(100, "n1"), guest(101, "n1"), guest(102, "n2")], [
    ["local-lvm:vm-100-disk-0", "n1", 32 * GiB],
    ["local-lvm:vm-101-disk-0", "n1", 32 * GiB],
    ["local-lvm:vm-102-disk-0", "n2", 32 * GiB],
  ]);
  const after = twin(
    "b",
    [
      guest(100, "n2", { status: "running" }),
      guest(101, "n1", {
        status: "stopped",
        config: { name: "vm101", memory: "4096", scsi0: "local-lvm:vm-101-disk-0,size=48G" },
        snapshots: [{ name: "pre", snaptime: 1, description: "", config: {} }],
      }),
      guest(103, "n2"),
    ],
    [
      ["local-lvm:vm-100-disk-0", "n2", 32 * GiB],
      ["local-lvm:vm-101-disk-0", "n1", 48 * GiB],
      ["local-lvm:vm-103-disk-0", "n2", 32 * GiB],
    ],
  );
  const diff = diffTwins(before, after);
  assert.equal(diff.unchanged, false);
  assert.deepEqual(diff.guests.added.map((g) => g.vmid), [103]);
  assert.deepEqual(diff.guests.removed.map((g) => g.vmid), [102]);
  assert.deepEqual(diff.guests.changed.map((c) => c.vmid), [100, 101]);
  assert.deepEqual(diff.guests.changed[0]?.node, ["n1", "n2"]);
  assert.deepEqual(diff.guests.changed[1]?.config, [
    { key: "memory", before: "2048", after: "4096" },
    {
      key: "scsi0",
      before: "local-lvm:vm-101-disk-0,size=32G",
      after: "local-lvm:vm-101-disk-0,size=48G",
    },
  ]);
  assert.deepEqual(diff.guests.changed[1]?.snapshots_added, ["pre"]);
  assert.deepEqual(diff.volumes.moved.map((v) => [v.volid, v.node_before, v.node]), [
    ["local-lvm:vm-100-disk-0", "n1", "n2"],
  ]);
  assert.deepEqual(diff.volumes.resized.map((v) => [v.volid, v.size_before, v.size]), [
    ["local-lvm:vm-101-disk-0", 32 * GiB, 48 * GiB],
  ]);
  assert.deepEqual(diff.volumes.added.map((v) => v.volid), ["local-lvm:vm-103-disk-0"]);
  assert.deepEqual(diff.volumes.removed.map((v) => v.volid), ["local-lvm:vm-102-disk-0"]);
  const text = formatDiff(diff);
  assert.match(text, /Guests moved \(1\):\n {2}VM 100 \(vm100\): n1 -> n2/);
  assert.match(text, /VM 101 \(vm101\): running -> stopped; memory: 2048 -> 4096; scsi0: /);
  assert.match(text, /Volumes moved \(1\):\n {2}local-lvm:vm-100-disk-0: n1 -> n2 \(32 GiB\)/);
  assert.match(text, /Volumes resized \(1\):\n {2}local-lvm:vm-101-disk-0 on n1: 32 GiB -> 48 GiB/);
  assert.match(text, /Guests removed \(1\):\n {2}VM 102 \(vm102\) was on n2, running/);
});

Deno.test("twin diff ignores what moves on its own: usage, uptime, key order", () => {
  const before = twin("a", [guest(100, "n1", { cpu: 0.1, uptime: 10, mem: 1 })], []);
  const after = twin("b", [guest(100, "n1", { cpu: 0.9, uptime: 99_999, mem: 7 })], []);
  after.firewall = { rules: [], options: {}, groups: [], ipsets: [], aliases: [] };
  const diff = diffTwins(before, after);
  assert.equal(diff.unchanged, true);
  assert.match(formatDiff(diff), /No guests, configs, volumes or placements changed\.$/);
});

Deno.test("twin diff of two different clusters says so", () => {
  const other = twin("b", [], []);
  other.source.cluster = "elsewhere";
  assert.match(
    formatDiff(diffTwins(twin("a", [], []), other)),
    /different clusters \(lab vs elsewhere\)/,
  );
});
