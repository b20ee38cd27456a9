/**
 * Twin tests: capture a running simulator through the real client (its root token), and read
 * what the simulator was asked.
 *
 * @module
 */

import { PveClient } from "../../src/pve/mod.ts";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { type CaptureOptions, captureTwin, readOnly, type TwinFile } from "../../src/twin/mod.ts";

/** A client of the simulator as `root@pam!mcp` (or the given token). */
export function clientOf(sim: SimulatorHandle, token?: { id: string; secret: string }): PveClient {
  return new PveClient({
    url: sim.url,
    tokenId: token?.id ?? sim.credentials.tokenId,
    tokenSecret: token?.secret ?? sim.credentials.tokenSecret,
    retry: { attempts: 0 },
  });
}

/** Captures the simulator's cluster. */
export async function capture(
  sim: SimulatorHandle,
  options: CaptureOptions & { token?: { id: string; secret: string } } = {},
): Promise<TwinFile> {
  const { token, ...rest } = options;
  const client = clientOf(sim, token);
  try {
    return await captureTwin(readOnly(client), rest);
  } finally {
    client.close();
  }
}

/** One request the simulator served. */
export interface Served {
  seq: number;
  method: string;
  path: string;
  status: number;
}

/** The `/api2` requests the simulator served after `since`. */
export async function served(sim: SimulatorHandle, since = 0): Promise<Served[]> {
  const response = await fetch(`${sim.url}/_sim/requests?since=${since}`);
  return (await response.json() as Served[]).filter((r) => !r.path.startsWith("/_sim"));
}

/** The twin without what differs between any two captures (id, times, the API's port). */
export function comparable(
  twin: TwinFile,
): Omit<TwinFile, "id" | "captured_at" | "captured_epoch"> {
  const { id: _id, captured_at: _at, captured_epoch: _epoch, ...rest } = twin;
  return { ...rest, source: { ...rest.source, host: "" } };
}
