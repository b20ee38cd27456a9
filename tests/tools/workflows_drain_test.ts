import assert from "node:assert/strict";
import { needsConfirmation } from "../../src/policy/capability.ts";
import { toolInventory } from "../../src/tools/registry.ts";
import { nodeDrain } from "../../src/tools/workflows/node_drain.ts";
import { openSession, type SimSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [nodeDrain];
const ISO = "local:iso/debian-12.7.0-amd64-netinst.iso";

interface Row {
  vmid: number;
  outcome: string;
  to?: string;
  mode?: string;
  ha?: boolean;
  upid?: string;
  reason?: string;
}

/** Runs a write as root through the session's PVE client and waits for its task. */
async function setup(s: SimSession, method: "POST" | "PUT", path: string, params = {}) {
  const data = await s.pve.request(method, path, { params });
  if (typeof data === "string" && data.startsWith("UPID:")) {
    const outcome = await s.pve.waitForTask(data);
    assert.equal(outcome.state, "ok", `${method} ${path}: ${JSON.stringify(outcome)}`);
  }
}

/**
 * pve2 of the demo plus what the drain test needs there: web02 (101, HA-managed), k8s-node1
 * (104) with an ISO from pve2's local storage in its CD-ROM drive, nginx-proxy (201, a running
 * container), build-runner (203, stopped) and a template (9100).
 */
async function preparePve2(s: SimSession): Promise<void> {
  await setup(s, "PUT", "/nodes/pve2/qemu/104/config", { ide2: `${ISO},media=cdrom` });
  await setup(s, "POST", "/nodes/pve2/qemu", {
    vmid: 9100,
    name: "alpine-tmpl",
    memory: "512",
    scsi0: "local-lvm:2",
    net0: "virtio,bridge=vmbr0",
  });
  await setup(s, "POST", "/nodes/pve2/qemu/9100/template");
}

function rows(result: Record<string, unknown>): Map<number, Row> {
  return new Map((result.guests as Row[]).map((r) => [r.vmid, r]));
}

Deno.test("node_drain moves a HA-managed VM through HA, a container by restart migration and a template offline, and refuses a VM with a local ISO", async () => {
  const s = await openSession({
    tools,
    config: { policy: { confirmation: { fallback: "deny" } } },
    elicit: { action: "accept", content: { confirm: true } },
  });
  try {
    await preparePve2(s);
    const args = { node: "pve2", with_local_disks: true };
    const since = await s.mark();
    const dry = await s.call("node_drain", { ...args, dry_run: true });
    assert.equal(dry.isError, undefined, textOf(dry));
    const plan = structuredOf<{ summary: string; calls: Record<string, unknown>[] }>(dry);
    const summary = plan.summary;
    assert.match(summary, /^Drain pve2: move 4 of 5 guest\(s\), one at a time\./);
    assert.match(summary, /- VM 101 \(web02\) → to pve\d, live through HA \(the most free memory/);
    assert.match(summary, /- CT 201 \(nginx-proxy\) → to pve\d, restart migration/);
    assert.match(summary, /- CT 203 \(build-runner\) → to pve\d, offline/);
    assert.match(summary, /- VM 9100 \(alpine-tmpl\) → to pve\d, offline/);
    assert.match(
      summary,
      /- VM 104 \(k8s-node1\) — refused: VM 104 \(k8s-node1\) has the CD-ROM image local:iso\/debian-12\.7\.0-amd64-netinst\.iso in ide2, on storage only pve2 has, so PVE will not migrate it: eject it first/,
    );
    assert.deepEqual(plan.calls.map((c) => `${c.method} ${c.path}`), [
      "POST /cluster/ha/resources/vm:101/migrate",
      "POST /nodes/pve2/lxc/201/migrate",
      "POST /nodes/pve2/lxc/203/migrate",
      "POST /nodes/pve2/qemu/9100/migrate",
    ]);
    assert.deepEqual(await s.writes(since), [], "a dry run moves nothing");
    assert.equal(s.elicitations.length, 0, "a dry run asks nobody");

    const result = await s.call("node_drain", args);
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(s.elicitations.length, 1, "the drain asked the user first");
    assert.match(String(s.elicitations[0]?.message), /Allow node_drain \(change\)/);
    const out = structuredOf(result);
    assert.equal(out.result, "ok");
    assert.equal(out.moved, 4);
    assert.equal(out.remaining, 1);
    const byVmid = rows(out);
    assert.equal(byVmid.get(101)?.outcome, "moved");
    assert.equal(byVmid.get(101)?.ha, true);
    assert.equal(byVmid.get(201)?.mode, "restart");
    assert.equal(byVmid.get(203)?.mode, "offline");
    assert.equal(byVmid.get(9100)?.outcome, "moved");
    assert.equal(byVmid.get(104)?.outcome, "refused");
    assert.match(String(byVmid.get(104)?.reason), /CD-ROM image local:iso/);
    assert.match(textOf(result), /Moved 4 guest\(s\) off pve2; 1 remain there\./);

    const state = s.sim.sim.state;
    for (const vmid of [101, 201, 203, 9100]) {
      assert.notEqual(state.guests.get(vmid)?.node, "pve2", `guest ${vmid} left pve2`);
      assert.equal(state.guests.get(vmid)?.node, byVmid.get(vmid)?.to);
    }
    assert.equal(state.guests.get(104)?.node, "pve2");
    assert.equal(state.guests.get(101)?.status, "running");
    assert.equal(state.guests.get(201)?.status, "running");
    assert.equal(state.ha.get("vm:101")?.motion, undefined, "the HA manager has finished");
    const writes = (await s.writes(since)).map((w) => `${w.method} ${w.path}`);
    assert.deepEqual(writes, plan.calls.map((c) => `${c.method} ${c.path}`));
    const haWrite = (await s.writes(since))[0];
    assert.deepEqual(haWrite?.body, { node: byVmid.get(101)?.to });

    const steps = (await s.auditLines()).map((line) => line.step).filter((x) => x !== undefined);
    assert.ok(
      steps.some((step) =>
        /^HA-migrate VM 101 \(web02\) from pve2 to pve\d \(live\)$/.test(String(step))
      ),
    );
    assert.ok(steps.some((step) => /^migrate CT 201 \(nginx-proxy\) from pve2/.test(String(step))));
  } finally {
    await s.close();
  }
});

Deno.test("node_drain is a change tool that still asks the user, and a declined drain moves nothing", async () => {
  const [row] = toolInventory([nodeDrain], { policy: { allow: ["change"] }, clusters: ["lab"] });
  assert.equal(row?.capability, "change");
  assert.equal(row?.confirmation, true);
  assert.equal(needsConfirmation(nodeDrain), true);
  const s = await openSession({
    tools,
    config: { policy: { confirmation: { fallback: "deny" } } },
    elicit: { action: "decline" },
  });
  try {
    const listed = (await s.listTools()).find((t) => t.name === "node_drain");
    assert.equal(listed?.annotations?.destructiveHint, false);
    assert.equal(listed?.annotations?.readOnlyHint, false);
    const result = await s.call("node_drain", { node: "pve2", with_local_disks: true });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /Not confirmed by the user: nothing was changed/);
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("node_drain refuses local disks without permission, leaves stopped guests when asked, and moves nothing it refused", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("node_drain", { node: "pve3", stopped: "leave" });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    const byVmid = rows(out);
    assert.equal(byVmid.get(103)?.outcome, "left");
    assert.equal(byVmid.get(204)?.outcome, "left");
    assert.equal(byVmid.get(105)?.outcome, "refused");
    assert.match(
      String(byVmid.get(105)?.reason),
      /has disks on local storage .*pass with_local_disks: true/,
    );
    assert.equal(byVmid.get(202)?.outcome, "refused");
    assert.equal(out.moved, 0);
    assert.equal(out.remaining, 4);
    assert.deepEqual(await s.writes(), []);

    const state = s.sim.sim.state;
    for (const name of ["pve1", "pve2"]) {
      const node = state.nodes.get(name);
      node?.network.splice(0);
      if (node !== undefined) delete node.networkPending;
    }
    const noBridge = await s.call("node_drain", { node: "pve3", with_local_disks: true });
    const stuck = rows(structuredOf(noBridge));
    assert.equal(stuck.get(105)?.outcome, "refused");
    assert.match(
      String(stuck.get(105)?.reason),
      /No node can take VM 105 \(k8s-node2\) \(pve1: Bridge "vmbr0" does not exist on node pve1; pve2: Bridge "vmbr0" does not exist on node pve2\)/,
    );
    assert.deepEqual(await s.writes(), []);

    const noTarget = await s.call("node_drain", { node: "pve3", targets: ["pve3"] });
    assert.equal(noTarget.isError, true);
    assert.match(textOf(noTarget), /targets names pve3, the node being drained/);
    const unknown = await s.call("node_drain", { node: "pve9" });
    assert.equal(unknown.isError, true);
    assert.match(textOf(unknown), /Node "pve9" is not in this cluster/);
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("a drain that stops at a failed migration says what moved, and its continuation moves only the rest", async () => {
  const s = await openSession({ tools });
  try {
    const fault = await fetch(`${s.sim.url}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({
        method: "POST",
        path: "/nodes/pve2/qemu/104/migrate",
        status: 500,
        reason: "can't migrate VM - storage replication busy",
      }),
    }).then((r) => r.json());
    const args = { node: "pve2", with_local_disks: true };
    const first = await s.call("node_drain", args);
    assert.equal(first.isError, true, textOf(first));
    const out = structuredOf(first);
    assert.equal(out.result, "failed");
    const byVmid = rows(out);
    assert.equal(byVmid.get(101)?.outcome, "moved");
    assert.equal(byVmid.get(104)?.outcome, "failed");
    assert.equal(byVmid.get(201)?.outcome, "not_run");
    assert.equal(byVmid.get(203)?.outcome, "not_run");
    assert.match(
      textOf(first),
      /Stopped draining pve2 after moving 1 guest\(s\): .*storage replication busy/,
    );
    assert.match(
      textOf(first),
      /continue with: node_drain \{"node":"pve2","with_local_disks":true\}/,
    );
    assert.equal(s.sim.sim.state.guests.get(104)?.node, "pve2");

    await fetch(`${s.sim.url}/_sim/faults/${fault.id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
    const since = await s.mark();
    const next = out.continue_with as { arguments: Record<string, unknown> };
    const second = await s.call("node_drain", next.arguments);
    assert.equal(second.isError, undefined, textOf(second));
    const again = structuredOf(second);
    assert.deepEqual((again.guests as Row[]).map((r) => r.vmid), [104, 201, 203]);
    assert.equal(again.remaining, 0);
    assert.match(textOf(second), /pve2 is empty: moved 3 guest\(s\)\./);
    assert.ok(
      !(await s.writes(since)).some((w) => w.path.includes("101")),
      "the guest moved by the first run is not moved again",
    );
  } finally {
    await s.close();
  }
});

Deno.test("a drain moves only guests in scope, onto nodes in scope", async () => {
  const s = await openSession({
    tools,
    config: { policy: { scope: { nodes: ["pve2", "pve3"] } } },
  });
  try {
    const result = await s.call("node_drain", { node: "pve2", with_local_disks: true });
    assert.equal(result.isError, undefined, textOf(result));
    for (const row of structuredOf(result).guests as Row[]) {
      assert.equal(row.to, "pve3", `guest ${row.vmid}`);
    }
    const outside = await s.call("node_drain", { node: "pve1", with_local_disks: true });
    assert.equal(outside.isError, true);
    assert.match(textOf(outside), /outside the scope/);
  } finally {
    await s.close();
  }
});

Deno.test("a drain planned while the HA manager is still moving a guest waits for that move instead of asking again", async () => {
  const s = await openSession({ tools, sim: { speed: 10 } });
  try {
    await s.pve.request("POST", "/cluster/ha/resources/vm:101/migrate", {
      params: { node: "pve3" },
    });
    const since = await s.mark();
    const result = await s.call("node_drain", {
      node: "pve2",
      with_local_disks: true,
      targets: ["pve1"],
      stopped: "leave",
    });
    assert.equal(result.isError, undefined, textOf(result));
    const web02 = rows(structuredOf(result)).get(101);
    assert.equal(web02?.outcome, "moved");
    assert.equal(web02?.to, "pve3", "it went where the HA manager was taking it");
    assert.match(String(web02?.upid), /:qmigrate:101:root@pam:$/);
    assert.ok(
      !(await s.writes(since)).some((w) => w.path.includes("101")),
      "the drain did not ask the HA manager a second time",
    );
    assert.equal(s.sim.sim.state.guests.get(101)?.node, "pve3");
  } finally {
    await s.close();
  }
});
