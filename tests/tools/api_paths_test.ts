import assert from "node:assert/strict";
import { pveApiCall } from "../../src/tools/api/pve_api_call.ts";
import { pveApiGet } from "../../src/tools/api/pve_api_get.ts";
import { checkApiRequest } from "../../src/tools/api/_schema.ts";
import { assertLinear, repeated } from "../_linear.ts";
import { openSession, textOf } from "./_helpers.ts";

const tools = [pveApiGet, pveApiCall];

Deno.test("pve_api_get refuses every path that is not a plain path below /api2/json, and rewrites none", async () => {
  const s = await openSession({ tools });
  try {
    const since = await s.mark();
    const refused: [string, RegExp][] = [
      ["https://evil.example/api2/json/nodes", /it is a URL/],
      ["http://127.0.0.1:8006/api2/json/nodes", /it is a URL/],
      ["//evil.example/api2/json/nodes", /it is a URL/],
      ["/api2/extjs/nodes", /only the \/api2\/json format/],
      ["/api2/html/nodes", /only the \/api2\/json format/],
      ["nodes", /does not start with "\/"/],
      ["api2/json/nodes", /does not start with "\/"/],
      ["/nodes\n", /whitespace or control characters/],
      ["/nodes ", /whitespace or control characters/],
      [" /nodes", /whitespace or control characters/],
      ["/nodes\t/pve1", /whitespace or control characters/],
      ["/nodes?x=1", /query string/],
      ["/nodes#x", /query string/],
      ["/nodes/", /empty segment/],
      ["/nodes//pve1", /empty segment/],
      ["/nodes/../access", /"\.\." segment/],
      ["/nodes/%2e%2e/access", /"\.\." segment/],
      ["/nodes/%zz", /malformed %-escape/],
      // A free-text segment (a volume id) is encoded for the request, which a lone surrogate
      // cannot be: found as "URI malformed", answered as a bug.
      ["/nodes/pve1/storage/local/content/x\ud800", /broken UTF-16 character/],
    ];
    for (const [path, why] of refused) {
      const result = await s.call("pve_api_get", { path });
      assert.equal(result.isError, true, JSON.stringify(path));
      const text = textOf(result);
      assert.match(text, why, JSON.stringify(path));
      assert.match(text, /a plain path below \/api2\/json on this cluster, starting with "\/"/);
    }
    const write = await s.call("pve_api_call", {
      method: "POST",
      path: "https://evil.example/api2/json/nodes/pve1/qemu/100/status/start",
    });
    assert.equal(write.isError, true);
    assert.match(textOf(write), /it is a URL/);
    assert.deepEqual(await s.requests(since), [], "nothing was sent");
    // The accepted forms: a path below /api2/json, with or without that prefix.
    for (const path of ["/nodes", "/api2/json/nodes"]) {
      const result = await s.call("pve_api_get", { path });
      assert.equal(result.isError, undefined, `${path}: ${textOf(result)}`);
    }
  } finally {
    await s.close();
  }
});

Deno.test("the api tools quote at most a bounded prefix of a huge path or value", async () => {
  const s = await openSession({ tools });
  try {
    const value = "x".repeat(60_000);
    const results = [
      await s.call("pve_api_get", { path: `/nodes/${"y".repeat(2000)}/nothing` }),
      await s.call("pve_api_get", { path: `https://${"z".repeat(2000)}` }),
      await s.call("pve_api_call", {
        method: "POST",
        path: "/access/users",
        params: { userid: value },
      }),
    ];
    for (const result of results) {
      assert.equal(result.isError, true);
      const text = textOf(result);
      assert.ok(text.length < 2000, `${text.length} characters: ${text.slice(0, 200)}`);
      assert.match(text, /\(\d+ characters\)/);
    }
  } finally {
    await s.close();
  }
});

Deno.test("pve_api_get answers a long argument list with a refusal, not a stall", async () => {
  const s = await openSession({ tools });
  try {
    const params: Record<string, string> = {};
    for (let i = 0; i < 600; i++) params[`p${i}`] = "1";
    const result = await s.call("pve_api_get", { path: "/nodes", params });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /`params` must have at most 512 entries/);
  } finally {
    await s.close();
  }
});

Deno.test("checking an API request takes linear time in the path and in each value", () => {
  const shapes = [
    repeated("a", "!"),
    repeated("a/", "?"),
    repeated("/", "x"),
    repeated("%41", "%"),
    repeated(".", "\n"),
    repeated("\\n", "."),
    repeated("a-", "!"),
  ];
  assertLinear("checkApiRequest path", (text) => checkApiRequest("GET", `/nodes/${text}`), shapes);
  assertLinear(
    "checkApiRequest value",
    (text) =>
      checkApiRequest("POST", "/nodes/pve1/qemu/100/config", {
        name: text,
        tags: text,
        net0: text,
        description: text,
      }),
    shapes,
  );
  assertLinear(
    "checkApiRequest OCI reference",
    (text) => checkApiRequest("GET", "/nodes/pve1/query-oci-repo-tags", { reference: text }),
    shapes,
  );
});

Deno.test("a huge value in a PVE error is cut in the tool's message", () => {
  const check = checkApiRequest("POST", "/nodes/pve1/qemu/100/config", {
    net0: `${"q".repeat(100_000)}=1`,
  });
  assert.equal(check.ok, false);
  if (!check.ok) {
    assert.ok(check.message.length < 3000, `${check.message.length}`);
    assert.ok(Object.values(check.errors ?? {}).every((e) => e.length < 300));
  }
});
