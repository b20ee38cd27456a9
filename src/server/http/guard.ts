/**
 * DNS-rebinding and cross-site protection in front of every route: the `Host` header must name
 * an allowed host and a browser's `Origin` an allowed origin, both loopback names by default
 * plus `http.allowedHosts` / `http.allowedOrigins` (and the hosts of `http.publicUrl` and
 * `http.replicaUrl`). The SDK's validators do the parsing; refusals are 403 JSON-RPC errors.
 *
 * @module
 */

import {
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
} from "@modelcontextprotocol/server";

/** The allow-lists of one server. */
export interface HostGuard {
  hosts: string[];
  origins: string[];
}

/** Host names as the SDK's validators expect them (IPv6 in brackets, lower case). */
function hostName(value: string): string {
  const lower = value.toLowerCase();
  return lower.includes(":") && !lower.startsWith("[") ? `[${lower}]` : lower;
}

/** The allow-lists from the configured names and URLs. */
export function hostGuard(options: {
  allowedHosts?: readonly string[] | undefined;
  allowedOrigins?: readonly string[] | undefined;
  urls?: readonly (string | undefined)[];
}): HostGuard {
  const fromUrls = (options.urls ?? []).flatMap((url) =>
    url === undefined ? [] : [hostName(new URL(url).hostname)]
  );
  const unique = (names: string[]) => [...new Set(names)];
  return {
    hosts: unique([
      ...localhostAllowedHostnames(),
      ...(options.allowedHosts ?? []).map(hostName),
      ...fromUrls,
    ]),
    origins: unique([
      ...localhostAllowedOrigins(),
      ...(options.allowedOrigins ?? []).map(hostName),
      ...fromUrls,
    ]),
  };
}

/** A 403 when the request's Host or Origin is not allowed, else `undefined`. */
export function guardResponse(request: Request, guard: HostGuard): Response | undefined {
  return hostHeaderValidationResponse(request, guard.hosts) ??
    originValidationResponse(request, guard.origins);
}
