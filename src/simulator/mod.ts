/**
 * The simulated Proxmox VE cluster: start it on a loopback port, talk to it over HTTP(S)
 * exactly as to PVE (`/api2/json`), steer it through `/_sim/` (see `README.md`).
 *
 * ```ts
 * const sim = await startSimulator({ speed: "instant" });
 * // fetch(`${sim.api}/version`, { headers: { Authorization: `PVEAPIToken=${…}` } })
 * await sim.close();
 * ```
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { bindTicketAuthority, TicketAuthority } from "./auth.ts";
import { Clock, type Speed } from "./clock.ts";
import { FaultRegistry, RequestLog } from "./control.ts";
import { permError } from "./errors.ts";
import { createHandler, type HttpContext } from "./http.ts";
import { hasPrivilege } from "./roles.ts";
import type { AuthInfo, Route, Sim, TaskBody, TaskSpec } from "./router.ts";
import { allRoutes } from "./routes/mod.ts";
import { buildSeed, type SeedOptions, type TwinIdentity, twinIdentity } from "./seeds/mod.ts";
import type { SimState } from "./state.ts";
import { TaskEngine } from "./tasks.ts";

export type { Speed } from "./clock.ts";
export type { Sim } from "./router.ts";
export { TwinFileError, type TwinIdentity } from "./seeds/mod.ts";

/** Password of `root@pam` unless one is given. */
export const DEFAULT_ROOT_PASSWORD = "demo-root-password";
/** The API token every seed creates for `root@pam`. */
export const DEFAULT_TOKEN_ID = "root@pam!mcp";
/** Secret of {@linkcode DEFAULT_TOKEN_ID} unless one is given. */
export const DEFAULT_TOKEN_SECRET = "3f7a1c52-8d4e-4b9a-a6f1-2c5e7d9b0a14";

/** How to start a simulator. */
export interface SimulatorOptions {
  /** Scenario: the named `demo` cluster (default) or the generated `scale` cluster. */
  seed?: "demo" | "scale";
  /**
   * A twin file's parsed content (`proxmox-mcp twin capture`): the cluster is built from it
   * instead of a seed.
   */
  twin?: unknown;
  /** Scale seed: number of nodes. */
  nodes?: number;
  /** Scale seed: number of guests. */
  guests?: number;
  /** Scale seed: PRNG seed. */
  random?: number;
  /** Task speed: a factor of real time, or `"instant"` (default 1). */
  speed?: Speed;
  /** TCP port on 127.0.0.1 (default 0: a free port). */
  port?: number;
  /** Password of `root@pam`. */
  rootPassword?: string;
  /** Secret of the `root@pam!mcp` token. */
  tokenSecret?: string;
  /** TLS certificate (PEM text); serves HTTPS together with `key`. */
  cert?: string;
  /** TLS private key (PEM text). */
  key?: string;
  /** Simulated start time in epoch seconds (default: now). */
  now?: number;
  /** Where unexpected failures are reported (default: stderr). */
  log?: (message: string) => void;
  /** Routes to serve instead of every implemented route (tests). */
  routes?: readonly Route[];
}

/** The credentials a started simulator accepts for `root@pam`. */
export interface SimulatorCredentials {
  user: string;
  password: string;
  tokenId: string;
  tokenSecret: string;
}

/** A running simulator. */
export interface SimulatorHandle {
  /** `http(s)://127.0.0.1:PORT` */
  url: string;
  /** `url + "/api2/json"` */
  api: string;
  credentials: SimulatorCredentials;
  /** The simulated cluster (state, clock, tasks). */
  sim: Sim;
  /** The twin file the cluster was booted from, if any. */
  twin?: TwinIdentity;
  /** Stops tasks, wakes the clock, closes the server and every connection. */
  close(): Promise<void>;
}

class Cluster implements Sim {
  readonly state: SimState;
  readonly clock: Clock;
  readonly engine: TaskEngine;

  constructor(state: SimState, clock: Clock) {
    this.state = state;
    this.clock = clock;
    this.engine = new TaskEngine(state, clock);
  }

  can(auth: AuthInfo, path: string, priv: string): boolean {
    return hasPrivilege(this.state, { auth, path, priv });
  }

  require(auth: AuthInfo, path: string, priv: string): void {
    if (!this.can(auth, path, priv)) throw permError(path, priv);
  }

  startTask(auth: AuthInfo, spec: TaskSpec, body: TaskBody): string {
    return this.engine.start(auth, spec, body);
  }
}

function stderrLog(message: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`${message}\n`));
}

/**
 * Starts a simulated cluster on 127.0.0.1.
 *
 * @throws {TwinFileError} when `twin` is not a twin file this simulator reads.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const clock = new Clock(options.speed ?? 1, now);
  const rootPassword = options.rootPassword ?? DEFAULT_ROOT_PASSWORD;
  const tokenSecret = options.tokenSecret ?? DEFAULT_TOKEN_SECRET;
  const twin = options.twin === undefined ? undefined : twinIdentity(options.twin);
  const seed: SeedOptions = {
    seed: twin !== undefined ? "twin" : options.seed ?? "demo",
    rootPassword,
    tokenSecret,
    now,
  };
  if (twin !== undefined) seed.twin = options.twin;
  if (options.nodes !== undefined) seed.nodes = options.nodes;
  if (options.guests !== undefined) seed.guests = options.guests;
  if (options.random !== undefined) seed.random = options.random;
  const cluster = new Cluster(buildSeed(seed), clock);
  const tickets = new TicketAuthority(clock);
  bindTicketAuthority(cluster, tickets);

  const context: HttpContext = {
    sim: cluster,
    tickets,
    faults: new FaultRegistry(),
    requests: new RequestLog(),
    routes: options.routes ?? allRoutes,
    log: options.log ?? stderrLog,
    ...(twin === undefined ? {} : { twin }),
  };
  const handler = createHandler(context);
  const tls = options.cert !== undefined && options.key !== undefined;
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new Error("Cannot serve HTTPS: give both cert and key (PEM text), or neither");
  }
  const server = tls
    ? https.createServer({ cert: options.cert, key: options.key }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  context.closeIdleConnections = () => server.closeIdleConnections();
  const port = (server.address() as AddressInfo).port;
  const url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    api: `${url}/api2/json`,
    credentials: {
      user: "root@pam",
      password: rootPassword,
      tokenId: DEFAULT_TOKEN_ID,
      tokenSecret,
    },
    sim: cluster,
    ...(twin === undefined ? {} : { twin }),
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await cluster.engine.shutdown();
        clock.wakeAll();
        server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}
