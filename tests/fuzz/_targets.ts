/**
 * What the fuzz run drives, each against its own simulated cluster (demo seed, instant tasks),
 * with every capability class and every toolset allowed and the confirmation fallback `allow`:
 *
 * - `wire`: in-process, our stdio transport and start-up gate in front of the full server,
 *   exactly as `serve` wires them, with lines written as bytes (malformed ones included); the
 *   Proxmox VE client's fetch records every URL it is asked for;
 * - `stdio`: a real `main.ts serve` subprocess over its stdin/stdout, allowed to reach only the
 *   simulator's host;
 * - `client`: a real MCP v2 client in-process (it checks results against the announced output
 *   schemas).
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport } from "@modelcontextprotocol/server";
import { toolListFacts } from "../../src/config/facts.ts";
import { type Config, configSchema, ENV_NAMES } from "../../src/config/mod.ts";
import { AuditLog } from "../../src/policy/audit.ts";
import { CAPABILITIES } from "../../src/policy/capability.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { createServer, serveStdio } from "../../src/server/mod.ts";
import type { ToolManifest } from "../../src/server/manifest.ts";
import manifest from "../../src/server/tools_manifest.json" with { type: "json" };
import { EarlyResponder } from "../../src/server/wire/early.ts";
import { StartupGate } from "../../src/server/wire/gate.ts";
import { StdioTransport } from "../../src/server/wire/transport.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { toolsetIds } from "../../src/tools/toolsets.ts";
import type { AnyTool } from "../../src/tools/types.ts";
import { RpcSession, textLines } from "./_rpc_session.ts";

/**
 * The policy of every target: every class allowed, every toolset on, confirmation falls back
 * to allow, task waits short.
 */
export function fuzzPolicy(tools: readonly AnyTool[]): Record<string, unknown> {
  return {
    allow: [...CAPABILITIES],
    toolsets: toolsetIds(tools),
    confirmation: { fallback: "allow" },
    wait: { defaultSeconds: 10, maxSeconds: 10 },
  };
}

/** A simulator for one batch, with a way to read what it served. */
export interface SimTarget {
  sim: SimulatorHandle;
  /** Requests served after `since` (`/_sim` excluded). */
  requests(since: number): Promise<SimRequest[]>;
  /** The sequence number of the last request served so far. */
  mark(): Promise<number>;
}

/** One request the simulator served (an entry of `GET /_sim/requests`). */
export interface SimRequest {
  seq: number;
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  status: number;
  /** PVE's per-parameter errors of a 400 answer. */
  errors?: Record<string, string>;
}

/** Starts a demo-seed simulator with instant tasks. */
export async function startSimTarget(): Promise<SimTarget> {
  const sim = await startSimulator({ seed: "demo", speed: "instant", log: () => {} });
  let last = 0;
  async function requests(since: number): Promise<SimRequest[]> {
    const response = await fetch(`${sim.url}/_sim/requests?since=${since}`);
    const all = await response.json() as SimRequest[];
    const tail = all.at(-1);
    if (tail !== undefined) last = Math.max(last, tail.seq);
    return all.filter((request) => !request.path.startsWith("/_sim"));
  }
  return {
    sim,
    requests,
    async mark() {
      await requests(last);
      return last;
    },
  };
}

/** The raw configuration of a target (one cluster, `lab`, on the simulator). */
export function fuzzRawConfig(
  sim: SimulatorHandle,
  auditPath: string,
  tools: readonly AnyTool[] = allTools,
): Record<string, unknown> {
  return {
    clusters: {
      lab: {
        url: sim.url,
        tokenId: sim.credentials.tokenId,
        tokenSecret: sim.credentials.tokenSecret,
      },
    },
    policy: fuzzPolicy(tools),
    audit: { path: auditPath },
  };
}

/** A target driven line by line. */
export interface LineTarget {
  session: RpcSession;
  /** URLs the Proxmox VE client fetched (in-process targets only). */
  fetched?: string[];
  /** Whether the server is still up (the process has not exited). */
  alive(): boolean;
  /** Ends the input and waits for the server to finish; reports how it ended. */
  close(): Promise<{ code: number; stderr: string }>;
}

/** A fetch that records every URL and keeps writes off reused connections (as the client does). */
function recordingFetch(seen: string[]): { fetch: typeof fetch; close(): void } {
  const reads = Deno.createHttpClient({});
  const writes = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  return {
    fetch: (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      seen.push(url);
      const method = (init?.method ?? "GET").toUpperCase();
      return fetch(input, { ...init, client: method === "GET" ? reads : writes });
    },
    close() {
      reads.close();
      writes.close();
    },
  };
}

/** Our transport, gate and full server in-process, on the simulator. */
export async function openWireTarget(
  sim: SimulatorHandle,
  tools: readonly AnyTool[] | undefined,
): Promise<LineTarget> {
  const auditPath = await Deno.makeTempFile({ prefix: "fuzz-audit-", suffix: ".jsonl" });
  const raw = fuzzRawConfig(sim, auditPath, tools);
  const config: Config = configSchema.parse(raw);
  const fetched: string[] = [];
  const recorder = recordingFetch(fetched);
  const pve = new PveClient({
    url: sim.url,
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
    name: "lab",
    fetch: recorder.fetch,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  const clients = new Map([["lab", pve]]);
  const audit = AuditLog.open(auditPath);
  const input = new TransformStream<Uint8Array, Uint8Array>();
  const output = new TransformStream<Uint8Array, Uint8Array>();
  const writer = input.writable.getWriter();
  const reports: string[] = [];
  const report = (level: string, message: string) => reports.push(`${level}: ${message}`);
  const wire = new StdioTransport({
    input: input.readable,
    output: output.writable,
    report,
    // Calls are awaited before a target closes, so only one that already timed out (and was
    // reported) can be in flight then: no need to wait for it. `serve`'s own drain is tested
    // through the subprocess.
    drainMs: 2_000,
  });
  const facts = toolListFacts(raw);
  // The start-up answers come from the manifest of every tool; other tool lists skip them.
  const early = facts === undefined || tools !== undefined
    ? undefined
    : new EarlyResponder(manifest as ToolManifest, facts);
  let handle: { close(): Promise<void> } | undefined;
  const { promise: closed, resolve: onClosed } = Promise.withResolvers<void>();
  let up = true;
  wire.onclose = () => {
    up = false;
    onClosed();
  };
  const gate = new StartupGate({
    wire,
    early,
    report,
    load: () =>
      Promise.resolve((channel) => {
        handle = serveStdio(
          () => createServer({ config, clients, audit, ...(tools === undefined ? {} : { tools }) }),
          { transport: channel },
        );
        return Promise.resolve();
      }),
  });
  await gate.start();
  const session = new RpcSession((bytes) => writer.write(bytes), textLines(output.readable));
  return {
    session,
    fetched,
    alive: () => up,
    async close() {
      await writer.close().catch(() => {});
      await closed;
      await handle?.close();
      await output.writable.close().catch(() => {});
      await session.ended;
      pve.close();
      recorder.close();
      await Deno.remove(auditPath).catch(() => {});
      return { code: 0, stderr: reports.join("\n") };
    },
  };
}

/** The entry point of the command line. */
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A real `main.ts serve` subprocess on the simulator, reachable only through its host. */
export async function openStdioTarget(sim: SimulatorHandle): Promise<LineTarget> {
  const dir = await Deno.makeTempDir({ prefix: "fuzz-serve-" });
  const configPath = `${dir}/config.json`;
  const auditPath = `${dir}/audit.jsonl`;
  await Deno.writeTextFile(configPath, JSON.stringify(fuzzRawConfig(sim, auditPath)), {
    mode: 0o600,
  });
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("PROXMOX_")),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      `--allow-net=${new URL(sim.url).host}`,
      `--allow-env=${ENV_NAMES.join(",")}`,
      `--allow-read=${configPath}`,
      `--allow-write=${auditPath}`,
      MAIN,
      "serve",
      "--config",
      configPath,
    ],
    env,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stderr = new Response(child.stderr).text();
  const session = new RpcSession((bytes) => writer.write(bytes), textLines(child.stdout));
  return {
    session,
    alive: () => !exited,
    async close() {
      await writer.close().catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const { code } = await status;
      clearTimeout(timer);
      await session.ended;
      const text = await stderr;
      await Deno.remove(dir, { recursive: true });
      return { code, stderr: text };
    },
  };
}

/** A real MCP v2 client connected in-process to a full server on the simulator. */
export interface ClientTarget {
  client: Client;
  close(): Promise<void>;
}

/** Connects a real MCP client (it validates results against the announced output schemas). */
export async function openClientTarget(
  sim: SimulatorHandle,
  tools: readonly AnyTool[] | undefined,
): Promise<ClientTarget> {
  const auditPath = await Deno.makeTempFile({ prefix: "fuzz-audit-", suffix: ".jsonl" });
  const config: Config = configSchema.parse(fuzzRawConfig(sim, auditPath, tools));
  const pve = new PveClient({
    url: sim.url,
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
    name: "lab",
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const handle = serveStdio(
    () =>
      createServer({
        config,
        clients: new Map([["lab", pve]]),
        audit: AuditLog.open(auditPath),
        ...(tools === undefined ? {} : { tools }),
      }),
    { transport: serverSide },
  );
  const client = new Client({ name: "fuzz-client", version: "1.0.0" });
  await client.connect(clientSide);
  await client.listTools();
  return {
    client,
    async close() {
      await client.close();
      await handle.close();
      pve.close();
      await Deno.remove(auditPath).catch(() => {});
    },
  };
}
