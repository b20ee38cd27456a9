/**
 * Retry policy (STYLE rule 7): only GET is retried, at most twice by default, on network
 * errors (not TLS failures), 429, 502–504 and 595–599, with jittered exponential backoff,
 * honouring `Retry-After`. POST/PUT/DELETE are never retried: a write may have happened,
 * and its UPID is polled instead.
 *
 * PVE's `500` is a handler's `die` (e.g. `VM 100 not running`, `Configuration file ... does
 * not exist`): deterministic, so retrying it would only delay the answer; `501` means the
 * endpoint does not exist. Both are not retried.
 *
 * @module
 */

import { PveConnectionError, type PveError, PveTlsError } from "./errors.ts";

/** Retry settings. */
export interface RetryOptions {
  /** Extra attempts after the first (default 2). */
  attempts?: number;
  /** Base backoff in ms (default 250); attempt n waits about base·2ⁿ, jittered. */
  baseDelayMs?: number;
  /** Longest wait between attempts, also the cap for `Retry-After` (default 10 000). */
  maxDelayMs?: number;
}

/** Statuses a GET is retried on. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504 ||
    (status >= 595 && status <= 599);
}

/** Whether a failed request may be retried. */
export function shouldRetry(method: string, error: PveError): boolean {
  if (method !== "GET") return false;
  if (error instanceof PveTlsError) return false;
  if (error.status !== undefined) return isRetryableStatus(error.status);
  return error instanceof PveConnectionError;
}

/**
 * Parses a `Retry-After` header (seconds or an HTTP date) to milliseconds from `now`;
 * `undefined` when absent or unparsable.
 */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The wait before retry number `attempt` (0-based): full jitter between half and all of
 * `base·2^attempt`, at least `retryAfterMs` when the server asked for it, capped at
 * `maxDelayMs`.
 */
export function backoffDelay(
  attempt: number,
  options: {
    baseDelayMs: number;
    maxDelayMs: number;
    retryAfterMs?: number;
    random?: () => number;
  },
): number {
  const random = options.random ?? Math.random;
  const exp = options.baseDelayMs * 2 ** attempt;
  const jittered = exp / 2 + random() * (exp / 2);
  const wanted = Math.max(jittered, options.retryAfterMs ?? 0);
  return Math.min(wanted, options.maxDelayMs);
}
