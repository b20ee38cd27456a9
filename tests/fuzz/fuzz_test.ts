/**
 * The bounded fuzz run of issue 14, with a fixed seed: generated inputs for every tool in
 * `allTools` (from its input schema), malformed JSON-RPC lines, pathological calls beside normal
 * ones and write faults, through the real server (in-process wire, a `main.ts serve`
 * subprocess, a real MCP client) against the simulator. It prints the figures and fails on any
 * finding not listed in `_known.ts`. The long run with a seed and budget of your own:
 * `deno task fuzz --seed N --calls M`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { partitionFindings } from "./_known.ts";
import { BOUNDED_RUN, printFindings, printLine } from "./_print.ts";
import { formatFigures, formatFinding, runFuzz } from "./_run.ts";

Deno.test("fuzz: every tool under generated, hostile and malformed input stays up, answers every request and refuses in one actionable sentence", async () => {
  const report = await runFuzz(BOUNDED_RUN);
  const { known, fresh } = partitionFindings(report.findings);
  printLine();
  for (const line of formatFigures(report.figures)) printLine(line);
  printFindings("known findings owned elsewhere (see tests/fuzz/_known.ts)", known);
  printFindings("new findings", fresh);
  const { figures } = report;
  assert.ok(figures.calls >= BOUNDED_RUN.calls, `only ${figures.calls} calls were made`);
  assert.ok(figures.callsByVia.stdio > 0 && figures.callsByVia.client > 0, "every target ran");
  assert.ok(figures.worstLatencyRatio > 0, "the latency ratio was measured");
  assert.deepEqual(fresh.map(formatFinding), []);
});
