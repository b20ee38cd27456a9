/**
 * Where the HTTP server listens: `[HOST:]PORT` parsing, whether an address is loopback, and the
 * start-up rule that a server reachable beyond loopback must know its callers.
 *
 * @module
 */

import { ConfigError } from "../../config/mod.ts";

/** A parsed `[HOST:]PORT`. */
export interface ListenAddress {
  /** Host name or address to bind (brackets removed from IPv6). */
  hostname: string;
  /** TCP port (0: any free port). */
  port: number;
}

/** The host `--http PORT` binds when none is given. */
export const DEFAULT_HTTP_HOST = "127.0.0.1";

/**
 * Parses `[HOST:]PORT` (`8080`, `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:8080`).
 *
 * @throws {ConfigError} naming `http.listen` and the fix.
 */
export function parseListen(value: string): ListenAddress {
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw ConfigError.invalid("http.listen", `expected "[HOST:]PORT", got "${value}"`, {
      fix: 'write it like "127.0.0.1:8080", "[::1]:8080" or "8080"',
    });
  }
  const host = match[1] ?? DEFAULT_HTTP_HOST;
  return { hostname: host.replace(/^\[(.*)\]$/, "$1"), port };
}

/** Whether binding `hostname` keeps the server on this machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Refuses to serve an address beyond loopback without any caller configured: such a server would
 * let anyone who reaches the port operate the clusters.
 *
 * @throws {ConfigError} naming `profiles` and how to add one.
 */
export function assertNotOpen(address: ListenAddress, callers: { profiles: number }): void {
  if (isLoopback(address.hostname) || callers.profiles > 0) return;
  const fix = 'add a caller under "profiles" (a name with "tokenSha256", "tokenFiles" or ' +
    '"oauth"; see the README\'s remote mode), or bind 127.0.0.1';
  throw new ConfigError(
    `Refusing to serve MCP on ${address.hostname}:${address.port} without any caller ` +
      `configured: anyone reaching that address could operate the clusters — ${fix}`,
    { key: "profiles", fix },
  );
}
