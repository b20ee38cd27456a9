import assert from "node:assert/strict";
import { sha256Hex } from "../../src/config/mod.ts";
import { startSimulator } from "../../src/simulator/mod.ts";
import { textOf } from "../server/_harness.ts";
import { connectHttp, INITIALIZE, post } from "./_http.ts";
import { type ServerProcess, startServeProcess } from "./_process.ts";
import { redisAvailable, startRedis } from "./_redis.ts";

const TOKEN = "replica-test-token-0123456789";
const ACCEPT = { confirm: { action: "accept", content: { confirm: true } } };

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test({
  name:
    "two replicas sharing Redis: a confirmation used on one is refused on the other, rate limits hold across both, and a 2025 session follows its replica",
  ignore: !redisAvailable(),
  async fn() {
    const redis = await startRedis();
    const sim = await startSimulator({ seed: "demo", speed: "instant", log: () => {} });
    const config = await Deno.makeTempFile({ suffix: ".json" });
    const audit = await Deno.makeTempFile({ suffix: ".jsonl" });
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        clusters: {
          lab: {
            url: sim.url,
            tokenId: sim.credentials.tokenId,
            tokenSecret: sim.credentials.tokenSecret,
          },
        },
        audit: { path: audit },
        http: { redisUrl: redis.url },
        profiles: {
          ops: {
            tokenSha256: [await sha256Hex(TOKEN)],
            policy: { allow: ["read", "lifecycle", "destroy"] },
            rateLimit: { calls: { perMinute: 1, burst: 8 }, writes: { perMinute: 1, burst: 5 } },
          },
        },
      }),
    );
    await Deno.chmod(config, 0o600);
    const replicas: ServerProcess[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const port = freePort();
        replicas.push(
          await startServeProcess(["--config", config, "--http", `127.0.0.1:${port}`], {
            env: { PROXMOX_MCP_REPLICA_URL: `http://127.0.0.1:${port}` },
          }),
        );
      }
      const [a, b] = replicas as [ServerProcess, ServerProcess];

      // A confirmation state minted by A confirms on B (one shared key), once.
      const onA = await connectHttp(a.url, {
        era: "modern",
        token: TOKEN,
        elicit: { action: "accept", content: { confirm: true } },
        manualInputRequired: true,
      });
      const onB = await connectHttp(b.url, {
        era: "modern",
        token: TOKEN,
        elicit: { action: "accept", content: { confirm: true } },
        manualInputRequired: true,
      });
      try {
        const asked = await onA.call("guest_stop", { vmid: 100 }, { allowInputRequired: true });
        assert.equal(asked.resultType, "input_required");
        const retry = { inputResponses: ACCEPT, requestState: asked.requestState };
        const ran = await onB.call("guest_stop", { vmid: 100 }, {
          params: retry,
          allowInputRequired: true,
        });
        assert.equal(ran.isError, undefined, textOf(ran));
        assert.equal(ran.resultType, undefined);
        const replayed = await onA.call("guest_stop", { vmid: 100 }, {
          params: retry,
          allowInputRequired: true,
        });
        assert.equal(
          replayed.resultType,
          "input_required",
          "a used confirmation must not confirm again on the other replica",
        );

        // Writes: burst 5 across both replicas (each round of the confirmation above took one).
        assert.equal((await onA.call("guest_start", { vmid: 100 })).isError, undefined);
        assert.equal((await onB.call("guest_start", { vmid: 103 })).isError, undefined);
        await assert.rejects(onA.call("guest_start", { vmid: 104 }), /Rate limit reached/);
        await assert.rejects(onB.call("guest_start", { vmid: 104 }), /Rate limit reached/);
        // Calls: burst 8 across both (5 writes ran or asked; refused writes take none).
        assert.equal((await onB.call("cluster_status", {})).isError, undefined);
        assert.equal((await onA.call("cluster_status", {})).isError, undefined);
        assert.equal((await onB.call("cluster_status", {})).isError, undefined);
        await assert.rejects(onA.call("cluster_status", {}), /Rate limit reached/);
        await assert.rejects(onB.call("cluster_status", {}), /Rate limit reached/);
      } finally {
        await onA.close();
        await onB.close();
      }

      // A 2025-era session opened on A is served through B (forwarded to its replica).
      const opened = await post(a.url, INITIALIZE, { authorization: `Bearer ${TOKEN}` });
      const id = opened.headers.get("mcp-session-id");
      await opened.body?.cancel();
      assert.ok(id !== null);
      const headers = {
        authorization: `Bearer ${TOKEN}`,
        "mcp-session-id": id,
        "mcp-protocol-version": "2025-11-25",
      };
      const listed = await post(b.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, headers);
      assert.equal(listed.status, 200);
      assert.match(await listed.text(), /guest_stop/);
      const closed = await fetch(b.url, { method: "DELETE", headers });
      assert.equal(closed.status, 200);
      await closed.body?.cancel();
      const gone = await post(a.url, { jsonrpc: "2.0", id: 3, method: "tools/list" }, headers);
      assert.equal(gone.status, 404);
      await gone.body?.cancel();

      const lines = (await Deno.readTextFile(audit)).split("\n").filter(Boolean).map((line) =>
        JSON.parse(line)
      );
      const stops = lines.filter((line) => line.tool === "guest_stop" && line.outcome === "ok");
      assert.equal(stops.length, 1, "the stop ran once");
      assert.ok(lines.every((line) => line.profile === "ops"));
      assert.equal(
        lines.filter((line) => line.outcome === "denied" && /Rate limit/.test(line.error)).length,
        2,
      );
    } finally {
      for (const replica of replicas) await replica.stop();
      await sim.close();
      await redis.close();
      await Deno.remove(config);
      await Deno.remove(audit);
    }
  },
});
