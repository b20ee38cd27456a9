/**
 * Callers of the HTTP server (remote mode). A profile names a caller: the bearer tokens it
 * presents (kept only as SHA-256 digests), the OAuth claims that map to it, its own policy (the
 * top-level policy with the profile's keys replacing the same keys) and its rate limits.
 *
 * Token checks hash the presented token and compare it with every stored digest in constant
 * time, whatever matches, so the time taken says nothing about which digest came close.
 *
 * @module
 */

import type { Config, ProfileConfig } from "../config/mod.ts";

/** A token bucket: sustained rate and size. */
export interface BucketRule {
  /** Tokens added per minute. */
  perMinute: number;
  /** Bucket size: calls allowed at once. */
  burst: number;
}

/** A caller's rate limits. */
export interface RateLimitRules {
  /** Every tool call. */
  calls: BucketRule;
  /** Tool calls whose class is not `read`, on top of `calls`. */
  writes: BucketRule;
}

/** One caller, ready for the server. */
export interface Profile {
  /** The profile name (written into audit lines and logs; never a token). */
  name: string;
  /** The configuration this caller's server is built from (its policy merged in). */
  config: Config;
  /** The caller's rate limits. */
  rateLimit: RateLimitRules;
  /** SHA-256 digests of the caller's bearer tokens. */
  tokenDigests: readonly Uint8Array[];
  /** OAuth claims that map a token to this profile, if any. */
  oauth?: { scopes?: readonly string[]; claims?: Readonly<Record<string, string>> };
  /** Cluster names for which this caller has its own Proxmox VE credential. */
  ownCredentials: readonly string[];
}

/** The name of the caller when no profile is configured (loopback only). */
export const LOCAL_PROFILE = "local";

/**
 * The configuration of one caller: the top-level config with each policy key the profile gives
 * replacing the same key (a profile that sets `allow` gets exactly that list).
 */
export function profileConfig(config: Config, profile: ProfileConfig): Config {
  const own = profile.policy;
  return {
    ...config,
    policy: {
      ...config.policy,
      ...(own.allow === undefined ? {} : { allow: own.allow }),
      ...(own.toolsets === undefined ? {} : { toolsets: own.toolsets }),
      ...(own.exclude === undefined ? {} : { exclude: own.exclude }),
      ...(own.scope === undefined ? {} : { scope: own.scope }),
      ...(own.confirmation === undefined ? {} : { confirmation: own.confirmation }),
    },
  };
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

/** The profiles of a loaded configuration, in configuration order. */
export function profilesFromConfig(config: Config): Profile[] {
  return Object.entries(config.profiles).map(([name, profile]) => ({
    name,
    config: profileConfig(config, profile),
    rateLimit: profile.rateLimit ?? config.http.rateLimit,
    tokenDigests: profile.tokenSha256.map(fromHex),
    ...(profile.oauth === undefined ? {} : {
      oauth: {
        ...(profile.oauth.scopes === undefined ? {} : { scopes: profile.oauth.scopes }),
        ...(profile.oauth.claims === undefined ? {} : { claims: profile.oauth.claims }),
      },
    }),
    ownCredentials: Object.keys(profile.clusters ?? {}),
  }));
}

/** The caller of a server with no profiles (loopback only): the top-level policy. */
export function localProfile(config: Config): Profile {
  return {
    name: LOCAL_PROFILE,
    config,
    rateLimit: config.http.rateLimit,
    tokenDigests: [],
    ownCredentials: [],
  };
}

/** Whether two byte strings are equal, in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let index = 0; index < a.length; index++) diff |= a[index]! ^ (b[index % b.length] ?? 0);
  return diff === 0;
}

/**
 * The profile a bearer token belongs to, or `undefined`. Every digest of every profile is
 * compared (no early exit), each in constant time.
 */
export async function profileForToken(
  profiles: readonly Profile[],
  token: string,
): Promise<Profile | undefined> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)),
  );
  let found: Profile | undefined;
  for (const profile of profiles) {
    for (const stored of profile.tokenDigests) {
      if (constantTimeEqual(digest, stored) && found === undefined) found = profile;
    }
  }
  return found;
}

/** The scopes of a JWT payload (`scope` as a space-separated string, or `scp` as a list). */
export function tokenScopes(claims: Readonly<Record<string, unknown>>): string[] {
  const scopes: string[] = [];
  if (typeof claims.scope === "string") scopes.push(...claims.scope.split(" "));
  if (Array.isArray(claims.scp)) {
    scopes.push(...claims.scp.filter((item): item is string => typeof item === "string"));
  }
  return scopes.filter((scope) => scope !== "");
}

function claimMatches(value: unknown, wanted: string): boolean {
  if (Array.isArray(value)) return value.some((item) => item === wanted);
  return value === wanted;
}

/**
 * The first profile (configuration order) whose `oauth` rules the token's claims satisfy: every
 * listed scope present, every listed claim equal (or, for a list claim, contained).
 */
export function profileForClaims(
  profiles: readonly Profile[],
  claims: Readonly<Record<string, unknown>>,
): Profile | undefined {
  const scopes = new Set(tokenScopes(claims));
  return profiles.find((profile) => {
    const rules = profile.oauth;
    if (rules === undefined) return false;
    if (!(rules.scopes ?? []).every((scope) => scopes.has(scope))) return false;
    return Object.entries(rules.claims ?? {}).every(([name, wanted]) =>
      claimMatches(claims[name], wanted)
    );
  });
}
