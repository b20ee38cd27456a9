import assert from "node:assert/strict";
import { MemoryBucketStore, RateLimiter, takeToken } from "./rate_limit.ts";

const RULES = { calls: { perMinute: 60, burst: 2 }, writes: { perMinute: 6, burst: 1 } };

Deno.test("a token bucket starts full, empties, and refills at its rate", () => {
  const rule = { perMinute: 60, burst: 2 };
  let step = takeToken(undefined, rule, 0);
  assert.deepEqual(step.result, { ok: true, retryAfterMs: 0 });
  step = takeToken(step.state, rule, 0);
  assert.equal(step.result.ok, true);
  step = takeToken(step.state, rule, 0);
  assert.deepEqual(step.result, { ok: false, retryAfterMs: 1000 });
  step = takeToken(step.state, rule, 400);
  assert.deepEqual(step.result, { ok: false, retryAfterMs: 600 });
  step = takeToken(step.state, rule, 1000);
  assert.equal(step.result.ok, true);
  step = takeToken(step.state, rule, 60_000);
  assert.equal(step.state.tokens, 1, "never more than the burst");
});

Deno.test("the limiter checks the write bucket first, so a refused write costs no general token", async () => {
  let now = 0;
  const limiter = new RateLimiter(new MemoryBucketStore(), { now: () => now });
  assert.equal(await limiter.check("ops", RULES, true), undefined);
  const refused = await limiter.check("ops", RULES, true);
  assert.equal(refused?.bucket, "writes");
  assert.equal(refused?.retryAfterMs, 10_000);
  assert.match(
    refused?.message ?? "",
    /at most 6 write tool calls a minute \(bursts of 1\); nothing was run — try again in 10 s\./,
  );
  assert.equal(
    await limiter.check("ops", RULES, false),
    undefined,
    "the calls bucket still has one",
  );
  assert.equal((await limiter.check("ops", RULES, false))?.bucket, "calls");
  assert.equal(
    await limiter.check("viewer", RULES, false),
    undefined,
    "each caller has its own buckets",
  );
  now = 10_000;
  assert.equal(await limiter.check("ops", RULES, true), undefined);
});
