/**
 * What the benchmarks share: a simulated `scale` cluster on loopback, a Proxmox VE client for
 * it, and a real MCP v2 client connected in memory to the server `serve` builds (the same
 * `createServer` + `serveStdio` path, minus the pipe).
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport } from "@modelcontextprotocol/server";
import { CAPABILITIES, type Capability } from "../src/policy/capability.ts";
import { configSchema } from "../src/config/mod.ts";
import { AuditLog } from "../src/policy/audit.ts";
import { PveClient } from "../src/pve/mod.ts";
import { createServer, serveStdio } from "../src/server/mod.ts";
import { type SimulatorHandle, startSimulator } from "../src/simulator/mod.ts";

/** Nodes of the benchmark cluster. */
export const SCALE_NODES = 50;
/** Guests of the benchmark cluster. */
export const SCALE_GUESTS = 10_000;

/** Starts the 50-node × 10,000-guest simulated cluster (tasks run instantly). */
export function startScaleCluster(): Promise<SimulatorHandle> {
  return startSimulator({
    seed: "scale",
    nodes: SCALE_NODES,
    guests: SCALE_GUESTS,
    speed: "instant",
    random: 42,
  });
}

/** Where a benchmark sends Proxmox VE requests: the simulator, or a replay of it. */
export type Target = Pick<SimulatorHandle, "url" | "api" | "credentials">;

/** The `Authorization` header value of the simulator's `root@pam!mcp` token. */
export function tokenHeader(sim: Target): string {
  return `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`;
}

/** A Proxmox VE client for the simulator. */
export function clientFor(sim: Target): PveClient {
  return new PveClient({
    url: sim.url,
    name: "scale",
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
  });
}

/** An MCP client connected to a server for the simulator. */
export interface BenchSession {
  client: Client;
  close(): Promise<void>;
}

/**
 * Connects a real MCP v2 client to a server for `sim` over an in-memory transport pair.
 * `allow` is the list of allowed capability classes (default: read only, as shipped).
 */
export async function connectScale(
  sim: Target,
  options: { allow?: readonly Capability[] } = {},
): Promise<BenchSession> {
  const config = configSchema.parse({
    clusters: {
      scale: {
        url: sim.url,
        tokenId: sim.credentials.tokenId,
        tokenSecret: sim.credentials.tokenSecret,
      },
    },
    policy: { allow: options.allow ?? ["read"] },
    audit: { enabled: false },
  });
  const pve = clientFor(sim);
  const clients = new Map([["scale", pve]]);
  const audit = AuditLog.disabled();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const handle = serveStdio(() => createServer({ config, clients, audit }), {
    transport: serverSide,
  });
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(clientSide);
  return {
    client,
    async close() {
      await client.close();
      await handle.close();
      pve.close();
    },
  };
}

/** Every capability class (to list all tools). */
export const ALL_CAPABILITIES: readonly Capability[] = CAPABILITIES;

/** A replay of a simulator's answers (see {@linkcode startReplay}). */
export interface ReplayHandle extends Target {
  close(): Promise<void>;
}

/**
 * Serves the simulator's answers from memory: the first request for a URL goes to the
 * simulator, later ones get the recorded status and body. Proxmox VE answers from its own
 * memory too, so this takes the simulator's JSON building out of what the benchmarks time
 * (only GET requests are replayed; nothing else is needed for reads).
 */
export function startReplay(sim: SimulatorHandle): ReplayHandle {
  const recorded = new Map<string, Promise<{ status: number; body: string }>>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const key = url.pathname + url.search;
    let answer = recorded.get(key);
    if (answer === undefined) {
      answer = fetch(`${sim.url}${key}`, { headers: request.headers })
        .then(async (response) => ({ status: response.status, body: await response.text() }));
      recorded.set(key, answer);
    }
    const { status, body } = await answer;
    return new Response(body, { status, headers: { "content-type": "application/json" } });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    api: `${url}/api2/json`,
    credentials: sim.credentials,
    close: () => server.shutdown(),
  };
}

const encoder = new TextEncoder();

/** Writes one line to stdout (scripts print tables; `console` is reserved for src/log.ts). */
export function printLine(line = ""): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}

/** UTF-8 byte length of a string. */
export function byteLength(text: string): number {
  return encoder.encode(text).length;
}

/**
 * Formats rows as an aligned Markdown table. `align` has one letter per column, `l` or `r`
 * (default: first column left, the rest right).
 */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  align = "l" + "r".repeat(Math.max(0, header.length - 1)),
): string {
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const right = (i: number) => align[i] === "r";
  const line = (cells: readonly string[]) =>
    `| ${
      cells.map((cell, i) => right(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))
        .join(" | ")
    } |`;
  const rule = `|${widths.map((w, i) => `-${"-".repeat(w)}${right(i) ? ":" : "-"}`).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
