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
  /** Closes the clients and the simulator. */
  close(): Promise<void>;
}

/** Options of {@link openRuntime}. */
export interface RuntimeOptions {
  /** Serve the in-process simulated cluster instead of the configured ones. */
  demo?: boolean;
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
 * `demo`), and the audit log is writable (with `audit`).
 *
 * @throws {ConfigError | MissingPermissionError | AuditError}
 */
export async function prepareRuntime(
  flags: ConfigFlags,
  options: RuntimeOptions = {},
): Promise<PreparedRuntime> {
  const loaded = await loadConfig({ args: flags });
  const config = loaded.config;
  let warnings = loaded.warnings;
  const demoAudit = config.audit.enabled && auditGiven(loaded.sources);
  if (options.demo) {
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
      let opened = config;
      if (options.demo) {
        demo = await startDemoCluster(options.speed === undefined ? {} : { speed: options.speed });
        opened = {
          ...config,
          clusters: { [DEMO_CLUSTER]: simulatorCluster(demo) },
          audit: { ...config.audit, enabled: demoAudit },
        };
      }
      let clients = new Map<string, PveClient>();
      try {
        if (options.needCluster !== false || options.demo) {
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
          async close() {
            for (const client of clients.values()) client.close();
            await demo?.close();
          },
        };
      } catch (error) {
        for (const client of clients.values()) client.close();
        await demo?.close();
        throw error;
      }
    },
  };
}

/**
 * Loads the configuration (file < environment < flags), and builds the clients and the audit
 * log. With `demo`, the clusters are replaced by the simulated `demo` cluster and the audit log
 * is off unless `--audit-path` or `PROXMOX_MCP_AUDIT_PATH` is given.
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
