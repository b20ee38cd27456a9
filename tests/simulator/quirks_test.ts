import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { api, rawRequest, rootToken, startTestSimulator } from "./_helpers.ts";

async function control(
  sim: SimulatorHandle,
  method: string,
  path: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${sim.url}/_sim${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("a fault with a body answers with a proxy's HTML page instead of PVE's JSON", async () => {
  const sim = await startTestSimulator({ seed: "demo", speed: "instant" });
  try {
    const added = await control(sim, "POST", "/faults", {
      method: "POST",
      path: "/nodes/*/qemu/*/status/start",
      status: 502,
      reason: "Bad Gateway",
      body: "<html><body>502 Bad Gateway</body></html>",
      count: 1,
    });
    assert.equal(added.status, 200);
    const answer = await rawRequest(sim, {
      method: "POST",
      path: "/api2/json/nodes/pve1/qemu/100/status/start",
      headers: { Authorization: `PVEAPIToken=${rootToken(sim)}` },
    });
    assert.equal(answer.statusLine, "HTTP/1.1 502 Bad Gateway");
    assert.equal(answer.headers["content-type"], "text/html");
    assert.equal(answer.body, "<html><body>502 Bad Gateway</body></html>");
    const refused = await control(sim, "POST", "/faults", { method: "GET", path: "/x", body: "x" });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /"body": it needs a "status"/);
  } finally {
    await sim.close();
  }
});

Deno.test("an empty lock is served as the key present but empty, and blocks nothing", async () => {
  const sim = await startTestSimulator({ seed: "demo", speed: "instant" });
  try {
    const set = await control(sim, "POST", "/guests/100/lock", { lock: "" });
    assert.deepEqual(set.body, { vmid: 100, lock: "" });
    const status = await api(sim, "GET", "/nodes/pve1/qemu/100/status/current", { token: true });
    assert.equal((status.body.data as Record<string, unknown>).lock, "");
    const resources = await api(sim, "GET", "/cluster/resources", {
      token: true,
      query: { type: "vm" },
    });
    const entry = (resources.body.data as Record<string, unknown>[]).find((g) => g.vmid === 100);
    assert.equal(entry?.lock, "");
    const snapshot = await api(sim, "POST", "/nodes/pve1/qemu/100/snapshot", {
      token: true,
      params: { snapname: "free1" },
    });
    assert.equal(snapshot.status, 200);
  } finally {
    await sim.close();
  }
});

Deno.test("quirks switch sparse task rows and JSON booleans on and off", async () => {
  const sim = await startTestSimulator({ seed: "demo", speed: "instant" });
  try {
    assert.deepEqual((await control(sim, "GET", "/quirks")).body, {
      sparse_task_rows: false,
      json_booleans: false,
    });
    await api(sim, "POST", "/nodes/pve3/qemu/103/status/start", { token: true });
    const on = await control(sim, "POST", "/quirks", {
      sparse_task_rows: true,
      json_booleans: true,
    });
    assert.deepEqual(on.body, { sparse_task_rows: true, json_booleans: true });
    const tasks = await api(sim, "GET", "/nodes/pve3/tasks", {
      token: true,
      query: { source: "all" },
    });
    const row = (tasks.body.data as Record<string, unknown>[])[0];
    assert.deepEqual(Object.keys(row ?? {}).sort(), ["id", "node", "pid", "pstart", "upid"]);
    const resources = await api(sim, "GET", "/cluster/resources", {
      token: true,
      query: { type: "vm" },
    });
    const template = (resources.body.data as Record<string, unknown>[]).find((g) =>
      g.vmid === 9000
    );
    assert.equal(template?.template, true);
    const storage = await api(sim, "GET", "/cluster/resources", {
      token: true,
      query: { type: "storage" },
    });
    assert.ok(
      (storage.body.data as Record<string, unknown>[]).every((s) => typeof s.shared === "boolean"),
    );
    await control(sim, "POST", "/quirks", { sparse_task_rows: false, json_booleans: false });
    const again = await api(sim, "GET", "/nodes/pve3/tasks", {
      token: true,
      query: { source: "all" },
    });
    assert.equal(typeof (again.body.data as Record<string, unknown>[])[0]?.type, "string");
    const bad = await control(sim, "POST", "/quirks", { nonsense: true });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /Unknown quirk "nonsense"/);
  } finally {
    await sim.close();
  }
});

Deno.test("injected task warnings end the next task of that type WARNINGS: n", async () => {
  const sim = await startTestSimulator({ seed: "demo", speed: "instant" });
  try {
    const bad = await control(sim, "POST", "/tasks/warnings", { type: "qmstart", lines: [] });
    assert.equal(bad.status, 400);
    await control(sim, "POST", "/tasks/warnings", {
      type: "qmstart",
      lines: ["first", "second"],
      count: 1,
    });
    const start = await api(sim, "POST", "/nodes/pve3/qemu/103/status/start", { token: true });
    const upid = String(start.body.data);
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 50 && status.status !== "stopped"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const answer = await api(sim, "GET", `/nodes/pve3/tasks/${encodeURIComponent(upid)}/status`, {
        token: true,
      });
      status = answer.body.data as Record<string, unknown>;
    }
    assert.equal(status.exitstatus, "WARNINGS: 2");
    const log = await api(sim, "GET", `/nodes/pve3/tasks/${encodeURIComponent(upid)}/log`, {
      token: true,
    });
    const lines = (log.body.data as { t: string }[]).map((l) => l.t);
    assert.deepEqual(lines.slice(-3), ["WARN: first", "WARN: second", "TASK WARNINGS: 2"]);
    const cleared = await control(sim, "DELETE", "/tasks/warnings");
    assert.deepEqual(cleared.body, { cleared: true });
  } finally {
    await sim.close();
  }
});
