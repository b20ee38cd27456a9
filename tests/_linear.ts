/**
 * A scaling check for string processing: run a function on an adversarial input of 1 MB and on
 * one ten times smaller, in the same test run, and fail when the time grows much faster than the
 * input. A linear function takes about 10× as long on the larger input, a quadratic one about
 * 100×; the default bound (40×) leaves room for noise on a shared machine (garbage collection
 * grows with the input too) without letting a quadratic through. Nothing is compared with a wall-clock budget: only the ratio counts.
 *
 * A function that is quadratic is caught on the smaller pair first (100 KB against 10 KB), so a
 * failing check does not spend minutes on the megabyte. Where both times are microseconds the
 * ratio is noise; the call is then weighed against one plain scan of the same input instead.
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

/** The best time of one call over `runs` measurements of `reps` calls each. */
function perCall(
  fn: (input: string) => unknown,
  input: string,
  reps: number,
  runs: number,
): number {
  let best = Infinity;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) fn(input);
    best = Math.min(best, performance.now() - start);
  }
  return best / reps;
}

/** Calls per measurement so one measurement of `input` takes at least a few milliseconds. */
function calibrate(fn: (input: string) => unknown, input: string): number {
  let reps = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) fn(input);
    const took = performance.now() - start;
    if (took >= 2 || reps >= 4096) return reps;
    reps *= took < 0.5 ? 8 : 2;
  }
}

/**
 * The ratio of the time of one call of `fn` on `big` to one on `small` (best of several
 * measurements; a fast function is called repeatedly per measurement, so timer resolution and
 * scheduling noise do not decide the ratio).
 */
export function timeRatio(
  fn: (input: string) => unknown,
  small: string,
  big: string,
): number {
  const reps = calibrate(fn, small); // also warms up (JIT, regex compilation, caches)
  const bigReps = Math.max(1, Math.round(reps * small.length / big.length));
  const smallTime = perCall(fn, small, reps, 3);
  const bigTime = perCall(fn, big, bigReps, 2);
  return bigTime / smallTime;
}

/** One pass over the text: the yardstick of linear work on an input. */
function scan(text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) sum = (sum + text.charCodeAt(i)) | 0;
  return sum;
}

/** How many single scans of the input one call of `fn` on it costs (same run, same input). */
export function scanRatio(fn: (input: string) => unknown, input: string): number {
  const reps = calibrate(fn, input);
  const fnTime = perCall(fn, input, reps, 2);
  const scanReps = calibrate(scan, input);
  return fnTime / perCall(scan, input, scanReps, 2);
}

/** A call on 1 MB that costs at most this many scans of it is linear whatever the ratio says. */
const SCANS_BOUND = 200;

/**
 * Asserts that `fn` scales linearly on every shape: the time on a `large` input over the time
 * on one ten times smaller stays within `bound`. Where that ratio is noise (a call that takes
 * microseconds on both), the call on the large input is instead compared with a single scan
 * over it: at most {@linkcode SCANS_BOUND} scans is linear work (a quadratic function on 1 MB
 * costs hundreds of thousands).
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
    if (early > bound && scanRatio(fn, small) > SCANS_BOUND) {
      assert.fail(
        `${what} on ${shape.name}: ${early.toFixed(1)}× the time for 10× the input ` +
          `(${small.length} vs ${tiny.length} characters); linear would be about 10×`,
      );
    }
    const big = shape.make(large);
    const ratio = timeRatio(fn, small, big);
    if (ratio > bound) {
      const scans = scanRatio(fn, big);
      assert.ok(
        scans <= SCANS_BOUND,
        `${what} on ${shape.name}: ${ratio.toFixed(1)}× the time for 10× the input ` +
          `(${big.length} vs ${small.length} characters; linear would be about 10×), and one ` +
          `call costs ${Math.round(scans)} scans of the input`,
      );
    }
  }
}
