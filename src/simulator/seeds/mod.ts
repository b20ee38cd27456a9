/**
 * Scenario seeds: the named `demo` cluster, the generated `scale` cluster, and a `twin` of a
 * real cluster read from a twin file.
 * The credentials the demo seed creates are listed in `README.md` beside this file.
 *
 * @module
 */

import type { SimState } from "../state.ts";
import { buildDemo } from "./demo.ts";
import { buildScale } from "./scale.ts";
import { buildTwin } from "./twin.ts";

export { AUDITOR_TOKEN_SECRET, OPERATOR_TOKEN_SECRET, vzdumpStamp } from "./demo.ts";
export { TwinFileError, type TwinIdentity, twinIdentity } from "./twin.ts";

/** Which cluster to build, and the credentials it is built with. */
export interface SeedOptions {
  seed: "demo" | "scale" | "twin";
  /** Twin seed: the parsed twin file. */
  twin?: unknown;
  /** Scale seed: number of nodes. */
  nodes?: number;
  /** Scale seed: number of guests. */
  guests?: number;
  /** PRNG seed for the scale seed (deterministic output). */
  random?: number;
  /** Password of `root@pam`. */
  rootPassword: string;
  /** Secret of the `root@pam!mcp` API token. */
  tokenSecret: string;
  /** Simulated epoch seconds at build time. */
  now: number;
}

/** Defaults of the scale seed when `nodes`/`guests`/`random` are not given. */
export const SCALE_DEFAULTS = { nodes: 10, guests: 1000, random: 1 } as const;

/**
 * Builds the state for a seed.
 *
 * @throws {TwinFileError} when the twin seed's file cannot be read as a twin.
 */
export function buildSeed(options: SeedOptions): SimState {
  if (options.seed === "twin") {
    return buildTwin({
      twin: options.twin,
      rootPassword: options.rootPassword,
      tokenSecret: options.tokenSecret,
    });
  }
  if (options.seed === "scale") {
    return buildScale({
      nodes: options.nodes ?? SCALE_DEFAULTS.nodes,
      guests: options.guests ?? SCALE_DEFAULTS.guests,
      random: options.random ?? SCALE_DEFAULTS.random,
      rootPassword: options.rootPassword,
      tokenSecret: options.tokenSecret,
      now: options.now,
    });
  }
  return buildDemo({
    rootPassword: options.rootPassword,
    tokenSecret: options.tokenSecret,
    now: options.now,
  });
}
