/**
 * The long fuzz run: the generator and checks of `tests/fuzz/` with a seed and a call budget of
 * your own, printing the same figures as the bounded run (calls, crashes, unanswered requests,
 * non-actionable refusals, worst-case latency ratio) and every finding with the input that
 * reproduces it. Exits 1 when it finds something not listed in `tests/fuzz/_known.ts`.
 *
 * Run: `deno task fuzz --seed 7 --calls 20000` (see `--help`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { partitionFindings } from "../tests/fuzz/_known.ts";
import { BOUNDED_RUN, printFindings, printLine } from "../tests/fuzz/_print.ts";
import { formatFigures, type Phase, PHASES, runFuzz } from "../tests/fuzz/_run.ts";

const USAGE = `Usage: deno task fuzz [--seed N] [--calls N] [options]

The fuzz suite of tests/fuzz/ as a long run against fresh simulated clusters.

  --seed N        PRNG seed (default: a random one, printed)
  --calls N       random tool calls over the in-process wire, beyond every tool's
                  coverage cases (default 20000)
  --mutations N   random malformed JSON-RPC lines beyond the catalog (default 500)
  --bursts N      bursts of 20 calls in flight at once (default 50)
  --stdio N       calls through a real main.ts serve subprocess (default 500)
  --client N      calls through a real MCP client (default 500)
  --attempts N    attempts per pathological call (default 3)
  --bound X       largest accepted latency ratio (default ${BOUNDED_RUN.latencyBound})
  --only LIST     only these phases: ${PHASES.join(",")}
  --quiet         no progress lines
  --help          this text`;

function count(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`--${flag} must be a whole number >= 0, not ${JSON.stringify(value)}`);
  }
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seed: { type: "string" },
      calls: { type: "string" },
      mutations: { type: "string" },
      bursts: { type: "string" },
      stdio: { type: "string" },
      client: { type: "string" },
      attempts: { type: "string" },
      bound: { type: "string" },
      only: { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    printLine(USAGE);
    return 0;
  }
  const only = values.only?.split(",").map((part) => part.trim()).filter(Boolean);
  const unknown = only?.filter((phase) => !(PHASES as readonly string[]).includes(phase)) ?? [];
  if (unknown.length > 0) {
    throw new Error(`--only names unknown phases ${unknown.join(", ")}: use ${PHASES.join(",")}`);
  }
  const bound = values.bound === undefined ? BOUNDED_RUN.latencyBound : Number(values.bound);
  if (!Number.isFinite(bound) || bound <= 1) throw new Error("--bound must be a number above 1");
  const seed = count(values.seed, Math.floor(Math.random() * 2 ** 31), "seed");
  const started = performance.now();
  const report = await runFuzz({
    seed,
    calls: count(values.calls, 20_000, "calls"),
    mutations: count(values.mutations, 500, "mutations"),
    bursts: count(values.bursts, 50, "bursts"),
    stdioCalls: count(values.stdio, 500, "stdio"),
    clientCalls: count(values.client, 500, "client"),
    latencyAttempts: Math.max(1, count(values.attempts, 3, "attempts")),
    latencyBound: bound,
    ...(only === undefined ? {} : { phases: only as Phase[] }),
    ...(values.quiet ? {} : {
      progress: (line: string) =>
        printLine(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`),
    }),
  });
  const { known, fresh } = partitionFindings(report.findings);
  for (const line of formatFigures(report.figures)) printLine(line);
  printLine(`  ${((performance.now() - started) / 1000).toFixed(0)} s`);
  printFindings("known findings owned elsewhere (see tests/fuzz/_known.ts)", known);
  printFindings("new findings", fresh);
  return fresh.length === 0 ? 0 : 1;
}

try {
  Deno.exit(await main());
} catch (error) {
  printLine(`fuzz: ${error instanceof Error ? error.message : String(error)} (see --help)`);
  Deno.exit(2);
}
