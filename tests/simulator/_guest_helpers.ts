/**
 * Helpers for the guest, snapshot, task and agent tests: put exactly the guests a test
 * needs into the simulator's state, call the API with the root token, and wait for tasks
 * by polling their status over HTTP (never on wall time).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SimulatorHandle, SimulatorOptions } from "../../src/simulator/mod.ts";
import type { AgentState, Guest, GuestConfig, Volume } from "../../src/simulator/state.ts";
import { volumeKey } from "../../src/simulator/state.ts";
import { api, type ApiOptions, type ApiResult, startTestSimulator } from "./_helpers.ts";

/** Starts a demo simulator (instant tasks unless `speed` is given). */
export function startGuestSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  return startTestSimulator(options);
}

/** Calls the API as `root@pam!mcp`. */
export function call(
  handle: SimulatorHandle,
  method: string,
  path: string,
  params: ApiOptions["params"] = {},
  options: Omit<ApiOptions, "params"> = {},
): Promise<ApiResult> {
  return api(handle, method, path, { token: true, params, ...options });
}

/** Adds a volume to a storage's list on a node. */
export function addVolume(
  handle: SimulatorHandle,
  node: string,
  storage: string,
  volume: Volume,
): void {
  const state = handle.sim.state;
  const config = state.storages.get(storage);
  if (config === undefined) throw new Error(`Storage "${storage}" is not in the seed`);
  const key = volumeKey(config, node);
  const list = state.volumes.get(key) ?? [];
  list.push(volume);
  state.volumes.set(key, list);
}

/** Options of {@linkcode addGuest}. */
export interface GuestSpec {
  vmid: number;
  type?: "qemu" | "lxc";
  node?: string;
  running?: boolean;
  config?: GuestConfig;
  agent?: AgentState;
  /** Disk size in GiB of the default disk (scsi0 / rootfs). */
  diskGiB?: number;
}

/** A guest agent that answers, with a few files. */
export function testAgent(hostname: string): AgentState {
  return {
    running: true,
    hostname,
    osinfo: {
      id: "debian",
      name: "Debian GNU/Linux",
      "pretty-name": "Debian GNU/Linux 12 (bookworm)",
      version: "12 (bookworm)",
      "version-id": "12",
      "kernel-release": "6.1.0-25-amd64",
      "kernel-version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.106-3",
      machine: "x86_64",
    },
    interfaces: [
      {
        name: "lo",
        "hardware-address": "00:00:00:00:00:00",
        "ip-addresses": [{ "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 }],
      },
      {
        name: "eth0",
        "hardware-address": "bc:24:11:5e:7a:10",
        "ip-addresses": [
          { "ip-address": "192.168.1.50", "ip-address-type": "ipv4", prefix: 24 },
          { "ip-address": "fe80::be24:11ff:fe5e:7a10", "ip-address-type": "ipv6", prefix: 64 },
        ],
      },
    ],
    fsinfo: [{
      name: "sda1",
      mountpoint: "/",
      type: "ext4",
      "total-bytes": 33_000_000_000,
      "used-bytes": 5_000_000_000,
      disk: [{ dev: "/dev/sda1", "bus-type": "scsi" }],
    }],
    files: { "/etc/hostname": `${hostname}\n`, "/etc/os-release": 'ID=debian\nVERSION_ID="12"\n' },
  };
}

/** Puts a guest (and its disk volume on `local-lvm`) into the state, replacing any guest with that vmid. */
export function addGuest(handle: SimulatorHandle, spec: GuestSpec): Guest {
  const state = handle.sim.state;
  const type = spec.type ?? "qemu";
  const node = spec.node ?? "pve1";
  const size = spec.diskGiB ?? (type === "qemu" ? 32 : 8);
  const volid = `local-lvm:vm-${spec.vmid}-disk-0`;
  const base: GuestConfig = type === "qemu"
    ? {
      name: `vm${spec.vmid}`,
      memory: "2048",
      cores: 2,
      sockets: 1,
      ostype: "l26",
      scsihw: "virtio-scsi-single",
      scsi0: `${volid},iothread=1,size=${size}G`,
      net0: `virtio=BC:24:11:00:${
        (spec.vmid % 256).toString(16).padStart(2, "0").toUpperCase()
      }:01,bridge=vmbr0`,
      boot: "order=scsi0;net0",
    }
    : {
      hostname: `ct${spec.vmid}`,
      memory: 512,
      swap: 512,
      cores: 1,
      arch: "amd64",
      ostype: "debian",
      rootfs: `${volid},size=${size}G`,
      net0: `name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:${
        (spec.vmid % 256).toString(16).padStart(2, "0").toUpperCase()
      }:02,ip=dhcp,type=veth`,
      unprivileged: 1,
    };
  const existing = state.guests.get(spec.vmid);
  if (existing !== undefined) {
    for (const list of state.volumes.values()) {
      for (let i = list.length - 1; i >= 0; i--) if (list[i]?.vmid === spec.vmid) list.splice(i, 1);
    }
  }
  addVolume(handle, node, "local-lvm", {
    volid,
    content: type === "qemu" ? "images" : "rootdir",
    format: "raw",
    size: size * 1024 ** 3,
    ctime: handle.sim.clock.now(),
    vmid: spec.vmid,
  });
  const running = spec.running ?? false;
  const guest: Guest = {
    vmid: spec.vmid,
    type,
    node,
    config: { ...base, ...spec.config },
    pending: {},
    pendingDelete: [],
    snapshots: new Map(),
    status: running ? "running" : "stopped",
    qmpstatus: running ? "running" : "stopped",
    startedAt: running ? handle.sim.clock.now() - 3600 : 0,
    pid: running ? 4242 : 0,
    stats: { cpu: 0, mem: 0, disk: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0 },
    execs: new Map(),
  };
  if (spec.agent !== undefined) guest.agent = spec.agent;
  state.guests.set(spec.vmid, guest);
  for (const key of [...state.ha.keys()]) if (key.endsWith(`:${spec.vmid}`)) state.ha.delete(key);
  return guest;
}

/** Reads `data` of a successful call, or throws with the answer. */
export async function data(result: Promise<ApiResult>): Promise<unknown> {
  const r = await result;
  if (r.status !== 200) throw new Error(`Expected 200, got ${r.status}: ${r.text}`);
  return r.body.data;
}

/** A finished task: status fields and log lines. */
export interface FinishedTask {
  status: Record<string, unknown>;
  exitstatus: string;
  lines: string[];
}

/** Polls a task over HTTP until it has stopped; returns its exit status and full log. */
export async function waitTask(handle: SimulatorHandle, upid: string): Promise<FinishedTask> {
  const node = upid.split(":")[1] ?? "";
  const path = `/nodes/${node}/tasks/${encodeURIComponent(upid)}`;
  for (let i = 0; i < 2000; i++) {
    const status = await data(call(handle, "GET", `${path}/status`)) as Record<string, unknown>;
    if (status.status === "stopped") {
      const log = await data(call(handle, "GET", `${path}/log`, { limit: 0 })) as {
        t: string;
      }[];
      return { status, exitstatus: String(status.exitstatus), lines: log.map((l) => l.t) };
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`Task ${upid} did not stop`);
}

/** Starts an operation that must answer a UPID, and waits for its task. */
export async function runTask(
  handle: SimulatorHandle,
  method: string,
  path: string,
  params: ApiOptions["params"] = {},
): Promise<FinishedTask & { upid: string }> {
  const r = await call(handle, method, path, params);
  if (r.status !== 200 || typeof r.body.data !== "string") {
    throw new Error(`Expected a UPID from ${method} ${path}, got ${r.status}: ${r.text}`);
  }
  const upid = r.body.data as string;
  return { upid, ...await waitTask(handle, upid) };
}

/** Polls `probe` (1 ms apart, bounded) until it returns true; for states a running task sets. */
export async function until(probe: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`Timed out waiting until ${what}`);
}

/**
 * Drives a task on a (nearly) stopped clock to its end by advancing simulated time, so tests
 * can observe a task mid-flight without depending on wall time.
 */
export async function advanceUntilDone(
  handle: SimulatorHandle,
  upid: string,
): Promise<FinishedTask> {
  for (let i = 0; i < 1000; i++) {
    const task = handle.sim.state.tasks.find((t) => t.upid === upid);
    if (task === undefined || task.status === "stopped") break;
    handle.sim.clock.advance(5);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return await waitTask(handle, upid);
}

/** How an operation fails (or succeeds) in PVE: a synchronous error, or its task's end. */
export type Outcome = { sync: number; message: string } | { task: string };

/** One row of a sync-vs-task outcome table (FACTS §6.2). */
export interface OutcomeRow {
  name: string;
  setup: (handle: SimulatorHandle) => void;
  method?: string;
  path: string;
  params?: Record<string, string | number>;
  expect: Outcome;
  after?: (handle: SimulatorHandle) => void;
}

/**
 * Sets up a row, makes its call (POST unless the row says otherwise) and asserts the
 * outcome: the synchronous status and message, or a UPID of the path's node whose task ends
 * with the expected exit status as its last log line; then runs the row's `after`.
 */
export async function checkOutcomeRow(handle: SimulatorHandle, row: OutcomeRow): Promise<void> {
  row.setup(handle);
  const r = await call(handle, row.method ?? "POST", row.path, row.params ?? {});
  if ("sync" in row.expect) {
    assert.equal(r.status, row.expect.sync, `${row.name}: ${r.text}`);
    assert.equal(String(r.body.message ?? "").trim(), row.expect.message, row.name);
  } else {
    assert.equal(r.status, 200, `${row.name}: ${r.text}`);
    const node = /^\/nodes\/([^/]+)\//.exec(row.path)?.[1] ?? "";
    assert.match(String(r.body.data), new RegExp(`^UPID:${node}:`), row.name);
    const task = await waitTask(handle, r.body.data);
    assert.equal(task.exitstatus, row.expect.task, row.name);
    assert.equal(
      task.lines.at(-1),
      row.expect.task === "OK" ? "TASK OK" : `TASK ERROR: ${row.expect.task}`,
    );
  }
  row.after?.(handle);
}
