import assert from "node:assert/strict";
import { guestsRollingRestart } from "../../src/tools/workflows/guests_rolling_restart.ts";
import { openSession, type SimSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [guestsRollingRestart];

interface Row {
  vmid: number;
  outcome: string;
  status?: string;
  agent_answers?: boolean;
  reason?: string;
}

function rows(result: Record<string, unknown>): Map<number, Row> {
  return new Map((result.guests as Row[]).map((r) => [r.vmid, r]));
}

async function plantStartFailure(s: SimSession, vmid: number): Promise<void> {
  const response = await fetch(`${s.sim.url}/_sim/guests/${vmid}/start-failure`, {
    method: "POST",
    body: "{}",
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
}

/** Power actions the simulator served since `since` (agent pings left out). */
async function powerWrites(s: SimSession, since = 0): Promise<string[]> {
  return (await s.writes(since)).filter((w) => w.path.includes("/status/")).map((w) =>
    `${w.path.split("/")[4]} ${w.path.split("/").pop()}`
  );
}

Deno.test("a rolling restart stops at a guest that fails to start, says what was done and not, and its continuation finishes the rest", async () => {
  const s = await openSession({ tools });
  try {
    await plantStartFailure(s, 200);
    const result = await s.call("guests_rolling_restart", { vmids: [100, 200, 202] });
    assert.equal(result.isError, true, textOf(result));
    const out = structuredOf(result);
    assert.equal(out.result, "failed");
    const byVmid = rows(out);
    assert.equal(byVmid.get(100)?.outcome, "restarted");
    assert.equal(byVmid.get(100)?.agent_answers, true);
    assert.equal(byVmid.get(200)?.outcome, "failed");
    assert.equal(byVmid.get(200)?.status, "stopped");
    assert.equal(byVmid.get(202)?.outcome, "not_run");
    const text = textOf(result);
    assert.match(
      text,
      /^Stopped the rolling restart of guests 100, 200, 202 at CT 200 \(pihole\): its start failed \(task UPID:pve1:[^)]+:vzstart:200:[^)]+\): startup for container '200' failed/,
    );
    assert.match(
      text,
      /Done: VM 100 \(web01\)\. Not done: CT 200 \(pihole\), CT 202 \(grafana\)\./,
    );
    assert.match(text, /CT 200 \(pihole\) is stopped now\./);
    assert.deepEqual(await powerWrites(s), [
      "100 shutdown",
      "100 start",
      "200 shutdown",
      "200 start",
    ]);

    const next = out.continue_with as { tool: string; arguments: Record<string, unknown> };
    assert.equal(next.tool, "guests_rolling_restart");
    assert.deepEqual(next.arguments.vmids, [200, 202]);
    assert.equal(next.arguments.include_stopped, true);
    assert.equal(typeof next.arguments.restarted_since, "number");
    const since = await s.mark();
    const resumed = await s.call("guests_rolling_restart", next.arguments);
    assert.equal(resumed.isError, undefined, textOf(resumed));
    const done = rows(structuredOf(resumed));
    assert.equal(done.get(200)?.outcome, "started");
    assert.equal(done.get(202)?.outcome, "restarted");
    assert.deepEqual(await powerWrites(s, since), ["200 start", "202 shutdown", "202 start"]);
    assert.equal(s.sim.sim.state.guests.get(200)?.status, "running");
  } finally {
    await s.close();
  }
});

Deno.test("a rolling restart by tag takes batch_size guests at a time and audits each action", async () => {
  const s = await openSession({ tools });
  try {
    const progress: string[] = [];
    const result = await s.call("guests_rolling_restart", { tag: "infra", batch_size: 2 }, {
      onprogress: (p) => progress.push(p.message ?? ""),
    });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    assert.equal(out.restarted, 2);
    assert.ok(
      progress.includes("Batch 1: CT 200 (pihole), CT 201 (nginx-proxy)"),
      progress.join("\n"),
    );
    const steps = (await s.auditLines()).map((l) => l.step).filter((x) => x !== undefined);
    assert.deepEqual(steps.sort(), [
      "shut down CT 200 (pihole)",
      "shut down CT 201 (nginx-proxy)",
      "start CT 200 (pihole)",
      "start CT 201 (nginx-proxy)",
    ]);
  } finally {
    await s.close();
  }
});

Deno.test("an HA-managed guest whose agent does not answer ends the run as a timeout, and its continuation only checks it", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("guests_rolling_restart", { vmids: [101], agent_seconds: 1 });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf(result);
    assert.equal(out.result, "timeout");
    const row = rows(out).get(101);
    assert.equal(row?.outcome, "timeout");
    assert.equal(row?.agent_answers, false);
    assert.match(textOf(result), /its guest agent did not answer within 1 s/);
    assert.deepEqual(await powerWrites(s), ["101 shutdown", "101 start"]);
    assert.equal(s.sim.sim.state.guests.get(101)?.status, "running");

    const next = out.continue_with as { arguments: Record<string, unknown> };
    const since = await s.mark();
    const again = await s.call("guests_rolling_restart", next.arguments);
    assert.equal(rows(structuredOf(again)).get(101)?.outcome, "timeout");
    assert.deepEqual(
      await powerWrites(s, since),
      [],
      "a guest started since the run is not restarted",
    );
  } finally {
    await s.close();
  }
});

Deno.test("the wait for a guest's agent is capped by policy.wait.maxSeconds, as every wait a call asks for", async () => {
  // Found by the fuzz suite: agent_seconds (default 120 per guest) ignored the policy's maximum,
  // so a call with maxSeconds 10 ran for minutes.
  const s = await openSession({
    tools,
    config: { policy: { wait: { defaultSeconds: 1, maxSeconds: 1 } } },
  });
  try {
    const result = await s.call("guests_rolling_restart", { vmids: [101] });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(rows(structuredOf(result)).get(101)?.outcome, "timeout");
    assert.match(textOf(result), /its guest agent did not answer within 1 s/);
  } finally {
    await s.close();
  }
});

Deno.test("an agent ping whose connection drops is asked again, not reported as a failed guest", async () => {
  const s = await openSession({ tools });
  try {
    const fault = await fetch(`${s.sim.url}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({
        method: "POST",
        path: "/nodes/pve1/qemu/100/agent/ping",
        reset: true,
        count: 1,
      }),
    });
    assert.equal(fault.status, 200);
    await fault.body?.cancel();
    const result = await s.call("guests_rolling_restart", { vmids: [100] });
    assert.equal(result.isError, undefined, textOf(result));
    const web01 = rows(structuredOf(result)).get(100);
    assert.equal(web01?.outcome, "restarted", textOf(result));
    assert.equal(web01?.agent_answers, true);
    const pings = (await s.writes()).filter((w) => w.path.endsWith("/agent/ping"));
    assert.equal(pings.length, 2, "the dropped ping, then the answered one");
  } finally {
    await s.close();
  }
});

Deno.test("a rolling restart skips templates and stopped guests unless include_stopped", async () => {
  const s = await openSession({ tools });
  try {
    const dry = await s.call("guests_rolling_restart", {
      vmids: [9000, 203, 202],
      dry_run: true,
    });
    assert.equal(dry.isError, undefined, textOf(dry));
    const plan = structuredOf<{ summary: string; calls: { path: string }[] }>(dry);
    assert.match(plan.summary, /VM 9000 \(debian12-tmpl\) on pve1 \(skip: a template\)/);
    assert.match(plan.summary, /CT 203 \(build-runner\) on pve2 \(skip: stopped/);
    assert.deepEqual(plan.calls.map((c) => c.path), [
      "/nodes/pve3/lxc/202/status/shutdown",
      "/nodes/pve3/lxc/202/status/start",
    ]);
    const byPool = await s.call("guests_rolling_restart", { pool: "prod", dry_run: true });
    assert.match(
      structuredOf<{ summary: string }>(byPool).summary,
      /^Rolling restart of pool prod, 1 at a time: VM 100 \(web01\).*VM 101 \(web02\).*VM 102 \(db01\).*CT 201 \(nginx-proxy\)/,
    );
    const started = await s.call("guests_rolling_restart", {
      vmids: [203],
      include_stopped: true,
    });
    assert.equal(rows(structuredOf(started)).get(203)?.outcome, "started");
    assert.deepEqual(await powerWrites(s), ["203 start"]);
  } finally {
    await s.close();
  }
});

Deno.test("guests_rolling_restart refuses an unclear or empty selection before doing anything", async () => {
  const s = await openSession({
    tools,
    config: { policy: { scope: { tags: ["web", "infra"] } } },
  });
  try {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /give exactly one of tag, pool or vmids/],
      [{ tag: "web", pool: "prod" }, /give exactly one of tag, pool or vmids/],
      [{ pool: "nope" }, /Pool "nope" does not exist/],
      [{ tag: "k8s" }, /No guest matches tag k8s within this server's scope/],
      [{ vmids: [104] }, /outside the scope/],
    ];
    for (const [args, message] of cases) {
      const result = await s.call("guests_rolling_restart", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), message);
    }
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});
