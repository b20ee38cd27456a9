import assert from "node:assert/strict";
import { PveClient } from "../../src/pve/mod.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { toolSets } from "../../src/tools/sets.ts";
import { connect, type ConnectOptions, type Session, textOf } from "./_harness.ts";

const ERAS = ["legacy", "modern", "v1"] as const;
const WRITE = { allow: ["read", "lifecycle", "change", "destroy"] };

async function withRealTools(
  options: Omit<ConnectOptions, "tools" | "clients" | "config"> & {
    policy?: Record<string, unknown>;
    speed?: number | "instant";
  },
  body: (session: Session, sim: SimulatorHandle) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({
    seed: "demo",
    speed: options.speed ?? "instant",
    log: () => {},
  });
  const credentials = {
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
  };
  const client = new PveClient({ url: sim.url, ...credentials, name: "lab" });
  const { policy, speed: _speed, ...rest } = options;
  const session = await connect({
    ...rest,
    tools: allTools,
    clients: new Map([["lab", client]]),
    config: {
      clusters: { lab: { url: sim.url, ...credentials } },
      ...(policy === undefined ? {} : { policy }),
    },
  });
  try {
    await body(session, sim);
  } finally {
    await session.close();
    client.close();
    await sim.close();
  }
}

async function writesSeen(sim: SimulatorHandle): Promise<string[]> {
  const body = await fetch(`${sim.url}/_sim/requests`).then((r) => r.json());
  const list = (Array.isArray(body) ? body : body.requests ?? body.data) as Array<
    { method: string; path: string }
  >;
  return list.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
}

for (const era of ERAS) {
  Deno.test(`${era} client: every read tool of the default toolsets is listed and cluster_status answers`, async () => {
    await withRealTools({ era }, async (session) => {
      const listed = (await session.listTools()).map((tool) => tool.name);
      const reads = toolSets(allTools).default;
      assert.deepEqual(listed, reads);
      const result = await session.call("cluster_status");
      assert.equal(result.isError, undefined, textOf(result));
      assert.equal(result.structuredContent?.nodes_total, 3);
      assert.ok(textOf(result).length > 0);
    });
  });

  Deno.test(`${era} client: a real dry run validates against the advertised schema and writes nothing`, async () => {
    await withRealTools({ era, policy: WRITE }, async (session, sim) => {
      const result = await session.call("guest_stop", { vmid: 100, dry_run: true });
      assert.equal(result.isError, undefined, textOf(result));
      assert.equal(result.structuredContent?.dry_run, true);
      const calls = result.structuredContent?.calls as Array<{ method: string; path: string }>;
      assert.deepEqual(calls.map((c) => `${c.method} ${c.path}`), [
        "POST /nodes/pve1/qemu/100/status/stop",
      ]);
      assert.deepEqual(await writesSeen(sim), []);
    });
  });
}

Deno.test("guest_start on the simulator waits for its task with progress and audits the UPID", async () => {
  await withRealTools({ policy: WRITE, speed: 20 }, async (session) => {
    const progress: string[] = [];
    const stopped = (await session.call("guest_list", {})).structuredContent?.guests as Array<
      { vmid: number; status: string; type: string }
    >;
    const target = stopped.find((g) => g.status === "stopped" && g.type === "qemu");
    assert.ok(target !== undefined, "the demo has a stopped VM");
    const result = await session.call("guest_start", { vmid: target.vmid }, {
      onprogress: (p) => progress.push(p.message ?? ""),
    });
    assert.equal(result.isError, undefined, textOf(result));
    assert.ok(progress.some((message) => message.startsWith("Waiting for task UPID:")));
    const [line] = await session.auditLines();
    assert.equal(line?.tool, "guest_start");
    assert.equal(line?.outcome, "ok");
    assert.match(String(line?.upid), /:qmstart:/);
  });
});

Deno.test("snapshot_delete asks the user first and deletes only after accept", async () => {
  await withRealTools({
    policy: WRITE,
    elicit: { action: "accept", content: { confirm: true } },
  }, async (session, sim) => {
    const created = await session.call("snapshot_create", { vmid: 100, snapshot: "mcp_test" });
    assert.equal(created.isError, undefined, textOf(created));
    const deleted = await session.call("snapshot_delete", { vmid: 100, snapshot: "mcp_test" });
    assert.equal(deleted.isError, undefined, textOf(deleted));
    assert.equal(session.elicitations.length, 1);
    assert.match(String(session.elicitations[0]?.message), /snapshot_delete \(destroy\)/);
    assert.ok((await writesSeen(sim)).some((w) => w.startsWith("DELETE ")));
    const outcomes = (await session.auditLines()).map((line) => `${line.tool}:${line.outcome}`);
    assert.deepEqual(outcomes, ["snapshot_create:ok", "snapshot_delete:ok"]);
  });
});
