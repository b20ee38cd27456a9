import assert from "node:assert/strict";
import { pveApiCall } from "../../src/tools/api/pve_api_call.ts";
import { pveApiGet } from "../../src/tools/api/pve_api_get.ts";
import { openSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [pveApiGet, pveApiCall];

Deno.test("pve_api_get reads a validated path and returns data", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("pve_api_get", {
      path: "/api2/json/nodes/pve1/qemu/100/status/current",
    });
    const out = structuredOf<
      { template: string; data: Record<string, unknown>; truncated: boolean }
    >(result);
    assert.equal(out.template, "/nodes/{node}/qemu/{vmid}/status/current");
    assert.equal(out.data.name, "web01");
    assert.equal(out.truncated, false);
    const list = structuredOf<{ items_total: number }>(
      await s.call("pve_api_get", { path: "/cluster/resources", params: { type: "vm" } }),
    );
    assert.equal(list.items_total, 12);
  } finally {
    await s.close();
  }
});

Deno.test("pve_api_get and pve_api_call reject bad paths, methods and params before any request", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        "pve_api_get",
        { path: "/nodes/pve1/qemuu" },
        /No API path matches .* Below "\/nodes\/\{node\}" the API has: .*qemu/,
      ],
      [
        "pve_api_get",
        { path: "/cluster/resources", params: { type: "foo" } },
        /type: value 'foo' does not have a value in the enumeration 'vm, storage, node, sdn'/,
      ],
      [
        "pve_api_get",
        { path: "/nodes/pve1/qemu/100/config?current=1" },
        /pass query values in params/,
      ],
      [
        "pve_api_get",
        { path: "/nodes/pve1/qemu/100/config", params: { bogus: 1 } },
        /bogus: property is not defined in schema/,
      ],
      [
        "pve_api_call",
        { method: "POST", path: "/cluster/resources" },
        /Method 'POST \/cluster\/resources' not implemented: this path supports GET/,
      ],
      [
        "pve_api_call",
        { method: "POST", path: "/nodes/pve1/qemu/100/snapshot" },
        /snapname: property is missing and it is not optional/,
      ],
      [
        "pve_api_call",
        { method: "POST", path: "/nodes/pve1/qemu/50/status/start" },
        /vmid: invalid format - value does not look like a valid VM ID/,
      ],
      ["pve_api_call", {
        method: "POST",
        path: "/nodes/pve1/qemu/100/snapshot",
        params: { snapname: "ok1", vmstate: "yes" },
      }, /vmstate: type check \('boolean'\) failed - got 'yes'/],
      [
        "pve_api_call",
        { method: "DELETE", path: "/nodes/pve1/qemu/100", params: { vmid: 101 } },
        /vmid: duplicate parameter/,
      ],
    ];
    for (const [tool, args, message] of cases) {
      const result = await s.call(tool, args);
      assert.equal(result.isError, true, `${tool} ${JSON.stringify(args)}`);
      assert.match(textOf(result), message);
    }
    assert.deepEqual(await s.requests(since), [], "no request reached the cluster");
  } finally {
    await s.close();
  }
});

Deno.test("pve_api_call plans the one call for dry_run, then sends it and waits for its task", async () => {
  const s = await openSession({ tools });
  try {
    const dry = structuredOf<Record<string, unknown>>(
      await s.call("pve_api_call", {
        method: "POST",
        path: "/nodes/pve3/qemu/103/status/start",
        dry_run: true,
      }),
    );
    assert.deepEqual(dry.calls, [{ method: "POST", path: "/nodes/pve3/qemu/103/status/start" }]);
    assert.deepEqual(await s.writes(), []);

    const result = await s.call("pve_api_call", {
      method: "POST",
      path: "/nodes/pve3/qemu/103/status/start",
    });
    const out = structuredOf<Record<string, unknown>>(result);
    assert.equal(out.task_state, "ok");
    assert.match(String(out.upid), /:qmstart:103:/);
    assert.equal((await s.writes()).length, 1);

    const put = await s.call("pve_api_call", {
      method: "PUT",
      path: "/nodes/pve3/qemu/103/config",
      params: { onboot: true },
    });
    assert.equal(put.isError, undefined, textOf(put));
    assert.equal(structuredOf(put).data, null);
  } finally {
    await s.close();
  }
});

Deno.test("pve_api tools only reach in-scope guests when a scope is configured", async () => {
  const s = await openSession({ tools, config: { policy: { scope: { pools: ["prod"] } } } });
  try {
    const inside = await s.call("pve_api_get", { path: "/nodes/pve1/qemu/100/config" });
    assert.equal(inside.isError, undefined, textOf(inside));
    for (const path of ["/nodes/pve1/lxc/200/config", "/cluster/resources"]) {
      const refused = await s.call("pve_api_get", { path });
      assert.equal(refused.isError, true, path);
      assert.match(textOf(refused), /outside the scope/);
    }
    const since = await s.mark();
    const call = await s.call("pve_api_call", {
      method: "POST",
      path: "/nodes/pve1/lxc/200/status/stop",
    });
    assert.equal(call.isError, true);
    assert.deepEqual(await s.writes(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("pve_api_get truncates huge answers with a note", async () => {
  const s = await openSession({
    tools,
    sim: { seed: "scale", nodes: 5, guests: 2000, speed: "instant" },
  });
  try {
    const result = await s.call("pve_api_get", {
      path: "/cluster/resources",
      params: { type: "vm" },
    });
    const out = structuredOf<
      { truncated: boolean; items_total: number; items_returned: number; note: string }
    >(result);
    assert.equal(out.truncated, true);
    assert.equal(out.items_total, 2000);
    assert.ok(out.items_returned > 0 && out.items_returned < 2000);
    assert.match(out.note, /narrow the request/);
    assert.ok(JSON.stringify(result).length < 40_000);
  } finally {
    await s.close();
  }
});
