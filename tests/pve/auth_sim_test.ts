import assert from "node:assert/strict";
import { PveAuthError, PveClient } from "../../src/pve/mod.ts";
import {
  control,
  driveClock,
  FAST,
  fault,
  FROZEN,
  requests,
  ticketClient,
  tokenClient,
  withSim,
} from "./_sim.ts";

Deno.test("an API token authenticates every request, given as id + secret or as one string", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const split = tokenClient(sim);
    const joined = new PveClient({
      url: `${sim.url}/api2/json`,
      token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`,
    });
    try {
      assert.equal((await split.version()).release.length > 0, true);
      await joined.get("/nodes");
      const upid = await joined.post<string>("/nodes/pve1/qemu/100/status/shutdown");
      assert.equal((await joined.waitForTask(upid, FAST)).state, "ok");
      const log = await requests(sim);
      assert.ok(log.length >= 3);
      assert.ok(log.every((r) => r.auth === "token" && r.userid === "root@pam!mcp"));
      assert.ok(!log.some((r) => r.path === "/access/ticket"));
    } finally {
      split.close();
      joined.close();
    }
  });
});

Deno.test("a password login gets a ticket and sends the CSRF token on writes", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = ticketClient(sim);
    try {
      await pve.get("/nodes");
      const upid = await pve.post<string>("/nodes/pve1/qemu/100/status/shutdown");
      assert.equal((await pve.waitForTask(upid, FAST)).state, "ok");
      const log = await requests(sim);
      assert.deepEqual(log.filter((r) => r.path === "/access/ticket").length, 1);
      const write = log.find((r) => r.method === "POST" && r.path.endsWith("/status/shutdown"));
      assert.equal(write?.auth, "ticket");
      assert.equal(write?.status, 200);
      assert.equal(pve.identity.kind, "ticket");
      // The simulator enforces CSRF: the same write without the token is refused.
      const login = await fetch(`${sim.url}/api2/json/access/ticket`, {
        method: "POST",
        body: new URLSearchParams({ username: "root@pam", password: sim.credentials.password }),
      });
      const { data } = await login.json();
      const bare = await fetch(`${sim.url}/api2/json/nodes/pve1/qemu/100/status/start`, {
        method: "POST",
        headers: { cookie: `PVEAuthCookie=${data.ticket}` },
      });
      await bare.body?.cancel();
      assert.equal(bare.status, 401);
    } finally {
      pve.close();
    }
  });
});

Deno.test("twenty concurrent requests share one login", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = ticketClient(sim);
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => i % 2 ? pve.get("/nodes") : pve.version()),
      );
      const logins = (await requests(sim)).filter((r) =>
        r.method === "POST" && r.path === "/access/ticket"
      );
      assert.equal(logins.length, 1);
    } finally {
      pve.close();
    }
  });
});

Deno.test("an unexpected 401 leads to one transparent re-login", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = ticketClient(sim);
    try {
      await pve.get("/nodes");
      await fault(sim, {
        method: "GET",
        path: "/cluster/resources",
        status: 401,
        reason: "Authentication failed!",
        count: 1,
      });
      const inventory = await pve.resources();
      assert.ok(inventory.guests.length > 0);
      const log = await requests(sim);
      assert.equal(log.filter((r) => r.path === "/access/ticket").length, 2);
      assert.deepEqual(
        log.filter((r) => r.path === "/cluster/resources").map((r) => r.status),
        [401, 200],
      );
    } finally {
      pve.close();
    }
  });
});

Deno.test("a 401 that persists after re-login is a PveAuthError, not a loop", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = ticketClient(sim);
    try {
      await fault(sim, {
        method: "GET",
        path: "/nodes",
        status: 401,
        reason: "Authentication failed!",
      });
      await assert.rejects(pve.get("/nodes"), (error: unknown) => {
        assert.ok(error instanceof PveAuthError);
        assert.equal(error.status, 401);
        assert.ok(!error.message.includes(sim.credentials.password));
        return true;
      });
      const log = await requests(sim);
      assert.equal(log.filter((r) => r.path === "/nodes").length, 2);
      assert.equal(log.filter((r) => r.path === "/access/ticket").length, 2);
    } finally {
      pve.close();
    }
  });
});

Deno.test("a wrong password is a PveAuthError that says what to check and never echoes it", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = new PveClient({ url: sim.url, username: "root@pam", password: "not-the-password" });
    try {
      await assert.rejects(pve.get("/nodes"), (error: unknown) => {
        assert.ok(error instanceof PveAuthError);
        assert.match(error.message, /Login to .* as "root@pam" failed/);
        assert.match(error.message, /password/);
        assert.ok(!error.message.includes("not-the-password"));
        return true;
      });
    } finally {
      pve.close();
    }
  });
});

Deno.test("a user with two-factor authentication is told to use an API token", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = new PveClient({ url: sim.url, username: "tfa@pve", password: "tfa-pass" });
    try {
      await assert.rejects(pve.get("/nodes"), (error: unknown) => {
        assert.ok(error instanceof PveAuthError);
        assert.match(error.message, /two-factor/);
        assert.match(error.message, /API token/);
        assert.ok(!error.message.includes("tfa-pass"));
        return true;
      });
    } finally {
      pve.close();
    }
  });
});

Deno.test("an old ticket is renewed before it expires", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    let now = 0;
    const pve = ticketClient(sim, { now: () => now, ticketRenewAfterMs: 3_600_000 });
    try {
      await pve.get("/nodes");
      now = 3_600_001;
      await pve.get("/nodes");
      await pve.post<string>("/nodes/pve1/qemu/100/status/shutdown");
      const log = await requests(sim);
      const logins = log.filter((r) => r.path === "/access/ticket");
      assert.equal(logins.length, 2);
      assert.ok(logins.every((r) => r.status === 200));
      assert.ok(log.filter((r) => r.path !== "/access/ticket").every((r) => r.status === 200));
    } finally {
      pve.close();
    }
  });
});

Deno.test("a ticket is renewed after an hour on the server's clock, before PVE would refuse it", async () => {
  await withSim({ speed: "instant" }, async (sim) => {
    const pve = ticketClient(sim);
    try {
      await pve.get("/nodes");
      // An hour passes on the cluster while hardly any time passes for the client. The next
      // answer's Date tells the client; the request after it renews, and nothing is refused.
      await control(sim, "POST", "/_sim/clock/advance", { seconds: 3_700 });
      await pve.get("/nodes");
      await pve.get("/nodes");
      const log = await requests(sim);
      assert.deepEqual(log.map((r) => `${r.method} ${r.path} ${r.status}`), [
        "POST /access/ticket 200",
        "GET /nodes 200",
        "GET /nodes 200",
        "POST /access/ticket 200",
        "GET /nodes 200",
      ]);
    } finally {
      pve.close();
    }
  });
});

Deno.test("a ticket expiring in the middle of a task wait is replaced and the wait goes on", async () => {
  await withSim({ speed: FROZEN }, async (sim) => {
    const pve = ticketClient(sim);
    try {
      const upid = await pve.post<string>("/nodes/pve1/qemu/9000/clone", {
        newid: 150,
        name: "clone1",
        full: true,
      });
      let expired: Promise<unknown> | undefined;
      const lines: string[] = [];
      const waiting = pve.waitForTask(upid, {
        ...FAST,
        onProgress: (p) => {
          lines.push(p.line);
          expired ??= control(sim, "POST", "/_sim/tickets/expire");
        },
      });
      await driveClock(sim, waiting);
      const outcome = await waiting;
      await expired;
      assert.equal(outcome.state, "ok");
      assert.equal(lines.at(-1), "TASK OK");
      const log = await requests(sim);
      assert.equal(log.filter((r) => r.path === "/access/ticket").length, 2);
      assert.ok(log.some((r) => r.status === 401 && r.path.includes("/tasks/")));
    } finally {
      pve.close();
    }
  });
});
