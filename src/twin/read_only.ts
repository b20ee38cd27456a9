/**
 * The only view of a Proxmox VE client that capture gets: GET requests and nothing else. The
 * client stays inside a closure, so capture code cannot reach `post`, `put`, `delete` or
 * `request` — not by mistake, not through a cast of this object.
 *
 * @module
 */

import type { PveClient, PveEnvelope, PveParams } from "../pve/mod.ts";

/** GET-only access to one cluster. */
export interface ReadOnlyPve {
  /** The cluster's name in messages. */
  readonly name: string;
  /** `host:port` of the API. */
  readonly host: string;
  /** Who the client authenticates as (never the secret). */
  readonly principal: string;
  /** `GET path` with query parameters; resolves with the unwrapped `data`. */
  get(path: string, params?: PveParams, options?: { signal?: AbortSignal }): Promise<unknown>;
  /** `GET path`, resolving with the whole envelope (`data`, `changes`, `total`). */
  getEnvelope(
    path: string,
    params?: PveParams,
    options?: { signal?: AbortSignal },
  ): Promise<PveEnvelope>;
}

/** A GET-only view of `client`. */
export function readOnly(client: PveClient): ReadOnlyPve {
  const host = new URL(client.baseUrl).host;
  const principal = client.identity.principal;
  return Object.freeze({
    name: client.name,
    host,
    principal,
    get: (path: string, params?: PveParams, options: { signal?: AbortSignal } = {}) =>
      client.request("GET", path, { ...options, ...(params === undefined ? {} : { params }) }),
    getEnvelope: (path: string, params?: PveParams, options: { signal?: AbortSignal } = {}) =>
      client.requestEnvelope("GET", path, {
        ...options,
        ...(params === undefined ? {} : { params }),
      }),
  });
}
