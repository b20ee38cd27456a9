import assert from "node:assert/strict";
import { guestStart } from "../../src/tools/lifecycle/guest_start.ts";
import { guestGet } from "../../src/tools/inventory/guest_get.ts";
import { snapshotCreate } from "../../src/tools/snapshots/snapshot_create.ts";
import { pveApiCall } from "../../src/tools/api/pve_api_call.ts";
import { pveApiGet } from "../../src/tools/api/pve_api_get.ts";
import { control } from "../pve/_sim.ts";
import { openSession, textOf } from "./_helpers.ts";

const tools = [guestStart, guestGet, snapshotCreate, pveApiCall, pveApiGet];

/** What every unknown-outcome answer must say about VM 103's start on pve3. */
function assertUnknownStart(text: string, what: string): void {
  assert.match(text, /It is unknown whether Proxmox VE carried out POST/, what);
  assert.match(text, /do not repeat it yet/, what);
  assert.match(text, /guest_get \(vmid 103\)/, what);
  assert.match(text, /task_list \(node "pve3", vmid 103, type "qmstart"\)/, what);
  assert.doesNotMatch(text, /try again/i, what);
}

Deno.test("a POST without a definite answer says the outcome is unknown and how to check, never to try again", async () => {
  const s = await openSession({ tools, client: { timeoutMs: 400 } });
  try {
    const faults: [string, Record<string, unknown>][] = [
      ["502", { status: 502, reason: "Bad Gateway" }],
      ["503", { status: 503, reason: "Service Unavailable" }],
      ["504", { status: 504, reason: "Gateway Timeout" }],
      ["a proxy's 500 page", {
        status: 500,
        reason: "Internal Server Error",
        body: "<html><body><h1>500 Internal Server Error</h1>nginx</body></html>",
      }],
      ["595", { status: 595, reason: "Connection refused" }],
      ["596", { status: 596, reason: "Connection timed out" }],
      ["599", { status: 599, reason: "Too many redirections" }],
      ["a reset", { reset: true }],
    ];
    for (const [what, spec] of faults) {
      await control(s.sim, "POST", "/_sim/faults", {
        method: "POST",
        path: "/nodes/pve3/qemu/103/status/start",
        count: 1,
        ...spec,
      });
      const since = await s.mark();
      const result = await s.call("guest_start", { vmid: 103 });
      assert.equal(result.isError, true, what);
      assertUnknownStart(textOf(result), what);
      const sent = (await s.writes(since)).filter((w) => w.path.endsWith("/status/start"));
      assert.equal(sent.length, 1, `${what}: the start was sent exactly once`);
    }
  } finally {
    await s.close();
  }
});

Deno.test("a POST still unanswered at the timeout is reported unknown", async () => {
  const s = await openSession({ tools, client: { timeoutMs: 300 } });
  try {
    await control(s.sim, "POST", "/_sim/faults", {
      method: "POST",
      path: "/nodes/pve3/qemu/103/status/start",
      delay_ms: 1200,
      count: 1,
    });
    const result = await s.call("guest_start", { vmid: 103 });
    assert.equal(result.isError, true);
    const text = textOf(result);
    assertUnknownStart(text, "timeout");
    assert.match(text, /no answer within 300 ms/);
  } finally {
    await s.close();
  }
});

Deno.test("snapshot_create and pve_api_call pass an unknown outcome through with their filters", async () => {
  const s = await openSession({ tools });
  try {
    await control(s.sim, "POST", "/_sim/faults", {
      method: "POST",
      path: "/nodes/*/qemu/*/snapshot",
      status: 503,
      reason: "Service Unavailable",
    });
    const snap = await s.call("snapshot_create", { vmid: 100, snapshot: "before1" });
    assert.equal(snap.isError, true);
    assert.match(textOf(snap), /It is unknown whether Proxmox VE carried out POST/);
    assert.match(textOf(snap), /task_list \(node "pve1", vmid 100, type "qmsnapshot"\)/);
    const raw = await s.call("pve_api_call", {
      method: "POST",
      path: "/nodes/pve1/qemu/100/snapshot",
      params: { snapname: "before2" },
    });
    assert.equal(raw.isError, true);
    assert.match(textOf(raw), /It is unknown whether Proxmox VE carried out POST/);
    assert.doesNotMatch(textOf(raw), /try again/i);
  } finally {
    await s.close();
  }
});

Deno.test("a definite refusal of a write is not called unknown, and reads keep their retry advice", async () => {
  const s = await openSession({ tools, client: { retry: { attempts: 0 } } });
  try {
    // PVE's own 500 (a handler's die, JSON body): the handler refused, nothing happened.
    await control(s.sim, "POST", "/_sim/faults", {
      method: "POST",
      path: "/nodes/pve3/qemu/103/status/start",
      status: 500,
      reason: "VM 103 start refused",
      count: 1,
    });
    const refused = await s.call("guest_start", { vmid: 103 });
    assert.equal(refused.isError, true);
    assert.doesNotMatch(textOf(refused), /unknown whether/);
    // A read that hits a 503 may simply be repeated.
    await control(s.sim, "POST", "/_sim/faults", {
      method: "GET",
      path: "/nodes/pve1/qemu/100/config",
      status: 503,
      reason: "Service Unavailable",
      count: 1,
    });
    const read = await s.call("pve_api_get", { path: "/nodes/pve1/qemu/100/config" });
    assert.equal(read.isError, true);
    assert.match(textOf(read), /Try again in a moment/);
    assert.doesNotMatch(textOf(read), /unknown whether/);
  } finally {
    await s.close();
  }
});
