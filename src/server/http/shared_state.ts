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
import { type ConfirmationStore, memoryConfirmationStore } from "../confirm.ts";

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
  return {
    kind: "memory",
    buckets: new MemoryBucketStore(),
    confirmations: memoryConfirmationStore(),
    claimSession: () => Promise.resolve(),
    sessionOwner: () => Promise.resolve(undefined),
    releaseSession: () => Promise.resolve(),
    ping: () => Promise.resolve(true),
    close: () => Promise.resolve(),
  };
}
