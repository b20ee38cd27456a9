import assert from "node:assert/strict";
import { HttpError } from "../../src/simulator/errors.ts";
import { route, withTotal } from "../../src/simulator/router.ts";
import { api, rawRequest, rootToken, startTestSimulator } from "./_helpers.ts";

const echoRoutes = [
  route("GET", "/version", () => ({ version: "9.1.1", release: "9.1", repoid: "x" })),
  route("POST", "/nodes/{node}/qemu/{vmid}/status/start", ({ params }) => params),
  route("GET", "/nodes/{node}/tasks", () => withTotal([{ upid: "a" }], 7)),
  route("GET", "/cluster/nextid", () => undefined),
  route("DELETE", "/nodes/{node}/qemu/{vmid}", () => {
    throw new HttpError(500, "VM 100 is running - destroy failed");
  }),
  route("GET", "/cluster/status", () => {
    throw new Error("boom in handler");
  }),
  route("POST", "/nodes/{node}/qemu/{vmid}/agent/exec", ({ params }) => params),
];

Deno.test("success answers carry the data envelope and PVE's headers", async () => {
  const sim = await startTestSimulator({ routes: echoRoutes });
  try {
    const res = await api(sim, "GET", "/version", { token: true });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { data: { version: "9.1.1", release: "9.1", repoid: "x" } });
    assert.equal(res.headers.get("content-type"), "application/json;charset=UTF-8");
    assert.equal(res.headers.get("server"), "pve-api-daemon/3.0");
    assert.equal(res.headers.get("cache-control"), "max-age=0");
    assert.equal(res.headers.get("pragma"), "no-cache");
    assert.match(res.headers.get("expires") ?? "", /GMT$/);

    const nothing = await api(sim, "GET", "/cluster/nextid", { token: true });
    assert.equal(nothing.text, '{"data":null}');

    const total = await api(sim, "GET", "/nodes/pve1/tasks", { token: true });
    assert.deepEqual(total.body, { data: [{ upid: "a" }], total: 7 });
  } finally {
    await sim.close();
  }
});

Deno.test("unknown paths, methods and formats answer 501 like PVE", async () => {
  const sim = await startTestSimulator({ routes: echoRoutes });
  try {
    const headers = { Authorization: `PVEAPIToken=${rootToken(sim)}` };
    const cases: { method: string; path: string; line: string; message: string }[] = [
      {
        method: "GET",
        path: "/api2/json/nodes/pve1/foo",
        line: "HTTP/1.1 501 Method 'GET /nodes/pve1/foo' not implemented",
        message: "Method 'GET /nodes/pve1/foo' not implemented",
      },
      {
        method: "PUT",
        path: "/api2/json/version",
        line: "HTTP/1.1 501 Method 'PUT /version' not implemented",
        message: "Method 'PUT /version' not implemented",
      },
      {
        // In the schema, but no route implements it.
        method: "GET",
        path: "/api2/json/nodes/pve1/ceph/status",
        line: "HTTP/1.1 501 Method 'GET /nodes/pve1/ceph/status' not implemented",
        message: "Method 'GET /nodes/pve1/ceph/status' not implemented",
      },
      {
        method: "GET",
        path: "/api2/extjs/version",
        line: "HTTP/1.1 501 no such uri",
        message: "no such uri\n",
      },
      {
        method: "GET",
        path: "/api2/JSON/version",
        line: "HTTP/1.1 501 no such uri",
        message: "no such uri\n",
      },
    ];
    for (const c of cases) {
      const res = await rawRequest(sim, { method: c.method, path: c.path, headers });
      assert.equal(res.statusLine, c.line, c.path);
      assert.deepEqual(JSON.parse(res.body), { data: null, message: c.message }, c.path);
    }
  } finally {
    await sim.close();
  }
});

Deno.test("handler errors become PVE error envelopes; other exceptions become 500", async () => {
  const logged: string[] = [];
  const sim = await startTestSimulator({ routes: echoRoutes, log: (m) => logged.push(m) });
  try {
    const headers = { Authorization: `PVEAPIToken=${rootToken(sim)}` };
    const running = await rawRequest(sim, {
      method: "DELETE",
      path: "/api2/json/nodes/pve1/qemu/100",
      headers,
    });
    assert.equal(running.statusLine, "HTTP/1.1 500 VM 100 is running - destroy failed");
    assert.deepEqual(JSON.parse(running.body), {
      data: null,
      message: "VM 100 is running - destroy failed\n",
    });

    const boom = await rawRequest(sim, {
      method: "GET",
      path: "/api2/json/cluster/status",
      headers,
    });
    assert.equal(boom.statusLine, "HTTP/1.1 500 boom in handler");
    assert.equal(JSON.parse(boom.body).message, "boom in handler\n");
    assert.equal(logged.length, 1);
    assert.match(logged[0] ?? "", /boom in handler/);
  } finally {
    await sim.close();
  }
});

Deno.test("form and JSON bodies are both accepted and coerced by the schema", async () => {
  const sim = await startTestSimulator({ routes: echoRoutes });
  try {
    const form = await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", {
      token: true,
      params: { skiplock: "1", timeout: "30" },
    });
    assert.equal(form.status, 200);
    assert.deepEqual(form.body.data, { node: "pve1", vmid: 100, skiplock: 1, timeout: 30 });

    const json = await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", {
      token: true,
      json: { skiplock: true, timeout: 30 },
    });
    assert.deepEqual(json.body.data, { node: "pve1", vmid: 100, skiplock: 1, timeout: 30 });

    const falsy = await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", {
      token: true,
      json: { skiplock: false },
    });
    assert.deepEqual(falsy.body.data, { node: "pve1", vmid: 100, skiplock: 0 });
  } finally {
    await sim.close();
  }
});

Deno.test("query parameters win over body parameters and _dc is ignored", async () => {
  const sim = await startTestSimulator({ routes: echoRoutes });
  try {
    const res = await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", {
      token: true,
      params: { timeout: "10" },
      query: { timeout: "20", _dc: "1700000000000" },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, { node: "pve1", vmid: 100, timeout: 20 });
  } finally {
    await sim.close();
  }
});

Deno.test("repeated form keys become an array for array parameters", async () => {
  const sim = await startTestSimulator({ routes: echoRoutes });
  try {
    const res = await api(sim, "POST", "/nodes/pve1/qemu/100/agent/exec", {
      token: true,
      params: { command: ["ls", "-l"] },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.command, ["ls", "-l"]);
  } finally {
    await sim.close();
  }
});

Deno.test("request bodies are refused where PVE refuses them", async () => {
  const sim = await startTestSimulator({ routes: echoRoutes });
  try {
    const headers = {
      Authorization: `PVEAPIToken=${rootToken(sim)}`,
      "Content-Type": "application/x-www-form-urlencoded",
    };
    const del = await rawRequest(sim, {
      method: "DELETE",
      path: "/api2/json/nodes/pve1/qemu/100",
      headers,
      body: "purge=1",
    });
    assert.equal(del.statusLine, "HTTP/1.1 501 Unexpected content for method 'DELETE'");
    const get = await rawRequest(sim, {
      method: "GET",
      path: "/api2/json/version",
      headers,
      body: "a=1",
    });
    assert.equal(get.statusLine, "HTTP/1.1 501 Unexpected content for method 'GET'");

    const xml = await rawRequest(sim, {
      method: "POST",
      path: "/api2/json/nodes/pve1/qemu/100/status/start",
      headers: { ...headers, "Content-Type": "text/xml" },
      body: "<a/>",
    });
    assert.equal(xml.statusLine, "HTTP/1.1 506 Unsupported content type");

    const big = await rawRequest(sim, {
      method: "POST",
      path: "/api2/json/nodes/pve1/qemu/100/status/start",
      headers,
      body: `stateuri=${"x".repeat(600 * 1024)}`,
    });
    assert.match(big.statusLine, /^HTTP\/1\.1 413 /);
  } finally {
    await sim.close();
  }
});

Deno.test("a body parameter that contradicts the path is a 400 duplicate parameter", async () => {
  const sim = await startTestSimulator({ routes: echoRoutes });
  try {
    const res = await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", {
      token: true,
      params: { vmid: "101" },
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors, {
      vmid: "duplicate parameter (already defined in URI) with conflicting values!",
    });
    const same = await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", {
      token: true,
      params: { vmid: "100" },
    });
    assert.equal(same.status, 200);
  } finally {
    await sim.close();
  }
});

Deno.test("proxied node endpoints fail for unknown and offline nodes, cluster ones do not", async () => {
  const sim = await startTestSimulator();
  try {
    const headers = { Authorization: `PVEAPIToken=${rootToken(sim)}` };
    const unknown = await rawRequest(sim, {
      method: "GET",
      path: "/api2/json/nodes/pve9/qemu",
      headers,
    });
    assert.equal(
      unknown.statusLine,
      "HTTP/1.1 500 hostname lookup 'pve9' failed - failed to get address info for: pve9: Name or service not known",
    );

    const node = sim.sim.state.nodes.get("pve2");
    assert.ok(node);
    node.online = false;
    const offline = await rawRequest(sim, {
      method: "GET",
      path: "/api2/json/nodes/pve2/qemu",
      headers,
    });
    assert.equal(offline.statusLine, "HTTP/1.1 595 Connection refused");
    assert.deepEqual(JSON.parse(offline.body), {
      data: null,
      message: "595 Connection refused\n",
    });

    const resources = await api(sim, "GET", "/cluster/resources", { token: true });
    assert.equal(resources.status, 200);
  } finally {
    await sim.close();
  }
});

Deno.test("the real routes answer through the full pipeline", async () => {
  const sim = await startTestSimulator();
  try {
    const version = await api(sim, "GET", "/version", { token: true });
    assert.equal(version.status, 200);
    assert.equal(typeof version.body.data.version, "string");
    const vms = await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "vm" },
    });
    assert.equal(vms.status, 200);
    assert.ok(vms.body.data.some((r: { vmid?: number }) => r.vmid === 100));
  } finally {
    await sim.close();
  }
});

Deno.test("the simulator serves HTTPS when given a certificate and key", async () => {
  const fixture = (name: string) => new URL(`../fixtures/tls/${name}`, import.meta.url);
  const cert = await Deno.readTextFile(fixture("server.pem"));
  const key = await Deno.readTextFile(fixture("server.key"));
  const ca = await Deno.readTextFile(fixture("ca.pem"));
  const sim = await startTestSimulator({ cert, key, routes: echoRoutes });
  const client = Deno.createHttpClient({ caCerts: [ca] });
  try {
    assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${sim.api}/version`, {
      client,
      headers: { Authorization: `PVEAPIToken=${rootToken(sim)}` },
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).data.version, "9.1.1");
  } finally {
    client.close();
    await sim.close();
  }
});

Deno.test("Date and Expires follow the simulated clock that stamps tickets", async () => {
  const sim = await startTestSimulator();
  try {
    const before = await fetch(`${sim.api}/version`).then(async (r) => {
      await r.body?.cancel();
      return Date.parse(r.headers.get("date") ?? "");
    });
    sim.sim.clock.advance(86_400);
    const res = await fetch(`${sim.api}/version`);
    await res.body?.cancel();
    const after = Date.parse(res.headers.get("date") ?? "");
    assert.equal(res.headers.get("expires"), res.headers.get("date"));
    assert.ok(after - before >= 86_400_000, `Date moved a day: ${before} -> ${after}`);
    assert.ok(Math.abs(after - sim.sim.clock.nowMs()) < 5_000);
  } finally {
    await sim.close();
  }
});
