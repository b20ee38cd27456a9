import assert from "node:assert/strict";
import {
  PveClient,
  PveConnectionError,
  PveError,
  PveNotFoundError,
  PveOutcomeUnknownError,
  pvePath,
  PvePermissionError,
  PveTimeoutError,
  PveTlsError,
  PveUnknownTaskError,
  PveValidationError,
} from "../../src/pve/mod.ts";
import { control, fault, requests, tokenClient, withSim } from "./_sim.ts";

const AUDITOR = { tokenId: "auditor@pve!ro", tokenSecret: "a1b2c3d4-0000-4000-8000-000000000001" };

Deno.test("a 400 is a PveValidationError carrying PVE's per-parameter errors", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await assert.rejects(pve.get("/cluster/resources", { type: "bogus" }), (error: unknown) => {
        assert.ok(error instanceof PveValidationError);
        assert.equal(error.status, 400);
        assert.equal(error.method, "GET");
        assert.equal(error.path, "/cluster/resources");
        assert.match(error.errors.type ?? "", /enumeration/);
        return true;
      });
      await assert.rejects(
        pve.post("/nodes/pve1/qemu/100/status/start", { bogus: 1 }),
        PveValidationError,
      );
    } finally {
      pve.close();
    }
  });
});

Deno.test("a 403 is a PvePermissionError naming the privilege and path to grant", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = new PveClient({ url: sim.url, ...AUDITOR });
    try {
      await assert.rejects(pve.post("/nodes/pve1/qemu/100/status/stop"), (error: unknown) => {
        assert.ok(error instanceof PvePermissionError);
        assert.equal(error.status, 403);
        assert.equal(error.privilege, "VM.PowerMgmt");
        assert.equal(error.aclPath, "/vms/100");
        assert.match(
          error.message,
          /grant "auditor@pve!ro" a role with VM\.PowerMgmt on \/vms\/100/,
        );
        assert.ok(!error.message.includes(AUDITOR.tokenSecret));
        return true;
      });
    } finally {
      pve.close();
    }
  });
});

Deno.test("a missing guest and an unknown endpoint are PveNotFoundErrors", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await assert.rejects(
        pve.get(pvePath`/nodes/pve1/qemu/${999}/status/current`),
        (error: unknown) => {
          assert.ok(error instanceof PveNotFoundError);
          assert.equal(error.status, 500);
          assert.match(error.pveMessage ?? "", /does not exist/);
          return true;
        },
      );
      await assert.rejects(pve.get("/nodes/pve1/nonsense"), (error: unknown) => {
        assert.ok(error instanceof PveNotFoundError);
        assert.equal(error.status, 501);
        return true;
      });
      await assert.rejects(pve.resolveGuest(4242), PveNotFoundError);
      await assert.rejects(pve.resolveGuest("no-such-guest"), PveNotFoundError);
    } finally {
      pve.close();
    }
  });
});

Deno.test("a 500 from a handler keeps PVE's message and is not retried", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await assert.rejects(pve.post("/nodes/pve1/qemu/9000/status/reboot"), (error: unknown) => {
        assert.ok(error instanceof PveError);
        assert.equal(error.status, 500);
        assert.match(error.message, /not running/);
        return true;
      });
      const log = await requests(sim);
      assert.equal(log.filter((r) => r.path.endsWith("/status/reboot")).length, 1);
    } finally {
      pve.close();
    }
  });
});

Deno.test("an offline node answers 595 and the error names the node", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await control(sim, "POST", "/_sim/nodes/pve2/offline");
      await assert.rejects(pve.get("/nodes/pve2/status"), (error: unknown) => {
        assert.ok(error instanceof PveConnectionError);
        assert.equal(error.status, 595);
        assert.equal(error.node, "pve2");
        assert.match(error.message, /node "pve2"/);
        assert.match(error.message, /offline/);
        return true;
      });
      // A GET on an unreachable node is retried twice, then given up.
      const log = await requests(sim);
      assert.equal(log.filter((r) => r.path === "/nodes/pve2/status").length, 3);
    } finally {
      pve.close();
    }
  });
});

Deno.test("a slow answer is a PveTimeoutError and a dead port a PveConnectionError", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim, { timeoutMs: 30, retry: { attempts: 0 } });
    try {
      await fault(sim, { method: "GET", path: "/version", delay_ms: 300, count: 1 });
      await assert.rejects(pve.get("/version"), (error: unknown) => {
        assert.ok(error instanceof PveTimeoutError);
        assert.ok(!(error instanceof PveConnectionError));
        assert.equal(error.timeoutMs, 30);
        return true;
      });
    } finally {
      pve.close();
    }
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const dead = new PveClient({
    url: `http://127.0.0.1:${port}`,
    token: "root@pam!mcp=x-y-z",
    retry: { baseDelayMs: 1 },
  });
  try {
    await assert.rejects(dead.get("/version"), (error: unknown) => {
      assert.ok(error instanceof PveConnectionError);
      assert.ok(!(error instanceof PveTlsError));
      assert.match(error.message, /refused/);
      assert.ok(!error.message.includes("x-y-z"));
      return true;
    });
  } finally {
    dead.close();
  }
});

Deno.test("a reset connection is a PveConnectionError for a GET, which recovers; a POST is sent once and its outcome is unknown", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await fault(sim, { method: "GET", path: "/nodes", reset: true, count: 1 });
      assert.ok(Array.isArray(await pve.get("/nodes")));
      // The keep-alive connection of that GET is idle now; the write must not reuse it and
      // must not be re-sent by the HTTP stack when the server drops it.
      await fault(sim, {
        method: "POST",
        path: "/nodes/*/qemu/*/status/start",
        reset: true,
        count: 1,
      });
      await assert.rejects(pve.post("/nodes/pve1/qemu/9000/status/start"), (error: unknown) => {
        assert.ok(error instanceof PveOutcomeUnknownError);
        assert.ok(error.cause instanceof PveConnectionError);
        assert.match(error.message, /unknown whether Proxmox VE carried out/);
        return true;
      });
      const log = await requests(sim);
      assert.equal(log.filter((r) => r.path === "/nodes").length, 2);
      assert.deepEqual(
        log.filter((r) => r.path === "/nodes/pve1/qemu/9000/status/start").map((r) => r.status),
        [0],
      );
    } finally {
      pve.close();
    }
  });
});

Deno.test("GETs are retried after an injected 503 but a POST is sent exactly once", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await fault(sim, {
        method: "GET",
        path: "/nodes/*/status",
        status: 503,
        reason: "Service Unavailable",
        count: 1,
      });
      const status = await pve.get<Record<string, unknown>>("/nodes/pve1/status");
      assert.ok("uptime" in status);
      await fault(sim, {
        method: "POST",
        path: "/nodes/*/qemu/*/status/*",
        status: 503,
        reason: "Service Unavailable",
        count: 1,
      });
      await assert.rejects(pve.post("/nodes/pve1/qemu/100/status/shutdown"), (error: unknown) => {
        assert.ok(error instanceof PveOutcomeUnknownError);
        assert.ok(error.cause instanceof PveConnectionError);
        assert.equal(error.status, 503);
        return true;
      });
      const log = await requests(sim);
      assert.deepEqual(log.filter((r) => r.path === "/nodes/pve1/status").map((r) => r.status), [
        503,
        200,
      ]);
      assert.deepEqual(
        log.filter((r) => r.path === "/nodes/pve1/qemu/100/status/shutdown").map((r) => r.status),
        [503],
      );
    } finally {
      pve.close();
    }
  });
});

Deno.test("path traversal is refused before any request is sent", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    try {
      await control(sim, "DELETE", "/_sim/requests");
      const bad = [
        "/nodes/../access/users",
        "/nodes/pve1/qemu/%2e%2e/config",
        "/../_sim/requests",
        "/nodes//x",
        "/api2/html/nodes",
      ];
      for (const path of bad) await assert.rejects(pve.get(path), PveValidationError, path);
      assert.throws(() => pvePath`/nodes/${".."}/qemu`, PveValidationError);
      assert.throws(() => pvePath`/nodes/${"pve1/../../x"}/qemu`, PveValidationError);
      assert.deepEqual(await requests(sim), []);
    } finally {
      pve.close();
    }
  });
});

Deno.test("an unknown or unparsable UPID says what is wrong with it and how to find the task", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = tokenClient(sim);
    const gone = "UPID:pve1:00001234:00005678:6B020BF8:qmstart:100:root@pam:";
    try {
      await assert.rejects(
        pve.get(pvePath`/nodes/pve1/tasks/${gone}/status`),
        (error: unknown) => {
          assert.ok(error instanceof PveUnknownTaskError);
          assert.ok(error instanceof PveValidationError);
          assert.equal(error.status, 400);
          assert.equal(error.upid, gone);
          assert.equal(error.node, "pve1");
          assert.deepEqual(error.errors, { upid: "no such task" });
          assert.match(error.message, /^No such task UPID:pve1:\S+ on node "pve1"/);
          assert.match(error.message, /left the node's task log/);
          assert.match(error.message, /list the tasks of node "pve1" \(GET \/nodes\/pve1\/tasks,/);
          return true;
        },
      );
      await assert.rejects(pve.waitForTask(gone, { pollIntervalsMs: [1] }), PveUnknownTaskError);
      await assert.rejects(
        pve.get(pvePath`/nodes/pve1/tasks/${"UPID:pve1:nope"}/log`),
        (error: unknown) => {
          assert.ok(error instanceof PveValidationError);
          assert.ok(!(error instanceof PveUnknownTaskError));
          assert.deepEqual(error.errors, { upid: "unable to parse worker upid" });
          assert.match(error.message, /cannot parse the UPID "UPID:pve1:nope"/);
          assert.match(error.message, /trailing colon/);
          return true;
        },
      );
      // Any other 400 of a task endpoint keeps the generic wording.
      await assert.rejects(
        pve.get(pvePath`/nodes/pve1/tasks/${gone}/log`, { start: -1 }),
        (error: unknown) => {
          assert.ok(error instanceof PveValidationError);
          assert.ok(!(error instanceof PveUnknownTaskError));
          assert.match(error.message, /rejected the parameters/);
          return true;
        },
      );
    } finally {
      pve.close();
    }
  });
});
