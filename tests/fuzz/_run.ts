/**
 * One fuzz run: generated inputs for every tool, malformed JSON-RPC lines, pathological calls
 * beside normal ones, and write faults, driven through the real server against the simulator;
 * every answer judged (`_checks.ts`) and counted. The same run backs the bounded test
 * (`fuzz_test.ts`, fixed seed) and the long run (`bench/fuzz.ts`, seed and budget from flags).
 *
 * Phases, each on a fresh simulator (demo seed) so a destroy in one cannot change what another
 * assumes:
 *
 * 1. per tool, over the in-process wire: coverage cases (every argument with a wrong type, every
 *    text argument at 1 MB, every number at a boundary, each other kind once) and random ones;
 *    calls run one at a time, so every request the simulator served belongs to one call;
 *    every third batch runs against an odd server (sparse task rows, JSON booleans, empty locks);
 * 2. malformed JSON-RPC lines over the same wire, and as the first line of fresh sessions;
 * 3. latency: a normal call timed alone, then beside each tool's pathological call (every text
 *    argument 1 MB); the figure is the ratio of the slowest normal call to the normal median;
 * 4. faults: each write tool with its write dropped or answered 5xx, each read tool with its reads
 *    failing; then the same read again must reach the simulator;
 *    then each tool with every node offline, and with every guest locked: once that is undone,
 *    the same call must not still say so;
 * 4b. bursts: 20 random calls in flight at once, every one answered and judged, the burst's
 *    traffic checked as a whole;
 * 5. a real `main.ts serve` subprocess: random cases, then requests in flight when stdin ends;
 * 6. a real MCP client: random cases, results checked against the announced output schemas.
 *
 * @module
 */

import type { z } from "zod";
import { allTools } from "../../src/tools/mod.ts";
import { buildToolEntry, isWriteTool } from "../../src/tools/registry.ts";
import type { AnyTool } from "../../src/tools/types.ts";
import {
  CHECK_NAMES,
  type CheckName,
  failureReportProblem,
  refusalProblem,
  retryAdvice,
  rpcErrorProblem,
  strayUrls,
  trafficProblems,
} from "./_checks.ts";
import { type Domain, readDomain } from "./_domain.ts";
import {
  CASE_KINDS,
  type CaseKind,
  coverageCases,
  describeArguments,
  generateCase,
  pathologicalCase,
  randomCase,
  type SchemaNode,
  type ToolCase,
  type ToolShape,
} from "./_generate.ts";
import { Rng } from "./_rng.ts";
import { catalogLines, mutatedLine, randomRequest, type RpcLine } from "./_rpc_lines.ts";
import type { Exchange, RpcSession } from "./_rpc_session.ts";
import {
  type LineTarget,
  openClientTarget,
  openStdioTarget,
  openWireTarget,
  type SimTarget,
  startSimTarget,
} from "./_targets.ts";
import { HUGE_SHAPES } from "./_values.ts";

/** How large a run is. */
export interface FuzzOptions {
  seed: number;
  /** Random tool calls over the in-process wire, beyond every tool's coverage cases. */
  calls: number;
  /** Random malformed JSON-RPC lines beyond the catalog (half mutated, half random params). */
  mutations: number;
  /** Bursts of 20 calls in flight at once over the wire (0: none). */
  bursts?: number;
  /** Tool calls through a real `main.ts serve` subprocess (0: no subprocess). */
  stdioCalls: number;
  /** Tool calls through a real MCP client. */
  clientCalls: number;
  /** Attempts per pathological call; the least disturbed one counts (noise is not a stall). */
  latencyAttempts: number;
  /** The largest accepted ratio of a normal call beside a pathological one to a normal call. */
  latencyBound: number;
  /** The tools (default: every tool). */
  tools?: readonly AnyTool[];
  /** How long one call may take before it counts as unanswered. */
  timeoutMs?: number;
  /** Progress lines (phase by phase). */
  progress?: (line: string) => void;
  /** Only these phases (default: every phase). */
  phases?: readonly Phase[];
  /** Called after every tool call with how long it took (for finding slow cases). */
  trace?: (via: Via, toolCase: ToolCase, ms: number) => void;
}

/**
 * How long a call may take before it counts as unanswered: the targets' longest task wait
 * (`policy.wait.maxSeconds`, 10 s) plus the 5 s `serve` gives requests in flight at the end of
 * stdin. A call that takes longer outlives the wait policy.
 */
export const CALL_TIMEOUT_MS = 15_000;

/** The phases of a run (see the module doc). */
export const PHASES = [
  "tools",
  "json-rpc",
  "latency",
  "faults",
  "burst",
  "stdio",
  "client",
] as const;

/** One of {@linkcode PHASES}. */
export type Phase = typeof PHASES[number];

/** Where a call went in. */
export type Via = "wire" | "stdio" | "client";

/** One defect the run found, with what reproduces it. */
export interface Finding {
  check: CheckName;
  via: Via;
  detail: string;
  tool?: string;
  kind?: string;
  target?: string;
  /** The arguments (long strings cut) or the JSON-RPC line. */
  input?: string;
}

/** The figures of a run. */
export interface FuzzFigures {
  seed: number;
  /** Tool calls, every target. */
  calls: number;
  callsByVia: Record<Via, number>;
  /** Tool calls by case kind. */
  callsByKind: Record<CaseKind, number>;
  /** Raw JSON-RPC lines sent (malformed ones). */
  rpcLines: number;
  /** Calls answered with `isError` or a JSON-RPC error. */
  refusals: number;
  crashes: number;
  unanswered: number;
  nonActionable: number;
  /** Slowest normal call beside a pathological one ÷ median normal call. */
  worstLatencyRatio: number;
  worstLatencyCase: string;
  latencyBound: number;
  /** Findings by check. */
  findings: Record<CheckName, number>;
  tools: number;
}

/** A finished run. */
export interface FuzzReport {
  figures: FuzzFigures;
  findings: Finding[];
}

interface Tool {
  shape: ToolShape;
  capability: string;
  input: z.ZodType;
  properties: string[];
}

function toolsOf(tools: readonly AnyTool[]): Tool[] {
  return tools.map((tool) => {
    const entry = buildToolEntry(tool, { clusters: ["lab"] });
    const schema = entry.inputJsonSchema as SchemaNode;
    return {
      shape: { name: tool.name, schema, write: isWriteTool(tool) },
      capability: tool.capability,
      input: entry.input,
      properties: Object.keys(schema.properties ?? {}),
    };
  });
}

/** Whether the tool's own input check accepts the arguments (unknown names refused). */
function accepted(tool: Tool, argumentsJson: string): boolean {
  const args = JSON.parse(argumentsJson) as Record<string, unknown>;
  if (Object.keys(args).some((key) => !tool.properties.includes(key))) return false;
  return tool.input.safeParse(args).success;
}

function emptyCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}

class Recorder {
  readonly findings: Finding[] = [];
  readonly figures: FuzzFigures;
  trace: FuzzOptions["trace"];

  constructor(seed: number, latencyBound: number, tools: number) {
    this.figures = {
      seed,
      calls: 0,
      callsByVia: { wire: 0, stdio: 0, client: 0 },
      callsByKind: emptyCounts(CASE_KINDS),
      rpcLines: 0,
      refusals: 0,
      crashes: 0,
      unanswered: 0,
      nonActionable: 0,
      worstLatencyRatio: 0,
      worstLatencyCase: "",
      latencyBound,
      findings: emptyCounts(CHECK_NAMES),
      tools,
    };
  }

  find(finding: Finding): void {
    this.findings.push(finding);
    this.figures.findings[finding.check]++;
    if (finding.check === "crash") this.figures.crashes++;
    if (finding.check === "unanswered") this.figures.unanswered++;
    if (finding.check === "non_actionable") this.figures.nonActionable++;
  }

  call(via: Via, kind: CaseKind): void {
    this.figures.calls++;
    this.figures.callsByVia[via]++;
    this.figures.callsByKind[kind]++;
  }
}

function toolCallLine(id: number, toolCase: ToolCase): string {
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":${
    JSON.stringify(toolCase.tool)
  },"arguments":${toolCase.argumentsJson}}}`;
}

/** The text of a tool result. */
function resultText(result: Record<string, unknown>): string {
  const content = result.content as Array<{ text?: string }> | undefined;
  return (content ?? []).map((block) => block.text ?? "").join("\n");
}

interface Judged {
  isError: boolean;
  text: string;
}

/**
 * Judges one answer to a tool call: answered, a JSON-RPC error one bounded line and no bug, an
 * `isError` text one actionable sentence, input the tool's check rejects refused with nothing
 * sent, and the simulator's requests clean.
 */
function judgeCall(
  rec: Recorder,
  context: { via: Via; tool: Tool; toolCase: ToolCase; alive: boolean },
  exchange: Exchange | { error: unknown } | { result: Record<string, unknown> },
  requests: readonly { method: string; path: string; status: number }[] | undefined,
  traffic: ReturnType<typeof trafficProblems>,
): Judged | undefined {
  const { via, tool, toolCase } = context;
  const base = {
    via,
    tool: toolCase.tool,
    kind: toolCase.kind,
    ...(toolCase.target === undefined ? {} : { target: toolCase.target }),
    input: describeArguments(toolCase.argumentsJson),
  };
  for (const problem of traffic) {
    rec.find({ ...base, check: problem.check, detail: problem.detail });
  }
  let message: Record<string, unknown> | undefined;
  if ("ms" in exchange) {
    if (exchange.reply === undefined) {
      rec.find({
        ...base,
        check: context.alive ? "unanswered" : "crash",
        detail: context.alive ? "no reply within the timeout" : "the server exited",
      });
      return undefined;
    }
    message = exchange.reply.message;
  } else {
    message = exchange;
  }
  const wasAccepted = accepted(tool, toolCase.argumentsJson);
  if ("error" in message) {
    rec.figures.refusals++;
    const error = message.error as { code?: number; message?: string };
    const problem = rpcErrorProblem(error);
    if (problem !== undefined) {
      rec.find({ ...base, check: "non_actionable", detail: `JSON-RPC error: ${problem}` });
    }
    if (error.code === -32603) {
      rec.find({
        ...base,
        check: "internal_error",
        detail: `a bug answered as -32603: ${String(error.message).slice(0, 300)}`,
      });
    }
    return { isError: true, text: String(error.message ?? "") };
  }
  const result = (message.result ?? {}) as Record<string, unknown>;
  const text = resultText(result);
  const isError = result.isError === true;
  if (isError) {
    rec.figures.refusals++;
    // A refusal carries text only; a failure report (a failed task) carries its data too.
    const problem = result.structuredContent === undefined
      ? refusalProblem(text)
      : failureReportProblem(text);
    if (problem !== undefined) {
      rec.find({
        ...base,
        check: "non_actionable",
        detail: `${problem}: ${JSON.stringify(text.slice(0, 300))}`,
      });
    }
  }
  if (!wasAccepted) {
    if (!isError) {
      rec.find({
        ...base,
        check: "sent_bad_input",
        detail: "input the tool's schema rejects was not refused",
      });
    }
    if (requests !== undefined && requests.length > 0) {
      rec.find({
        ...base,
        check: "sent_bad_input",
        detail: `input the tool's schema rejects reached Proxmox VE: ${
          requests.slice(0, 3).map((r) => `${r.method} ${r.path.slice(0, 80)}`).join(", ")
        }`,
      });
    }
  }
  if (!isError && rewritten(tool, toolCase)) {
    rec.find({
      ...base,
      check: "silent_rewrite",
      detail:
        `a guest name with control characters or surrounding spaces was acted on as another name: ${
          JSON.stringify(text.split("\n")[0]?.slice(0, 160))
        }`,
    });
  }
  return { isError, text };
}

/**
 * Whether the call addressed a guest by a name no guest can have (the cluster's own name with
 * control characters or spaces added): a guest selector (`vmid` or `name`) must then refuse,
 * not trim the name into another one.
 */
function rewritten(tool: Tool, toolCase: ToolCase): boolean {
  if (toolCase.kind !== "control_chars" || toolCase.target !== "name") return false;
  if (!tool.properties.includes("vmid")) return false;
  const name = (JSON.parse(toolCase.argumentsJson) as { name?: unknown }).name;
  return typeof name === "string" && name !== name.trim();
}

/** A tool call over a line target, judged, with the simulator's requests checked. */
async function lineCall(
  rec: Recorder,
  via: "wire" | "stdio",
  target: LineTarget,
  sim: SimTarget,
  tool: Tool,
  toolCase: ToolCase,
  timeoutMs: number,
): Promise<
  { judged?: Judged; answered: boolean; requests: Awaited<ReturnType<SimTarget["requests"]>> }
> {
  const since = await sim.mark();
  const fetchedBefore = target.fetched?.length ?? 0;
  const id = target.session.nextId();
  const exchange = await target.session.exchange(toolCallLine(id, toolCase), id, timeoutMs);
  rec.call(via, toolCase.kind);
  rec.trace?.(via, toolCase, exchange.ms);
  const requests = await sim.requests(since);
  const traffic = trafficProblems(requests);
  if (target.fetched !== undefined) {
    for (const url of strayUrls(target.fetched.slice(fetchedBefore), sim.sim.api)) {
      traffic.push({ check: "outside_api", detail: `the client fetched ${url.slice(0, 160)}` });
    }
  }
  const judged = judgeCall(
    rec,
    { via, tool, toolCase, alive: target.alive() },
    exchange,
    requests,
    traffic,
  );
  return {
    ...(judged === undefined ? {} : { judged }),
    answered: exchange.reply !== undefined,
    requests,
  };
}

/** Sends one raw line and checks it got the reply it is owed, as one bounded line. */
async function rawLine(
  rec: Recorder,
  via: "wire" | "stdio",
  target: LineTarget,
  line: RpcLine,
  timeoutMs: number,
): Promise<void> {
  rec.figures.rpcLines++;
  const input = typeof line.line === "string"
    ? describeArguments(JSON.stringify(line.line), 200)
    : `${line.line.length} bytes`;
  const base = { via, kind: "json-rpc", input, target: line.why };
  const exchange = await target.session.exchange(
    typeof line.line === "string" ? line.line : appendNewline(line.line),
    line.expect,
    timeoutMs,
  );
  if (line.expect === undefined) {
    // Nothing is owed; a ping right after proves the line left the session working.
    const id = target.session.nextId();
    const ping = await target.session.exchange(
      `{"jsonrpc":"2.0","id":${id},"method":"ping"}`,
      id,
      timeoutMs,
    );
    if (ping.reply === undefined) {
      rec.find({
        ...base,
        check: target.alive() ? "unanswered" : "crash",
        detail: "a ping after the line got no reply",
      });
    }
    return;
  }
  if (exchange.reply === undefined) {
    rec.find({
      ...base,
      check: target.alive() ? "unanswered" : "crash",
      detail: `no reply with id ${JSON.stringify(line.expect)}`,
    });
    return;
  }
  const message = exchange.reply.message;
  if ("error" in message) {
    rec.figures.refusals++;
    const problem = rpcErrorProblem(message.error);
    if (problem !== undefined) rec.find({ ...base, check: "non_actionable", detail: problem });
    if ((message.error as { code?: number }).code === -32603) {
      rec.find({
        ...base,
        check: "internal_error",
        detail: `-32603: ${String((message.error as { message?: string }).message).slice(0, 200)}`,
      });
    }
  }
  if (exchange.reply.length > 100_000) {
    rec.find({
      ...base,
      check: "non_actionable",
      detail: `the reply is ${exchange.reply.length} characters long (the input echoed?)`,
    });
  }
}

function appendNewline(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = 0x0a;
  return out;
}

/** Checks a session is still up (a ping is answered) and reports what it saw unasked. */
async function closeLineTarget(
  rec: Recorder,
  via: "wire" | "stdio",
  target: LineTarget,
  timeoutMs: number,
  what: string,
  options: { tool?: string; abandonedReported?: boolean } = {},
): Promise<void> {
  const named = options.tool === undefined ? {} : { tool: options.tool };
  const id = target.session.nextId();
  const ping = await target.session.exchange(
    `{"jsonrpc":"2.0","id":${id},"method":"ping"}`,
    id,
    timeoutMs,
  );
  if (ping.reply === undefined) {
    rec.find({
      ...named,
      via,
      check: target.alive() ? "unanswered" : "crash",
      detail: `the session of ${what} did not answer a ping at the end`,
    });
  }
  const { code, stderr } = await target.close();
  if (code !== 0) {
    rec.find({
      ...named,
      via,
      check: "crash",
      detail: `${what}: the server exited with code ${code}`,
    });
  }
  const abandoned = stderr.split("\n").find((line) => /abandoned without a reply/.test(line));
  // A call already reported as timed out is expected among the abandoned ones.
  if (abandoned !== undefined && !options.abandonedReported) {
    rec.find({ ...named, via, check: "unanswered", detail: `${what}: ${abandoned.slice(0, 300)}` });
  }
  const odd = target.session.oddities;
  for (const line of [...odd.unexpected, ...odd.garbage, ...odd.serverRequests]) {
    rec.find({ ...named, via, check: "unexpected_reply", detail: `${what}: ${line}` });
  }
}

async function withSim<T>(fn: (sim: SimTarget, domain: Domain) => Promise<T>): Promise<T> {
  const sim = await startSimTarget();
  try {
    return await fn(sim, await readDomain(sim.sim));
  } finally {
    await sim.sim.close();
  }
}

/** Phase 1: every tool's coverage cases and its share of random ones, over the wire. */
async function toolBatches(
  rec: Recorder,
  tools: Tool[],
  options: FuzzOptions,
  rng: Rng,
  toolList: readonly AnyTool[] | undefined,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  const perTool = Math.floor(options.calls / Math.max(1, tools.length));
  for (const [index, tool] of tools.entries()) {
    // Every third batch runs against an odd but real server: sparse task rows, JSON booleans,
    // and every guest's lock present but empty (which means unlocked).
    const odd = index % 3 === 2;
    let cases: ToolCase[] | undefined;
    let next = 0;
    // A call that timed out may still be sending requests, which would be counted against the
    // calls after it: the rest of the batch then goes to a fresh simulator and server.
    while (cases === undefined || next < cases.length) {
      await withSim(async (sim, domain) => {
        if (odd) {
          await control(sim, "POST", "/quirks", { sparse_task_rows: true, json_booleans: true });
          await Promise.all(
            domain.vmids.map((v) => control(sim, "POST", `/guests/${v}/lock`, { lock: "" })),
          );
        }
        if (cases === undefined) {
          const toolRng = rng.fork(tool.shape.name);
          cases = coverageCases(tool.shape, toolRng, domain);
          for (let i = 0; i < perTool; i++) cases.push(randomCase(tool.shape, toolRng, domain));
        }
        const target = await openWireTarget(sim.sim, toolList);
        await target.session.initialize(timeoutMs);
        let timedOut = false;
        while (next < cases.length && !timedOut) {
          const toolCase = cases[next++] as ToolCase;
          const { judged, answered } = await lineCall(
            rec,
            "wire",
            target,
            sim,
            tool,
            toolCase,
            timeoutMs,
          );
          timedOut = !answered;
          if (odd && judged?.isError === true && /\bis locked\b|\blocked \(/i.test(judged.text)) {
            rec.find({
              via: "wire",
              check: "stale_verdict",
              tool: tool.shape.name,
              kind: toolCase.kind,
              target: 'lock ""',
              detail: `an empty lock was read as a lock: ${
                JSON.stringify(judged.text.slice(0, 200))
              }`,
              input: describeArguments(toolCase.argumentsJson),
            });
          }
        }
        await closeLineTarget(rec, "wire", target, timeoutMs, `the ${tool.shape.name} batch`, {
          tool: tool.shape.name,
          abandonedReported: timedOut,
        });
      });
    }
    options.progress?.(`  ${tool.shape.name}: ${rec.figures.calls} calls so far`);
  }
}

/** Phase 2: malformed JSON-RPC lines over the wire. */
async function rpcBatch(
  rec: Recorder,
  options: FuzzOptions,
  rng: Rng,
  toolList: readonly AnyTool[] | undefined,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  await withSim(async (sim) => {
    const target = await openWireTarget(sim.sim, toolList);
    await target.session.initialize(timeoutMs);
    const lines = catalogLines(() => 1_000_000 + target.session.nextId());
    for (let i = 0; i < options.mutations; i++) {
      const id = 2_000_000 + target.session.nextId();
      lines.push(i % 2 === 0 ? mutatedLine(rng, id) : randomRequest(rng, id));
    }
    for (const line of lines) {
      const start = performance.now();
      await rawLine(rec, "wire", target, line, timeoutMs);
      options.progress?.(`    ${line.why}: ${(performance.now() - start).toFixed(0)} ms`);
    }
    await closeLineTarget(rec, "wire", target, timeoutMs, "the JSON-RPC batch");
    // The first message of a session decides its era and starts the full server: fresh
    // sessions whose first line is a mutated or random request, then a ping.
    const first = Math.min(30, Math.ceil(options.mutations / 10));
    for (let i = 0; i < first; i++) {
      const fresh = await openWireTarget(sim.sim, toolList);
      const id = 3_000_000 + i;
      await rawLine(
        rec,
        "wire",
        fresh,
        i % 2 === 0 ? mutatedLine(rng, id) : randomRequest(rng, id),
        timeoutMs,
      );
      await closeLineTarget(rec, "wire", fresh, timeoutMs, "a session opened by a bad line");
    }
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The normal call: the first read tool that needs no argument, else `tools/list`. */
function normalCall(tools: Tool[]): { method: string; params: string; what: string } {
  const reference = tools.find((tool) =>
    tool.capability === "read" && (tool.shape.schema.required ?? []).length === 0
  );
  return reference === undefined ? { method: "tools/list", params: "{}", what: "tools/list" } : {
    method: "tools/call",
    params: `{"name":${JSON.stringify(reference.shape.name)},"arguments":{}}`,
    what: reference.shape.name,
  };
}

/** Phase 3: how much a pathological call slows a normal one beside it, as a ratio. */
async function latencyBatch(
  rec: Recorder,
  tools: Tool[],
  options: FuzzOptions,
  rng: Rng,
  toolList: readonly AnyTool[] | undefined,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  await withSim(async (sim, domain) => {
    const target = await openWireTarget(sim.sim, toolList);
    const { session } = target;
    await session.initialize(timeoutMs);
    const normal = normalCall(tools);
    const timeNormal = async () =>
      (await session.request(normal.method, normal.params, timeoutMs)).ms;
    for (let i = 0; i < 5; i++) await timeNormal();
    let baseline = 0;
    for (const tool of tools) {
      const toolCase = pathologicalCase(tool.shape, rng, domain, rng.int(0, HUGE_SHAPES - 1));
      let best = Infinity;
      for (
        let attempt = 0;
        attempt < options.latencyAttempts && best > options.latencyBound;
        attempt++
      ) {
        // The normal call's median just before, so a machine busy with other work slows both.
        const alone: number[] = [];
        for (let i = 0; i < 7; i++) alone.push(await timeNormal());
        baseline = Math.max(median(alone), 0.05);
        const ratio = await besidePathological(session, toolCase, timeNormal, timeoutMs, baseline);
        if (ratio === undefined) {
          rec.find({
            via: "wire",
            check: target.alive() ? "unanswered" : "crash",
            tool: tool.shape.name,
            kind: "pathological",
            detail: "the pathological call got no reply",
            input: describeArguments(toolCase.argumentsJson),
          });
          break;
        }
        best = Math.min(best, ratio);
      }
      rec.call("wire", "huge_string");
      if (best === Infinity) continue;
      options.progress?.(
        `    ${tool.shape.name}: ${best.toFixed(1)}× (${
          (toolCase.argumentsJson.length / 1e6).toFixed(1)
        } MB)`,
      );
      if (best > rec.figures.worstLatencyRatio) {
        rec.figures.worstLatencyRatio = best;
        rec.figures.worstLatencyCase =
          `${normal.what} beside ${tool.shape.name} with 1 MB arguments`;
      }
      if (best > options.latencyBound) {
        rec.find({
          via: "wire",
          check: "slow_beside_pathological",
          tool: tool.shape.name,
          kind: "pathological",
          detail: `${normal.what} took ${best.toFixed(1)}× its median (${
            baseline.toFixed(2)
          } ms) beside this call (bound ${options.latencyBound}×)`,
          input: describeArguments(toolCase.argumentsJson),
        });
      }
    }
    await closeLineTarget(rec, "wire", target, timeoutMs, "the latency batch");
  });
}

/**
 * Sends the pathological call, then normal calls one after another until its reply arrives;
 * returns the slowest normal call ÷ the baseline (`undefined` when it got no reply).
 */
async function besidePathological(
  session: RpcSession,
  toolCase: ToolCase,
  timeNormal: () => Promise<number>,
  timeoutMs: number,
  baseline: number,
): Promise<number | undefined> {
  const id = session.nextId();
  let done = false;
  const pathological = session.exchange(toolCallLine(id, toolCase), id, timeoutMs).then((x) => {
    done = true;
    return x;
  });
  let slowest = 0;
  let count = 0;
  while (!done || count === 0) {
    slowest = Math.max(slowest, await timeNormal());
    count++;
  }
  const exchange = await pathological;
  if (exchange.reply === undefined) return undefined;
  return slowest / baseline;
}

/**
 * Fault answers a write can get, in turn. All but the last leave the outcome unknown (the
 * connection dropped, a proxy's 5xx): the answer must say so, never advise repeating the write.
 * The last is Proxmox VE's own 500, a definite failure.
 */
const WRITE_FAULTS: ReadonlyArray<{ fault: Record<string, unknown>; unknown: boolean }> = [
  { fault: { reset: true }, unknown: true },
  { fault: { status: 503, reason: "Service Unavailable" }, unknown: true },
  { fault: { status: 502, reason: "Bad Gateway" }, unknown: true },
  {
    fault: { status: 500, reason: "Internal Server Error", body: "<html>proxy error</html>" },
    unknown: true,
  },
  { fault: { status: 504, reason: "Gateway Timeout" }, unknown: true },
  { fault: { status: 500, reason: "snapshot feature is not available" }, unknown: false },
];

async function setFaults(sim: SimTarget, faults: ReadonlyArray<Record<string, unknown>>) {
  await fetch(`${sim.sim.url}/_sim/faults`, { method: "DELETE" }).then((r) => r.body?.cancel());
  for (const fault of faults) {
    const response = await fetch(`${sim.sim.url}/_sim/faults`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(fault),
    });
    await response.body?.cancel();
  }
}

/** Phase 4: writes whose answer is lost or a 5xx, reads that keep failing, then again. */
async function faultBatch(
  rec: Recorder,
  tools: Tool[],
  options: FuzzOptions,
  rng: Rng,
  toolList: readonly AnyTool[] | undefined,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  let turn = 0;
  for (const tool of tools) {
    const unansweredBefore = rec.figures.unanswered;
    await withSim(async (sim, domain) => {
      const target = await openWireTarget(sim.sim, toolList);
      await target.session.initialize(timeoutMs);
      const toolRng = rng.fork(`fault ${tool.shape.name}`);
      if (tool.shape.write) {
        const { fault, unknown } = WRITE_FAULTS[turn++ % WRITE_FAULTS.length] as {
          fault: Record<string, unknown>;
          unknown: boolean;
        };
        // A few valid calls, until one of them sends a write for the fault to hit.
        for (let attempt = 0; attempt < 4; attempt++) {
          const toolCase = generateCase(tool.shape, "valid", toolRng, domain) as ToolCase;
          await setFaults(
            sim,
            ["POST", "PUT", "DELETE"].map((method) => ({
              method,
              path: "/**",
              count: 1,
              ...fault,
            })),
          );
          const { judged, requests } = await lineCall(
            rec,
            "wire",
            target,
            sim,
            tool,
            toolCase,
            timeoutMs,
          );
          const hit = requests.some((r) => r.method !== "GET" && r.status !== 200);
          if (hit && unknown && judged?.isError === true && retryAdvice(judged.text)) {
            rec.find({
              via: "wire",
              check: "retry_advice_on_unknown_write",
              tool: tool.shape.name,
              kind: "valid",
              target: JSON.stringify(fault),
              detail: `a write whose outcome is unknown was answered ${
                JSON.stringify(judged.text.slice(0, 200))
              }`,
              input: describeArguments(toolCase.argumentsJson),
            });
          }
          if (hit) break;
        }
      } else {
        const toolCase = generateCase(tool.shape, "valid", toolRng, domain) as ToolCase;
        await setFaults(sim, [{ method: "GET", path: "/**", count: 3, status: 503 }]);
        const failed = await lineCall(rec, "wire", target, sim, tool, toolCase, timeoutMs);
        await setFaults(sim, []);
        if (failed.judged?.isError === true && failed.requests.length > 0) {
          const again = await lineCall(rec, "wire", target, sim, tool, toolCase, timeoutMs);
          if (again.requests.length === 0) {
            rec.find({
              via: "wire",
              check: "stale_verdict",
              tool: tool.shape.name,
              kind: "valid",
              target: "a failure served again",
              detail: "after a failed read, the same call was answered without asking Proxmox VE",
              input: describeArguments(toolCase.argumentsJson),
            });
          }
        }
      }
      await setFaults(sim, []);
      await staleVerdicts(rec, target, sim, domain, tool, toolRng, timeoutMs);
      await closeLineTarget(
        rec,
        "wire",
        target,
        timeoutMs,
        `the fault batch of ${tool.shape.name}`,
        { tool: tool.shape.name, abandonedReported: rec.figures.unanswered > unansweredBefore },
      );
    });
  }
}

/** Calls in flight at once in a burst (issue 14 ran 20). */
const BURST = 20;

async function control(sim: SimTarget, method: string, path: string, body?: unknown) {
  const response = await fetch(`${sim.sim.url}/_sim${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
  });
  await response.body?.cancel();
}

/**
 * A refusal must not outlive its cause: with every node offline (then every guest locked) a
 * call may be refused, but once they are back the same call must not still say so.
 */
async function staleVerdicts(
  rec: Recorder,
  target: LineTarget,
  sim: SimTarget,
  domain: Domain,
  tool: Tool,
  rng: Rng,
  timeoutMs: number,
): Promise<void> {
  const conditions = [
    {
      what: "every node offline",
      stale: /\boffline\b/i,
      set: () => Promise.all(domain.nodes.map((n) => control(sim, "POST", `/nodes/${n}/offline`))),
      clear: () => Promise.all(domain.nodes.map((n) => control(sim, "POST", `/nodes/${n}/online`))),
    },
    {
      what: "every guest locked (backup)",
      stale: /locked[^.]{0,40}backup|backup[^.]{0,20}lock/i,
      set: () =>
        Promise.all(
          domain.vmids.map((v) => control(sim, "POST", `/guests/${v}/lock`, { lock: "backup" })),
        ),
      clear: () =>
        Promise.all(domain.vmids.map((v) => control(sim, "DELETE", `/guests/${v}/lock`))),
    },
  ];
  for (const condition of conditions) {
    const toolCase = generateCase(tool.shape, "valid", rng, domain) as ToolCase;
    await condition.set();
    await lineCall(rec, "wire", target, sim, tool, toolCase, timeoutMs);
    await condition.clear();
    const after = await lineCall(rec, "wire", target, sim, tool, toolCase, timeoutMs);
    if (after.judged?.isError === true && condition.stale.test(after.judged.text)) {
      rec.find({
        via: "wire",
        check: "stale_verdict",
        tool: tool.shape.name,
        kind: "valid",
        target: condition.what,
        detail: `after ${condition.what} was undone, the call still said ${
          JSON.stringify(after.judged.text.slice(0, 200))
        }`,
        input: describeArguments(toolCase.argumentsJson),
      });
    }
  }
}

/** Phase 4b: bursts of calls in flight at once; each answered and judged. */
async function burstBatch(
  rec: Recorder,
  tools: Tool[],
  options: FuzzOptions,
  rng: Rng,
  toolList: readonly AnyTool[] | undefined,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  const unansweredBefore = rec.figures.unanswered;
  await withSim(async (sim, domain) => {
    const target = await openWireTarget(sim.sim, toolList);
    await target.session.initialize(timeoutMs);
    for (let burst = 0; burst < (options.bursts ?? 0); burst++) {
      const since = await sim.mark();
      const calls = Array.from({ length: BURST }, () => {
        const tool = rng.pick(tools);
        const toolCase = rng.chance(0.5)
          ? generateCase(tool.shape, "valid", rng, domain) as ToolCase
          : randomCase(tool.shape, rng, domain);
        const id = target.session.nextId();
        return {
          tool,
          toolCase,
          exchange: target.session.exchange(toolCallLine(id, toolCase), id, timeoutMs),
        };
      });
      for (const { tool, toolCase, exchange } of calls) {
        const answer = await exchange;
        rec.call("wire", toolCase.kind);
        judgeCall(
          rec,
          { via: "wire", tool, toolCase, alive: target.alive() },
          answer,
          undefined,
          [],
        );
      }
      // Concurrent calls may send the same write; everything else is checked for the burst.
      for (const problem of trafficProblems(await sim.requests(since))) {
        if (problem.check === "write_twice") continue;
        rec.find({ via: "wire", check: problem.check, kind: "burst", detail: problem.detail });
      }
    }
    await closeLineTarget(rec, "wire", target, timeoutMs, "the burst batch", {
      abandonedReported: rec.figures.unanswered > unansweredBefore,
    });
  });
}

/** Phase 5: a real `main.ts serve` subprocess, then requests in flight when stdin ends. */
async function stdioBatch(
  rec: Recorder,
  tools: Tool[],
  options: FuzzOptions,
  rng: Rng,
): Promise<void> {
  // Starting a process and loading the full server on the first call may take a while.
  const startMs = Math.max(options.timeoutMs ?? CALL_TIMEOUT_MS, 60_000);
  const callMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  await withSim(async (sim, domain) => {
    const target = await openStdioTarget(sim.sim);
    const timeoutMs = startMs;
    const start = await target.session.initialize(timeoutMs);
    if (start.reply === undefined) {
      rec.find({ via: "stdio", check: "crash", detail: "serve did not answer initialize" });
      await target.close();
      return;
    }
    let timedOut = false;
    for (let i = 0; i < options.stdioCalls; i++) {
      if (rng.chance(0.1)) {
        // A fresh catalog each time, so no id is sent twice.
        const line = rng.pick(catalogLines(() => 1_000_000 + target.session.nextId()));
        const start = performance.now();
        await rawLine(rec, "stdio", target, line, timeoutMs);
        options.progress?.(`    ${line.why}: ${(performance.now() - start).toFixed(0)} ms`);
        continue;
      }
      const tool = rng.pick(tools);
      const toolCase = rng.chance(0.15)
        ? generateCase(tool.shape, "huge_string", rng, domain) ??
          randomCase(tool.shape, rng, domain)
        : randomCase(tool.shape, rng, domain);
      const { answered } = await lineCall(
        rec,
        "stdio",
        target,
        sim,
        tool,
        toolCase,
        i === 0 ? startMs : callMs,
      );
      // A call still running would be counted against the next ones: go to the end-of-input
      // check instead.
      if (!answered) {
        timedOut = true;
        break;
      }
    }
    // Requests still in flight when stdin ends must all be answered before serve exits.
    const inFlight: Array<Promise<Exchange>> = [];
    const reads = tools.filter((tool) => tool.capability === "read");
    for (let i = 0; i < 3 && reads.length > 0; i++) {
      const tool = rng.pick(reads);
      const toolCase = generateCase(tool.shape, "valid", rng, domain) as ToolCase;
      const id = target.session.nextId();
      inFlight.push(target.session.exchange(toolCallLine(id, toolCase), id, timeoutMs));
      rec.call("stdio", "valid");
    }
    const { code, stderr } = await target.close();
    for (const exchange of await Promise.all(inFlight)) {
      if (exchange.reply === undefined) {
        rec.find({
          via: "stdio",
          check: "unanswered",
          detail: "a request in flight when stdin ended got no reply",
        });
      }
    }
    if (code !== 0) {
      rec.find({
        via: "stdio",
        check: "crash",
        detail: `serve exited with code ${code}: ${stderr.slice(-300)}`,
      });
    }
    const abandoned = stderr.split("\n").find((line) => /abandoned without a reply/.test(line));
    if (abandoned !== undefined && !timedOut) {
      rec.find({ via: "stdio", check: "unanswered", detail: abandoned.slice(0, 300) });
    }
    const odd = target.session.oddities;
    for (const line of [...odd.unexpected, ...odd.garbage, ...odd.serverRequests]) {
      rec.find({ via: "stdio", check: "unexpected_reply", detail: line });
    }
  });
}

/** Phase 6: a real MCP client; its output-schema check is one more judge. */
async function clientBatch(
  rec: Recorder,
  tools: Tool[],
  options: FuzzOptions,
  rng: Rng,
  toolList: readonly AnyTool[] | undefined,
): Promise<void> {
  await withSim(async (sim, domain) => {
    const target = await openClientTarget(sim.sim, toolList);
    try {
      for (let i = 0; i < options.clientCalls; i++) {
        const tool = rng.pick(tools);
        const toolCase = rng.chance(0.6)
          ? generateCase(
            tool.shape,
            rng.chance(0.5) || !tool.shape.write ? "valid" : "dry_run",
            rng,
            domain,
          ) ??
            randomCase(tool.shape, rng, domain)
          : randomCase(tool.shape, rng, domain);
        const since = await sim.mark();
        let answer: { error: unknown } | { result: Record<string, unknown> };
        try {
          const result = await target.client.callTool({
            name: toolCase.tool,
            arguments: JSON.parse(toolCase.argumentsJson),
          }, { timeout: options.timeoutMs ?? CALL_TIMEOUT_MS });
          answer = { result: result as Record<string, unknown> };
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error);
          if (/output schema|structured content|structuredContent/i.test(text)) {
            rec.call("client", toolCase.kind);
            rec.find({
              via: "client",
              check: "client_rejected",
              tool: toolCase.tool,
              kind: toolCase.kind,
              detail: text.slice(0, 300),
              input: describeArguments(toolCase.argumentsJson),
            });
            continue;
          }
          const code = (error as { code?: unknown }).code;
          if (code === "REQUEST_TIMEOUT") {
            rec.call("client", toolCase.kind);
            rec.find({
              via: "client",
              check: "unanswered",
              tool: toolCase.tool,
              kind: toolCase.kind,
              detail: "no reply within the timeout",
              input: describeArguments(toolCase.argumentsJson),
            });
            // The call may still be running and would be counted against the next ones.
            break;
          }
          answer = {
            error: { code: typeof code === "number" ? code : 0, message: text },
          };
        }
        rec.call("client", toolCase.kind);
        const requests = await sim.requests(since);
        judgeCall(
          rec,
          { via: "client", tool, toolCase, alive: true },
          answer,
          requests,
          trafficProblems(requests),
        );
      }
    } finally {
      await target.close();
    }
  });
}

/** Runs the fuzz suite and returns its figures and findings. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const toolList = options.tools;
  const tools = toolsOf(toolList ?? allTools);
  const rec = new Recorder(options.seed, options.latencyBound, tools.length);
  rec.trace = options.trace;
  const rng = new Rng(options.seed);
  const say = options.progress ?? (() => {});
  say(`fuzz seed ${options.seed}: ${tools.length} tools`);
  const run = (phase: Phase) => options.phases === undefined || options.phases.includes(phase);
  if (run("tools")) {
    await toolBatches(rec, tools, options, rng.fork("tools"), toolList);
    say(`tool batches done: ${rec.figures.calls} calls`);
  }
  if (run("json-rpc")) {
    await rpcBatch(rec, options, rng.fork("json-rpc"), toolList);
    say(`JSON-RPC lines done: ${rec.figures.rpcLines} lines`);
  }
  if (run("latency")) {
    await latencyBatch(rec, tools, options, rng.fork("latency"), toolList);
    say(`latency done: worst ratio ${rec.figures.worstLatencyRatio.toFixed(1)}`);
  }
  if (run("faults")) {
    await faultBatch(rec, tools, options, rng.fork("faults"), toolList);
    say(`faults done: ${rec.figures.calls} calls`);
  }
  if (run("burst") && (options.bursts ?? 0) > 0) {
    await burstBatch(rec, tools, options, rng.fork("burst"), toolList);
    say(`bursts done: ${rec.figures.calls} calls`);
  }
  if (run("stdio") && options.stdioCalls > 0) {
    await stdioBatch(rec, tools, options, rng.fork("stdio"));
    say(`serve subprocess done: ${rec.figures.callsByVia.stdio} calls`);
  }
  if (run("client") && options.clientCalls > 0) {
    await clientBatch(rec, tools, options, rng.fork("client"), toolList);
    say(`MCP client done: ${rec.figures.callsByVia.client} calls`);
  }
  return { figures: rec.figures, findings: rec.findings };
}

/** The figures as the lines a run prints. */
export function formatFigures(figures: FuzzFigures): string[] {
  const found = CHECK_NAMES.filter((name) => figures.findings[name] > 0)
    .map((name) => `${name} ${figures.findings[name]}`);
  return [
    `fuzz seed ${figures.seed}: ${figures.calls} calls over ${figures.tools} tools (wire ${figures.callsByVia.wire}, serve subprocess ${figures.callsByVia.stdio}, MCP client ${figures.callsByVia.client}) and ${figures.rpcLines} malformed JSON-RPC lines`,
    `  by kind: ${CASE_KINDS.map((kind) => `${kind} ${figures.callsByKind[kind]}`).join(", ")}`,
    `  refusals ${figures.refusals}; crashes ${figures.crashes}; unanswered requests ${figures.unanswered}; non-actionable refusals ${figures.nonActionable}`,
    `  worst-case latency ratio ${
      figures.worstLatencyRatio.toFixed(1)
    } (bound ${figures.latencyBound}; ${figures.worstLatencyCase || "none measured"})`,
    `  findings: ${found.length === 0 ? "none" : found.join(", ")}`,
  ];
}

/** A finding as one line, with what reproduces it. */
export function formatFinding(finding: Finding): string {
  const where = [finding.via, finding.tool, finding.kind, finding.target].filter((part) =>
    part !== undefined
  ).join(" ");
  return `[${finding.check}] ${where}: ${finding.detail}${
    finding.input === undefined ? "" : ` — input ${finding.input}`
  }`;
}
