import assert from "node:assert/strict";
import { allTools } from "../../src/tools/mod.ts";
import { DEMO_FLAGS, runCli } from "./_cli.ts";

Deno.test("tools --json lists exactly the default read-only set, with class, toolset and annotations", async () => {
  const run = await runCli(["--allow-env"], ["tools", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const listed = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
  const expected = allTools.filter((tool) => tool.capability === "read").map((tool) => tool.name);
  assert.deepEqual(listed.map((tool) => tool.name), expected);
  for (const tool of listed) {
    assert.equal(tool.capability, "read");
    assert.equal(typeof tool.toolset, "string");
    assert.deepEqual(
      Object.keys(tool.annotations as object).sort(),
      ["destructiveHint", "idempotentHint", "openWorldHint", "readOnlyHint"],
    );
  }
});

Deno.test("tools --all --json includes hidden tools and says why each is hidden", async () => {
  const run = await runCli(["--allow-env"], [
    "tools",
    "--all",
    "--json",
    "--allow",
    "read,lifecycle",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const listed = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
  assert.equal(listed.length, allTools.length);
  const start = listed.find((tool) => tool.name === "guest_start");
  assert.equal(start?.visible, true);
  const stop = listed.find((tool) => tool.name === "guest_stop");
  assert.equal(stop?.visible, false);
  assert.match(String(stop?.hiddenBecause), /needs capability "destroy"/);
});

Deno.test("tools prints a table with a summary of what is offered", async () => {
  const run = await runCli(["--allow-env"], ["tools"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^tool +class +toolset +annotations +title$/m);
  assert.match(run.stdout, /^guest_list +read +inventory +ro,idempotent +List guests$/m);
  assert.match(run.stdout, /tools offered \(allowed classes: read\); --all shows the \d+ hidden/);
});

Deno.test("call prints the structured result as JSON on stdout and exits 0", async () => {
  const run = await runCli(DEMO_FLAGS, ["call", "guest_list", "--demo", "limit=2", "type=qemu"]);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.returned, 2);
  assert.deepEqual(result.guests.map((guest: { vmid: number }) => guest.vmid), [100, 101]);
});

Deno.test("call exits 1 with the refusal on stderr when the policy hides the tool", async () => {
  const run = await runCli(DEMO_FLAGS, ["call", "guest_stop", "--demo", "vmid=100"]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /Tool "guest_stop" needs capability "destroy"/);
});

Deno.test("call returns the planned calls of a dry run, with --args JSON and key=value combined", async () => {
  const run = await runCli(DEMO_FLAGS, [
    "call",
    "guest_stop",
    "--demo",
    "--allow",
    "read,destroy",
    "--args",
    '{"vmid": 999}',
    "vmid=100",
    "dry_run=true",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.dry_run, true);
  assert.deepEqual(result.calls, [{ method: "POST", path: "/nodes/pve1/qemu/100/status/stop" }]);
});

Deno.test("call runs a task with progress on stderr", async () => {
  const run = await runCli(DEMO_FLAGS, [
    "call",
    "guest_start",
    "--demo",
    "--allow=read,lifecycle",
    "name=build-runner",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).result, "ok");
  assert.match(run.stderr, /^progress: Waiting for task UPID:pve2:/m);
});

Deno.test("call usage errors exit 2: no tool, unknown tool, bad --args, bad pair", async () => {
  for (
    const [args, pattern] of [
      [["call"], /Missing the tool name/],
      [["call", "guest_explode"], /Unknown tool "guest_explode": expected one of cluster_status/],
      [["call", "guest_get", "--demo", "--args", "{nope"], /Invalid --args: not JSON/],
      [["call", "guest_get", "--demo", "vmid"], /Invalid argument "vmid": expected key=value/],
    ] as const
  ) {
    const run = await runCli(DEMO_FLAGS, args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, pattern);
    assert.equal(run.stdout, "");
  }
});
