/**
 * Load the configuration: file (`--config` / `PROXMOX_MCP_CONFIG`) < environment < flags (only
 * flags actually given) < nothing else; defaults fill the rest. Then secrets named by
 * `tokenFile`, `tokenSecretFile` and `passwordFile` are read (trimmed), and warnings are
 * collected (secrets readable by others, TLS verification off, plain http).
 *
 * Relative paths written in a config file (`caFile`, `*File`, `audit.path`) are relative to the
 * file's folder; relative paths from the environment or flags are relative to the working
 * directory.
 *
 * @module
 */

import { isSecretKey, registerSecret } from "../redact.ts";
import type { Layer } from "./env.ts";
import { ConfigError, quoteList } from "./errors.ts";
import { configErrorFromIssues } from "./issues.ts";
import {
  type ConfigSources,
  isObject,
  type Json,
  type MergeOptions,
  mergeSources,
  rawClusters,
  rawProfileClusters,
  rawProfiles,
  readError,
} from "./merge.ts";
import {
  CLUSTER_AUTH_KEYS,
  type ClusterConfig,
  type Config,
  configSchema,
  DEFAULT_CLUSTER_NAME,
  tokenProblem,
} from "./schema.ts";

export type { ConfigSources } from "./merge.ts";

/** The result of {@link loadConfig}. */
export interface LoadedConfig {
  /** The validated configuration, secrets from files filled in. */
  config: Config;
  /** Things the operator should fix, one sentence each (print them to stderr). */
  warnings: string[];
  /** Which file, variables and flags contributed. */
  sources: ConfigSources;
}

/** File metadata used for the permission warning. */
export interface FileMode {
  /** Unix permission bits, or `null` where the platform has none (Windows). */
  mode: number | null;
}

/** Options for {@link loadConfig}; every source can be injected for tests. */
export interface LoadConfigOptions extends MergeOptions {
  /** Reads file metadata (default `Deno.stat`). */
  stat?: (path: string) => Promise<FileMode>;
  /** The operating system (default `Deno.build.os`); the mode check is skipped on Windows. */
  os?: string;
}

/** Whether the file holds a secret inline (token, tokenSecret, password, a Redis URL). */
function holdsSecrets(raw: Json): boolean {
  const inline = (object: Json) =>
    Object.entries(object).some(([key, value]) =>
      isSecretKey(key) && typeof value === "string" && value !== ""
    );
  return rawClusters(raw.clusters).some(({ cluster }) => inline(cluster)) ||
    rawProfiles(raw).some((profile) => rawProfileClusters(profile).some(inline)) ||
    (isObject(raw.http) && typeof raw.http.redisUrl === "string" && raw.http.redisUrl !== "");
}

/** The keys of credentials that `resolveSecrets` reads and fills. */
type CredentialFields = Pick<
  ClusterConfig,
  "token" | "tokenFile" | "tokenSecret" | "tokenSecretFile" | "password" | "passwordFile"
>;

/** The lowercase hex SHA-256 of a text (how caller bearer tokens are stored). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function readSecretFile(
  path: string,
  key: string,
  readFile: (path: string) => Promise<string>,
): Promise<string> {
  let text: string;
  try {
    text = await readFile(path);
  } catch (error) {
    const { detail, fix } = readError(path, "secret file", error);
    throw ConfigError.invalid(key, detail, { fix: `${fix}, or configure the secret another way` });
  }
  const secret = text.trim();
  if (secret === "") {
    throw ConfigError.invalid(key, `secret file "${path}" is empty`, {
      fix: "write the secret into it (one line)",
    });
  }
  return secret;
}

/** Read the secrets named by `tokenFile`, `tokenSecretFile` and `passwordFile`. */
async function resolveSecrets(
  config: Config,
  readFile: (path: string) => Promise<string>,
): Promise<string[]> {
  const files: string[] = [];
  const credentialSets: Array<[string, CredentialFields]> = Object.entries(config.clusters).map((
    [name, cluster],
  ) => [`clusters.${name}`, cluster]);
  for (const [profileName, profile] of Object.entries(config.profiles)) {
    for (const [name, credentials] of Object.entries(profile.clusters ?? {})) {
      credentialSets.push([`profiles.${profileName}.clusters.${name}`, credentials]);
    }
    for (const [index, path] of profile.tokenFiles.entries()) {
      const key = `profiles.${profileName}.tokenFiles.${index}`;
      profile.tokenSha256.push(await sha256Hex(await readSecretFile(path, key, readFile)));
      files.push(path);
    }
  }
  if (config.http.redisUrlFile !== undefined) {
    config.http.redisUrl = await readSecretFile(
      config.http.redisUrlFile,
      "http.redisUrlFile",
      readFile,
    );
    files.push(config.http.redisUrlFile);
  }
  for (const [prefix, cluster] of credentialSets) {
    const key = (field: string) => `${prefix}.${field}`;
    if (cluster.tokenFile !== undefined) {
      const token = await readSecretFile(cluster.tokenFile, key("tokenFile"), readFile);
      const problem = tokenProblem(token);
      if (problem !== undefined) {
        const [detail = problem, fix = ""] = problem.split(" — ");
        throw ConfigError.invalid(
          key("tokenFile"),
          `the file ${detail.replace(/^expected/, "should hold")}`,
          { fix },
        );
      }
      cluster.token = token;
      files.push(cluster.tokenFile);
    }
    if (cluster.tokenSecretFile !== undefined) {
      cluster.tokenSecret = await readSecretFile(
        cluster.tokenSecretFile,
        key("tokenSecretFile"),
        readFile,
      );
      files.push(cluster.tokenSecretFile);
    }
    if (cluster.passwordFile !== undefined) {
      cluster.password = await readSecretFile(cluster.passwordFile, key("passwordFile"), readFile);
      files.push(cluster.passwordFile);
    }
  }
  return files;
}

async function modeWarning(
  path: string,
  what: string,
  stat: (path: string) => Promise<FileMode>,
): Promise<string | undefined> {
  let info: FileMode;
  try {
    info = await stat(path);
  } catch {
    return undefined;
  }
  if (info.mode === null || (info.mode & 0o077) === 0) return undefined;
  return `${what} "${path}" holds secrets and is readable by others: run chmod 600 ${path}`;
}

/**
 * A cluster made only from environment variables and flags must have a URL and credentials;
 * say so in their terms rather than in file keys.
 */
function assertEnvClusterComplete(raw: Json, layers: readonly Layer[]): void {
  const cluster = rawClusters(raw.clusters)[0]?.cluster;
  if (cluster === undefined) return;
  const given = layers.flatMap((layer) => layer.patches)
    .filter((patch) => patch.path[0] === "cluster")
    .map((patch) => patch.source);
  const key = `clusters.${DEFAULT_CLUSTER_NAME}`;
  if (cluster.url === undefined) {
    throw ConfigError.invalid(`${key}.url`, `missing (${quoteList(given)} set, but no URL)`, {
      fix: 'set PROXMOX_URL (or --url) like "https://pve.example.com:8006"',
    });
  }
  if (!CLUSTER_AUTH_KEYS.some((authKey) => cluster[authKey] !== undefined)) {
    throw ConfigError.invalid(
      key,
      `no credentials (${quoteList(given)} set, but no token or password)`,
      {
        fix: "set PROXMOX_TOKEN (or PROXMOX_TOKEN_ID with PROXMOX_TOKEN_SECRET, or PROXMOX_USER " +
          "with PROXMOX_PASSWORD); each also has a *_FILE variant",
      },
    );
  }
}

/**
 * Load and validate the configuration from file, environment and flags.
 *
 * @throws {ConfigError} naming the key, where the value came from, and the fix.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const readFile = options.readFile ?? ((path: string) => Deno.readTextFile(path));
  const stat = options.stat ?? ((path: string) => Deno.stat(path));
  const os = options.os ?? Deno.build.os;
  const merged = await mergeSources({ ...options, readFile });
  const { raw, sources, origins } = merged;
  const file = sources.file;
  const fileHoldsSecrets = merged.fileRaw !== undefined && holdsSecrets(merged.fileRaw);
  if (merged.createdCluster) assertEnvClusterComplete(raw, merged.layers);

  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw configErrorFromIssues(parsed.error.issues, { origins });
  const config = parsed.data;

  const secretFiles = await resolveSecrets(config, readFile);

  const warnings: string[] = [];
  if (os !== "windows") {
    if (fileHoldsSecrets && file !== undefined) {
      const warning = await modeWarning(file, "Config file", stat);
      if (warning !== undefined) warnings.push(warning);
    }
    for (const path of secretFiles) {
      const warning = await modeWarning(path, "Secret file", stat);
      if (warning !== undefined) warnings.push(warning);
    }
  }
  for (const [name, cluster] of Object.entries(config.clusters)) {
    if (cluster.insecure) {
      warnings.push(
        `TLS certificate verification is off for cluster "${name}" (insecure): anyone on the ` +
          'network path could impersonate it and read its credentials — set "caFile" to the ' +
          "cluster's CA certificate instead",
      );
    }
    if (cluster.url.startsWith("http://")) {
      warnings.push(
        `Cluster "${name}" is reached over plain http://: credentials travel unencrypted — ` +
          "use https://",
      );
    }
  }
  return { config, warnings, sources };
}

/** The configured cluster names, in configuration order. */
export function clusterNames(config: Config): string[] {
  return Object.keys(config.clusters);
}

/**
 * Throw unless at least one cluster is configured (commands that talk to Proxmox VE call this;
 * `tools` and `--demo` do not need a cluster).
 */
export function assertHasCluster(config: Config): void {
  if (clusterNames(config).length > 0) return;
  const fix = "set PROXMOX_URL and PROXMOX_TOKEN, or pass --config with a file that has " +
    '"clusters" (see config.example.json)';
  throw new ConfigError(`No Proxmox VE cluster configured — ${fix}`, { key: "clusters", fix });
}

/** The credentials of one cluster, ready for the client. */
export type ClusterAuth =
  | { kind: "token"; tokenId: string; secret: string }
  | { kind: "password"; user: string; password: string };

/**
 * The credentials of a loaded cluster (`token` is split at its last `=` into id and secret).
 * The secret is registered with the logger (`registerSecret`), so it is scrubbed from every
 * log line, tool result, error and audit line even where no pattern would recognise it.
 *
 * @throws {ConfigError} when a secret named by a `*File` key was not read (use {@link loadConfig}).
 */
export function clusterAuth(
  cluster: ClusterConfig,
  name: string = DEFAULT_CLUSTER_NAME,
): ClusterAuth {
  const auth = credentialsOf(cluster, name);
  // Whoever holds the credentials from here on, the logs, results and audit scrub them.
  registerSecret(auth.kind === "token" ? auth.secret : auth.password);
  return auth;
}

function credentialsOf(cluster: ClusterConfig, name: string): ClusterAuth {
  if (cluster.token !== undefined) {
    const split = cluster.token.lastIndexOf("=");
    return {
      kind: "token",
      tokenId: cluster.token.slice(0, split),
      secret: cluster.token.slice(split + 1),
    };
  }
  if (cluster.tokenId !== undefined && cluster.tokenSecret !== undefined) {
    return { kind: "token", tokenId: cluster.tokenId, secret: cluster.tokenSecret };
  }
  if (cluster.user !== undefined && cluster.password !== undefined) {
    return { kind: "password", user: cluster.user, password: cluster.password };
  }
  const fix = "load the configuration with loadConfig, which reads the secret files";
  throw new ConfigError(`Credentials of cluster "${name}" are not loaded — ${fix}`, {
    key: `clusters.${name}`,
    fix,
  });
}

/**
 * Check the tool and toolset names in `policy.exclude` and `policy.toolsets` against the
 * registry (the server calls this at start-up; the config module does not know the tools).
 *
 * @throws {ConfigError} listing the valid names.
 */
export function assertKnownNames(
  config: Config,
  known: { tools: readonly string[]; toolsets: readonly string[] },
): void {
  const check = (
    key: string,
    values: readonly string[] | undefined,
    valid: readonly string[],
    noun: string,
  ) => {
    const unknown = (values ?? []).filter((value) => !valid.includes(value));
    if (unknown.length === 0) return;
    const plural = unknown.length === 1 ? noun : `${noun}s`;
    throw ConfigError.invalid(key, `unknown ${plural} ${quoteList(unknown)}`, {
      fix: `valid ${noun}s are ${quoteList(valid)}`,
    });
  };
  check("policy.toolsets", config.policy.toolsets, known.toolsets, "toolset");
  check("policy.exclude", config.policy.exclude, known.tools, "tool");
}
