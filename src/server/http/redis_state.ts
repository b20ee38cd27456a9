/**
 * {@link SharedState} in Redis (`http.redisUrl`), through the official client core
 * (`@redis/client`). Every decision that must hold across replicas is one atomic Redis step:
 * `SET NX` for the shared signing key and for redeeming a confirmation state, and one Lua
 * script per token bucket (the same arithmetic as `policy/rate_limit.ts`, on Redis's clock so
 * replicas with skewed clocks still agree).
 *
 * @module
 */

import { createClient } from "@redis/client";
import type { BucketRule } from "../../policy/profile.ts";
import type { TakeResult } from "../../policy/rate_limit.ts";
import { getLog } from "../../log.ts";
import { redactText } from "../../redact.ts";
import type { SharedState } from "./shared_state.ts";

const PREFIX = "proxmox-mcp:";
const log = getLog("server.http.redis");

/** One token bucket step: refill since the last call, take one token, or say when one is back. */
const BUCKET_SCRIPT = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local per_ms = tonumber(ARGV[1]) / 60000
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = burst
if state[1] then
  local elapsed = math.max(0, now - tonumber(state[2]))
  tokens = math.min(burst, tonumber(state[1]) + elapsed * per_ms)
end
local ok = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
else
  retry = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / per_ms) + 1000)
return {ok, retry}
`;

/** The password of a Redis URL, to scrub from any message. */
function urlSecret(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.password === "" ? undefined : decodeURIComponent(parsed.password);
  } catch {
    return undefined;
  }
}

/** The URL without its password, for messages. */
export function shownRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.href;
  } catch {
    return "the configured Redis URL";
  }
}

/**
 * Connects to Redis and returns the shared state.
 *
 * @throws {Error} saying which Redis could not be reached (password hidden).
 */
export async function redisState(url: string): Promise<SharedState> {
  const client = createClient({
    url,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries) => Math.min(retries * 200, 2000) },
  });
  const secret = urlSecret(url);
  const clean = (text: string) => {
    const scrubbed = secret === undefined ? text : text.replaceAll(secret, "***");
    return redactText(scrubbed);
  };
  let lastError = "";
  client.on("error", (error: unknown) => {
    const message = clean(error instanceof Error ? error.message : String(error));
    if (message !== lastError) log.warning("Redis: {message}", { message });
    lastError = message;
  });
  try {
    await client.connect();
  } catch (error) {
    const detail = clean(error instanceof Error ? error.message : String(error));
    client.destroy();
    throw new Error(`Cannot connect to Redis at ${shownRedisUrl(url)}: ${detail}`);
  }

  let key: Promise<CryptoKey> | undefined;
  const loadKey = async (): Promise<CryptoKey> => {
    const name = `${PREFIX}confirm-key`;
    const fresh = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    await client.set(name, fresh, { NX: true });
    const shared = await client.get(name);
    if (typeof shared !== "string") throw new Error("Redis lost the confirmation signing key");
    const raw = Uint8Array.from(atob(shared), (char) => char.charCodeAt(0));
    return await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
  };

  return {
    kind: "redis",
    buckets: {
      async take(bucket: string, rule: BucketRule): Promise<TakeResult> {
        const reply = await client.eval(BUCKET_SCRIPT, {
          keys: [`${PREFIX}bucket:${bucket}`],
          arguments: [String(rule.perMinute), String(rule.burst)],
        }) as [number, number];
        return { ok: Number(reply[0]) === 1, retryAfterMs: Number(reply[1]) };
      },
    },
    confirmations: {
      key() {
        key ??= loadKey().catch((error) => {
          key = undefined;
          throw error;
        });
        return key;
      },
      async redeem(nonce, expiresAtMs) {
        const ttl = Math.max(1000, expiresAtMs - Date.now());
        const reply = await client.set(`${PREFIX}redeemed:${nonce}`, "1", { NX: true, PX: ttl });
        return reply === "OK";
      },
    },
    async claimSession(sessionId, replicaUrl, ttlMs) {
      await client.set(`${PREFIX}session:${sessionId}`, replicaUrl, { PX: ttlMs });
    },
    async sessionOwner(sessionId) {
      const owner = await client.get(`${PREFIX}session:${sessionId}`);
      return typeof owner === "string" ? owner : undefined;
    },
    async releaseSession(sessionId) {
      await client.del(`${PREFIX}session:${sessionId}`);
    },
    async ping() {
      try {
        return await client.ping() === "PONG";
      } catch {
        return false;
      }
    },
    async close() {
      try {
        await client.close();
      } catch {
        client.destroy();
      }
    },
  };
}
