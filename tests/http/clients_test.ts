import assert from "node:assert/strict";
import { PveClient } from "../../src/pve/mod.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { textOf } from "../server/_harness.ts";
import {
  connectHttp,
  type HttpClientOptions,
  type HttpSession,
  startServer,
  type TestServer,
  TOKENS,
} from "./_http.ts";

const ERAS = ["legacy", "modern", "v1"] as const;

/** A server on the demo simulator with the real tools and the two test profiles. */
async function withSimulatorServer(
  options: { speed?: number | "instant" },
  body: (server: TestServer, sim: SimulatorHandle) => Promise<void>,
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
  const { defaultProfiles } = await import("./_http.ts");
  const profiles = await defaultProfiles() as Record<string, { policy: Record<string, unknown> }>;
  profiles.ops!.policy = { allow: ["read", "lifecycle", "destroy"], scope: { vmids: ["100-199"] } };
  const server = await startServer({
    tools: allTools,
    clients: new Map([["lab", client]]),
    config: { clusters: { lab: { url: sim.url, ...credentials } }, profiles },
  });
  try {
    await body(server, sim);
  } finally {
    await server.close();
    client.close();
    await sim.close();
  }
}

async function session(
  server: TestServer,
  options: HttpClientOptions,
  body: (session: HttpSession) => Promise<void>,
): Promise<void> {
  const connected = await connectHttp(server.url, options);
  try {
    await body(connected);
  } finally {
    await connected.close();
  }
}

async function auditLines(
  server: TestServer,
  count: number,
): Promise<Array<Record<string, unknown>>> {
  let lines: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 300 && lines.length < count; i++) {
    lines = await server.auditLines();
    if (lines.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return lines;
}

for (const era of ERAS) {
  Deno.test(`${era} client over HTTP sees only its profile's tools: viewer reads, ops may write`, async () => {
    const server = await startServer();
    try {
      await session(server, { era, token: TOKENS.viewer }, async (viewer) => {
        assert.deepEqual((await viewer.listTools()).map((tool) => tool.name).sort(), [
          "probe_bug",
          "probe_read",
        ]);
        const result = await viewer.call("probe_read", {});
        assert.deepEqual(result.structuredContent, { ok: true, cluster: "lab" });
        const refused = await viewer.call("probe_change", { vmid: 150 });
        assert.equal(refused.isError, true);
        assert.match(textOf(refused), /needs capability "change"/);
      });
      await session(server, { era, token: TOKENS.ops }, async (ops) => {
        assert.deepEqual((await ops.listTools()).map((tool) => tool.name).sort(), [
          "probe_bug",
          "probe_change",
          "probe_destroy",
          "probe_read",
        ]);
        const inScope = await ops.call("probe_change", { vmid: 150 });
        assert.equal(inScope.isError, undefined, textOf(inScope));
        const outOfScope = await ops.call("probe_change", { vmid: 250 });
        assert.equal(outOfScope.isError, true);
        assert.match(textOf(outOfScope), /250/);
      });
      const lines = await server.auditLines();
      assert.deepEqual(lines.map((line) => [line.profile, line.tool, line.outcome]), [
        ["viewer", "probe_change", "denied"],
        ["ops", "probe_change", "ok"],
        ["ops", "probe_change", "denied"],
      ]);
      for (const line of lines) {
        const raw = JSON.stringify(line);
        assert.ok(!raw.includes(TOKENS.ops) && !raw.includes(TOKENS.viewer), "no token in audit");
      }
    } finally {
      await server.close();
    }
  });

  Deno.test(`${era} client over HTTP gets task progress from guest_start`, async () => {
    await withSimulatorServer({ speed: 20 }, async (server) => {
      await session(server, { era, token: TOKENS.ops }, async (ops) => {
        const progress: string[] = [];
        const result = await ops.call("guest_start", { vmid: 103 }, {
          onprogress: (p) => progress.push(p.message ?? ""),
        });
        assert.equal(result.isError, undefined, textOf(result));
        assert.ok(
          progress.some((message) => message.startsWith("Waiting for task UPID:")),
          progress.join("|"),
        );
      });
      const [line] = await server.auditLines();
      assert.equal(line?.profile, "ops");
      assert.equal(line?.outcome, "ok");
      assert.match(String(line?.upid), /:qmstart:/);
    });
  });

  Deno.test(`${era} client over HTTP confirms a destroy-class call before it runs`, async () => {
    await withSimulatorServer({}, async (server) => {
      await session(server, {
        era,
        token: TOKENS.ops,
        elicit: { action: "decline" },
      }, async (ops) => {
        const declined = await ops.call("guest_stop", { vmid: 100 });
        assert.equal(declined.isError, true);
        assert.match(textOf(declined), /Not confirmed/);
      });
      await session(server, {
        era,
        token: TOKENS.ops,
        elicit: { action: "accept", content: { confirm: true } },
      }, async (ops) => {
        const stopped = await ops.call("guest_stop", { vmid: 100 });
        assert.equal(stopped.isError, undefined, textOf(stopped));
        assert.ok(ops.elicitations.length >= 1);
      });
      const lines = await server.auditLines();
      assert.deepEqual(lines.map((line) => [line.profile, line.tool, line.outcome]), [
        ["ops", "guest_stop", "denied"],
        ["ops", "guest_stop", "ok"],
      ]);
    });
  });
}

for (const era of ["legacy", "modern"] as const) {
  Deno.test(`${era} client over HTTP cancels a call: the wait stops, the audit says cancelled, the task goes on`, async () => {
    await withSimulatorServer({ speed: 0.5 }, async (server, sim) => {
      await session(server, { era, token: TOKENS.ops }, async (ops) => {
        const abort = new AbortController();
        await assert.rejects(
          ops.call("guest_start", { vmid: 103 }, {
            signal: abort.signal,
            onprogress: (progress) => {
              if (progress.message?.startsWith("Waiting for task")) abort.abort();
            },
          }),
        );
        const [line] = await auditLines(server, 1);
        assert.equal(line?.outcome, "cancelled");
        assert.equal(line?.profile, "ops");
        const upid = String(line?.upid);
        const status = await fetch(
          `${sim.api}/nodes/pve3/tasks/${encodeURIComponent(upid)}/status`,
          {
            headers: {
              Authorization:
                `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`,
            },
          },
        ).then((r) => r.json());
        assert.equal(status.data.status, "running");
      });
    });
  });
}

Deno.test("shutdown waits for a modern-era call that has not answered yet, though it sends no progress", async () => {
  await withSimulatorServer({ speed: 2 }, async (server, sim) => {
    await session(server, { era: "modern", token: TOKENS.ops }, async (ops) => {
      // No progress token: the answer (and the HTTP response) comes only when the call is done.
      const call = ops.call("guest_start", { vmid: 103 });
      for (let i = 0; i < 500 && !(await startSent(sim)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(await startSent(sim), "the start request reached the simulator");
      const stopping = server.handle.shutdown(20_000);
      const result = await call;
      assert.equal(result.isError, undefined, textOf(result));
      assert.deepEqual(await stopping, { unfinished: 0 });
    });
  });
});

async function startSent(sim: SimulatorHandle): Promise<boolean> {
  const body = await fetch(`${sim.url}/_sim/requests`).then((r) => r.json());
  const list = (Array.isArray(body) ? body : body.requests ?? body.data) as Array<
    { method: string; path: string }
  >;
  return list.some((r) => r.method === "POST" && r.path.endsWith("/qemu/103/status/start"));
}

Deno.test("shutdown lets a call in flight finish and refuses new calls meanwhile", async () => {
  await withSimulatorServer({ speed: 2 }, async (server) => {
    await session(server, { era: "legacy", token: TOKENS.ops }, async (ops) => {
      const { promise: waiting, resolve } = Promise.withResolvers<void>();
      const call = ops.call("guest_start", { vmid: 103 }, {
        onprogress: (progress) => {
          if (progress.message?.startsWith("Waiting for task")) resolve();
        },
      });
      await waiting;
      const stopping = server.handle.shutdown(20_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await assert.rejects(ops.call("cluster_status", {}), /shutting down/);
      const result = await call;
      assert.equal(result.isError, undefined, textOf(result));
      assert.deepEqual(await stopping, { unfinished: 0 });
    });
  });
});
