/**
 * Tool tests: a real v2 MCP client connected to `createServer` (through the server tests'
 * harness) whose one cluster, `lab`, is a simulator started for the test.
 *
 * @module
 */

import { PveClient, type PveClientOptions } from "../../src/pve/mod.ts";
import {
  type SimulatorHandle,
  type SimulatorOptions,
  startSimulator,
} from "../../src/simulator/mod.ts";
import type { RequestLogEntry } from "../../src/simulator/control.ts";
import { toolsetIds } from "../../src/tools/toolsets.ts";
import type { AnyTool } from "../../src/tools/types.ts";
import {
  connect,
  type ElicitAnswer,
  type Session,
  textOf,
  type ToolCallResult,
} from "../server/_harness.ts";

export { textOf, type ToolCallResult };

/** One request the simulator served (an entry of `GET /_sim/requests`). */
export type LoggedRequest = RequestLogEntry;

/** A session against a simulated cluster. */
export interface SimSession extends Session {
  sim: SimulatorHandle;
  pve: PveClient;
  /** Requests the simulator served after `since` (a `seq`), `/_sim` excluded. */
  requests(since?: number): Promise<LoggedRequest[]>;
  /** The `seq` of the last request so far (pass to `requests` to see only later ones). */
  mark(): Promise<number>;
  /** POSTs/PUTs/DELETEs the simulator served after `since`. */
  writes(since?: number): Promise<LoggedRequest[]>;
}

/** Options of {@linkcode openSession}. */
export interface OpenOptions {
  tools: readonly AnyTool[];
  sim?: SimulatorOptions;
  /** Config input merged over the harness' single cluster `lab` (e.g. `{ policy: {...} }`). */
  config?: Record<string, unknown>;
  elicit?: ElicitAnswer;
  /** Protocol era of the test client (default `legacy`). */
  era?: "legacy" | "modern";
  /** Options of the session's PVE client (e.g. a short `timeoutMs` for fault tests). */
  client?: Partial<PveClientOptions>;
  /** Authenticate with root@pam's password (a login ticket) instead of the API token. */
  ticket?: boolean;
}

/** Starts a simulator (demo seed, instant tasks by default) and connects a client to a server. */
export async function openSession(options: OpenOptions): Promise<SimSession> {
  const sim = await startSimulator({ seed: "demo", speed: "instant", ...options.sim });
  const pve = new PveClient({
    url: sim.url,
    ...(options.ticket
      ? { username: sim.credentials.user, password: sim.credentials.password }
      : { tokenId: sim.credentials.tokenId, tokenSecret: sim.credentials.tokenSecret }),
    name: "lab",
    ...options.client,
  });
  const session = await connect({
    tools: options.tools,
    clients: new Map([["lab", pve]]),
    config: {
      ...options.config,
      policy: {
        allow: ["read", "lifecycle", "change", "destroy", "exec", "raw"],
        // Every toolset: a tool test tests its tool, not which toolsets are on by default.
        toolsets: toolsetIds(options.tools),
        confirmation: { fallback: "allow" },
        ...(options.config?.policy as Record<string, unknown> | undefined),
      },
    },
    ...(options.elicit === undefined ? {} : { elicit: options.elicit }),
    ...(options.era === undefined ? {} : { era: options.era }),
  });
  async function requests(since = 0): Promise<LoggedRequest[]> {
    const response = await fetch(`${sim.url}/_sim/requests?since=${since}`);
    const body = await response.json() as LoggedRequest[];
    return body.filter((r) => !r.path.startsWith("/_sim"));
  }
  return {
    ...session,
    sim,
    pve,
    requests,
    async mark() {
      const all = await requests(0);
      return all.at(-1)?.seq ?? 0;
    },
    async writes(since = 0) {
      return (await requests(since)).filter((r) => r.method !== "GET");
    },
    async close() {
      await session.close();
      pve.close();
      await sim.close();
    },
  };
}

/** The structured content of a result, failing loudly when it is missing. */
export function structuredOf<T = Record<string, unknown>>(result: ToolCallResult): T {
  if (result.structuredContent === undefined) {
    throw new Error(`Expected structured content, got text: ${textOf(result)}`);
  }
  return result.structuredContent as T;
}
