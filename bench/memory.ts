/**
 * Memory and work under inventory load, whole processes, on the 50-node × 10,000-guest scale
 * cluster (served from a replay of the simulator's answers, so the simulator's own JSON building
 * stays out of the way), side by side with the baseline script that fetches and parses the raw
 * `/cluster/resources` for each call:
 *
 * 1. after 1 and after 50 sequential inventory calls (`guest_list` defaults; the baseline: one
 *    fetch + `JSON.parse` each): resident (VmRSS) and peak (VmHWM) memory;
 * 2. 1,000 calls with 20 in flight: how many `/cluster/resources` requests reached Proxmox VE,
 *    the peak memory, and the calls' p50/p99 latency.
 *
 * Each variant runs `--runs` times (default 3) in fresh processes, interleaved; medians.
 *
 * Run: `deno task bench:memory [--runs 3]`
 *
 * @module
 */

import { dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  printLine,
  SCALE_GUESTS,
  SCALE_NODES,
  startReplay,
  startScaleCluster,
  table,
  tokenHeader,
} from "./_scale.ts";
import {
  BASELINE_TS,
  LineProcess,
  MAIN_TS,
  type Memory,
  memoryOf,
  mib,
  percentile,
  V8_FLAGS,
} from "./_process.ts";
import { LAZY_IMPORTS } from "../src/cli/_run_flags.ts";

interface Variant {
  name: string;
  args: string[];
  env: Record<string, string>;
  call: { name: string; arguments: Record<string, unknown> };
}

interface Sample {
  one?: Memory | undefined;
  fifty?: Memory | undefined;
  loaded?: Memory | undefined;
  requests: number;
  latencies: number[];
}

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string" } } });
const runs = Math.max(1, Math.min(10, Number(values.runs ?? 3) || 3));
const CALLS = 1000;
const IN_FLIGHT = 20;

const sim = await startScaleCluster();
const replay = startReplay(sim);
// Count what reaches "Proxmox VE": the replay sees every request of the server under test.
let inventoryRequests = 0;
const counting = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const url = new URL(request.url);
  if (url.pathname.endsWith("/cluster/resources")) inventoryRequests++;
  return fetch(`${replay.url}${url.pathname}${url.search}`, { headers: request.headers });
});
const target = `http://127.0.0.1:${counting.addr.port}`;
try {
  const host = `127.0.0.1:${counting.addr.port}`;
  const base = ["run", "--quiet", "--no-prompt", `--allow-net=${host}`, "--allow-env"];
  const cluster = {
    PROXMOX_URL: target,
    PROXMOX_TOKEN_ID: sim.credentials.tokenId,
    PROXMOX_TOKEN_SECRET: sim.credentials.tokenSecret,
    PROXMOX_MCP_AUDIT_PATH: "off",
    PROXMOX_MCP_LOG_LEVEL: "error",
  };
  const guestList = { name: "guest_list", arguments: {} };
  const variants: Variant[] = [
    {
      name: "baseline: fetch + JSON.parse per call",
      args: [...base, BASELINE_TS],
      env: {
        BENCH_RESOURCES_URL: `${target}/api2/json/cluster/resources`,
        BENCH_AUTHORIZATION: tokenHeader(sim),
      },
      call: { name: "raw", arguments: {} },
    },
    {
      name: "serve, no run flags",
      args: [...base, MAIN_TS, "serve"],
      env: cluster,
      call: guestList,
    },
    {
      name: "serve as the README and init run it",
      args: [...base, LAZY_IMPORTS, V8_FLAGS, `--allow-read=${dirname(MAIN_TS)}`, MAIN_TS, "serve"],
      env: cluster,
      call: guestList,
    },
  ];

  const runSequential = async (variant: Variant, sample: Sample) => {
    const child = new LineProcess(variant.args, variant.env);
    try {
      await child.handshake();
      for (let i = 1; i <= 50; i++) {
        await child.request("tools/call", variant.call);
        if (i === 1) sample.one = await memoryOf(child.pid);
      }
      sample.fifty = await memoryOf(child.pid);
    } finally {
      await child.close();
    }
  };
  const runConcurrent = async (variant: Variant, sample: Sample) => {
    const child = new LineProcess(variant.args, variant.env);
    try {
      await child.handshake();
      const before = inventoryRequests;
      let next = 0;
      const worker = async () => {
        while (next < CALLS) {
          next++;
          const started = performance.now();
          await child.request("tools/call", variant.call);
          sample.latencies.push(performance.now() - started);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      sample.requests = inventoryRequests - before;
      sample.loaded = await memoryOf(child.pid);
    } finally {
      await child.close();
    }
  };

  const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
  for (let r = 0; r < runs; r++) {
    for (const variant of variants) {
      const sample: Sample = { requests: 0, latencies: [] };
      await runSequential(variant, sample);
      await runConcurrent(variant, sample);
      samples.get(variant)?.push(sample);
    }
  }

  const med = (list: Sample[], pick: (s: Sample) => number | undefined) => {
    const picked = list.map(pick).filter((v): v is number => v !== undefined);
    return picked.length === 0 ? undefined : percentile(picked, 50);
  };
  const baseline = samples.get(variants[0]!) ?? [];
  const baseOnePeak = med(baseline, (s) => s.one?.hwm);
  const ratio = (value: number | undefined, to: number | undefined) =>
    value === undefined || to === undefined ? "—" : `${(value / to).toFixed(2)}×`;

  printLine(
    `Inventory calls on ${SCALE_NODES} nodes × ${SCALE_GUESTS} guests (medians of ${runs} runs)`,
  );
  printLine();
  printLine(table(
    [
      "program",
      "after 1: RSS",
      "peak",
      "after 50: RSS",
      "peak",
      "peak ÷ baseline's 1",
    ],
    variants.map((variant) => {
      const list = samples.get(variant) ?? [];
      const fiftyPeak = med(list, (s) => s.fifty?.hwm);
      return [
        variant.name,
        mib(med(list, (s) => s.one?.rss)),
        mib(med(list, (s) => s.one?.hwm)),
        mib(med(list, (s) => s.fifty?.rss)),
        mib(fiftyPeak),
        ratio(fiftyPeak, baseOnePeak),
      ];
    }),
  ));
  printLine();
  printLine(`${CALLS} calls, ${IN_FLIGHT} in flight`);
  printLine();
  printLine(table(
    [
      "program",
      "/cluster/resources requests",
      "peak MiB",
      "peak ÷ own 1-call peak",
      "p50 ms",
      "p99 ms",
    ],
    variants.map((variant) => {
      const list = samples.get(variant) ?? [];
      const latencies = list.flatMap((s) => s.latencies);
      const peak = med(list, (s) => s.loaded?.hwm);
      return [
        variant.name,
        String(med(list, (s) => s.requests) ?? "—"),
        mib(peak),
        ratio(peak, med(list, (s) => s.one?.hwm)),
        percentile(latencies, 50).toFixed(0),
        percentile(latencies, 99).toFixed(0),
      ];
    }),
  ));
  printLine("(MiB from /proc/<pid>/status: RSS = VmRSS, peak = VmHWM; Linux only)");
} finally {
  await counting.shutdown();
  await replay.close();
  await sim.close();
}
