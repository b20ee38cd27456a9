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
        /No API path matches .*: check the spelling .*; below "\/nodes\/\{node\}" the API has: .*qemu/,
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
        /Method 'POST \/cluster\/resources' not implemented: this path supports GET, so read it with pve_api_get\.$/,
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

Deno.test("pve_api_call cannot reach outside the scope through parameters naming another guest or node", async () => {
  const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
    // clone to a VMID outside the range
    [{ vmids: ["100-199"] }, {
      path: "/nodes/pve1/qemu/100/clone",
      params: { newid: 999 },
    }],
    // clone onto a node outside the scope
    [{ nodes: ["pve1"] }, {
      path: "/nodes/pve1/qemu/100/clone",
      params: { newid: 150, target: "pve3" },
    }],
    // clone without putting the copy into a scoped pool
    [{ pools: ["prod"] }, { path: "/nodes/pve1/qemu/100/clone", params: { newid: 150 } }],
    // migrate an in-scope guest to a node outside the scope
    [{ nodes: ["pve1"] }, {
      path: "/nodes/pve1/qemu/100/migrate",
      params: { target: "pve3", online: true },
    }],
    // hand a disk to an out-of-scope guest
    [{ vmids: ["100-102"] }, {
      path: "/nodes/pve1/qemu/100/move_disk",
      params: { disk: "scsi0", "target-vmid": 103 },
    }],
  ];
  for (const [scope, request] of cases) {
    const s = await openSession({ tools, config: { policy: { scope } } });
    try {
      const since = await s.mark();
      const label = JSON.stringify({ scope, request });
      for (const dryRun of [true, false]) {
        const result = await s.call("pve_api_call", {
          method: "POST",
          ...request,
          dry_run: dryRun,
        });
        assert.equal(result.isError, true, label);
        assert.match(textOf(result), /outside the scope/, label);
      }
      assert.deepEqual(await s.writes(since), [], label);
      assert.deepEqual((await s.auditLines()).map((line) => line.outcome), ["denied", "denied"]);
    } finally {
      await s.close();
    }
  }
});

Deno.test("pve_api_call allows a clone or migration that stays inside the scope", async () => {
  const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
    [{ vmids: ["100-199"] }, { path: "/nodes/pve1/qemu/100/clone", params: { newid: 150 } }],
    [{ nodes: ["pve1", "pve2"] }, {
      path: "/nodes/pve1/qemu/100/migrate",
      params: { target: "pve2", online: true },
    }],
    [{ pools: ["prod"] }, {
      path: "/nodes/pve1/qemu/100/clone",
      params: { newid: 150, pool: "prod" },
    }],
  ];
  for (const [scope, request] of cases) {
    const s = await openSession({ tools, config: { policy: { scope } } });
    try {
      const result = await s.call("pve_api_call", { method: "POST", ...request, dry_run: true });
      assert.equal(result.isError, undefined, `${JSON.stringify(scope)}: ${textOf(result)}`);
      assert.equal(structuredOf(result).dry_run, true);
    } finally {
      await s.close();
    }
  }
});

Deno.test("pve_api_get does not send GETs that act beyond reading", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        "/nodes/pve1/query-url-metadata",
        { url: "http://169.254.169.254/latest/meta-data" },
        /fetch a URL/,
      ],
      ["/nodes/pve1/scan/nfs", { server: "10.0.0.5" }, /connect to a storage server/],
      [
        "/nodes/pve1/scan/cifs",
        { server: "10.0.0.5", username: "u", password: "hunter2" },
        /connect to a storage server/,
      ],
      ["/nodes/pve1/qemu/100/agent/file-read", { file: "/etc/shadow" }, /reads a file inside/],
      ["/nodes/pve1/qemu/100/vncwebsocket", { port: 5900, vncticket: "x" }, /console/],
    ];
    for (const [path, params, message] of cases) {
      const result = await s.call("pve_api_get", { path, params });
      assert.equal(result.isError, true, path);
      assert.match(textOf(result), message, path);
      assert.match(textOf(result), /more than a read/, path);
      assert.doesNotMatch(textOf(result), /hunter2/);
    }
    assert.deepEqual(await s.requests(since), [], "nothing reached the cluster");
    const plain = await s.call("pve_api_get", { path: "/nodes/pve1/qemu/100/agent/get-osinfo" });
    assert.equal(plain.isError, undefined, textOf(plain));
  } finally {
    await s.close();
  }
});

Deno.test("pve_api_call does not hand a new token secret or TFA recovery keys to the model", async () => {
  const secret = "5d8c1a3e-7b2f-4c9d-8e1a-0f6b3c2d1e4f";
  const answers: Record<string, [Record<string, string>, unknown]> = {
    "/access/users/ops%40pve/token/ci": [{}, {
      "full-tokenid": "ops@pve!ci",
      info: { privsep: 1 },
      value: secret,
    }],
    "/access/tfa/ops%40pve": [{ type: "recovery" }, {
      id: "recovery",
      recovery: ["aaaa-bbbb", "cccc-dddd"],
    }],
  };
  for (const [path, [params, data]] of Object.entries(answers)) {
    const plan = await pveApiCall.plan!(
      { method: "POST", path, params },
      { inScope: () => true, assertInScope: () => {} } as never,
    );
    const ctx = {
      client: { request: () => Promise.resolve(data) },
      signal: new AbortController().signal,
    };
    const result = await pveApiCall.handler({ method: "POST", path, params }, ctx as never, plan);
    const text = JSON.stringify(result);
    assert.ok(!text.includes(secret) && !text.includes("aaaa-bbbb"), text);
    assert.match(text, /not shown/);
  }
});
