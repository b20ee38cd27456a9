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

import { isSecretKey, registerSecret } from "../log.ts";
import {
  type ConfigFlags,
  denoEnv,
  type EnvGetter,
  envLayer,
  flagsLayer,
  type Layer,
  tolerantEnv,
} from "./env.ts";
import { ConfigError, quoteList } from "./errors.ts";
import { configErrorFromIssues } from "./issues.ts";
import {
  CLUSTER_AUTH_KEYS,
  type ClusterConfig,
  clustersBranch,
  type Config,
  configSchema,
  DEFAULT_CLUSTER_NAME,
  tokenProblem,
} from "./schema.ts";

/** Where the configuration came from. */
export interface ConfigSources {
  /** The config file read, if any. */
  file?: string;
  /** The environment variables that were set and used. */
  env: string[];
  /** The flags that were given. */
  flags: string[];
}

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
export interface LoadConfigOptions {
  /** Flags given on the command line (omit the ones not given). */
  args?: ConfigFlags;
  /** The environment: a record or a getter (default `Deno.env.get`, permission-tolerant). */
  env?: Readonly<Record<string, string | undefined>> | EnvGetter;
  /** Reads a text file (default `Deno.readTextFile`). */
  readFile?: (path: string) => Promise<string>;
  /** Reads file metadata (default `Deno.stat`). */
  stat?: (path: string) => Promise<FileMode>;
  /** The operating system (default `Deno.build.os`); the mode check is skipped on Windows. */
  os?: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:[\\/]/.test(path);
}

function dirname(path: string): string {
  const index = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (index < 0) return ".";
  return index === 0 ? path.slice(0, 1) : path.slice(0, index);
}

function joinPath(dir: string, path: string): string {
  if (dir === "." || isAbsolute(path)) return path;
  return dir.endsWith("/") || dir.endsWith("\\") ? `${dir}${path}` : `${dir}/${path}`;
}

function readError(path: string, what: string, error: unknown): { detail: string; fix: string } {
  if (error instanceof Deno.errors.NotFound) {
    return { detail: `${what} "${path}" does not exist`, fix: "check the path" };
  }
  if (error instanceof Deno.errors.NotCapable) {
    return {
      detail: `no permission to read ${what} "${path}"`,
      fix: `run with --allow-read=${path}`,
    };
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return {
      detail: `${what} "${path}" is not readable by this user`,
      fix: "make it readable for this user (and no one else)",
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { detail: `cannot read ${what} "${path}": ${message}`, fix: "check the path" };
}

async function readConfigFile(
  path: string,
  readFile: (path: string) => Promise<string>,
): Promise<Json> {
  let text: string;
  try {
    text = await readFile(path);
  } catch (error) {
    const { detail, fix } = readError(path, "config file", error);
    throw new ConfigError(
      `Cannot read config: ${detail} — ${fix} (given by --config or PROXMOX_MCP_CONFIG)`,
      {
        key: "",
        fix: `${fix} (given by --config or PROXMOX_MCP_CONFIG)`,
        cause: error,
      },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const fix = "fix the JSON syntax (no comments, no trailing commas; see config.example.json)";
    throw new ConfigError(`Config file "${path}" is not valid JSON: ${reason} — ${fix}`, {
      key: "",
      fix,
      cause: error,
    });
  }
  if (!isObject(data)) {
    const fix = 'start from config.example.json: { "clusters": { ... }, "policy": { ... } }';
    throw new ConfigError(`Config file "${path}" must hold a JSON object — ${fix}`, {
      key: "",
      fix,
    });
  }
  return data;
}

/** The cluster objects of raw (unparsed) `clusters`, with their key prefixes. */
function rawClusters(clusters: unknown): { prefix: string; cluster: Json }[] {
  if (clusters === undefined) return [];
  const branch = clustersBranch(clusters);
  if (branch === 0 && isObject(clusters)) return [{ prefix: "clusters", cluster: clusters }];
  if (branch === 1 && Array.isArray(clusters)) {
    return clusters.flatMap((cluster, index) =>
      isObject(cluster) ? [{ prefix: `clusters.${index}`, cluster }] : []
    );
  }
  if (isObject(clusters)) {
    return Object.entries(clusters).flatMap(([name, cluster]) =>
      isObject(cluster) ? [{ prefix: `clusters.${name}`, cluster }] : []
    );
  }
  return [];
}

const PATH_KEYS = ["caFile", "tokenFile", "tokenSecretFile", "passwordFile"] as const;

/** The credential keys that `resolveSecrets` reads and fills. */
type CredentialFields = Pick<
  ClusterConfig,
  "token" | "tokenFile" | "tokenSecret" | "tokenSecretFile" | "password" | "passwordFile"
>;

/** The lowercase hex SHA-256 of a text (how bearer tokens are stored). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Make relative paths in the file relative to the file's folder. */
function resolveFilePaths(raw: Json, dir: string): void {
  for (const { cluster } of rawClusters(raw.clusters)) {
    for (const key of PATH_KEYS) {
      const value = cluster[key];
      if (typeof value === "string" && value !== "") cluster[key] = joinPath(dir, value);
    }
  }
  if (isObject(raw.audit) && typeof raw.audit.path === "string" && raw.audit.path !== "") {
    raw.audit.path = joinPath(dir, raw.audit.path);
  }
  if (isObject(raw.http)) {
    for (const key of ["tlsCertFile", "tlsKeyFile", "redisUrlFile"]) {
      const value = raw.http[key];
      if (typeof value === "string" && value !== "") raw.http[key] = joinPath(dir, value);
    }
  }
  for (const profile of rawProfiles(raw)) {
    if (Array.isArray(profile.tokenFiles)) {
      profile.tokenFiles = profile.tokenFiles.map((value) =>
        typeof value === "string" && value !== "" ? joinPath(dir, value) : value
      );
    }
    for (const credentials of rawProfileClusters(profile)) {
      for (const key of PATH_KEYS) {
        const value = credentials[key];
        if (typeof value === "string" && value !== "") credentials[key] = joinPath(dir, value);
      }
    }
  }
}

/** The profile objects of the raw (unparsed) config. */
function rawProfiles(raw: Json): Json[] {
  return isObject(raw.profiles) ? Object.values(raw.profiles).filter(isObject) : [];
}

/** The credential objects of a raw profile's `clusters`. */
function rawProfileClusters(profile: Json): Json[] {
  return isObject(profile.clusters) ? Object.values(profile.clusters).filter(isObject) : [];
}

/** Whether the file holds a secret inline (token, tokenSecret, password). */
function holdsSecrets(raw: Json): boolean {
  const inline = (object: Json) =>
    Object.entries(object).some(([key, value]) =>
      isSecretKey(key) && typeof value === "string" && value !== ""
    );
  return rawClusters(raw.clusters).some(({ cluster }) => inline(cluster)) ||
    rawProfiles(raw).some((profile) => rawProfileClusters(profile).some(inline)) ||
    (isObject(raw.http) && typeof raw.http.redisUrl === "string" && raw.http.redisUrl !== "");
}

function setPath(target: Json, path: readonly string[], value: unknown): void {
  let current = target;
  for (const part of path.slice(0, -1)) {
    const next = current[part];
    if (isObject(next)) {
      current = next;
    } else {
      const created: Json = {};
      current[part] = created;
      current = created;
    }
  }
  const last = path.at(-1);
  if (last !== undefined) current[last] = value;
}

/** Find (or create) the one cluster env/flags settings apply to. */
function clusterSlot(raw: Json, layer: Layer): { prefix: string; cluster: Json; created: boolean } {
  const existing = rawClusters(raw.clusters);
  if (existing.length === 1 && existing[0] !== undefined) return { ...existing[0], created: false };
  if (existing.length === 0) {
    const cluster: Json = {};
    raw.clusters = { [DEFAULT_CLUSTER_NAME]: cluster };
    return { prefix: `clusters.${DEFAULT_CLUSTER_NAME}`, cluster, created: true };
  }
  const given = layer.patches.filter((patch) => patch.path[0] === "cluster").map((patch) =>
    patch.source
  );
  const names = existing.map(({ prefix }) => prefix.slice("clusters.".length));
  const fix = `move these settings into the file's clusters, or unset ${quoteList(given)}`;
  throw new ConfigError(
    `Invalid config "clusters": ${quoteList(given)} set cluster settings, but the config file ` +
      `defines ${existing.length} clusters (${quoteList(names)}) — ${fix}`,
    { key: "clusters", fix },
  );
}

/** Apply one source's patches to the raw config, recording where each value came from. */
function applyLayer(raw: Json, layer: Layer, origins: Map<string, string>): boolean {
  let created = false;
  const clusterPatches = layer.patches.filter((patch) => patch.path[0] === "cluster");
  if (clusterPatches.length > 0) {
    const slot = clusterSlot(raw, layer);
    created = slot.created;
    // Credentials are replaced as a unit: a token from the environment replaces a password
    // from the file instead of conflicting with it.
    if (clusterPatches.some((patch) => CLUSTER_AUTH_KEYS.includes(patch.path[1] ?? ""))) {
      for (const key of CLUSTER_AUTH_KEYS) delete slot.cluster[key];
    }
    for (const patch of clusterPatches) {
      const rest = patch.path.slice(1);
      setPath(slot.cluster, rest, patch.value);
      origins.set(`${slot.prefix}.${rest.join(".")}`, patch.source);
    }
  }
  for (const patch of layer.patches) {
    if (patch.path[0] === "cluster") continue;
    setPath(raw, patch.path, patch.value);
    origins.set(patch.path.join("."), patch.source);
  }
  return created;
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
      const token = await readSecretFile(
        path,
        `profiles.${profileName}.tokenFiles.${index}`,
        readFile,
      );
      profile.tokenSha256.push(await sha256Hex(token));
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
  const env = options.env;
  const get = tolerantEnv(
    typeof env === "function" ? env : env === undefined ? denoEnv : (name) => env[name],
  );
  const readFile = options.readFile ?? ((path: string) => Deno.readTextFile(path));
  const stat = options.stat ?? ((path: string) => Deno.stat(path));
  const os = options.os ?? Deno.build.os;
  const flags = options.args ?? {};

  const envPatches = envLayer(get);
  const flagPatches = flagsLayer(flags);
  const sources: ConfigSources = { env: [...envPatches.used], flags: [...flagPatches.used] };

  let raw: Json = {};
  const file = flags.config ?? get("PROXMOX_MCP_CONFIG");
  if (flags.config !== undefined) sources.flags.unshift("--config");
  else if (file !== undefined) sources.env.unshift("PROXMOX_MCP_CONFIG");
  if (file !== undefined) {
    sources.file = file;
    raw = await readConfigFile(file, readFile);
    resolveFilePaths(raw, dirname(file));
  }
  const fileHoldsSecrets = file !== undefined && holdsSecrets(raw);

  const origins = new Map<string, string>();
  const createdByEnv = applyLayer(raw, envPatches, origins);
  const createdByFlags = applyLayer(raw, flagPatches, origins);
  if (createdByEnv || createdByFlags) assertEnvClusterComplete(raw, [envPatches, flagPatches]);

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
