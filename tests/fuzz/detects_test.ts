/**
 * The fuzz suite can fail: test-only tools with one planted defect each, run through the same
 * phases, must each be reported under the right check.
 *
 * @module
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { annotationsFor } from "../../src/policy/capability.ts";
import { PveError, PveValidationError } from "../../src/pve/errors.ts";
import { type AnyTool, defineTool, type ToolContext } from "../../src/tools/types.ts";
import type { CheckName } from "./_checks.ts";
import { type FuzzOptions, runFuzz } from "./_run.ts";

const ok = z.object({ ok: z.boolean() });

function readProbe(
  name: string,
  handler: (args: { text?: string | undefined }, ctx: ToolContext) => Promise<void>,
): AnyTool {
  return defineTool({
    name,
    title: `Probe ${name}`,
    description: "Test-only tool with a planted defect.",
    toolset: "testing",
    capability: "read",
    inputSchema: z.object({ text: z.string().max(2_000_000).optional() }),
    outputSchema: ok,
    annotations: { ...annotationsFor("read"), idempotentHint: true },
    async handler(args, ctx) {
      await handler(args, ctx);
      return { text: "Done.", structured: { ok: true } };
    },
  });
}

function writeProbe(
  name: string,
  handler: (ctx: ToolContext) => Promise<{ text: string; isError?: boolean }>,
): AnyTool {
  return defineTool({
    name,
    title: `Probe ${name}`,
    description: "Test-only write tool with a planted defect.",
    toolset: "testing",
    capability: "lifecycle",
    inputSchema: z.object({ vmid: z.number().int().min(100).max(999_999_999) }),
    outputSchema: ok,
    annotations: { ...annotationsFor("lifecycle"), idempotentHint: false },
    plan: (args) =>
      Promise.resolve({
        summary: `Probe VM ${args.vmid}`,
        calls: [{ method: "POST", path: "/nodes/pve1/qemu/100/status/start" }],
      }),
    async handler(_args, ctx) {
      const { text, isError } = await handler(ctx);
      return { text, structured: { ok: isError !== true }, ...(isError ? { isError } : {}) };
    },
  });
}

const START = "/nodes/pve1/qemu/100/status/start";

/** Every planted defect and the check that must report it. */
const PLANTED: ReadonlyArray<readonly [AnyTool, CheckName]> = [
  [
    readProbe("probe_no_next_step", () => {
      throw new PveValidationError("The text is wrong");
    }),
    "non_actionable",
  ],
  [
    readProbe("probe_bad_param", async (_args, ctx) => {
      await ctx.client.get("/nodes/pve1/tasks", { limit: "many" }).catch(() => {});
    }),
    "pve_400",
  ],
  [
    readProbe("probe_stray", async (_args, ctx) => {
      const url = `${ctx.client.baseUrl.replace(/\/api2\/json$/, "/api2/extjs")}/version`;
      await fetch(url).then((response) => response.body?.cancel());
    }),
    "outside_api",
  ],
  [
    readProbe("probe_bug", () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    }),
    "internal_error",
  ],
  [
    readProbe("probe_hang", async (args) => {
      if (args.text !== undefined) await new Promise((resolve) => setTimeout(resolve, 2_500));
    }),
    "unanswered",
  ],
  [
    writeProbe("probe_double_write", async (ctx) => {
      await ctx.client.post(START).catch(() => {});
      await ctx.client.post(START).catch(() => {});
      return { text: "Started." };
    }),
    "write_twice",
  ],
];

const quick: FuzzOptions = {
  seed: 7,
  calls: 0,
  mutations: 0,
  stdioCalls: 0,
  clientCalls: 0,
  latencyAttempts: 1,
  latencyBound: 50,
  timeoutMs: 1_000,
};

Deno.test("the fuzz suite reports a refusal without a next step, a 400 from Proxmox VE, a request outside /api2/json, a bug, an unanswered request and a write sent twice", async () => {
  const report = await runFuzz({
    ...quick,
    tools: PLANTED.map(([tool]) => tool),
    phases: ["tools"],
  });
  for (const [tool, check] of PLANTED) {
    assert.ok(
      report.findings.some((finding) => finding.tool === tool.name && finding.check === check),
      `${tool.name} was not reported as ${check}: ${JSON.stringify(report.figures.findings)}`,
    );
  }
  assert.equal(report.figures.unanswered > 0 && report.figures.nonActionable > 0, true);
});

Deno.test("the fuzz suite reports a call that stalls the others as a latency ratio over the bound", async () => {
  const stall = readProbe("probe_stall", (args) => {
    // Busy for 1 s on a long input: every call beside it waits, as with a quadratic path.
    if ((args.text ?? "").length > 100_000) {
      const until = performance.now() + 1_000;
      while (performance.now() < until) { /* the planted stall */ }
    }
    return Promise.resolve();
  });
  const report = await runFuzz({
    ...quick,
    latencyBound: 20,
    tools: [stall],
    phases: ["latency"],
  });
  assert.ok(report.figures.worstLatencyRatio > 20, JSON.stringify(report.figures));
  assert.ok(report.findings.some((finding) => finding.check === "slow_beside_pathological"));
});

Deno.test("the fuzz suite reports a write whose outcome is unknown answered with retry advice", async () => {
  const careless = writeProbe("probe_try_again", async (ctx) => {
    try {
      await ctx.client.post(START);
      return { text: "Started." };
    } catch (error) {
      if (!(error instanceof PveError)) throw error;
      return { text: "The start failed: try again in a moment.", isError: true };
    }
  });
  const report = await runFuzz({ ...quick, tools: [careless], phases: ["faults"] });
  assert.ok(
    report.findings.some((finding) => finding.check === "retry_advice_on_unknown_write"),
    JSON.stringify(report.findings),
  );
});
