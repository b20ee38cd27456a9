/**
 * The round trip the rehearsal twin promises: capture the demo cluster, boot a twin from it,
 * and the twin answers like the original — to inventory, health and a drain of a node (with
 * node_drain, and guest by guest with guest_migrate) — and twin diff shows what the drain did.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { diffTwins, formatDiff, type TwinDiff, type TwinFile } from "../../src/twin/mod.ts";
import { openSession, type SimSession, structuredOf } from "../tools/_helpers.ts";
import { capture, comparable, served } from "./_twin.ts";

/** Live numbers that count from the moment they are read (uptime) are left out. */
function withoutUptime(twin: TwinFile): unknown {
  const copy = comparable(twin) as TwinFile;
  return {
    ...copy,
    nodes: copy.nodes.map(({ uptime: _uptime, ...node }) => node),
    guests: copy.guests.map(({ uptime: _uptime, ...guest }) => guest),
  };
}

/** A result's structured content, without UPIDs and times (they name the task, not the outcome). */
function outcome(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value)
      .replace(/UPID:[^"\s]+/g, "UPID")
      .replace(/"uptime_seconds":\d+,?/g, "")
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "TIME"),
  );
}

Deno.test("a twin of the demo cluster captures back to the same twin", async () => {
  const original = await capture(await startAndKeep());
  const twinSim = await startAndKeep({ twin: original });
  const again = await capture(twinSim);
  assert.deepEqual(withoutUptime(again), withoutUptime(original));
  await closeAll();
});

Deno.test("guest_list and cluster_health answer on the twin as on the original", async () => {
  const sessions = await pair();
  try {
    for (
      const [tool, args] of [
        ["guest_list", {}],
        ["guest_list", {
          fields: [
            "vmid",
            "node",
            "pool",
            "tags",
            "lock",
            "hastate",
            "maxmem_bytes",
            "maxdisk_bytes",
            "mem_bytes",
            "cpu_fraction",
          ],
        }],
        ["cluster_health", {}],
        ["cluster_health", { threshold_percent: 50, backup_days: 1 }],
      ] as const
    ) {
      const [a, b] = await Promise.all(sessions.map((s) => s.call(tool, args)));
      assert.notEqual(a!.isError, true, JSON.stringify(a));
      assert.deepEqual(
        outcome(structuredOf(b!)),
        outcome(structuredOf(a!)),
        `${tool} ${JSON.stringify(args)}`,
      );
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
});

Deno.test("draining pve2 on the twin goes as on the original, and twin diff shows its effect", async () => {
  const sessions = await pair();
  const [original, twin] = sessions as [SimSession, SimSession];
  try {
    const start = await capture(original.sim);
    const marks = await Promise.all(sessions.map((s) => s.mark()));
    // node_drain's moves, one guest at a time: the HA-managed VM, a running VM, a running
    // container (restart migration) and a stopped one, disks on local storage.
    const moves: [number, string][] = [[101, "pve3"], [104, "pve3"], [201, "pve1"], [203, "pve1"]];
    for (const [vmid, target] of moves) {
      const args = { vmid, target_node: target, with_local_disks: true };
      const [a, b] = [
        await original.call("guest_migrate", args),
        await twin.call("guest_migrate", args),
      ];
      assert.notEqual(a.isError, true, JSON.stringify(a));
      assert.deepEqual(outcome(structuredOf(b)), outcome(structuredOf(a)), `guest_migrate ${vmid}`);
    }
    const [list, listTwin] = await Promise.all(
      sessions.map((s) => s.call("guest_list", { node: "pve2" })),
    );
    assert.deepEqual(outcome(structuredOf(listTwin!)), outcome(structuredOf(list!)));
    // The same requests reached both, in the same order.
    const [writesA, writesB] = await Promise.all(
      sessions.map(async (s, i) => (await s.writes(marks[i])).map((r) => `${r.method} ${r.path}`)),
    );
    assert.deepEqual(writesB, writesA);

    const [afterOriginal, afterTwin] = await Promise.all(sessions.map((s) => capture(s.sim)));
    const effect = diffTwins(start, afterOriginal!);
    const rehearsed = diffTwins(start, afterTwin!);
    assert.deepEqual(
      sameSides(rehearsed),
      sameSides(effect),
      "the rehearsal's effect is the drain's",
    );
    assert.deepEqual(
      rehearsed.guests.changed.filter((c) => c.node !== undefined).map((c) => [c.vmid, ...c.node!]),
      [[101, "pve2", "pve3"], [104, "pve2", "pve3"], [201, "pve2", "pve1"], [203, "pve2", "pve1"]],
    );
    const page = formatDiff(rehearsed);
    assert.match(page, /Guests moved \(4\):/);
    assert.match(page, /VM 101 \(web02\): pve2 -> pve3/);
    assert.match(page, /CT 203 \(build-runner\): pve2 -> pve1/);
    assert.match(page, /Volumes moved \(4\):\n {2}local-lvm:vm-101-disk-0: pve2 -> pve3/);
    assert.ok(page.split("\n").length < 40, "one page");
    // Capturing the twin's end state read it and changed nothing.
    const last = (await served(twin.sim)).at(-1)?.seq ?? 0;
    await capture(twin.sim);
    assert.deepEqual((await served(twin.sim, last)).filter((r) => r.method !== "GET"), []);
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
});

Deno.test("node_drain rehearsed on the twin plans, moves and refuses as on the original, and twin diff shows the moves", async () => {
  const sessions = await pair();
  const [original, twin] = sessions as [SimSession, SimSession];
  try {
    const start = await capture(original.sim);
    const args = { node: "pve2", with_local_disks: true };
    const [planA, planB] = await Promise.all(
      sessions.map((s) => s.call("node_drain", { ...args, dry_run: true })),
    );
    assert.notEqual(planA!.isError, true, JSON.stringify(planA));
    assert.deepEqual(outcome(structuredOf(planB!)), outcome(structuredOf(planA!)), "same plan");
    const a = await original.call("node_drain", args);
    const b = await twin.call("node_drain", args);
    assert.deepEqual(outcome(structuredOf(b)), outcome(structuredOf(a)), "same outcomes");
    const [afterOriginal, afterTwin] = await Promise.all(sessions.map((s) => capture(s.sim)));
    const effect = diffTwins(start, afterOriginal!);
    const rehearsed = diffTwins(start, afterTwin!);
    assert.deepEqual(
      sameSides(rehearsed),
      sameSides(effect),
      "the rehearsal's effect is the drain's",
    );
    const moved = rehearsed.guests.changed.filter((c) => c.node !== undefined);
    assert.ok(moved.length > 0 && moved.every((c) => c.node![0] === "pve2"), "guests left pve2");
    assert.match(formatDiff(rehearsed), /Guests moved \(\d+\):/);
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
});

/** The diff without what names the two captures. */
function sameSides(diff: TwinDiff): unknown {
  const { before: _before, after: _after, ...rest } = diff;
  return rest;
}

const started: SimulatorHandle[] = [];

async function startAndKeep(options: { twin?: TwinFile } = {}): Promise<SimulatorHandle> {
  const { startSimulator } = await import("../../src/simulator/mod.ts");
  const sim = await startSimulator({ speed: "instant", ...options });
  started.push(sim);
  return sim;
}

async function closeAll(): Promise<void> {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
}

/** A session on the demo cluster, and one on a twin captured from it. */
async function pair(): Promise<[SimSession, SimSession]> {
  const original = await openSession({ tools: allTools });
  try {
    const twin = await capture(original.sim);
    return [original, await openSession({ tools: allTools, sim: { twin } })];
  } catch (error) {
    await original.close();
    throw error;
  }
}
