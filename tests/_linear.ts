/**
 * A scaling check for string processing: run a function on an adversarial input of 1 MB and on
 * one ten times smaller, in the same test run, and fail when the time grows much faster than the
 * input. A linear function takes about 10× as long on the larger input, a quadratic one about
 * 100×; the default bound (40×) leaves room for noise on a shared machine (garbage collection
 * grows with the input too) without letting a quadratic through. Nothing is compared with a wall-clock budget: only the ratio counts.
 *
 * A function that is quadratic is caught on the smaller pair first (100 KB against 10 KB), so a
 * failing check does not spend minutes on the megabyte.
 *
 * @module
 */

import assert from "node:assert/strict";

/** One adversarial input shape: `make(n)` returns a string of about `n` characters. */
export interface Shape {
  /** What the shape is, for the failure message. */
  name: string;
  /** Builds an input of (about) `length` characters. */
  make(length: number): string;
}

/** A shape that repeats `unit` (and ends with `tail`, e.g. a character that makes a match fail). */
export function repeated(unit: string, tail = ""): Shape {
  return {
    name: JSON.stringify(unit) + (tail === "" ? "" : ` + ${JSON.stringify(tail)}`),
    make: (length) => unit.repeat(Math.max(1, Math.ceil(length / unit.length))) + tail,
  };
}

/** Options of {@linkcode assertLinear}. */
export interface LinearOptions {
  /** Size of the large input (default 1 MB of characters). */
  large?: number;
  /** Largest accepted ratio between the times on a 10× larger input (default 40). */
  bound?: number;
}

function minTime(fn: (input: string) => unknown, input: string, runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn(input);
    best = Math.min(best, performance.now() - start);
  }
  // Timers have a resolution; below it a ratio means nothing, so the floor keeps it honest.
  return Math.max(best, 0.05);
}

/** The ratio of the times of `fn` on `big` and on `small` (best of several runs each). */
export function timeRatio(
  fn: (input: string) => unknown,
  small: string,
  big: string,
): number {
  fn(small); // warm up (JIT, regex compilation, caches)
  const smallTime = minTime(fn, small, 5);
  const bigTime = minTime(fn, big, 3);
  return bigTime / smallTime;
}

/**
 * Asserts that `fn` scales linearly on every shape: the time on a `large` input over the time
 * on one ten times smaller stays within `bound`.
 */
export function assertLinear(
  what: string,
  fn: (input: string) => unknown,
  shapes: readonly Shape[],
  options: LinearOptions = {},
): void {
  const large = options.large ?? 1_000_000;
  const bound = options.bound ?? 40;
  for (const shape of shapes) {
    const tiny = shape.make(large / 100);
    const small = shape.make(large / 10);
    const early = timeRatio(fn, tiny, small);
    assert.ok(
      early <= bound,
      `${what} on ${shape.name}: ${early.toFixed(1)}× the time for 10× the input ` +
        `(${small.length} vs ${tiny.length} characters); linear would be about 10×`,
    );
    const big = shape.make(large);
    const ratio = timeRatio(fn, small, big);
    assert.ok(
      ratio <= bound,
      `${what} on ${shape.name}: ${ratio.toFixed(1)}× the time for 10× the input ` +
        `(${big.length} vs ${small.length} characters); linear would be about 10×`,
    );
  }
}
