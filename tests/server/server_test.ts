import assert from "node:assert/strict";
import { z } from "zod";
import { ConfigError } from "../../src/config/errors.ts";
import { annotationsFor } from "../../src/policy/capability.ts";
import { defineTool } from "../../src/tools/types.ts";
import { AuditLog } from "../../src/policy/audit.ts";
import { createServer } from "../../src/server/mod.ts";
import { connect, handlerRuns, testConfig, testTools, textOf } from "./_harness.ts";

const ALL = { allow: ["read", "lifecycle", "change", "destroy", "exec", "raw"] };

Deno.test("tools/list offers only the read tools by default, with all four annotations", async () => {
  const session = await connect();
  try {
    const tools = await session.listTools();
    assert.deepEqual(tools.map((tool) => tool.name), ["probe_read", "probe_bug"]);
    const read = tools[0]!;
    assert.deepEqual(read.annotations, {
      title: "Test read",
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    });
    assert.equal(read.inputSchema.properties?.dry_run, undefined);
    assert.equal(read.inputSchema.properties?.cluster, undefined);
  } finally {
    await session.close();
  }
});

Deno.test("write tools get an optional dry_run argument and a dry-run output branch", async () => {
  const session = await connect({ config: { policy: ALL } });
  try {
    const tools = await session.listTools();
    const change = tools.find((tool) => tool.name === "probe_change")!;
    assert.equal(change.inputSchema.properties?.dry_run?.type, "boolean");
    assert.equal(change.inputSchema.properties?.dry_run?.default, false);
    assert.ok(!(change.inputSchema.required ?? []).includes("dry_run"));
    assert.equal(change.outputSchema?.type, "object");
    assert.ok(Array.isArray(change.outputSchema?.anyOf));
    assert.ok(!JSON.stringify(tools).includes('"confirm"'));
  } finally {
    await session.close();
  }
});

Deno.test("a read tool answers with text and structured content", async () => {
  const session = await connect();
  try {
    const result = await session.call("probe_read");
    assert.equal(result.isError, undefined);
    assert.equal(textOf(result), "Read from lab.");
    assert.deepEqual(result.structuredContent, { ok: true, cluster: "lab" });
  } finally {
    await session.close();
  }
});

Deno.test("invalid arguments are an isError result that names the argument and the fix", async () => {
  const session = await connect({ config: { policy: ALL } });
  try {
    const result = await session.call("probe_change", { vmid: "abc" });
    assert.equal(result.isError, true);
    assert.equal(
      textOf(result),
      'Invalid arguments for probe_change: `vmid` must be an integer, not the text "abc". ' +
        "Fix them and call again.",
    );
    const [line] = await session.auditLines();
    assert.equal(line?.outcome, "error");
    assert.equal(line?.tool, "probe_change");
  } finally {
    await session.close();
  }
});

Deno.test("a handler bug is a protocol error, not a tool result", async () => {
  const session = await connect();
  try {
    await assert.rejects(
      () => session.call("probe_bug"),
      /failed unexpectedly.*bug in proxmox-mcp/,
    );
  } finally {
    await session.close();
  }
});

Deno.test("an unknown tool is a protocol error", async () => {
  const session = await connect();
  try {
    await assert.rejects(() => session.call("no_such_tool"), /Unknown tool "no_such_tool"/);
  } finally {
    await session.close();
  }
});

Deno.test("dry_run returns the plan, runs no handler and writes a dry-run audit line", async () => {
  const session = await connect({ config: { policy: ALL } });
  try {
    const before = handlerRuns.get("probe_change") ?? 0;
    const result = await session.call("probe_change", { vmid: 105, note: "hi", dry_run: true });
    assert.equal(result.isError, undefined);
    assert.deepEqual(result.structuredContent, {
      dry_run: true,
      summary: "change VM 105",
      calls: [{
        method: "POST",
        path: "/nodes/pve1/qemu/105/status/change",
        params: { note: "hi" },
      }],
      diff: [{ key: "note", before: "old", after: "hi" }],
    });
    assert.match(textOf(result), /^Dry run, nothing was changed/);
    assert.equal(handlerRuns.get("probe_change") ?? 0, before);
    const [line] = await session.auditLines();
    assert.equal(line?.outcome, "dry-run");
    assert.equal(line?.dry_run, true);
    assert.deepEqual(line?.arguments, { vmid: 105, note: "hi" });
  } finally {
    await session.close();
  }
});

Deno.test("a change tool runs without confirmation and is audited as ok", async () => {
  const session = await connect({ config: { policy: ALL } });
  try {
    const result = await session.call("probe_change", { vmid: 105 });
    assert.equal(result.isError, undefined);
    assert.deepEqual(result.structuredContent, { vmid: 105, done: true });
    const [line] = await session.auditLines();
    assert.equal(line?.outcome, "ok");
    assert.equal((line?.target as Record<string, unknown>).vmid, 105);
  } finally {
    await session.close();
  }
});

Deno.test("policy refuses a hidden tool's call by class, toolset and exclusion, in that order", async () => {
  const byClass = await connect();
  try {
    const result = await byClass.call("probe_destroy", { vmid: 105 });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /needs capability "destroy".*policy\.allow/);
    const [line] = await byClass.auditLines();
    assert.equal(line?.outcome, "denied");
  } finally {
    await byClass.close();
  }
  const byToolset = await connect({ config: { policy: { ...ALL, toolsets: ["other"] } } });
  try {
    const result = await byToolset.call("probe_destroy", { vmid: 105 });
    assert.match(textOf(result), /toolset "testing", which is not enabled/);
  } finally {
    await byToolset.close();
  }
  const byExclusion = await connect({ config: { policy: { ...ALL, exclude: ["probe_destroy"] } } });
  try {
    const tools = (await byExclusion.listTools()).map((tool) => tool.name);
    assert.ok(!tools.includes("probe_destroy"));
    const result = await byExclusion.call("probe_destroy", { vmid: 105 });
    assert.match(textOf(result), /excluded by policy\.exclude/);
  } finally {
    await byExclusion.close();
  }
});

Deno.test("policy refuses a target outside the scope before any dry run or confirmation", async () => {
  const session = await connect({
    config: { policy: { ...ALL, scope: { vmids: ["100-199"] } } },
    elicit: { action: "accept", content: { confirm: true } },
  });
  try {
    const dry = await session.call("probe_change", { vmid: 500, dry_run: true });
    assert.equal(dry.isError, true);
    assert.match(textOf(dry), /Guest 500 is outside the scope/);
    const destroy = await session.call("probe_destroy", { vmid: 500 });
    assert.match(textOf(destroy), /outside the scope/);
    assert.equal(session.elicitations.length, 0);
    const read = await session.call("probe_read", { vmid: 500 });
    assert.match(textOf(read), /outside the scope/);
    // A second target of the plan (a clone's new vmid) is checked like the first.
    const into = await session.call("probe_change", { vmid: 150, into: 900, dry_run: true });
    assert.match(textOf(into), /Guest 900 is outside the scope/);
    const inside = await session.call("probe_change", { vmid: 150, into: 160, dry_run: true });
    assert.equal(inside.isError, undefined, textOf(inside));
    const lines = await session.auditLines();
    assert.deepEqual(lines.map((line) => line.outcome), ["denied", "denied", "denied", "dry-run"]);
  } finally {
    await session.close();
  }
});

Deno.test("unknown toolsets or tools in the policy fail at start-up with the valid names", () => {
  const start = (policy: Record<string, unknown>) =>
    createServer({
      config: testConfig({ policy }),
      clients: new Map(),
      tools: testTools,
      audit: AuditLog.disabled(),
    });
  assert.throws(() => start({ toolsets: ["nope"] }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /unknown toolset "nope".*valid toolsets are .*"other".*"testing"/);
    return true;
  });
  assert.throws(
    () => start({ exclude: ["probe_nope"] }),
    /unknown tool "probe_nope".*valid tools are "probe_bug", "probe_change"/,
  );
});

Deno.test("a write tool whose result breaks its output schema is a bug, audited once", async () => {
  const broken = defineTool({
    name: "probe_broken",
    title: "Test broken",
    description: "Test-only tool returning the wrong shape.",
    toolset: "testing",
    capability: "change",
    inputSchema: z.object({}),
    outputSchema: z.object({ count: z.number() }),
    annotations: { ...annotationsFor("change"), idempotentHint: true },
    plan: () => Promise.resolve({ summary: "Nothing", calls: [] }),
    handler: () =>
      Promise.resolve({ text: "Done.", structured: { count: "many" as unknown as number } }),
  });
  const session = await connect({ tools: [broken], config: { policy: ALL } });
  try {
    await assert.rejects(() => session.call("probe_broken"), /does not match its output schema/);
    const lines = await session.auditLines();
    assert.deepEqual(lines.map((line) => line.outcome), ["error"]);
  } finally {
    await session.close();
  }
});
