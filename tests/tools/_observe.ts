/**
 * Helpers for the observe, network and agent tool tests: a session with those toolsets on,
 * and calls to the simulator's control API to plant problems.
 *
 * @module
 */

import type { SimulatorOptions } from "../../src/simulator/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import type { ElicitAnswer } from "../server/_harness.ts";
import { openSession, type SimSession } from "./_helpers.ts";

/** The toolsets these tests turn on (network and agent are off by default). */
export const TOOLSETS = ["inventory", "tasks", "observe", "network", "agent"];

/** Opens a session offering every tool of {@linkcode TOOLSETS}. */
export function openObserveSession(
  options: { sim?: SimulatorOptions; elicit?: ElicitAnswer; config?: Record<string, unknown> } = {},
): Promise<SimSession> {
  const policy = (options.config?.policy ?? {}) as Record<string, unknown>;
  return openSession({
    tools: allTools,
    ...(options.sim === undefined ? {} : { sim: options.sim }),
    ...(options.elicit === undefined ? {} : { elicit: options.elicit }),
    config: { ...options.config, policy: { toolsets: TOOLSETS, ...policy } },
  });
}

/** Calls the simulator's control API (`/_sim/…`); throws unless it answers 2xx. */
export async function control(
  session: SimSession,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${session.sim.url}/_sim${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
  });
  const answer = await response.json() as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} /_sim${path}: ${JSON.stringify(answer)}`);
  return answer;
}

/**
 * A token estimate for a tool answer as a model receives it: the text and the structured
 * content, about four bytes of JSON per token.
 */
export function tokenEstimate(result: { content: unknown; structuredContent?: unknown }): number {
  const bytes = new TextEncoder().encode(
    JSON.stringify({ content: result.content, structured: result.structuredContent ?? null }),
  ).length;
  return Math.ceil(bytes / 4);
}
