/**
 * Remote mode under load: 64 concurrent sessions calling `cluster_status` and `guest_list` on the
 * simulated `demo` cluster, through `main.ts serve --http` (one server process), side by side
 * with the same calls over stdio.
 *
 * - HTTP, 2025-11-25 era: 64 v2 clients, each its own session (`Mcp-Session-Id`), each with the
 *   profile's bearer token.
 * - HTTP, 2026-07-28 era: 64 v2 clients, stateless (each call a fresh server instance).
 * - stdio: one `main.ts serve` process and one client with 64 callers in flight at once (a stdio
 *   server serves one client; 64 processes would measure process start-up, not calls).
 *
 * Each caller makes `--rounds` rounds (default 20) of `cluster_status` then `guest_list`; latency
 * is per call, from the client's request to its result, after one warm-up round per session.
 * Reported: p50, p99, max, calls per second and errors. The simulator runs in this process with
 * instant tasks; everything stays on 127.0.0.1 and stops by itself.
 *
 * Run: `deno task bench:http [--rounds 20] [--sessions 64]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { sha256Hex } from "../src/config/mod.ts";
import { startSimulator } from "../src/simulator/mod.ts";
import { startServeProcess } from "../tests/http/_process.ts";
import { printLine, table } from "./_scale.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string" }, sessions: { type: "string" } },
});
const ROUNDS = Math.max(1, Math.min(200, Number(values.rounds ?? 20)));
const SESSIONS = Math.max(1, Math.min(128, Number(values.sessions ?? 64)));
const TOOLS = ["cluster_status", "guest_list"] as const;
const TOKEN = "bench-token-0123456789abcdef";
const root = new URL("../", import.meta.url);
const mainTs = new URL("main.ts", root).pathname;

interface Sample {
  tool: string;
  ms: number;
  error: boolean;
}

async function timedCall(client: Client, tool: string, samples: Sample[]): Promise<void> {
  const start = performance.now();
  let error = false;
  try {
    const result = await client.callTool({ name: tool, arguments: {} });
    error = result.isError === true;
  } catch {
    error = true;
  }
  samples.push({ tool, ms: performance.now() - start, error });
}

async function drive(clients: readonly Client[]): Promise<{ samples: Sample[]; seconds: number }> {
  for (const client of clients) {
    for (const tool of TOOLS) await client.callTool({ name: tool, arguments: {} });
  }
  const samples: Sample[] = [];
  const start = performance.now();
  await Promise.all(clients.map(async (client) => {
    for (let round = 0; round < ROUNDS; round++) {
      for (const tool of TOOLS) await timedCall(client, tool, samples);
    }
  }));
  return { samples, seconds: (performance.now() - start) / 1000 };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)]!;
}

function rows(name: string, run: { samples: Sample[]; seconds: number }): string[][] {
  return TOOLS.map((tool) => {
    const mine = run.samples.filter((sample) => sample.tool === tool);
    const sorted = mine.map((sample) => sample.ms).sort((a, b) => a - b);
    return [
      name,
      tool,
      String(mine.length),
      percentile(sorted, 50).toFixed(1),
      percentile(sorted, 99).toFixed(1),
      (sorted.at(-1) ?? NaN).toFixed(1),
      (run.samples.length / run.seconds).toFixed(0),
      String(mine.filter((sample) => sample.error).length),
    ];
  });
}

const sim = await startSimulator({ seed: "demo", speed: "instant", log: () => {} });
const configPath = await Deno.makeTempFile({ prefix: "bench-http-", suffix: ".json" });
const cluster = {
  url: sim.url,
  tokenId: sim.credentials.tokenId,
  tokenSecret: sim.credentials.tokenSecret,
};
await Deno.writeTextFile(
  configPath,
  JSON.stringify({
    clusters: { demo: cluster },
    audit: { enabled: false },
    http: { maxSessions: 256 },
    profiles: {
      bench: {
        tokenSha256: [await sha256Hex(TOKEN)],
        rateLimit: {
          calls: { perMinute: 1_000_000, burst: 1_000_000 },
          writes: { perMinute: 1, burst: 1 },
        },
      },
    },
  }),
);
await Deno.chmod(configPath, 0o600);
const results: string[][] = [];
try {
  const server = await startServeProcess(["--config", configPath, "--http", "127.0.0.1:0"]);
  try {
    for (const era of ["legacy", "modern"] as const) {
      const clients: Client[] = [];
      for (let i = 0; i < SESSIONS; i++) {
        const client = new Client({ name: `bench-${i}`, version: "1" }, {
          ...(era === "modern" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {}),
        });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(server.url), {
            requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
          }),
        );
        clients.push(client);
      }
      results.push(
        ...rows(
          `HTTP ${era === "legacy" ? "2025-11-25 (sessions)" : "2026-07-28 (stateless)"}`,
          await drive(clients),
        ),
      );
      await Promise.all(clients.map((client) => client.close()));
    }
  } finally {
    await server.stop();
  }
  const stdio = new Client({ name: "bench-stdio", version: "1" });
  await stdio.connect(
    new StdioClientTransport({
      command: Deno.execPath(),
      args: [
        "run",
        "--quiet",
        "--allow-net=127.0.0.1,localhost",
        "--allow-read",
        "--allow-env",
        mainTs,
        "serve",
        "--log-level",
        "warning",
      ],
      env: { PROXMOX_MCP_CONFIG: configPath, PATH: Deno.env.get("PATH") ?? "" },
      stderr: "ignore",
    }),
  );
  try {
    results.push(
      ...rows(
        `stdio (1 process, ${SESSIONS} in flight)`,
        await drive(Array.from({ length: SESSIONS }, () => stdio)),
      ),
    );
  } finally {
    await stdio.close();
  }
} finally {
  await sim.close();
  await Deno.remove(configPath);
}

printLine(
  `${SESSIONS} concurrent sessions × ${ROUNDS} rounds of cluster_status + guest_list, demo seed, latency in ms`,
);
printLine();
printLine(
  table(
    ["transport", "tool", "calls", "p50", "p99", "max", "calls/s", "errors"],
    results,
    "llrrrrrr",
  ),
);
