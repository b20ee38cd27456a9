import assert from "node:assert/strict";
import { globMatcher } from "../../src/tools/_shared/glob.ts";
import { quoted } from "../../src/tools/_shared/format.ts";
import { allTools } from "../../src/tools/mod.ts";
import { assertLinear, repeated } from "../_linear.ts";
import { openSession, textOf } from "./_helpers.ts";

const MEGABYTE = "x".repeat(1_000_000);

Deno.test("a megabyte in any bounded argument of the existing tools is refused in a short answer, nothing sent", async () => {
  const s = await openSession({ tools: allTools });
  try {
    const since = await s.mark();
    const cases: [string, Record<string, unknown>][] = [
      ["guest_list", { cursor: MEGABYTE }],
      ["guest_list", { name: MEGABYTE }],
      ["guest_list", { tag: MEGABYTE }],
      ["guest_list", { pool: MEGABYTE }],
      ["guest_list", { node: MEGABYTE }],
      ["task_list", { node: MEGABYTE }],
      ["task_list", { type: MEGABYTE }],
      ["task_get", { upid: MEGABYTE }],
      ["task_wait", { upid: MEGABYTE }],
      ["guest_get", { name: MEGABYTE }],
      ["snapshot_create", { vmid: 100, snapshot: MEGABYTE }],
      ["snapshot_rollback", { vmid: 100, snapshot: MEGABYTE }],
      ["snapshot_delete", { vmid: 100, snapshot: MEGABYTE }],
      ["snapshot_create", { vmid: 100, snapshot: "ok1", description: MEGABYTE }],
      ["pve_api_get", { path: `/${MEGABYTE}` }],
      ["pve_api_call", { method: "POST", path: "/nodes", params: { x: MEGABYTE } }],
    ];
    for (const [tool, args] of cases) {
      const result = await s.call(tool, args);
      const what = `${tool} ${Object.keys(args).join(",")}`;
      assert.equal(result.isError, true, what);
      assert.ok(textOf(result).length < 4000, `${what}: ${textOf(result).length} characters`);
    }
    assert.deepEqual(await s.writes(since), [], "no write reached the simulator");
  } finally {
    await s.close();
  }
});

Deno.test("guest_list echoes at most a prefix of a bad cursor", async () => {
  const s = await openSession({ tools: allTools });
  try {
    const result = await s.call("guest_list", { cursor: "c".repeat(200) });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /^Cursor "c{80}"… \(200 characters\) does not belong/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_list name globs match like before, ignoring case", () => {
  const cases: [string, string, boolean][] = [
    ["web*", "Web01", true],
    ["web*", "db01", false],
    ["*01", "web01", true],
    ["w?b0?", "web01", true],
    ["w?b0?", "web001", false],
    ["*e*0*", "web01", true],
    ["a.b", "a.b", true],
    ["a.b", "axb", false],
    ["", "", true],
    ["**", "anything", true],
    ["[x]", "[x]", true],
  ];
  for (const [glob, name, expected] of cases) {
    assert.equal(globMatcher(glob).test(name), expected, `${glob} on ${name}`);
  }
});

Deno.test("a glob with many stars matches in linear time", () => {
  const glob = globMatcher("*a".repeat(60) + "*b");
  assert.equal(glob.test("a".repeat(200)), false);
  assertLinear("globMatcher", (text) => glob.test(text), [repeated("a"), repeated("ab", "a")]);
});

Deno.test("quoted cuts a long input to a prefix and says how long it was", () => {
  assert.equal(quoted("pve1"), '"pve1"');
  assert.equal(quoted("a\nb"), '"a\\nb"');
  assert.equal(quoted("x".repeat(100), 3), '"xxx"… (100 characters)');
});
