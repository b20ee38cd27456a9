/**
 * The HTTP transport: which `fetch` talks to the cluster, and how transport failures are
 * classified.
 *
 * TLS choices, per client (not per process):
 * - default: `fetch` with the system's root certificates, verification on;
 * - `caCert` (PEM text, e.g. the cluster's `/etc/pve/pve-root-ca.pem`): a
 *   `Deno.createHttpClient({ caCerts: [pem] })` used for every request of this client;
 * - `insecure: true`: Deno 2.9's `Deno.createHttpClient` has no option to skip certificate
 *   verification (its typings and runtime ignore `unsafelyIgnoreCertificateErrors`; the
 *   `--unsafely-ignore-certificate-errors` flag exists, but it is process-wide and must be
 *   given on the command line). The client therefore sends this cluster's requests through
 *   `node:http` over `node:tls` sockets opened with `rejectUnauthorized: false` (a keep-alive
 *   agent), and logs a warning once per origin. The process-wide flag still works with the
 *   default transport, for whoever prefers it.
 *
 * GET connections are kept alive and reused; writes (POST/PUT/DELETE) use a connection that
 * is not reused, so the HTTP stack can never re-send them (see `denoTransport`).
 * {@linkcode Transport.close} releases them.
 *
 * @module
 */

import { getLog } from "../log.ts";
import {
  type ConnectionFailure,
  PveConnectionError,
  type PveError,
  PveTlsError,
  readablePath,
} from "./errors.ts";

/** How requests reach the cluster. */
export interface Transport {
  /** The fetch to call (already bound to the right TLS settings). */
  fetch: typeof fetch;
  /** Releases pooled connections (idempotent). */
  close(): void;
}

/** TLS-related transport options. */
export interface TransportOptions {
  /** PEM text of a CA certificate to trust in addition to the system roots. */
  caCert?: string;
  /** Skip certificate verification for this cluster (logs a warning once). */
  insecure?: boolean;
  /** A fetch to use instead of the built-in one (tests); TLS options are then ignored. */
  fetch?: typeof fetch;
  /** Origin of the cluster, for the warning. */
  origin: string;
}

const warnedInsecure = new Set<string>();
const logger = getLog("pve");

/** Creates the transport for one client. */
export function createTransport(options: TransportOptions): Transport {
  if (options.fetch !== undefined) {
    return { fetch: options.fetch, close() {} };
  }
  if (options.insecure === true) {
    if (!warnedInsecure.has(options.origin)) {
      warnedInsecure.add(options.origin);
      logger.warn(
        "TLS certificate verification is disabled for {origin} (insecure: true): anyone on " +
          "the network path can impersonate this cluster. Prefer the cluster's CA file " +
          "(/etc/pve/pve-root-ca.pem) as caCert.",
        { origin: options.origin },
      );
    }
    return lazyInsecureTransport();
  }
  return denoTransport(options.caCert);
}

/**
 * Built-in fetch with two `Deno.HttpClient`s: a pooled one (keep-alive) for GET, and one
 * without idle connections for writes. The split matters: Deno's HTTP stack silently
 * re-sends a request when a *reused* keep-alive connection is closed before any response
 * arrives, which would repeat a POST the server may already have acted on; a write on a
 * fresh connection is sent exactly once.
 */
function denoTransport(caCert: string | undefined): Transport {
  const tls = caCert === undefined ? {} : { caCerts: [caCert] };
  const reads = Deno.createHttpClient({ ...tls });
  const writes = Deno.createHttpClient({ ...tls, poolMaxIdlePerHost: 0 });
  let closed = false;
  return {
    fetch: (input, init) => {
      const method = (init?.method ?? "GET").toUpperCase();
      return fetch(input, { ...init, client: method === "GET" ? reads : writes });
    },
    close() {
      if (closed) return;
      closed = true;
      reads.close();
      writes.close();
    },
  };
}

/**
 * The insecure transport, loaded on its first request: `node:http` and `node:tls` cost
 * megabytes and milliseconds that clusters with verified certificates never need.
 */
function lazyInsecureTransport(): Transport {
  let loaded: Promise<Transport> | undefined;
  let closed = false;
  const load = () =>
    loaded ??= import("./insecure_transport.ts").then((module) => module.insecureTransport());
  return {
    fetch: async (input, init) => await (await load()).fetch(input, init),
    close() {
      if (closed) return;
      closed = true;
      loaded?.then((transport) => transport.close(), () => {});
    },
  };
}

function causeChain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      parts.push(`${current.name}: ${current.message}`);
      const code = (current as { code?: unknown }).code;
      if (typeof code === "string") parts.push(code);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(" | ");
}

const TLS_RE =
  /certificate|UnknownIssuer|NotValidForName|CertExpired|CertNotValidYet|self[- ]signed|tls|ssl|handshake|unable to verify/i;

/**
 * Classifies a failure of `fetch` itself (no HTTP response) as a {@linkcode PveTlsError} or a
 * {@linkcode PveConnectionError}, with a message that names the fix.
 */
export function transportError(
  error: unknown,
  context: { method: string; path: string; origin: string; insecure: boolean; caCert: boolean },
): PveError {
  const chain = causeChain(error);
  const where = `${context.method} ${readablePath(context.path)}`;
  const details = { method: context.method, path: context.path, cause: error };
  if (TLS_RE.test(chain)) {
    const what = /NotValidForName|hostname|not valid for/i.test(chain)
      ? "its certificate is not valid for this host name"
      : /expired|NotValidYet/i.test(chain)
      ? "its certificate is expired or not yet valid"
      : "its certificate is not signed by a trusted CA";
    const fix = context.caCert
      ? "check that caCert is the cluster's CA (/etc/pve/pve-root-ca.pem) and the URL's host " +
        "name matches the certificate, or set insecure: true for this cluster (not recommended)"
      : "give the cluster's CA file (/etc/pve/pve-root-ca.pem) as caCert, or set " +
        "insecure: true for this cluster (not recommended)";
    return new PveTlsError(
      `TLS verification of ${context.origin} failed for ${where}: ${what}. To fix: ${fix}`,
      details,
    );
  }
  const kind = failureKind(chain);
  const what = {
    refused: "the connection was refused",
    dns: "the host name could not be resolved",
    reset: "the connection was reset",
    unreachable: "the host is unreachable",
    other: "the connection failed",
  }[kind];
  return new PveConnectionError(
    `Cannot reach Proxmox VE at ${context.origin} for ${where}: ${what}. Check the URL ` +
      "(https://host:8006), that pveproxy runs, and that no firewall blocks port 8006.",
    { ...details, failure: kind },
  );
}

/** How a connection failed, from the error chain's text. */
function failureKind(chain: string): ConnectionFailure {
  if (/refused|ECONNREFUSED/i.test(chain)) return "refused";
  if (/dns|lookup|ENOTFOUND|EAI_AGAIN|name or service not known|resolve/i.test(chain)) {
    return "dns";
  }
  if (/reset|ECONNRESET|EPIPE|closed|IncompleteMessage|broken pipe/i.test(chain)) return "reset";
  if (/unreachable|EHOSTUNREACH|ENETUNREACH/i.test(chain)) return "unreachable";
  return "other";
}
