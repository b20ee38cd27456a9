/**
 * Helpers for the client's tests against the simulator over real HTTP.
 *
 * @module
 */

import {
  type SimulatorHandle,
  type SimulatorOptions,
  startSimulator,
} from "../../src/simulator/mod.ts";
import type { RequestLogEntry } from "../../src/simulator/control.ts";
import { PveClient, type PveClientOptions } from "../../src/pve/mod.ts";

/** One request the simulator served (an entry of `GET /_sim/requests`). */
export type LoggedRequest = RequestLogEntry;

/** Calls the simulator's control API and returns the parsed answer. */
export async function control(
  sim: SimulatorHandle,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  // An HTTPS simulator in these tests serves the fixture certificate.
  const client = sim.url.startsWith("https:")
    ? Deno.createHttpClient({
      caCerts: [await Deno.readTextFile(new URL("../fixtures/tls/ca.pem", import.meta.url))],
    })
    : undefined;
  try {
    return await send(client);
  } finally {
    client?.close();
  }

  async function send(client: Deno.HttpClient | undefined): Promise<unknown> {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      ...(client === undefined ? {} : { client }),
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`control ${method} ${path} failed: ${response.status} ${text}`);
    }
    return text === "" ? null : JSON.parse(text);
  }
}

/** The simulator's request log. */
export async function requests(sim: SimulatorHandle): Promise<LoggedRequest[]> {
  return await control(sim, "GET", "/_sim/requests") as LoggedRequest[];
}

/** Installs a fault. */
export async function fault(sim: SimulatorHandle, spec: Record<string, unknown>): Promise<void> {
  await control(sim, "POST", "/_sim/faults", spec);
}

/** Runs `body` with a started simulator and closes it afterwards. */
export async function withSim(
  options: SimulatorOptions,
  body: (sim: SimulatorHandle) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ log: () => {}, ...options });
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

/** A client for `sim` authenticating with root's token (or the given options). */
export function tokenClient(
  sim: SimulatorHandle,
  extra: Partial<PveClientOptions> = {},
): PveClient {
  return new PveClient({
    url: sim.url,
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
    retry: { baseDelayMs: 1 },
    ...extra,
  });
}

/** A client for `sim` logging in as root with the password. */
export function ticketClient(
  sim: SimulatorHandle,
  extra: Partial<PveClientOptions> = {},
): PveClient {
  return new PveClient({
    url: sim.url,
    username: sim.credentials.user,
    password: sim.credentials.password,
    retry: { baseDelayMs: 1 },
    ...extra,
  });
}

/**
 * Advances the simulated clock step by step until `until` settles (for simulators started
 * with a tiny `speed`, whose tasks otherwise wait on the clock).
 */
export async function driveClock(
  sim: SimulatorHandle,
  until: Promise<unknown>,
  seconds = 5,
): Promise<void> {
  let done = false;
  const settled = until.then(() => {
    done = true;
  }, () => {
    done = true;
  });
  for (let i = 0; i < 1000 && !done; i++) {
    await control(sim, "POST", "/_sim/clock/advance", { seconds });
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await settled;
}

/** Polling fast enough for tests. */
export const FAST = { pollIntervalsMs: [1] };

/** A speed at which simulated task work waits for the test to advance the clock. */
export const FROZEN = 0.0001;
