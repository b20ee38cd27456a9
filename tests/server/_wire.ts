/**
 * Driving the stdio wire in-process: JSON lines in, JSON lines out, through our
 * `StdioTransport` and `StartupGate` exactly as `serve` wires them, with the full server built
 * from a test configuration.
 *
 * @module
 */

import { toolListFacts } from "../../src/config/facts.ts";
import type { Config } from "../../src/config/mod.ts";
import { AuditLog } from "../../src/policy/audit.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { createServer, serveStdio } from "../../src/server/mod.ts";
import type { ToolManifest } from "../../src/server/manifest.ts";
import manifest from "../../src/server/tools_manifest.json" with { type: "json" };
import { EarlyResponder } from "../../src/server/wire/early.ts";
import { StartupGate } from "../../src/server/wire/gate.ts";
import { StdioTransport } from "../../src/server/wire/transport.ts";
import type { AnyTool } from "../../src/tools/types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a wire run printed and reported. */
export interface WireRun {
  /** Every line written to stdout, in order. */
  lines: string[];
  /** Lines by the id of the reply they carry (`"null"` for id null). */
  byId: Map<string, string>;
  /** What the transport and the gate reported (level and message). */
  reports: string[];
  /** Whether the full server was loaded. */
  loaded: boolean;
}

/** Options of {@linkcode runWire}. */
export interface WireOptions {
  /** The raw configuration the start-up answers read (absent: no start-up answers). */
  raw?: Record<string, unknown>;
  /** The validated configuration the full server is built from. */
  config: Config;
  /** The tools (default: every tool). */
  tools?: readonly AnyTool[];
  /** Input chunks instead of lines (each written as given). */
  chunks?: Uint8Array[];
  /** The longest line the transport accepts. */
  maxMessageBytes?: number;
  /** How long requests may finish after the input ends. */
  drainMs?: number;
}

/** Feeds `lines` (then end of input) to a wire and collects everything written. */
export async function runWire(lines: readonly string[], options: WireOptions): Promise<WireRun> {
  const chunks = options.chunks ?? lines.map((line) => encoder.encode(`${line}\n`));
  const input = ReadableStream.from(chunks);
  const written: string[] = [];
  const output = new WritableStream<Uint8Array>({
    write(chunk) {
      written.push(decoder.decode(chunk));
    },
  });
  const reports: string[] = [];
  const report = (level: string, message: string) => reports.push(`${level}: ${message}`);
  const wire = new StdioTransport({
    input,
    output,
    report,
    drainMs: options.drainMs ?? 10_000,
    ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
  });
  const facts = options.raw === undefined ? undefined : toolListFacts(options.raw);
  const early = facts === undefined
    ? undefined
    : new EarlyResponder(manifest as ToolManifest, facts);
  const clients = new Map(
    Object.keys(options.config.clusters).map((name) => [
      name,
      new PveClient({ url: "http://127.0.0.1:9", tokenId: "root@pam!mcp", tokenSecret: "x" }),
    ]),
  );
  let loaded = false;
  let handle: { close(): Promise<void> } | undefined;
  const { promise: closed, resolve } = Promise.withResolvers<void>();
  wire.onclose = () => resolve();
  const gate = new StartupGate({
    wire,
    early,
    report,
    load: () => {
      loaded = true;
      return Promise.resolve((channel) => {
        handle = serveStdio(
          () =>
            createServer({
              config: options.config,
              clients,
              audit: AuditLog.disabled(),
              ...(options.tools === undefined ? {} : { tools: options.tools }),
            }),
          { transport: channel },
        );
        return Promise.resolve();
      });
    },
  });
  await gate.start();
  await closed;
  await handle?.close();
  for (const client of clients.values()) client.close();
  const all = written.join("").split("\n").filter((line) => line !== "");
  const byId = new Map<string, string>();
  for (const line of all) {
    const id = (JSON.parse(line) as { id?: unknown }).id;
    if (id !== undefined) byId.set(JSON.stringify(id), line);
  }
  return { lines: all, byId, reports, loaded };
}
