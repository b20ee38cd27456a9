import assert from "node:assert/strict";
import { backoffDelay, isRetryableStatus, parseRetryAfter, shouldRetry } from "./retry.ts";
import { PveConnectionError, PveError, PveTlsError, PveValidationError } from "./errors.ts";

Deno.test("only GETs are retried, and only on transient failures", () => {
  const conn = new PveConnectionError("x");
  assert.equal(shouldRetry("GET", conn), true);
  for (const m of ["POST", "PUT", "DELETE"]) assert.equal(shouldRetry(m, conn), false);
  assert.equal(shouldRetry("GET", new PveTlsError("x")), false);
  assert.equal(shouldRetry("GET", new PveValidationError("x", { status: 400 })), false);
  assert.equal(shouldRetry("GET", new PveError("x", { status: 500 })), false);
  assert.equal(shouldRetry("GET", new PveError("x", { status: 503 })), true);
  for (const s of [429, 502, 503, 504, 595, 596, 599]) {
    assert.equal(isRetryableStatus(s), true, String(s));
  }
  for (const s of [400, 401, 403, 500, 501, 594]) {
    assert.equal(isRetryableStatus(s), false, String(s));
  }
});

Deno.test("Retry-After is read as seconds or as an HTTP date", () => {
  assert.equal(parseRetryAfter("3"), 3000);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter("soon"), undefined);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:00 GMT", now + 10), 0);
});

Deno.test("backoff grows, is jittered, honours Retry-After and is capped", () => {
  const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelay(0, { ...opts, random: () => 0 }), 50);
  assert.equal(backoffDelay(0, { ...opts, random: () => 1 }), 100);
  assert.equal(backoffDelay(2, { ...opts, random: () => 1 }), 400);
  assert.equal(backoffDelay(10, { ...opts, random: () => 1 }), 1000);
  assert.equal(backoffDelay(0, { ...opts, random: () => 0, retryAfterMs: 700 }), 700);
  assert.equal(backoffDelay(0, { ...opts, retryAfterMs: 5000 }), 1000);
});
