/**
 * `serve --http [HOST:]PORT`: the remote mode. Builds the callers (profiles) with their own
 * Proxmox VE clients where they have their own credentials, the shared state (Redis or this
 * process), OAuth when configured, and serves until SIGINT/SIGTERM, then shuts down gracefully.
 *
 * @module
 */

import {
  CLUSTER_AUTH_KEYS,
  clusterAuth,
  type ClusterConfig,
  type ClusterCredentials,
  type Config,
  ConfigError,
} from "../config/mod.ts";
import { configureLogging, getLog, isLogLevel, type LogLevelName } from "../log.ts";
import { localProfile, type Profile, profilesFromConfig } from "../policy/profile.ts";
import { PveClient } from "../pve/mod.ts";
import {
  assertNotOpen,
  isLoopback,
  memoryState,
  oauthSettings,
  parseListen,
  serveHttp,
  type SharedState,
} from "../server/http/mod.ts";
import type { AnyTool } from "../tools/types.ts";
import { CONFIG_OPTIONS, parseCommandArgs, UsageError } from "./_args.ts";
import { configFlags } from "./_config_flags.ts";
import { type Output, stdio } from "./_output.ts";
import { onStopSignal } from "./_signals.ts";
import {
  clientOptions,
  MissingPermissionError,
  openRuntime,
  reportFailure,
  type Runtime,
} from "./_runtime.ts";
import { SERVE_USAGE } from "./serve.ts";

const log = getLog("cli.serve");

/** A cluster with its credentials replaced by a profile's. */
function withCredentials(cluster: ClusterConfig, credentials: ClusterCredentials): ClusterConfig {
  const out: Record<string, unknown> = { ...cluster };
  for (const key of CLUSTER_AUTH_KEYS) delete out[key];
  for (const key of CLUSTER_AUTH_KEYS) {
    if (credentials[key] !== undefined) out[key] = credentials[key];
  }
  return out as ClusterConfig;
}

/**
 * Checks what the schema alone cannot: profiles name configured clusters, OAuth profiles have an
 * OAuth issuer.
 *
 * @throws {ConfigError}
 */
export function checkRemoteConfig(config: Config): void {
  const clusters = Object.keys(config.clusters);
  for (const [name, profile] of Object.entries(config.profiles)) {
    for (const cluster of Object.keys(profile.clusters ?? {})) {
      if (!clusters.includes(cluster)) {
        throw ConfigError.invalid(
          `profiles.${name}.clusters.${cluster}`,
          `no cluster "${cluster}" is configured`,
          { fix: `use one of the configured cluster names: ${clusters.join(", ") || "(none)"}` },
        );
      }
    }
    if (profile.oauth !== undefined && config.http.oauth === undefined) {
      throw ConfigError.invalid(`profiles.${name}.oauth`, "OAuth is not configured", {
        fix: 'set "http.oauth" (issuer, and audience or http.publicUrl), or remove this key',
      });
    }
  }
}

/** Each caller's clients: its own where it has its own credentials, else the shared ones. */
async function profileClients(
  config: Config,
  profiles: readonly Profile[],
  shared: ReadonlyMap<string, PveClient>,
): Promise<Map<string, ReadonlyMap<string, PveClient>>> {
  const out = new Map<string, ReadonlyMap<string, PveClient>>();
  for (const profile of profiles) {
    const own = config.profiles[profile.name]?.clusters ?? {};
    if (Object.keys(own).length === 0) {
      out.set(profile.name, shared);
      continue;
    }
    const clients = new Map(shared);
    for (const [name, credentials] of Object.entries(own)) {
      const cluster = config.clusters[name]!;
      const merged = withCredentials(cluster, credentials);
      clusterAuth(merged, name);
      clients.set(name, new PveClient(await clientOptions(name, merged)));
    }
    out.set(profile.name, clients);
  }
  return out;
}

async function readPem(path: string, key: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new MissingPermissionError(`--allow-read=${path}`, { cause: error });
    }
    throw ConfigError.invalid(key, `cannot read "${path}"`, {
      fix: "point it at a readable PEM file",
    });
  }
}

async function openShared(config: Config): Promise<SharedState> {
  const url = config.http.redisUrl;
  if (url === undefined) return memoryState();
  // Loaded here so that a server without Redis never loads the client.
  const { redisState, shownRedisUrl } = await import("../server/http/redis_state.ts");
  try {
    return await redisState(url);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${detail} — check http.redisUrl and that Redis is running`, {
      key: "http.redisUrl",
      fix: `check that Redis at ${shownRedisUrl(url)} is running and reachable`,
    });
  }
}

/** Serves the runtime over HTTP until SIGINT/SIGTERM; resolves with the exit code. */
export async function serveHttpCli(
  runtime: Runtime,
  options: { tools?: readonly AnyTool[] } = {},
): Promise<number> {
  const { config, clients, audit } = runtime;
  const listen = config.http.listen!;
  checkRemoteConfig(config);
  const address = parseListen(listen);
  const profiles = profilesFromConfig(config);
  const oauthConfig = config.http.oauth;
  assertNotOpen(address, { profiles: profiles.length });
  const anonymous = profiles.length === 0 ? localProfile(config) : undefined;
  const http = config.http;
  const tls = http.tlsCertFile !== undefined && http.tlsKeyFile !== undefined
    ? {
      cert: await readPem(http.tlsCertFile, "http.tlsCertFile"),
      key: await readPem(http.tlsKeyFile, "http.tlsKeyFile"),
    }
    : undefined;
  const byProfile = await profileClients(config, profiles, clients);
  const shared = await openShared(config);
  let handle;
  try {
    handle = await serveHttp({
      config,
      profiles,
      ...(anonymous === undefined ? {} : { anonymous }),
      clientsFor: (profile) => byProfile.get(profile.name) ?? clients,
      clients,
      audit,
      ...(options.tools === undefined ? {} : { tools: options.tools }),
      address,
      ...(tls === undefined ? {} : { tls }),
      shared,
      ...(oauthConfig === undefined ? {} : { oauth: oauthSettings(oauthConfig, http.publicUrl) }),
    });
  } catch (error) {
    await shared.close();
    if (error instanceof Deno.errors.NotCapable) {
      throw new MissingPermissionError(`--allow-net=${listen}`, { cause: error });
    }
    if (error instanceof Deno.errors.AddrInUse) {
      throw ConfigError.invalid("http.listen", `address ${listen} is already in use`, {
        fix: "pick a free port, or stop the process holding it",
      });
    }
    throw error;
  }
  if (anonymous !== undefined) {
    log.warning(
      "No caller profiles are configured: any local process may call this server with the " +
        'top-level policy; add "profiles" to require tokens',
    );
  }
  if (tls === undefined && !isLoopback(address.hostname)) {
    log.warning(
      "Serving plain HTTP beyond loopback: a TLS-terminating reverse proxy is expected in " +
        "front (or set http.tlsCertFile and http.tlsKeyFile)",
    );
  }
  if (shared.kind === "memory") {
    log.info(
      "State is kept in this process: several replicas need sticky sessions and each applies " +
        "its own rate limits (set http.redisUrl to share them)",
    );
  }
  log.info("Serving MCP on {url} for {callers} (clusters: {clusters}; audit: {audit})", {
    url: handle.url,
    callers: anonymous === undefined
      ? `profiles ${profiles.map((profile) => profile.name).join(", ")}${
        oauthConfig === undefined ? "" : " and OAuth"
      }`
      : "local callers",
    clusters: Object.keys(config.clusters).join(", "),
    audit: audit.path ?? "off",
  });
  const stop = onStopSignal();
  const why = await stop.stopped.finally(() => stop.dispose());
  log.info(
    "Stopping ({why}): finishing calls in flight for up to {seconds} s; Proxmox VE tasks " +
      "already started go on running on the cluster",
    { why, seconds: http.shutdownSeconds },
  );
  const report = await handle.shutdown(http.shutdownSeconds * 1000);
  if (report.unfinished > 0) {
    log.warning(
      "Stopped with {count} call(s) unfinished: their Proxmox VE tasks go on; follow them with " +
        "task_list or task_wait",
      { count: report.unfinished },
    );
  } else {
    log.info("Stopped");
  }
  for (const [name, map] of byProfile) {
    if (map === clients) continue;
    for (const [cluster, client] of map) {
      if (clients.get(cluster) !== client) client.close();
    }
    byProfile.delete(name);
  }
  return 0;
}

/** `serve --http`: parses the command line, loads the runtime and serves until stopped. */
export async function runServeHttpCli(args: string[], out: Output = stdio): Promise<number> {
  try {
    const { values } = parseCommandArgs(args, {
      options: { ...CONFIG_OPTIONS, http: { type: "string" } },
    });
    if (values.help) {
      out.line(SERVE_USAGE.trimEnd());
      return 0;
    }
    if (values.twin !== undefined) {
      throw new UsageError(
        "serve --http does not serve a rehearsal twin: rehearse over stdio with serve --twin FILE",
      );
    }
    const flags = configFlags(values);
    if (values.http !== undefined) flags.http = values.http;
    const runtime = await openRuntime(flags, { demo: values.demo === true, audit: true });
    try {
      const level = runtime.config.logging.level;
      await configureLogging({ level: isLogLevel(level) ? level : "info" as LogLevelName });
      for (const warning of runtime.warnings) log.warning(warning);
      return await serveHttpCli(runtime);
    } finally {
      await runtime.close();
    }
  } catch (error) {
    return reportFailure("serve", error, out);
  }
}
