/**
 * Rate limits per caller (remote mode): a token bucket for every tool call, and a stricter one
 * for calls whose capability class is not `read`. A bucket holds up to `burst` tokens and gains
 * `perMinute` tokens a minute; a call takes one token, or is refused with the time until one is
 * back.
 *
 * Buckets live in a {@link BucketStore}: in process by default, or shared by replicas (the HTTP
 * server's Redis store runs the same arithmetic as one atomic script).
 *
 * @module
 */

import type { BucketRule, RateLimitRules } from "./profile.ts";

/** What a bucket said. */
export interface TakeResult {
  /** Whether a token was taken. */
  ok: boolean;
  /** When refused: milliseconds until a token is back. */
  retryAfterMs: number;
}

/** Where buckets live. */
export interface BucketStore {
  /** Takes one token from the bucket `key` (created full) under `rule`. */
  take(key: string, rule: BucketRule, nowMs: number): Promise<TakeResult>;
}

/** A bucket's state. */
export interface BucketState {
  tokens: number;
  updatedMs: number;
}

/**
 * The token bucket step, shared by every store: refill for the time passed, then take one token
 * when there is one. Returns the new state and the answer.
 */
export function takeToken(
  state: BucketState | undefined,
  rule: BucketRule,
  nowMs: number,
): { state: BucketState; result: TakeResult } {
  const perMs = rule.perMinute / 60_000;
  const before = state === undefined
    ? rule.burst
    : Math.min(rule.burst, state.tokens + Math.max(0, nowMs - state.updatedMs) * perMs);
  if (before >= 1) {
    return {
      state: { tokens: before - 1, updatedMs: nowMs },
      result: { ok: true, retryAfterMs: 0 },
    };
  }
  return {
    state: { tokens: before, updatedMs: nowMs },
    result: { ok: false, retryAfterMs: Math.ceil((1 - before) / perMs) },
  };
}

/** Buckets in this process (one replica, or limits per replica). */
export class MemoryBucketStore implements BucketStore {
  readonly #buckets = new Map<string, BucketState>();

  /** Takes one token from `key`. */
  take(key: string, rule: BucketRule, nowMs: number): Promise<TakeResult> {
    const { state, result } = takeToken(this.#buckets.get(key), rule, nowMs);
    this.#buckets.set(key, state);
    // Forget buckets that are full again, so the map holds only active callers.
    if (this.#buckets.size > 10_000) this.#sweep(rule, nowMs);
    return Promise.resolve(result);
  }

  #sweep(rule: BucketRule, nowMs: number): void {
    for (const [key, state] of this.#buckets) {
      if (state.tokens + (nowMs - state.updatedMs) * rule.perMinute / 60_000 >= rule.burst) {
        this.#buckets.delete(key);
      }
    }
  }
}

/** The refusal of a call over its caller's limit. */
export interface RateLimited {
  /** Which bucket was empty. */
  bucket: "calls" | "writes";
  /** Milliseconds until the call may be made again. */
  retryAfterMs: number;
  /** One sentence for the caller, with the retry time. */
  message: string;
}

/** Checks each call of a caller against its buckets. */
export class RateLimiter {
  readonly #store: BucketStore;
  readonly #now: () => number;

  /** A limiter over `store` (the clock can be injected for tests). */
  constructor(store: BucketStore, options: { now?: () => number } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Takes a token for one call of `profile` (a write also takes one from the write bucket,
   * checked first so a refused write costs no general token); `undefined` means go ahead.
   */
  async check(
    profile: string,
    rules: RateLimitRules,
    write: boolean,
  ): Promise<RateLimited | undefined> {
    const now = this.#now();
    if (write) {
      const writes = await this.#store.take(`${profile}:writes`, rules.writes, now);
      if (!writes.ok) return refusal("writes", writes.retryAfterMs, rules.writes);
    }
    const calls = await this.#store.take(`${profile}:calls`, rules.calls, now);
    if (!calls.ok) return refusal("calls", calls.retryAfterMs, rules.calls);
    return undefined;
  }
}

function refusal(bucket: "calls" | "writes", retryAfterMs: number, rule: BucketRule): RateLimited {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const what = bucket === "writes" ? "write tool calls" : "tool calls";
  return {
    bucket,
    retryAfterMs,
    message:
      `Rate limit reached: this caller may make at most ${rule.perMinute} ${what} a minute ` +
      `(bursts of ${rule.burst}); nothing was run — try again in ${seconds} s.`,
  };
}
