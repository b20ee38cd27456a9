/**
 * Scenario seeds: the named `demo` cluster and the generated `scale` cluster.
 *
 * @module
 */

import { emptyState, type SimState } from "../state.ts";

/** Which cluster to build, and the credentials it is built with. */
export interface SeedOptions {
  seed: "demo" | "scale";
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

/** Builds the state for a seed. */
export function buildSeed(options: SeedOptions): SimState {
  const state = emptyState();
  state.users.set("root@pam", {
    userid: "root@pam",
    password: options.rootPassword,
    enable: 1,
    expire: 0,
    groups: [],
    tokens: new Map([["mcp", {
      name: "mcp",
      secret: options.tokenSecret,
      privsep: 0,
      expire: 0,
      comment: "proxmox-mcp",
    }]]),
  });
  return state;
}
