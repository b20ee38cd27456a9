/**
 * Configuration from environment variables and command-line flags, as patches over the file.
 *
 * Reading the environment tolerates a missing `--allow-env` permission: a variable the process
 * may not read counts as unset, so `serve` can run with exactly `--allow-env=<ENV_NAMES>` (or
 * fewer). Empty values count as unset too.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";

/** Cluster settings from the environment (they describe one cluster). */
const CLUSTER_ENV = [
  "PROXMOX_URL",
  "PROXMOX_TOKEN",
  "PROXMOX_TOKEN_FILE",
  "PROXMOX_TOKEN_ID",
  "PROXMOX_TOKEN_SECRET",
  "PROXMOX_TOKEN_SECRET_FILE",
  "PROXMOX_USER",
  "PROXMOX_PASSWORD",
  "PROXMOX_PASSWORD_FILE",
  "PROXMOX_CA_FILE",
  "PROXMOX_INSECURE_TLS",
] as const;

/** Server settings from the environment. */
const SERVER_ENV = [
  "PROXMOX_MCP_CONFIG",
  "PROXMOX_MCP_ALLOW",
  "PROXMOX_MCP_TOOLSETS",
  "PROXMOX_MCP_EXCLUDE",
  "PROXMOX_MCP_SCOPE_NODES",
  "PROXMOX_MCP_SCOPE_VMIDS",
  "PROXMOX_MCP_SCOPE_POOLS",
  "PROXMOX_MCP_SCOPE_TAGS",
  "PROXMOX_MCP_CONFIRM_FALLBACK",
  "PROXMOX_MCP_WAIT_SECONDS",
  "PROXMOX_MCP_AUDIT_PATH",
  "PROXMOX_MCP_LOG_LEVEL",
  "PROXMOX_MCP_HTTP",
  "PROXMOX_MCP_PUBLIC_URL",
  "PROXMOX_MCP_TLS_CERT_FILE",
  "PROXMOX_MCP_TLS_KEY_FILE",
  "PROXMOX_MCP_ALLOWED_HOSTS",
  "PROXMOX_MCP_ALLOWED_ORIGINS",
  "PROXMOX_MCP_REDIS_URL",
  "PROXMOX_MCP_REDIS_URL_FILE",
  "PROXMOX_MCP_REPLICA_URL",
] as const;

/** Every environment variable the configuration reads (for `--allow-env=<names>`). */
export const ENV_NAMES: readonly string[] = [...CLUSTER_ENV, ...SERVER_ENV];

/** Reads one environment variable; `undefined` when unset. */
export type EnvGetter = (name: string) => string | undefined;

/** The process environment through `Deno.env.get`. */
export function denoEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

/**
 * Wrap a getter so that a missing permission (`Deno.errors.NotCapable` or `PermissionDenied`)
 * and an empty value both read as unset.
 */
export function tolerantEnv(get: EnvGetter): EnvGetter {
  return (name) => {
    let value: string | undefined;
    try {
      value = get(name);
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        return undefined;
      }
      throw error;
    }
    return value === undefined || value.trim() === "" ? undefined : value;
  };
}

/** Command-line flags that override the configuration (set only the ones actually given). */
export interface ConfigFlags {
  /** `--config`: the config file. */
  config?: string | undefined;
  /** `--url`: the cluster URL. */
  url?: string | undefined;
  /** `--allow`: capability classes (a comma list or repeated flag). */
  allow?: string | readonly string[] | undefined;
  /** `--toolsets`: enabled toolsets. */
  toolsets?: string | readonly string[] | undefined;
  /** `--exclude`: excluded tool names. */
  exclude?: string | readonly string[] | undefined;
  /** `--log-level`. */
  logLevel?: string | undefined;
  /** `--audit-path` (or `off`). */
  auditPath?: string | undefined;
  /** `--insecure`: skip TLS verification. */
  insecure?: boolean | undefined;
  /** `--ca-file`. */
  caFile?: string | undefined;
  /** `--confirm-fallback`: `deny` or `allow`. */
  confirmFallback?: string | undefined;
  /** `--wait-seconds`: default wait for tasks. */
  waitSeconds?: number | string | undefined;
  /** `--http`: serve Streamable HTTP on `[HOST:]PORT` (only `serve` takes it). */
  http?: string | undefined;
}

/** One value to set: `path` starts with `"cluster"` for the single cluster's fields. */
export interface Patch {
  path: readonly string[];
  value: unknown;
  /** Where it came from: `PROXMOX_URL`, `--url`. */
  source: string;
}

/** The patches of one source, plus whether they replace the cluster's credentials. */
export interface Layer {
  patches: Patch[];
  /** The variables or flags that were given. */
  used: string[];
}

/** Split a comma list, trimming and dropping empty items. */
export function splitList(value: string | readonly string[]): string[] {
  const items = typeof value === "string" ? [value] : value;
  return items.flatMap((item) => item.split(",")).map((item) => item.trim()).filter((item) =>
    item !== ""
  );
}

/** Parse `1/true/yes/on` and `0/false/no/off` (any case). */
export function parseBoolean(value: string, source: string): boolean {
  const lower = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(lower)) return true;
  if (["0", "false", "no", "off"].includes(lower)) return false;
  throw ConfigError.invalid(source, `expected true or false, got "${value}"`, {
    fix: 'set it to "true" or "false" (1/0, yes/no and on/off work too)',
  });
}

/** Parse a whole number of seconds. */
function parseSeconds(value: number | string, source: string): number {
  const number = typeof value === "number" ? value : Number(value.trim());
  if (typeof value === "string" && !/^\s*\d+\s*$/.test(value) || !Number.isInteger(number)) {
    throw ConfigError.invalid(source, `expected a whole number of seconds, got "${value}"`, {
      fix: 'set it like "60"',
    });
  }
  return number;
}

/** The patches from environment variables (read through `get`). */
export function envLayer(get: EnvGetter): Layer {
  const patches: Patch[] = [];
  const used: string[] = [];
  const read = (name: string, path: readonly string[], convert?: (value: string) => unknown) => {
    const value = get(name);
    if (value === undefined) return;
    used.push(name);
    patches.push({ path, value: convert ? convert(value) : value.trim(), source: name });
  };
  read("PROXMOX_URL", ["cluster", "url"]);
  read("PROXMOX_TOKEN", ["cluster", "token"]);
  read("PROXMOX_TOKEN_FILE", ["cluster", "tokenFile"]);
  read("PROXMOX_TOKEN_ID", ["cluster", "tokenId"]);
  read("PROXMOX_TOKEN_SECRET", ["cluster", "tokenSecret"]);
  read("PROXMOX_TOKEN_SECRET_FILE", ["cluster", "tokenSecretFile"]);
  read("PROXMOX_USER", ["cluster", "user"]);
  read("PROXMOX_PASSWORD", ["cluster", "password"], (value) => value);
  read("PROXMOX_PASSWORD_FILE", ["cluster", "passwordFile"]);
  read("PROXMOX_CA_FILE", ["cluster", "caFile"]);
  read(
    "PROXMOX_INSECURE_TLS",
    ["cluster", "insecure"],
    (value) => parseBoolean(value, "PROXMOX_INSECURE_TLS"),
  );
  read("PROXMOX_MCP_ALLOW", ["policy", "allow"], splitList);
  read("PROXMOX_MCP_TOOLSETS", ["policy", "toolsets"], splitList);
  read("PROXMOX_MCP_EXCLUDE", ["policy", "exclude"], splitList);
  read("PROXMOX_MCP_SCOPE_NODES", ["policy", "scope", "nodes"], splitList);
  read("PROXMOX_MCP_SCOPE_VMIDS", ["policy", "scope", "vmids"], splitList);
  read("PROXMOX_MCP_SCOPE_POOLS", ["policy", "scope", "pools"], splitList);
  read("PROXMOX_MCP_SCOPE_TAGS", ["policy", "scope", "tags"], splitList);
  read("PROXMOX_MCP_CONFIRM_FALLBACK", ["policy", "confirmation", "fallback"]);
  read(
    "PROXMOX_MCP_WAIT_SECONDS",
    ["policy", "wait", "defaultSeconds"],
    (value) => parseSeconds(value, "PROXMOX_MCP_WAIT_SECONDS"),
  );
  auditPatches(get("PROXMOX_MCP_AUDIT_PATH"), "PROXMOX_MCP_AUDIT_PATH", patches, used);
  read("PROXMOX_MCP_LOG_LEVEL", ["logging", "level"]);
  read("PROXMOX_MCP_HTTP", ["http", "listen"]);
  read("PROXMOX_MCP_PUBLIC_URL", ["http", "publicUrl"]);
  read("PROXMOX_MCP_TLS_CERT_FILE", ["http", "tlsCertFile"]);
  read("PROXMOX_MCP_TLS_KEY_FILE", ["http", "tlsKeyFile"]);
  read("PROXMOX_MCP_ALLOWED_HOSTS", ["http", "allowedHosts"], splitList);
  read("PROXMOX_MCP_ALLOWED_ORIGINS", ["http", "allowedOrigins"], splitList);
  read("PROXMOX_MCP_REDIS_URL", ["http", "redisUrl"], (value) => value.trim());
  read("PROXMOX_MCP_REDIS_URL_FILE", ["http", "redisUrlFile"]);
  read("PROXMOX_MCP_REPLICA_URL", ["http", "replicaUrl"]);
  return { patches, used };
}

function auditPatches(
  value: string | undefined,
  source: string,
  patches: Patch[],
  used: string[],
): void {
  if (value === undefined) return;
  used.push(source);
  if (value.trim().toLowerCase() === "off") {
    patches.push({ path: ["audit", "enabled"], value: false, source });
    return;
  }
  patches.push({ path: ["audit", "enabled"], value: true, source });
  patches.push({ path: ["audit", "path"], value: value.trim(), source });
}

/** The patches from command-line flags (only those given). */
export function flagsLayer(flags: ConfigFlags): Layer {
  const patches: Patch[] = [];
  const used: string[] = [];
  const set = (name: string, path: readonly string[], value: unknown) => {
    if (value === undefined) return;
    used.push(name);
    patches.push({ path, value, source: name });
  };
  set("--url", ["cluster", "url"], flags.url);
  set("--ca-file", ["cluster", "caFile"], flags.caFile);
  set("--insecure", ["cluster", "insecure"], flags.insecure);
  set(
    "--allow",
    ["policy", "allow"],
    flags.allow === undefined ? undefined : splitList(flags.allow),
  );
  set(
    "--toolsets",
    ["policy", "toolsets"],
    flags.toolsets === undefined ? undefined : splitList(flags.toolsets),
  );
  set(
    "--exclude",
    ["policy", "exclude"],
    flags.exclude === undefined ? undefined : splitList(flags.exclude),
  );
  set("--confirm-fallback", ["policy", "confirmation", "fallback"], flags.confirmFallback);
  set(
    "--wait-seconds",
    ["policy", "wait", "defaultSeconds"],
    flags.waitSeconds === undefined ? undefined : parseSeconds(flags.waitSeconds, "--wait-seconds"),
  );
  auditPatches(flags.auditPath, "--audit-path", patches, used);
  set("--log-level", ["logging", "level"], flags.logLevel);
  set("--http", ["http", "listen"], flags.http);
  return { patches, used };
}
