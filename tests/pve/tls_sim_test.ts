import assert from "node:assert/strict";
import { PveClient, PveTlsError } from "../../src/pve/mod.ts";
import { withSim } from "./_sim.ts";

const dir = new URL("../fixtures/tls/", import.meta.url);
const cert = await Deno.readTextFile(new URL("server.pem", dir));
const key = await Deno.readTextFile(new URL("server.key", dir));
const ca = await Deno.readTextFile(new URL("ca.pem", dir));

function client(url: string, extra: { caCert?: string; insecure?: boolean }): PveClient {
  return new PveClient({
    url,
    token: "root@pam!mcp=3f7a1c52-8d4e-4b9a-a6f1-2c5e7d9b0a14",
    retry: { baseDelayMs: 1 },
    ...extra,
  });
}

Deno.test("HTTPS with the cluster's CA file is trusted, for reads and writes", async () => {
  await withSim({ speed: "instant", cert, key }, async (sim) => {
    assert.ok(sim.url.startsWith("https://"));
    for (const url of [sim.url, sim.url.replace("127.0.0.1", "localhost")]) {
      const pve = client(url, { caCert: ca });
      try {
        assert.equal((await pve.version()).release, "9.1");
        const upid = await pve.post<string>("/nodes/pve1/qemu/100/status/shutdown");
        assert.match(upid, /^UPID:/);
      } finally {
        pve.close();
      }
    }
  });
});

Deno.test("HTTPS without the CA is refused with a PveTlsError that names the fix", async () => {
  await withSim({ speed: "instant", cert, key }, async (sim) => {
    const pve = client(sim.url, {});
    try {
      await assert.rejects(pve.version(), (error: unknown) => {
        assert.ok(error instanceof PveTlsError);
        assert.equal(error.name, "PveTlsError");
        assert.match(error.message, /not signed by a trusted CA/);
        assert.match(error.message, /pve-root-ca\.pem/);
        assert.match(error.message, /insecure/);
        assert.ok(error.cause !== undefined);
        return true;
      });
    } finally {
      pve.close();
    }
  });
});

Deno.test("HTTPS with the explicit insecure switch is accepted, for reads and writes", async () => {
  await withSim({ speed: "instant", cert, key }, async (sim) => {
    const pve = client(sim.url, { insecure: true });
    try {
      assert.equal((await pve.version()).isPve9, true);
      await Promise.all([pve.get("/nodes"), pve.get("/cluster/resources")]);
      const upid = await pve.post<string>("/nodes/pve1/qemu/100/status/shutdown");
      assert.equal((await pve.waitForTask(upid, { pollIntervalsMs: [1] })).state, "ok");
    } finally {
      pve.close();
    }
  });
});
