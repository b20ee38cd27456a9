import assert from "node:assert/strict";
import { sha256Hex } from "../../src/config/mod.ts";
import { textOf } from "../server/_harness.ts";
import {
  connectHttp,
  INITIALIZE,
  post,
  rawPost,
  startServer,
  type TestServer,
  TOKENS,
} from "./_http.ts";

const OPS = { authorization: `Bearer ${TOKENS.ops}` };

async function withServer(
  options: Parameters<typeof startServer>[0],
  body: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = await startServer(options);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** Opens a 2025-era session by hand; returns its id. */
async function openSession(url: string, headers: Record<string, string>): Promise<string> {
  const response = await post(url, INITIALIZE, headers);
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const id = response.headers.get("mcp-session-id");
  assert.ok(id !== null);
  return id;
}

Deno.test("a request without a credential gets 401 with a Bearer challenge and no secret in the body", async () => {
  await withServer({}, async (server) => {
    for (
      const headers of [{}, { authorization: "Bearer not-a-known-token" }, {
        authorization: "Basic eDp5",
      }]
    ) {
      const response = await post(server.url, INITIALIZE, headers);
      assert.equal(response.status, 401);
      assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
      const text = await response.text();
      assert.ok(!text.includes(TOKENS.ops) && !text.includes("not-a-known-token"), text);
      assert.ok(!text.includes(await sha256Hex(TOKENS.ops)), text);
    }
  });
});

Deno.test("a wrong Host or Origin gets 403, a configured host passes", async () => {
  await withServer({ config: { http: { allowedHosts: ["mcp.example.com"] } } }, async (server) => {
    const port = new URL(server.url).port;
    const evilHost = await rawPost(server.url, INITIALIZE, { ...OPS, host: "evil.example" });
    assert.equal(evilHost.status, 403);
    assert.match(evilHost.body, /Invalid Host/i);
    const evilOrigin = await post(server.url, INITIALIZE, {
      ...OPS,
      origin: "https://evil.example",
    });
    assert.equal(evilOrigin.status, 403);
    await evilOrigin.body?.cancel();
    const allowed = await rawPost(server.url, INITIALIZE, {
      ...OPS,
      host: `mcp.example.com:${port}`,
    });
    assert.equal(allowed.status, 200);
  });
});

Deno.test("bad input gets a clear HTTP and JSON-RPC error, and the server goes on serving", async () => {
  await withServer({ config: { http: { maxBodyBytes: 4096 } } }, async (server) => {
    const cases: Array<[string, Promise<Response>, number, RegExp]> = [
      [
        "oversized body",
        post(server.url, { ...INITIALIZE, pad: "x".repeat(8000) }, OPS),
        413,
        /limited to 4096 bytes/,
      ],
      ["malformed JSON", post(server.url, "{not json", OPS), 400, /not valid JSON/],
      [
        "wrong content type",
        post(server.url, INITIALIZE, { ...OPS, "content-type": "text/plain" }),
        415,
        /Content-Type: application\/json/,
      ],
      ["not a message", post(server.url, "[1, 2]", OPS), 400, /JSON-RPC message object/],
      [
        "unknown session",
        post(server.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, {
          ...OPS,
          "mcp-session-id": "no-such-session",
        }),
        404,
        /Session not found/,
      ],
      [
        "missing session header",
        post(server.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, OPS),
        400,
        /Mcp-Session-Id header is required/,
      ],
      [
        "GET without a session",
        fetch(server.url, { headers: { ...OPS, accept: "text/event-stream" } }),
        400,
        /Mcp-Session-Id/,
      ],
      [
        "PUT",
        fetch(server.url, { method: "PUT", headers: OPS, body: "{}" }),
        405,
        /Method Not Allowed/,
      ],
    ];
    for (const [what, pending, status, message] of cases) {
      const response = await pending;
      assert.equal(response.status, status, what);
      const body = await response.json();
      assert.equal(body.jsonrpc, "2.0", what);
      assert.match(body.error.message, message, what);
      assert.ok(!JSON.stringify(body).includes(TOKENS.ops), what);
    }
    const missingAccept = await fetch(server.url, {
      method: "POST",
      headers: { ...OPS, "content-type": "application/json" },
      body: JSON.stringify(INITIALIZE),
    });
    assert.equal(missingAccept.status, 406, "the SDK asks for the Accept header");
    await missingAccept.body?.cancel();
    const session = await connectHttp(server.url, { token: TOKENS.ops });
    assert.equal((await session.call("probe_read", {})).isError, undefined);
    await session.close();
  });
});

Deno.test("a session answers only the profile that opened it", async () => {
  await withServer({}, async (server) => {
    const id = await openSession(server.url, OPS);
    const list = { jsonrpc: "2.0", id: 2, method: "tools/list" };
    const asViewer = await post(server.url, list, {
      authorization: `Bearer ${TOKENS.viewer}`,
      "mcp-session-id": id,
      "mcp-protocol-version": "2025-11-25",
    });
    assert.equal(asViewer.status, 404);
    await asViewer.body?.cancel();
    const asOps = await post(server.url, list, {
      ...OPS,
      "mcp-session-id": id,
      "mcp-protocol-version": "2025-11-25",
    });
    assert.equal(asOps.status, 200);
    assert.match(await asOps.text(), /probe_destroy/);
    const ended = await fetch(server.url, {
      method: "DELETE",
      headers: { ...OPS, "mcp-session-id": id },
    });
    assert.equal(ended.status, 200);
    await ended.body?.cancel();
    assert.equal(server.handle.sessions, 0);
  });
});

Deno.test("sessions beyond http.maxSessions are refused with 503 until one closes", async () => {
  await withServer({ config: { http: { maxSessions: 2 } } }, async (server) => {
    const first = await openSession(server.url, OPS);
    await openSession(server.url, OPS);
    const third = await post(server.url, INITIALIZE, OPS);
    assert.equal(third.status, 503);
    assert.match(
      (await third.json()).error.message,
      /Too many sessions: this server holds at most 2/,
    );
    const ended = await fetch(server.url, {
      method: "DELETE",
      headers: { ...OPS, "mcp-session-id": first },
    });
    await ended.body?.cancel();
    await openSession(server.url, OPS);
  });
});

Deno.test("an idle session is closed after http.sessionIdleSeconds", async () => {
  await withServer({ config: { http: { sessionIdleSeconds: 1 } } }, async (server) => {
    const id = await openSession(server.url, OPS);
    for (let i = 0; i < 60 && server.handle.sessions > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(server.handle.sessions, 0);
    const gone = await post(server.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, {
      ...OPS,
      "mcp-session-id": id,
    });
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
  });
});

Deno.test("/healthz answers without a credential and without detail; /readyz says whether the clusters answer", async () => {
  await withServer({}, async (server) => {
    const base = new URL("/", server.url);
    const live = await fetch(new URL("/healthz", base));
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: "ok" });
    const ready = await fetch(new URL("/readyz", base), { headers: { host: "probe.internal" } });
    assert.equal(ready.status, 503, "the test cluster points at a closed port");
    assert.deepEqual(await ready.json(), { status: "not ready" });
    const other = await fetch(new URL("/other", base));
    assert.equal(other.status, 404);
    await other.body?.cancel();
  });
});

Deno.test("over its rate limit a caller gets HTTP 429 with the retry time, and a refused write is audited", async () => {
  const rateLimit = { calls: { perMinute: 1, burst: 3 }, writes: { perMinute: 1, burst: 1 } };
  await withServer({ config: { http: { rateLimit } } }, async (server) => {
    const ops = await connectHttp(server.url, { token: TOKENS.ops });
    try {
      assert.equal((await ops.call("probe_change", { vmid: 150 })).isError, undefined);
      await assert.rejects(
        ops.call("probe_change", { vmid: 151 }),
        /Rate limit reached: this caller may make at most 1 write tool calls a minute .* try again in \d+ s/,
      );
      assert.equal((await ops.call("probe_read", {})).isError, undefined);
      assert.equal((await ops.call("probe_read", {})).isError, undefined);
      await assert.rejects(ops.call("probe_read", {}), /Rate limit reached/);
    } finally {
      await ops.close();
    }
    // Each caller has its own buckets.
    const viewer = await connectHttp(server.url, { token: TOKENS.viewer });
    assert.equal((await viewer.call("probe_read", {})).isError, undefined);
    await viewer.close();
    const raw = await post(server.url, {
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name: "probe_read", arguments: {} },
    }, { ...OPS, "mcp-session-id": "any" });
    assert.equal(raw.status, 429);
    assert.match(raw.headers.get("retry-after") ?? "", /^\d+$/);
    const body = await raw.json();
    assert.equal(body.id, 7);
    assert.equal(body.error.code, -32029);
    assert.ok(body.error.data.retry_after_seconds >= 1);
    const lines = await server.auditLines();
    const refused = lines.filter((line) => line.outcome === "denied");
    assert.deepEqual(refused.map((line) => [line.profile, line.tool, line.arguments]), [
      ["ops", "probe_change", { vmid: 151 }],
    ]);
    assert.match(String(refused[0]?.error), /Rate limit reached/);
  });
});

Deno.test("without profiles a loopback server takes anonymous local callers with the top-level policy", async () => {
  await withServer({ anonymous: true }, async (server) => {
    const session = await connectHttp(server.url, {});
    const result = await session.call("probe_change", { vmid: 150 });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /needs capability "change"/);
    await session.close();
    const [line] = await server.auditLines();
    assert.equal(line?.profile, "local");
  });
});
