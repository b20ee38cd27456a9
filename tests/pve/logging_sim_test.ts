import assert from "node:assert/strict";
import { configureLogging, registerSecret, resetLogging } from "../../src/log.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { FAST, fault, withSim } from "./_sim.ts";

const PLANTED_TICKET = "PVE:root@pam:66B0E3C2::k8Tq+plant/def==";
const PLANTED_TOKEN_SECRET = "5b1f0c9e-7d21-4c3a-9f00-planted00001";
const PLANTED_KNOWN = "hunter2-known-but-shapeless";

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
        // Secrets planted where the client logs them: an upstream error text that the retry's
        // debug line quotes. Only the log's redaction layers stand between them and the sink:
        // the patterns (a ticket, another token's secret) and the registered secrets (a value
        // of no recognisable shape).
        registerSecret(PLANTED_KNOWN);
        await fault(sim, {
          method: "GET",
          path: "/version",
          status: 503,
          reason: `proxy saw Cookie PVEAuthCookie=${PLANTED_TICKET} for ` +
            `root@pam!other=${PLANTED_TOKEN_SECRET}, config ${PLANTED_KNOWN}`,
          count: 1,
        });
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
      const retry = lines.find((l) => /Retrying GET \/version/.test(l));
      assert.ok(retry !== undefined, "the planted text was logged");
      assert.match(retry, /proxy saw Cookie PVEAuthCookie=\[redacted\]/);
      assert.match(retry, /root@pam!other=\[redacted\]/);
      const all = lines.join("\n");
      for (const planted of [PLANTED_TICKET, PLANTED_TOKEN_SECRET, PLANTED_KNOWN, "k8Tq+plant"]) {
        assert.ok(!all.includes(planted), `${planted} reached the log`);
      }
      assert.ok(!all.includes(sim.credentials.password));
      assert.ok(!all.includes("PVE:root@pam:"));
      assert.ok(!/PVEAuthCookie=(?!\[redacted\])/.test(all));
    });
  } finally {
    await resetLogging();
  }
});
