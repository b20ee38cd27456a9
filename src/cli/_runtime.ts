/**
 * What the commands share at run time: Proxmox VE clients built from the configuration, the
 * in-process simulated `demo` cluster, the audit log, and turning errors into one stderr line and
 * an exit code. Nothing here loads the MCP SDK (`serve` prepares its runtime before the SDK is
 * needed); an MCP client in the same process is `_in_process.ts`.
 *
 * @module
 */

import {
  assertHasCluster,
  clusterAuth,
  type ClusterConfig,
  clusterSchema,
  type Config,
  ConfigError,
  type ConfigFlags,
  type ConfigSources,
  loadConfig,
} from "../config/mod.ts";
import { AuditError, AuditLog } from "../policy/audit.ts";
import type { PveClient, PveClientOptions } from "../pve/mod.ts";
import type { SimulatorHandle, Speed } from "../simulator/mod.ts";
import { UsageError } from "./_usage_error.ts";
import type { Output } from "./_output.ts";

/** The name of the simulated cluster behind `--demo`. */
export const DEMO_CLUSTER = "demo";

/** The name of the rehearsal twin behind `--twin`. */
export const TWIN_CLUSTER = "twin";

/** A missing Deno permission, reported as `Missing permission: add --allow-…`. */
export class MissingPermissionError extends Error {
  /** The flag to add, e.g. `--allow-net=pve.example.com:8006`. */
  readonly flag: string;

  /** A missing permission that `flag` grants. */
  constructor(flag: string, options?: ErrorOptions) {
    super(`Missing permission: add ${flag}`, options);
    this.name = "MissingPermissionError";
    this.flag = flag;
  }
}

/**
 * The flag that grants the permission whose absence caused `error` (looking through `cause`),
 * from Deno's `Requires <kind> access to "<target>"` message; `undefined` when the error is not
 * about a missing permission.
 */
export function missingPermissionFlag(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current instanceof MissingPermissionError) return current.flag;
    if (current instanceof Deno.errors.NotCapable) {
      const match = /Requires (\w+) access to "([^"]*)"/.exec(current.message);
      if (match === null) return "the missing --allow-* flag (see the error above)";
      const [, kind = "", target = ""] = match;
      const name = kind === "run" ? "run" : kind === "sys" ? "sys" : kind;
      return target === "" ? `--allow-${name}` : `--allow-${name}=${target}`;
    }
    current = current.cause;
  }
  return undefined;
}

/** `host:port` of a cluster URL (port 8006 when the URL names none). */
export function hostPort(url: string): string {
  const parsed = new URL(url);
  const port = parsed.port === "" ? (parsed.protocol === "http:" ? "80" : "443") : parsed.port;
  return `${parsed.hostname}:${port}`;
}

/**
 * Fails with a {@link MissingPermissionError} unless the process may connect to every
 * configured cluster (checked up front, so a missing `--allow-net` is one clear line rather
 * than a failed tool call later).
 */
export function assertNetPermissions(config: Config): void {
  for (const cluster of Object.values(config.clusters)) {
    const host = hostPort(cluster.url);
    const status = Deno.permissions.querySync({ name: "net", host });
    if (status.state !== "granted") throw new MissingPermissionError(`--allow-net=${host}`);
  }
}

async function readCaFile(name: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new MissingPermissionError(`--allow-read=${path}`, { cause: error });
    }
    const detail = error instanceof Deno.errors.NotFound
      ? `file "${path}" does not exist`
      : `cannot read "${path}": ${error instanceof Error ? error.message : String(error)}`;
    throw ConfigError.invalid(`clusters.${name}.caFile`, detail, {
      fix: "copy the cluster's /etc/pve/pve-root-ca.pem there, or point caFile at it",
    });
  }
}

/** The client options of one configured cluster (reads its CA file). */
export async function clientOptions(
  name: string,
  cluster: ClusterConfig,
): Promise<PveClientOptions> {
  const options: PveClientOptions = {
    url: cluster.url,
    name,
    timeoutMs: cluster.timeouts.requestMs,
    longTimeoutMs: cluster.timeouts.longRequestMs,
    insecure: cluster.insecure,
  };
  if (cluster.caFile !== undefined) options.caCert = await readCaFile(name, cluster.caFile);
  const auth = clusterAuth(cluster, name);
  if (auth.kind === "token") {
    options.tokenId = auth.tokenId;
    options.tokenSecret = auth.secret;
  } else {
    options.username = auth.user;
    options.password = auth.password;
  }
  return options;
}

/** One client per configured cluster, keyed by name. */
export async function clientsFromConfig(config: Config): Promise<Map<string, PveClient>> {
  // Loaded here, not at the top: `serve` checks its configuration before it needs a client.
  const { PveClient } = await import("../pve/mod.ts");
  const clients = new Map<string, PveClient>();
  try {
    for (const [name, cluster] of Object.entries(config.clusters)) {
      clients.set(name, new PveClient(await clientOptions(name, cluster)));
    }
  } catch (error) {
    for (const client of clients.values()) client.close();
    throw error;
  }
  return clients;
}

/** The cluster config of a running simulator (its `root@pam!mcp` token). */
export function simulatorCluster(
  sim: SimulatorHandle,
  token?: { tokenId: string; tokenSecret: string },
): ClusterConfig {
  return clusterSchema.parse({
    url: sim.url,
    tokenId: token?.tokenId ?? sim.credentials.tokenId,
    tokenSecret: token?.tokenSecret ?? sim.credentials.tokenSecret,
  });
}

/** Starts the simulated `demo` cluster on 127.0.0.1 (a free port). */
export async function startDemoCluster(options: { speed?: Speed } = {}): Promise<SimulatorHandle> {
  try {
    // Loaded here so that serving a real cluster never loads the simulator.
    const { startSimulator } = await import("../simulator/mod.ts");
    return await startSimulator({ seed: "demo", port: 0, speed: options.speed ?? 1 });
  } catch (error) {
    const flag = missingPermissionFlag(error);
    if (flag !== undefined) throw new MissingPermissionError(flag, { cause: error });
    throw error;
  }
}

/** Who a twin is, as its file and a running twin simulator (`GET /_sim/twin`) say. */
export interface TwinInfo {
  id: string;
  cluster: string | null;
  captured_at: string;
}

/** The line every tool result on a twin starts with, so nobody mistakes it for production. */
export function twinNotice(twin: TwinInfo): string {
  const name = twin.cluster === null ? "" : ` of cluster "${twin.cluster}"`;
  return `[twin] Rehearsal twin${name} captured ${twin.captured_at}, not production: ` +
    "nothing done here touches the real cluster.";
}

/**
 * The text of a twin file named on the command line (`label`: `--twin`, or `twin` for
 * `twin diff`'s arguments).
 *
 * @throws {MissingPermissionError} without read permission for it.
 * @throws {UsageError} when it cannot be read, saying why.
 */
export async function readTwinText(path: string, label = "--twin"): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new MissingPermissionError(`--allow-read=${path}`, { cause: error });
    }
    throw new UsageError(
      `Cannot read ${label} "${path}": ${
        error instanceof Deno.errors.NotFound
          ? "no such file (write one with proxmox-mcp twin capture)"
          : error instanceof Error
          ? error.message
          : String(error)
      }`,
    );
  }
}

/** Reads and parses a twin file (its shape is checked by the simulator that boots from it). */
export async function readTwinDocument(path: string): Promise<unknown> {
  const text = await readTwinText(path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `Cannot read --twin "${path}": not JSON (${
        error instanceof Error ? error.message : String(error)
      })`,
    );
  }
}

function twinInfoOf(doc: unknown, path: string): TwinInfo {
  const record = typeof doc === "object" && doc !== null ? doc as Record<string, unknown> : {};
  const source = typeof record.source === "object" && record.source !== null
    ? record.source as Record<string, unknown>
    : {};
  if (record.format !== "proxmox-mcp-twin" || typeof record.id !== "string") {
    throw new UsageError(
      `Cannot use --twin "${path}": not a twin file (write one with proxmox-mcp twin capture)`,
    );
  }
  return {
    id: record.id,
    cluster: typeof source.cluster === "string" ? source.cluster : null,
    captured_at: String(record.captured_at ?? ""),
  };
}

/** Starts the rehearsal twin of a twin file on 127.0.0.1 (a free port). */
export async function startTwinCluster(
  doc: unknown,
  path: string,
  options: { speed?: Speed } = {},
): Promise<SimulatorHandle> {
  // Loaded here so that serving a real cluster never loads the simulator.
  const { startSimulator, TwinFileError } = await import("../simulator/mod.ts");
  try {
    return await startSimulator({ twin: doc, port: 0, speed: options.speed ?? 1 });
  } catch (error) {
    if (error instanceof TwinFileError) {
      throw new UsageError(`Cannot boot --twin "${path}": ${error.message}`);
    }
    const flag = missingPermissionFlag(error);
    if (flag !== undefined) throw new MissingPermissionError(flag, { cause: error });
    throw error;
  }
}

/**
 * The cluster config of a twin simulator already running at `url` (`simulator --twin FILE`),
 * after checking that it is one, on this machine, booted from the same file: only then may its
 * results be marked as a twin's. It is reached with the simulator's `root@pam!mcp` token.
 */
export async function attachTwinCluster(url: string, twin: TwinInfo): Promise<ClusterConfig> {
  let origin: URL;
  try {
    origin = new URL(url);
  } catch {
    throw new UsageError(`Invalid --url "${url}" for --twin: expected http://127.0.0.1:PORT`);
  }
  if (!["127.0.0.1", "localhost", "[::1]"].includes(origin.hostname)) {
    throw new UsageError(
      `--twin with --url needs the twin simulator on this machine, not "${origin.host}": ` +
        "start it with proxmox-mcp simulator --twin FILE --port N and give --url http://127.0.0.1:N",
    );
  }
  const status = Deno.permissions.querySync({ name: "net", host: hostPort(url) });
  if (status.state !== "granted") throw new MissingPermissionError(`--allow-net=${hostPort(url)}`);
  let answer: Response;
  try {
    answer = await fetch(new URL("/_sim/twin", origin), { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new UsageError(
      `No twin simulator answers at ${origin.origin} (${
        error instanceof Error ? error.message : String(error)
      }): start one with proxmox-mcp simulator --twin FILE --port ${origin.port || "8006"}`,
    );
  }
  const body = await answer.json().catch(() => undefined) as Record<string, unknown> | undefined;
  if (!answer.ok || body === undefined || typeof body.id !== "string") {
    throw new UsageError(
      `The server at ${origin.origin} is not a twin simulator: start one with proxmox-mcp ` +
        "simulator --twin FILE, or leave out --url to boot the twin in this process",
    );
  }
  if (body.id !== twin.id) {
    throw new UsageError(
      `The twin at ${origin.origin} was booted from another twin file (captured ${
        String(body.captured_at ?? "at another time")
      }), not from this one (captured ${twin.captured_at}): give --twin the file it runs`,
    );
  }
  const { DEFAULT_TOKEN_ID, DEFAULT_TOKEN_SECRET } = await import("../simulator/mod.ts");
  return clusterSchema.parse({
    url: origin.origin,
    tokenId: DEFAULT_TOKEN_ID,
    tokenSecret: DEFAULT_TOKEN_SECRET,
  });
}

/** Whether the audit path was set explicitly by a flag or the environment. */
function auditGiven(sources: ConfigSources): boolean {
  return sources.flags.includes("--audit-path") || sources.env.includes("PROXMOX_MCP_AUDIT_PATH");
}

/** Opens the audit log the configuration asks for (checked writable), or a disabled one. */
export async function openAudit(config: Config): Promise<AuditLog> {
  if (!config.audit.enabled) return AuditLog.disabled();
  const audit = AuditLog.open(config.audit.path);
  await audit.check();
  return audit;
}

/** What a command runs against. */
export interface Runtime {
  config: Config;
  /** Things the operator should fix (print them to stderr). */
  warnings: string[];
  /** Where the configuration came from. */
  sources: ConfigSources;
  clients: Map<string, PveClient>;
  audit: AuditLog;
  /** The simulated cluster behind `--demo`. */
  demo?: SimulatorHandle;
  /** The rehearsal twin behind `--twin`: who it is, where it runs, and its simulator (in process). */
  twin?: TwinInfo & { url: string; sim?: SimulatorHandle };
  /** The line every tool result starts with (on a twin), for `createServer`'s `notice`. */
  notice?: string;
  /** Closes the clients and the simulator. */
  close(): Promise<void>;
}

/** Options of {@link openRuntime}. */
export interface RuntimeOptions {
  /** Serve the in-process simulated cluster instead of the configured ones. */
  demo?: boolean;
  /**
   * Serve the rehearsal twin booted from this twin file instead of the configured clusters: in
   * process, or with the `url` flag the twin simulator already running there.
   */
  twin?: string;
  /** Task speed of the simulated cluster (default 1). */
  speed?: Speed;
  /** Whether a configured cluster is required (not for `tools`). */
  needCluster?: boolean;
  /** Whether to open the audit log (only commands that run tools). */
  audit?: boolean;
}

/** A configuration loaded and checked, before clients, simulator or audit log are opened. */
export interface PreparedRuntime {
  /** The validated configuration; with `demo`, its clusters are replaced when opened. */
  config: Config;
  /** Things the operator should fix (print them to stderr). */
  warnings: string[];
  /** Where the configuration came from. */
  sources: ConfigSources;
  /** Starts the demo cluster (with `demo`), builds the clients and opens the audit log. */
  open(): Promise<Runtime>;
}

/**
 * Loads the configuration (file < environment < flags) and checks what can be checked without
 * a connection: a cluster is configured and reachable under the granted `--allow-net` (unless
 * `demo` or `twin`), and the audit log is writable (with `audit`). With `twin`, the twin file is
 * read here (so a wrong path fails first) and booted when opened.
 *
 * @throws {ConfigError | MissingPermissionError | AuditError}
 */
export async function prepareRuntime(
  flags: ConfigFlags,
  options: RuntimeOptions = {},
): Promise<PreparedRuntime> {
  if (options.demo && options.twin !== undefined) {
    throw new UsageError("Give --demo or --twin, not both");
  }
  const twinPath = options.twin;
  // With --twin, --url names where the twin simulator runs, not a cluster of the configuration.
  const twinUrl = twinPath === undefined ? undefined : flags.url;
  const loaded = await loadConfig({
    args: twinPath === undefined ? flags : { ...flags, url: undefined },
  });
  const config = loaded.config;
  let warnings = loaded.warnings;
  const demoAudit = config.audit.enabled && auditGiven(loaded.sources);
  const twinDoc = twinPath === undefined ? undefined : await readTwinDocument(twinPath);
  const twinInfo = twinPath === undefined ? undefined : twinInfoOf(twinDoc, twinPath);
  if (options.demo || twinPath !== undefined) {
    warnings = warnings.filter((warning) =>
      !warning.startsWith("Cluster ") && !/TLS/.test(warning)
    );
    if (options.audit && demoAudit) await openAudit(config);
  } else {
    if (options.needCluster !== false) {
      assertHasCluster(config);
      assertNetPermissions(config);
    }
    if (options.audit) await openAudit(config);
  }
  return {
    config,
    warnings,
    sources: loaded.sources,
    async open(): Promise<Runtime> {
      let demo: SimulatorHandle | undefined;
      let twin: Runtime["twin"];
      let opened = config;
      const speed = options.speed === undefined ? {} : { speed: options.speed };
      if (options.demo) {
        demo = await startDemoCluster(speed);
        opened = {
          ...config,
          clusters: { [DEMO_CLUSTER]: simulatorCluster(demo) },
          audit: { ...config.audit, enabled: demoAudit },
        };
      } else if (twinPath !== undefined && twinInfo !== undefined) {
        let cluster: ClusterConfig;
        if (twinUrl !== undefined) {
          cluster = await attachTwinCluster(twinUrl, twinInfo);
          twin = { ...twinInfo, url: cluster.url };
        } else {
          const sim = await startTwinCluster(twinDoc, twinPath, speed);
          cluster = simulatorCluster(sim);
          twin = { ...twinInfo, url: sim.url, sim };
        }
        opened = {
          ...config,
          clusters: { [TWIN_CLUSTER]: cluster },
          audit: { ...config.audit, enabled: demoAudit },
        };
      }
      let clients = new Map<string, PveClient>();
      try {
        if (options.needCluster !== false || options.demo || twin !== undefined) {
          clients = await clientsFromConfig(opened);
        }
        const audit = options.audit ? await openAudit(opened) : AuditLog.disabled();
        return {
          config: opened,
          warnings,
          sources: loaded.sources,
          clients,
          audit,
          ...(demo === undefined ? {} : { demo }),
          ...(twin === undefined ? {} : { twin, notice: twinNotice(twin) }),
          async close() {
            for (const client of clients.values()) client.close();
            await demo?.close();
            await twin?.sim?.close();
          },
        };
      } catch (error) {
        for (const client of clients.values()) client.close();
        await demo?.close();
        await twin?.sim?.close();
        throw error;
      }
    },
  };
}

/**
 * Loads the configuration (file < environment < flags), and builds the clients and the audit
 * log. With `demo` (or `twin`), the clusters are replaced by the simulated `demo` cluster (or
 * the rehearsal twin) and the audit log is off unless `--audit-path` or `PROXMOX_MCP_AUDIT_PATH`
 * is given.
 *
 * @throws {ConfigError | MissingPermissionError | AuditError}
 */
export async function openRuntime(
  flags: ConfigFlags,
  options: RuntimeOptions = {},
): Promise<Runtime> {
  return await (await prepareRuntime(flags, options)).open();
}

/**
 * Turns an expected failure into one stderr line and an exit code: a usage error is 2, a
 * missing permission, a configuration or audit problem is 1. Anything else is a bug and is
 * rethrown.
 */
export function reportFailure(command: string, error: unknown, out: Output): number {
  if (error instanceof UsageError) {
    out.error(`proxmox-mcp ${command}: ${error.message} (see proxmox-mcp ${command} --help)`);
    return 2;
  }
  const flag = missingPermissionFlag(error);
  if (flag !== undefined) {
    out.error(`Missing permission: add ${flag}`);
    return 1;
  }
  if (error instanceof ConfigError || error instanceof AuditError) {
    out.error(`proxmox-mcp ${command}: ${error.message}`);
    return 1;
  }
  throw error;
}

/** Re-exported so commands need one import for the demo's speed. */
export type { Speed };
