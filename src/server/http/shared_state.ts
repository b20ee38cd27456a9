/**
 * State that replicas behind one load balancer must share: confirmation states (one key to sign
 * with, each state redeemed once), rate-limit buckets, and which replica holds each 2025-era
 * session. Without Redis it lives in this process: one replica, or several with sticky sessions
 * and limits per replica (the README says so).
 *
 * @module
 */

import { MemoryBucketStore } from "../../policy/rate_limit.ts";
import type { BucketStore } from "../../policy/rate_limit.ts";
import type { ConfirmationStore } from "../confirm.ts";

/** Where the HTTP server keeps what replicas share. */
export interface SharedState {
  /** `memory` (this process) or `redis`. */
  readonly kind: "memory" | "redis";
  readonly buckets: BucketStore;
  readonly confirmations: ConfirmationStore;
  /** Records that this replica (at `replicaUrl`) holds `sessionId`, for `ttlMs`. */
  claimSession(sessionId: string, replicaUrl: string, ttlMs: number): Promise<void>;
  /** The replica holding `sessionId`, if any replica does. */
  sessionOwner(sessionId: string): Promise<string | undefined>;
  /** Forgets `sessionId`. */
  releaseSession(sessionId: string): Promise<void>;
  /** Whether the shared store answers (for `/readyz`). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** State of this process only. */
export function memoryState(): SharedState {
  let key: Promise<CryptoKey> | undefined;
  const redeemed = new Map<string, number>();
  return {
    kind: "memory",
    buckets: new MemoryBucketStore(),
    confirmations: {
      key() {
        key ??= crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
          "sign",
          "verify",
        ]) as Promise<CryptoKey>;
        return key;
      },
      redeem(nonce, expiresAtMs) {
        const now = Date.now();
        for (const [used, until] of redeemed) if (until <= now) redeemed.delete(used);
        if (redeemed.has(nonce)) return Promise.resolve(false);
        redeemed.set(nonce, expiresAtMs);
        return Promise.resolve(true);
      },
    },
    claimSession: () => Promise.resolve(),
    sessionOwner: () => Promise.resolve(undefined),
    releaseSession: () => Promise.resolve(),
    ping: () => Promise.resolve(true),
    close: () => Promise.resolve(),
  };
}
