/**
 * Whole-process numbers, side by side with a baseline Deno program:
 *
 * 1. Cold start: time from spawning `deno run … main.ts serve` to the first `tools/list`
 *    response over stdio (initialize → initialized → tools/list, as an MCP client does), for
 *    - baseline: `bench/_baseline_server.ts`, a trivial script answering JSON-RPC lines (Deno's
 *      own start-up, module loading and stdio);
 *    - `serve` configured for a cluster on loopback (the real start-up: config, clients,
 *      tool registry, SDK; it makes no Proxmox request before the first tool call);
 *    - `serve --demo` (the same plus starting the in-process simulated demo cluster).
 *    The ratio to the baseline isolates our start-up cost from Deno's. A footnote times
 *    `main.ts --version` (spawn to exit: the module graph alone, no server) to show how much
 *    of the start-up is module loading.
 * 2. Peak memory (VmHWM from /proc/<pid>/status, Linux only): the idle server after
 *    `tools/list`, and the server after `guest_list` (defaults, then limit=500) on a
 *    50-node × 10,000-guest simulated cluster running in this (the parent) process — side by
 *    side with the baseline script fetching and parsing the same raw `/cluster/resources`.
 *
 * Each variant runs once to warm Deno's module cache (not counted), then `--runs` times
 * (default 7), interleaved so that noise spreads evenly. Loopback only; stops by itself.
 *
 * Run: `deno run --allow-net=127.0.0.1,localhost --allow-read --allow-write --allow-env
 * --allow-run bench/cold_start.ts [--runs 7]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  printLine,
  SCALE_GUESTS,
  SCALE_NODES,
  startScaleCluster,
  table,
  tokenHeader,
} from "./_scale.ts";

const RESPONSE_TIMEOUT_MS = 60_000;
const root = new URL("../", import.meta.url);
const mainTs = new URL("main.ts", root).pathname;
const baselineTs = new URL("bench/_baseline_server.ts", root).pathname;
const onLinux = Deno.build.os === "linux";

/** A child process speaking JSON-RPC lines on stdin/stdout. */
class LineProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiting = new Map<unknown, (message: unknown) => void>();
  readonly #done: Promise<void>;
  #nextId = 1;

  constructor(args: string[], env: Record<string, string>) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#done = this.#read();
  }

  get pid(): number {
    return this.#child.pid;
  }

  async #read(): Promise<void> {
    let buffered = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf("\n")) >= 0) {
        const message = JSON.parse(buffered.slice(0, end)) as { id?: unknown };
        buffered = buffered.slice(end + 1);
        this.#waiting.get(message.id)?.(message);
        this.#waiting.delete(message.id);
      }
    }
  }

  async #write(message: Record<string, unknown>): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(`${JSON.stringify(message)}\n`));
  }

  /** Sends a notification. */
  notify(method: string): Promise<void> {
    return this.#write({ jsonrpc: "2.0", method });
  }

  /** Sends a request and resolves with its response (rejects on an error or a timeout). */
  async request(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.#waiting.set(id, resolve);
    const timer = setTimeout(
      () => reject(new Error(`No answer to "${method}" within ${RESPONSE_TIMEOUT_MS} ms`)),
      RESPONSE_TIMEOUT_MS,
    );
    try {
      await this.#write({ jsonrpc: "2.0", id, method, params });
      const message = await promise as { error?: unknown; result?: { isError?: boolean } };
      if (message.error !== undefined || message.result?.isError) {
        throw new Error(`Request "${method}" failed: ${JSON.stringify(message)}`);
      }
      return message.result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends stdin and waits for the process to exit (killing it after 10 s). */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    try {
      await this.#child.status;
      await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Peak resident set size (VmHWM) of a process in bytes; `undefined` off Linux. Read with
 * `cat`, because Deno wants `--allow-all` to read another process's `/proc` entry.
 */
async function peakRss(pid: number): Promise<number | undefined> {
  if (!onLinux) return undefined;
  const output = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stderr: "null" })
    .output();
  const status = new TextDecoder().decode(output.stdout);
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

/** A program to start: `deno <args>` with extra environment variables. */
interface Variant {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** Tool calls to make after `tools/list` for the memory measurement. */
  calls: Array<Record<string, unknown>>;
}

interface Sample {
  startMs: number;
  idleHwm: number | undefined;
  loadedHwm: number | undefined;
}

/** One run: spawn, handshake, tools/list (timed), tool calls, peak memory, stop. */
async function runOnce(variant: Variant): Promise<Sample> {
  const started = performance.now();
  const child = new LineProcess(variant.args, variant.env);
  try {
    await child.request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "cold-start-bench", version: "1.0.0" },
    });
    await child.notify("notifications/initialized");
    await child.request("tools/list");
    const startMs = performance.now() - started;
    const idleHwm = await peakRss(child.pid);
    for (const params of variant.calls) await child.request("tools/call", params);
    const loadedHwm = variant.calls.length === 0 ? undefined : await peakRss(child.pid);
    return { startMs, idleHwm, loadedHwm };
  } finally {
    await child.close();
  }
}

/** Time from spawn to exit of `deno <args>` (output discarded). */
async function timeToExit(args: string[]): Promise<number> {
  const started = performance.now();
  const status = await new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "null" })
    .output();
  if (!status.success) throw new Error(`"deno ${args.join(" ")}" exited with ${status.code}`);
  return performance.now() - started;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[rank] ?? NaN;
}

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string" } } });
const runs = Math.max(1, Math.min(50, Number(values.runs ?? 7) || 7));

const sim = await startScaleCluster();
const tmp = await Deno.makeTempDir({ prefix: "proxmox-mcp-bench-" });
try {
  const net = "--allow-net=127.0.0.1,localhost";
  const common = ["run", "--quiet", "--no-prompt", net, "--allow-read", "--allow-env"];
  // As the tasks and the README run the server: Deno loads the later modules when needed.
  const lazy = "--unstable-lazy-dynamic-imports";
  const cluster = {
    PROXMOX_URL: sim.url,
    PROXMOX_TOKEN_ID: sim.credentials.tokenId,
    PROXMOX_TOKEN_SECRET: sim.credentials.tokenSecret,
    PROXMOX_MCP_AUDIT_PATH: `${tmp}/audit.jsonl`,
    PROXMOX_MCP_LOG_LEVEL: "warning",
  };
  const guestCalls = [
    { name: "guest_list", arguments: {} },
    { name: "guest_list", arguments: { limit: 500 } },
  ];
  const variants: Variant[] = [
    {
      name: "baseline: trivial Deno JSON-RPC script",
      args: [...common, baselineTs],
      env: {
        BENCH_RESOURCES_URL: `${sim.api}/cluster/resources`,
        BENCH_AUTHORIZATION: tokenHeader(sim),
      },
      calls: [{ name: "raw" }],
    },
    {
      name: "main.ts serve (cluster on loopback)",
      args: [...common, lazy, `--allow-write=${tmp}`, mainTs, "serve"],
      env: cluster,
      calls: guestCalls,
    },
    {
      name: "main.ts serve --demo",
      args: [...common, lazy, mainTs, "serve", "--demo"],
      env: { PROXMOX_MCP_LOG_LEVEL: "warning" },
      calls: [],
    },
  ];

  // Where start-up time goes: loading main.ts's module graph alone, without serving.
  const versionArgs = [
    "run",
    "--quiet",
    "--no-prompt",
    "--unstable-lazy-dynamic-imports",
    "--allow-read",
    mainTs,
    "--version",
  ];

  for (const variant of variants) await runOnce(variant);
  await timeToExit(versionArgs);
  const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
  const versionMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const variant of variants) samples.get(variant)?.push(await runOnce(variant));
    versionMs.push(await timeToExit(versionArgs));
  }

  const mib = (bytes: number | undefined) =>
    bytes === undefined || Number.isNaN(bytes) ? "not measured" : (bytes / 2 ** 20).toFixed(1);
  const median = (list: Sample[], pick: (s: Sample) => number | undefined) => {
    const picked = list.map(pick).filter((v): v is number => v !== undefined);
    return picked.length === 0 ? undefined : percentile(picked, 50);
  };
  const baseline = samples.get(variants[0] as Variant) ?? [];
  const baseStart = median(baseline, (s) => s.startMs) ?? NaN;

  printLine(`Cold start to the first tools/list response (${runs} runs, warm module cache)`);
  printLine();
  printLine(table(
    ["program", "median ms", "p90 ms", "min ms", "÷ baseline", "idle VmHWM MiB"],
    variants.map((variant) => {
      const list = samples.get(variant) ?? [];
      const starts = list.map((s) => s.startMs);
      const med = percentile(starts, 50);
      return [
        variant.name,
        med.toFixed(0),
        percentile(starts, 90).toFixed(0),
        percentile(starts, 0).toFixed(0),
        `${(med / baseStart).toFixed(2)}×`,
        mib(median(list, (s) => s.idleHwm)),
      ];
    }),
  ));
  const versionMedian = percentile(versionMs, 50);
  printLine(
    `(main.ts --version, spawn to exit; it loads only the CLI entry since subcommands load lazily: median ` +
      `${versionMedian.toFixed(0)} ms, p90 ${percentile(versionMs, 90).toFixed(0)} ms, ` +
      `${(versionMedian / baseStart).toFixed(2)}× baseline)`,
  );
  printLine();
  printLine(
    `Peak memory after answering on ${SCALE_NODES} nodes × ${SCALE_GUESTS} guests ` +
      `(VmHWM, median of ${runs} runs)`,
  );
  printLine();
  const baseHwm = median(baseline, (s) => s.loadedHwm);
  const served = samples.get(variants[1] as Variant) ?? [];
  const servedHwm = median(served, (s) => s.loadedHwm);
  printLine(table(
    ["program", "after", "VmHWM MiB", "÷ baseline"],
    [
      [variants[0]?.name ?? "", "fetch + JSON.parse of raw /cluster/resources", mib(baseHwm), "1×"],
      [
        variants[1]?.name ?? "",
        "guest_list (defaults), guest_list limit=500",
        mib(servedHwm),
        baseHwm === undefined || servedHwm === undefined
          ? "n/a"
          : `${(servedHwm / baseHwm).toFixed(2)}×`,
      ],
    ],
    "llrr",
  ));
  if (!onLinux) printLine("\nPeak memory: not measured (needs /proc, Linux only).");
} finally {
  await Deno.remove(tmp, { recursive: true });
  await sim.close();
}
