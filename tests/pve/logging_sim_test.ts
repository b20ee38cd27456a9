import assert from "node:assert/strict";
import { configureLogging, resetLogging } from "../../src/log.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { FAST, fault, withSim } from "./_sim.ts";

const dir = new URL("../fixtures/tls/", import.meta.url);
const cert = await Deno.readTextFile(new URL("server.pem", dir));
const key = await Deno.readTextFile(new URL("server.key", dir));

Deno.test("the insecure switch warns once, and no log line carries a secret or ticket", async () => {
  const lines: string[] = [];
  await configureLogging({ level: "debug", write: (line) => lines.push(line) });
  try {
    await withSim({ speed: "instant", cert, key }, async (sim) => {
      const options = {
        url: sim.url,
        username: sim.credentials.user,
        password: sim.credentials.password,
        insecure: true,
        retry: { baseDelayMs: 1 },
      };
      const first = new PveClient(options);
      const second = new PveClient(options);
      try {
        await fault(sim, { method: "GET", path: "/nodes", status: 401, count: 1 });
        await first.get("/nodes");
        await fault(sim, { method: "GET", path: "/version", status: 503, count: 1 });
        await second.version();
        const upid = await first.post<string>("/nodes/pve1/qemu/100/status/shutdown");
        await first.waitForTask(upid, FAST);
      } finally {
        first.close();
        second.close();
      }
      const warnings = lines.filter((l) => /certificate verification is disabled/.test(l));
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0]?.includes(new URL(sim.url).host));
      assert.ok(lines.some((l) => /logging in again/.test(l)));
      assert.ok(lines.some((l) => /Retrying GET \/version/.test(l)));
      const all = lines.join("\n");
      assert.ok(!all.includes(sim.credentials.password));
      assert.ok(!all.includes("PVE:root@pam:"));
      assert.ok(!/PVEAuthCookie=/.test(all));
    });
  } finally {
    await resetLogging();
  }
});
