/**
 * Merging the configuration's sources into one raw (unvalidated) object: the file
 * (`--config` / `PROXMOX_MCP_CONFIG`), then the environment, then the flags actually given.
 * Relative paths written in the file are made relative to its folder.
 *
 * Nothing here imports zod or the logger: the start-up path reads the raw configuration with
 * this module alone to answer a client's first requests, and `load.ts` validates the same
 * object with the schema.
 *
 * @module
 */

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
import { CLUSTER_AUTH_KEYS, clustersBranch, DEFAULT_CLUSTER_NAME } from "./shape.ts";

/** Where the configuration came from. */
export interface ConfigSources {
  /** The config file read, if any. */
  file?: string;
  /** The environment variables that were set and used. */
  env: string[];
  /** The flags that were given. */
  flags: string[];
}

/** The sources to merge; every one can be injected for tests. */
export interface MergeOptions {
  /** Flags given on the command line (omit the ones not given). */
  args?: ConfigFlags;
  /** The environment: a record or a getter (default `Deno.env.get`, permission-tolerant). */
  env?: Readonly<Record<string, string | undefined>> | EnvGetter;
  /** Reads a text file (default `Deno.readTextFile`). */
  readFile?: (path: string) => Promise<string>;
}

/** The merged raw configuration and what it was made of. */
export interface MergedConfig {
  /** The raw object, ready for the schema. */
  raw: Json;
  /** Which file, variables and flags contributed. */
  sources: ConfigSources;
  /** Key path → the variable or flag that set it (for error messages). */
  origins: Map<string, string>;
  /** The raw file content before env and flags were applied, when a file was read. */
  fileRaw?: Json;
  /** Whether env or flags created the only cluster (it must then be complete). */
  createdCluster: boolean;
  /** The env and flag layers, in order. */
  layers: Layer[];
  /** Reads the variables (permission-tolerant). */
  get: EnvGetter;
}

/** A raw JSON object. */
export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:[\\/]/.test(path);
}

export function dirname(path: string): string {
  const index = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (index < 0) return ".";
  return index === 0 ? path.slice(0, 1) : path.slice(0, index);
}

function joinPath(dir: string, path: string): string {
  if (dir === "." || isAbsolute(path)) return path;
  return dir.endsWith("/") || dir.endsWith("\\") ? `${dir}${path}` : `${dir}/${path}`;
}

export function readError(
  path: string,
  what: string,
  error: unknown,
): { detail: string; fix: string } {
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
export function rawClusters(clusters: unknown): { prefix: string; cluster: Json }[] {
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

/** The profile objects of a raw (unparsed) config (remote mode). */
export function rawProfiles(raw: Json): Json[] {
  return isObject(raw.profiles) ? Object.values(raw.profiles).filter(isObject) : [];
}

/** The credential objects of a raw profile's `clusters`. */
export function rawProfileClusters(profile: Json): Json[] {
  return isObject(profile.clusters) ? Object.values(profile.clusters).filter(isObject) : [];
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
    if (
      clusterPatches.some((patch) =>
        (CLUSTER_AUTH_KEYS as readonly string[]).includes(patch.path[1] ?? "")
      )
    ) {
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

/**
 * Reads the file (when one is named) and applies the environment and the flags over it. No
 * validation beyond what merging needs: the result goes to the schema.
 *
 * @throws {ConfigError} when the file cannot be read or is not a JSON object, or env/flags set
 *   cluster settings while the file defines several clusters.
 */
export async function mergeSources(options: MergeOptions = {}): Promise<MergedConfig> {
  const env = options.env;
  const get = tolerantEnv(
    typeof env === "function" ? env : env === undefined ? denoEnv : (name) => env[name],
  );
  const readFile = options.readFile ?? ((path: string) => Deno.readTextFile(path));
  const flags = options.args ?? {};

  const envPatches = envLayer(get);
  const flagPatches = flagsLayer(flags);
  const sources: ConfigSources = { env: [...envPatches.used], flags: [...flagPatches.used] };

  let raw: Json = {};
  let fileRaw: Json | undefined;
  const file = flags.config ?? get("PROXMOX_MCP_CONFIG");
  if (flags.config !== undefined) sources.flags.unshift("--config");
  else if (file !== undefined) sources.env.unshift("PROXMOX_MCP_CONFIG");
  if (file !== undefined) {
    sources.file = file;
    raw = await readConfigFile(file, readFile);
    resolveFilePaths(raw, dirname(file));
    fileRaw = structuredClone(raw);
  }

  const origins = new Map<string, string>();
  const createdByEnv = applyLayer(raw, envPatches, origins);
  const createdByFlags = applyLayer(raw, flagPatches, origins);
  return {
    raw,
    sources,
    origins,
    ...(fileRaw === undefined ? {} : { fileRaw }),
    createdCluster: createdByEnv || createdByFlags,
    layers: [envPatches, flagPatches],
    get,
  };
}
