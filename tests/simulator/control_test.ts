import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { route } from "../../src/simulator/router.ts";
import { routes as accessRoutes } from "../../src/simulator/routes/access.ts";
import { api, login, rawRequest, rootToken, startTestSimulator } from "./_helpers.ts";

async function control(
  sim: SimulatorHandle,
  method: string,
  path: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${sim.url}/_sim${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
  });
  return { status: response.status, body: await response.json() };
}

const testRoutes = [
  ...accessRoutes,
  route("GET", "/version", () => ({ version: "9.1.1" })),
  route("POST", "/nodes/{node}/qemu/{vmid}/status/start", () => "UPID:x"),
  route("GET", "/nodes/{node}/qemu", () => []),
];

Deno.test("GET /_sim/ lists the control endpoints", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const res = await control(sim, "GET", "/");
    assert.equal(res.status, 200);
    const paths = res.body.endpoints.map((e: { method: string; path: string }) =>
      `${e.method} ${e.path}`
    );
    for (
      const expected of [
        "POST /_sim/faults",
        "DELETE /_sim/faults/{id}",
        "POST /_sim/clock/advance",
        "POST /_sim/nodes/{node}/offline",
        "POST /_sim/guests/{vmid}/lock",
        "GET /_sim/requests",
      ]
    ) {
      assert.ok(paths.includes(expected), expected);
    }
    const unknown = await control(sim, "GET", "/nope");
    assert.equal(unknown.status, 404);
  } finally {
    await sim.close();
  }
});

Deno.test("a status fault answers PVE-style for its count, then the real route answers", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const added = await control(sim, "POST", "/faults", {
      method: "POST",
      path: "/nodes/*/qemu/*/status/start",
      status: 503,
      reason: "Service Unavailable",
      delay_ms: 0,
      reset: false,
      count: 1,
    });
    assert.equal(added.status, 200);
    assert.equal(typeof added.body.id, "number");
    const listed = await control(sim, "GET", "/faults");
    assert.equal(listed.body.length, 1);
    assert.equal(listed.body[0].path, "/nodes/*/qemu/*/status/start");

    const headers = { Authorization: `PVEAPIToken=${rootToken(sim)}` };
    const first = await rawRequest(sim, {
      method: "POST",
      path: "/api2/json/nodes/pve1/qemu/100/status/start",
      headers,
    });
    assert.equal(first.statusLine, "HTTP/1.1 503 Service Unavailable");
    assert.deepEqual(JSON.parse(first.body), { data: null, message: "Service Unavailable\n" });
    const second = await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", { token: true });
    assert.equal(second.status, 200);
    assert.deepEqual((await control(sim, "GET", "/faults")).body, []);
  } finally {
    await sim.close();
  }
});

Deno.test("faults fire before auth, match methods and ** suffixes, and clear by id or all", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const { body: { id } } = await control(sim, "POST", "/faults", {
      method: "*",
      path: "/nodes/**",
      status: 500,
      reason: "simulated outage",
    });
    const unauthenticated = await rawRequest(sim, {
      method: "GET",
      path: "/api2/json/nodes/pve1/qemu",
    });
    assert.equal(unauthenticated.statusLine, "HTTP/1.1 500 simulated outage");
    const again = await api(sim, "GET", "/nodes/pve1/qemu", { token: true });
    assert.equal(again.status, 500, "no count: fires until cleared");
    assert.equal((await api(sim, "GET", "/version", { token: true })).status, 200);

    const getOnly = await control(sim, "POST", "/faults", {
      method: "GET",
      path: "/version",
      status: 502,
    });
    assert.equal((await api(sim, "GET", "/version", { token: true })).status, 502);
    assert.equal((await control(sim, "DELETE", `/faults/${id}`)).status, 200);
    assert.equal((await control(sim, "DELETE", `/faults/${id}`)).status, 404);
    assert.equal((await api(sim, "GET", "/nodes/pve1/qemu", { token: true })).status, 200);
    assert.equal((await control(sim, "GET", "/faults")).body[0].id, getOnly.body.id);
    await control(sim, "DELETE", "/faults");
    assert.equal((await api(sim, "GET", "/version", { token: true })).status, 200);

    const invalid = await control(sim, "POST", "/faults", { method: "GET", path: "/version" });
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.error, /status, reset or delay_ms/);
  } finally {
    await sim.close();
  }
});

Deno.test("a reset fault drops the connection and a delay fault still answers", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    await control(sim, "POST", "/faults", {
      method: "GET",
      path: "/version",
      reset: true,
      count: 1,
    });
    const dropped = await rawRequest(sim, {
      method: "GET",
      path: "/api2/json/version",
      headers: { Authorization: `PVEAPIToken=${rootToken(sim)}` },
    });
    assert.deepEqual(dropped, { statusLine: "", headers: {}, body: "" });
    // fetch sees a single-shot reset too: installing it closed the idle pooled connections.
    await api(sim, "GET", "/version", { token: true });
    await control(sim, "POST", "/faults", {
      method: "GET",
      path: "/version",
      reset: true,
      count: 1,
    });
    await assert.rejects(() => api(sim, "GET", "/version", { token: true }));
    assert.equal((await api(sim, "GET", "/version", { token: true })).status, 200);
    // Without a count the fault keeps firing, so even a client that retries sees the reset.
    const { body: { id } } = await control(sim, "POST", "/faults", {
      method: "GET",
      path: "/version",
      reset: true,
    });
    await assert.rejects(() => api(sim, "GET", "/version", { token: true }));
    await control(sim, "DELETE", `/faults/${id}`);
    await control(sim, "POST", "/faults", {
      method: "GET",
      path: "/version",
      delay_ms: 20,
      count: 2,
    });
    assert.equal((await api(sim, "GET", "/version", { token: true })).status, 200);
    const faults = await control(sim, "GET", "/faults");
    assert.equal(faults.body[0].remaining, 1);
    assert.equal(faults.body[0].hits, 1);
  } finally {
    await sim.close();
  }
});

Deno.test("the clock advances, nodes go offline and online, guests get locks", async () => {
  const sim = await startTestSimulator({ routes: testRoutes, now: 1_700_000_000 });
  try {
    const before = sim.sim.clock.now();
    const advanced = await control(sim, "POST", "/clock/advance", { seconds: 7300 });
    assert.equal(advanced.status, 200);
    assert.ok(advanced.body.now >= before + 7300);
    assert.equal((await control(sim, "POST", "/clock/advance", { seconds: "x" })).status, 400);

    assert.deepEqual((await control(sim, "POST", "/nodes/pve2/offline")).body, {
      node: "pve2",
      online: false,
    });
    const refused = await api(sim, "GET", "/nodes/pve2/qemu", { token: true });
    assert.equal(refused.status, 595);
    await control(sim, "POST", "/nodes/pve2/online");
    assert.equal((await api(sim, "GET", "/nodes/pve2/qemu", { token: true })).status, 200);
    assert.equal((await control(sim, "POST", "/nodes/pve9/offline")).status, 404);

    const locked = await control(sim, "POST", "/guests/100/lock", { lock: "backup" });
    assert.equal(locked.status, 200);
    assert.equal(sim.sim.state.guests.get(100)?.config["lock"], "backup");
    await control(sim, "DELETE", "/guests/100/lock");
    assert.equal(sim.sim.state.guests.get(100)?.config["lock"], undefined);
    assert.equal(
      (await control(sim, "POST", "/guests/99999/lock", { lock: "backup" })).status,
      404,
    );
  } finally {
    await sim.close();
  }
});

Deno.test("the request log records every API request with secrets redacted", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const session = await login(sim);
    await api(sim, "GET", "/version", { session, params: { _dc: "1" } });
    await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", {
      token: true,
      params: { timeout: "5" },
    });
    await rawRequest(sim, { method: "GET", path: "/api2/json/version" });
    const log = await control(sim, "GET", "/requests");
    assert.equal(log.status, 200);
    assert.equal(log.body.length, 4);
    const [ticket, version, start, anonymous] = log.body;
    assert.equal(ticket.path, "/access/ticket");
    assert.equal(ticket.body.password, "[redacted]");
    assert.equal(ticket.body.username, "root@pam");
    assert.equal(ticket.auth, "none");
    assert.equal(ticket.status, 200);
    assert.equal(version.auth, "ticket");
    assert.equal(version.userid, "root@pam");
    assert.deepEqual(version.query, { _dc: "1" });
    assert.equal(start.method, "POST");
    assert.equal(start.auth, "token");
    assert.equal(start.userid, "root@pam!mcp");
    assert.deepEqual(start.body, { timeout: "5" });
    assert.equal(anonymous.status, 401);
    const text = JSON.stringify(log.body);
    assert.equal(text.includes(sim.credentials.password), false);
    assert.equal(text.includes(session.ticket), false);

    const since = await control(sim, "GET", `/requests?since=${start.seq}`);
    assert.equal(since.body.length, 1);
    await control(sim, "DELETE", "/requests");
    assert.deepEqual((await control(sim, "GET", "/requests")).body, []);
  } finally {
    await sim.close();
  }
});

Deno.test("the request log shows requests outside /api2/json with their full path, and a 400's per-parameter errors", async () => {
  const sim = await startTestSimulator();
  try {
    await rawRequest(sim, { method: "GET", path: "/api2/extjs/version" });
    await rawRequest(sim, { method: "GET", path: "/nodes" });
    await rawRequest(sim, { method: "GET", path: "/api2/json/../../etc/passwd" });
    const bad = await api(sim, "GET", "/nodes/pve1/tasks", { token: true, params: { limit: "x" } });
    assert.equal(bad.status, 400);
    const log = (await control(sim, "GET", "/requests")).body as Array<
      { path: string; status: number; errors?: Record<string, string> }
    >;
    assert.deepEqual(log.slice(0, 2).map((entry) => [entry.path, entry.status]), [
      ["/api2/extjs/version", 501],
      ["/nodes", 501],
    ]);
    assert.equal(log.length, 4);
    assert.deepEqual(Object.keys(log[3]?.errors ?? {}), ["limit"]);
    assert.equal(log[0]?.errors, undefined);
  } finally {
    await sim.close();
  }
});
