/**
 * PveClient against a stubbed fetch, for what the simulator cannot express: Retry-After,
 * hung connections, non-JSON answers, thrown network and TLS errors.
 */
import assert from "node:assert/strict";
import {
  PveAuthError,
  PveClient,
  PveConnectionError,
  PveError,
  PveOutcomeUnknownError,
  PveTimeoutError,
  PveTlsError,
  PveValidationError,
} from "../../src/pve/mod.ts";

const SECRET = "5b1f0c9e-aaaa-4bbb-8ccc-123456789abc";

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: string | undefined;
}

function stub(answers: (Response | Error | "hang")[]): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchStub = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    seen.push({
      method: init?.method ?? "GET",
      url: new URL(String(input)),
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? init.body : undefined,
    });
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)];
    if (answer === "hang") {
      return new Promise((_, reject) => {
        const signal = init?.signal;
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve(answer!.clone());
  };
  return { fetch: fetchStub, seen };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function client(fetchStub: typeof fetch, extra: Record<string, unknown> = {}): PveClient {
  return new PveClient({
    url: "https://pve.example:8006",
    token: `root@pam!mcp=${SECRET}`,
    fetch: fetchStub,
    retry: { baseDelayMs: 1 },
    ...extra,
  });
}

Deno.test("parameters go into the query for GET/DELETE and into a form body for POST/PUT", async () => {
  const { fetch, seen } = stub([json(200, { data: null })]);
  const pve = client(fetch);
  await pve.get("/nodes/pve1/tasks", { limit: 5, errors: true });
  await pve.delete("/nodes/pve1/qemu/100", { purge: true, "destroy-unreferenced-disks": 1 });
  await pve.post("/nodes/pve1/qemu/100/agent/exec", { command: ["ls", "-l"], force: false });
  await pve.put("/nodes/pve1/qemu/100/config", { cores: 2 });
  assert.equal(seen[0]?.url.search, "?limit=5&errors=1");
  assert.equal(seen[0]?.body, undefined);
  assert.equal(seen[1]?.url.search, "?purge=1&destroy-unreferenced-disks=1");
  assert.equal(seen[1]?.body, undefined);
  assert.equal(seen[2]?.url.search, "");
  assert.equal(seen[2]?.body, "command=ls&command=-l&force=0");
  assert.equal(seen[2]?.headers.get("content-type"), "application/x-www-form-urlencoded");
  assert.equal(seen[3]?.method, "PUT");
  assert.equal(seen[0]?.headers.get("authorization"), `PVEAPIToken=root@pam!mcp=${SECRET}`);
  assert.equal(seen[2]?.headers.get("csrfpreventiontoken"), null);
  assert.equal(seen[0]?.url.pathname, "/api2/json/nodes/pve1/tasks");
  pve.close();
});

Deno.test("a 429 with Retry-After is retried and then succeeds", async () => {
  const { fetch, seen } = stub([
    json(429, { data: null }, { "retry-after": "0" }),
    json(200, { data: { version: "8.4.1", release: "8.4" } }),
  ]);
  const pve = client(fetch);
  const v = await pve.version();
  assert.equal(v.isPve9, false);
  assert.equal(v.features.agentAuditPrivilege, "VM.Monitor");
  assert.equal(seen.length, 2);
  pve.close();
});

Deno.test("Retry-After is honoured: the client waits at least the seconds the server asked for", async () => {
  const { fetch, seen } = stub([
    json(503, { data: null }, { "retry-after": "7" }),
    json(429, { data: null }, { "retry-after": "3" }),
    json(200, { data: { version: "9.1.1", release: "9.1" } }),
  ]);
  const waited: number[] = [];
  const pve = client(fetch, {
    retry: { baseDelayMs: 1, maxDelayMs: 10_000 },
    sleep: (ms: number) => {
      waited.push(ms);
      return Promise.resolve();
    },
  });
  await pve.get("/version");
  assert.equal(seen.length, 3);
  assert.deepEqual(waited, [7000, 3000], "the waits are the server's, not the 1 ms backoff");
  pve.close();
  // A Retry-After beyond the cap waits the cap, not longer.
  const capped = stub([
    json(503, { data: null }, { "retry-after": "3600" }),
    json(200, { data: null }),
  ]);
  const waits: number[] = [];
  const slow = client(capped.fetch, {
    retry: { baseDelayMs: 1, maxDelayMs: 10_000 },
    sleep: (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  await slow.get("/nodes");
  assert.deepEqual(waits, [10_000]);
  slow.close();
});

Deno.test("a GET is retried at most twice, then the typed error is thrown", async () => {
  const { fetch, seen } = stub([json(503, { data: null, message: "Service Unavailable" })]);
  const pve = client(fetch);
  await assert.rejects(pve.get("/nodes"), PveConnectionError);
  assert.equal(seen.length, 3);
  pve.close();
});

Deno.test("writes are never retried", async () => {
  for (const method of ["POST", "PUT", "DELETE"] as const) {
    const { fetch, seen } = stub([new TypeError("fetch failed: connection reset")]);
    const pve = client(fetch);
    await assert.rejects(
      pve.request(method, "/nodes/pve1/qemu/100/status/start"),
      PveOutcomeUnknownError,
    );
    assert.equal(seen.length, 1, method);
    pve.close();
  }
});

Deno.test("a hung request ends in PveTimeoutError, distinct from a connection error", async () => {
  const { fetch, seen } = stub(["hang"]);
  const pve = client(fetch, { timeoutMs: 20, retry: { attempts: 0 } });
  await assert.rejects(pve.get("/version"), (error: unknown) => {
    assert.ok(error instanceof PveTimeoutError);
    assert.ok(!(error instanceof PveConnectionError));
    assert.equal(error.timeoutMs, 20);
    assert.equal(error.path, "/version");
    return true;
  });
  assert.equal(seen.length, 1);
  pve.close();
});

Deno.test("aborting a request rejects with the signal's reason", async () => {
  const { fetch } = stub(["hang"]);
  const pve = client(fetch);
  const controller = new AbortController();
  const pending = pve.get("/version", undefined, { signal: controller.signal });
  controller.abort(new DOMException("stop", "AbortError"));
  await assert.rejects(pending, (error: unknown) => {
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, "AbortError");
    return true;
  });
  pve.close();
});

Deno.test("network and TLS failures are classified, and TLS is not retried", async () => {
  const refused = stub([
    new TypeError("fetch failed", {
      cause: new Error("tcp connect error: Connection refused (os error 111)"),
    }),
  ]);
  let pve = client(refused.fetch);
  await assert.rejects(pve.get("/version"), (error: unknown) => {
    assert.ok(error instanceof PveConnectionError && !(error instanceof PveTlsError));
    assert.match(error.message, /refused/);
    return true;
  });
  assert.equal(refused.seen.length, 3);
  pve.close();
  const tls = stub([
    new TypeError("fetch failed", {
      cause: new Error("client error (Connect): invalid peer certificate: UnknownIssuer"),
    }),
  ]);
  pve = client(tls.fetch);
  await assert.rejects(pve.get("/version"), (error: unknown) => {
    assert.ok(error instanceof PveTlsError);
    assert.match(error.message, /caCert/);
    assert.match(error.message, /insecure/);
    return true;
  });
  assert.equal(tls.seen.length, 1);
  pve.close();
});

Deno.test("a non-JSON answer says the URL may not point at the PVE API", async () => {
  const { fetch } = stub([new Response("<html>hello</html>", { status: 200 })]);
  const pve = client(fetch);
  await assert.rejects(pve.get("/version"), (error: unknown) => {
    assert.ok(error instanceof PveError);
    assert.match(error.message, /not a Proxmox VE JSON envelope/);
    return true;
  });
  pve.close();
});

Deno.test("a 401 on a token is not retried and names the token, never the secret", async () => {
  const { fetch, seen } = stub([new Response(null, { status: 401 })]);
  const pve = client(fetch);
  await assert.rejects(pve.get("/nodes"), (error: unknown) => {
    assert.ok(error instanceof PveAuthError);
    assert.match(error.message, /root@pam!mcp/);
    assert.ok(!error.message.includes(SECRET));
    return true;
  });
  assert.equal(seen.length, 1);
  pve.close();
});

Deno.test("secrets echoed by PVE are redacted from error messages", async () => {
  const { fetch } = stub([json(400, {
    data: null,
    message: `bad value hunter2hunter2 and ${SECRET}`,
    errors: { password: "type check failed - got 'hunter2hunter2'" },
  })]);
  const pve = client(fetch);
  await assert.rejects(
    pve.post("/access/password", { userid: "x@pve", password: "hunter2hunter2" }),
    (error: unknown) => {
      assert.ok(error instanceof PveValidationError);
      assert.ok(!error.message.includes("hunter2hunter2"), error.message);
      assert.ok(!error.message.includes(SECRET));
      assert.ok(!JSON.stringify(error.errors).includes("hunter2hunter2"));
      return true;
    },
  );
  pve.close();
});

Deno.test("bad paths and missing credentials are refused before any request", async () => {
  const { fetch, seen } = stub([json(200, { data: null })]);
  const pve = client(fetch);
  for (
    const path of [
      "/nodes/../access/users",
      "/nodes/%2e%2e/x",
      "/api2/extjs/version",
      "nodes",
      "/a//b",
    ]
  ) {
    await assert.rejects(pve.get(path), PveValidationError, path);
  }
  assert.equal(seen.length, 0);
  assert.throws(() => new PveClient({ url: "https://pve:8006", fetch }), PveValidationError);
  assert.throws(
    () => new PveClient({ url: "https://pve:8006", tokenId: "root@pam!mcp", fetch }),
    PveValidationError,
  );
  pve.close();
});

Deno.test("a response schema normalizes data and a mismatch is a clear PveError", async () => {
  const { fetch } = stub([json(200, { data: "101" }), json(200, { data: "abc" })]);
  const pve = client(fetch);
  const { pveInt } = await import("../../src/pve/mod.ts");
  assert.equal(await pve.get("/cluster/nextid", undefined, { schema: pveInt }), 101);
  await assert.rejects(
    pve.get("/cluster/nextid", undefined, { schema: pveInt }),
    /Unexpected answer/,
  );
  pve.close();
});

Deno.test("a malformed /cluster/resources answer is a PveError naming the entry and field", async () => {
  const cases: Array<[unknown, string]> = [
    [{}, ": Invalid input: expected array, received object."],
    [[{ type: "node", node: "a" }, null], " at 1: Invalid input: expected object, received null."],
    [
      [{ id: "qemu/100", vmid: 100 }],
      " at 0.type: Invalid input: expected string, received undefined.",
    ],
    [[{ type: "qemu", vmid: "abc" }], ' at 0.vmid: expected a number, got "abc".'],
    [[{ type: "qemu", vmid: "1.5" }], " at 0.vmid: expected an integer."],
    [
      [{ type: "qemu", vmid: 1 }, { type: "lxc", vmid: 2, shared: "2" }, { vmid: 3 }],
      ' at 1.shared: expected 0 or 1, got "2".',
    ],
    [[{ type: "qemu", vmid: 1, cpu: "x", node: 3, id: true }], " at 0.id: Invalid input."],
  ];
  for (const [data, detail] of cases) {
    const { fetch } = stub([json(200, { data })]);
    const pve = client(fetch);
    await assert.rejects(pve.resources(), (error: unknown) => {
      assert.ok(error instanceof PveError);
      assert.equal(
        error.message,
        `Unexpected answer from pve.example:8006 for GET /cluster/resources${detail} This PVE ` +
          "version may differ from what the client expects; please report it",
      );
      return true;
    });
    pve.close();
  }
});

Deno.test("without a body message, a non-canonical reason phrase is used as PVE's text", async () => {
  const { fetch } = stub([
    new Response(JSON.stringify({ data: null }), { status: 500, statusText: "VM 100 not running" }),
    new Response(null, { status: 401, statusText: "Unauthorized" }),
  ]);
  const pve = client(fetch);
  await assert.rejects(pve.post("/nodes/pve1/qemu/100/status/reboot"), (error: unknown) => {
    assert.ok(error instanceof PveError);
    assert.equal(error.pveMessage, "VM 100 not running");
    assert.match(error.message, /VM 100 not running/);
    return true;
  });
  await assert.rejects(pve.get("/nodes"), (error: unknown) => {
    assert.ok(error instanceof PveAuthError);
    assert.equal(error.pveMessage, undefined);
    return true;
  });
  pve.close();
});
