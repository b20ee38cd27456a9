/**
 * The V8 flags the server runs with (the tasks, the printed client configurations, the compiled
 * binary): a small young generation (1 MB semi-spaces instead of up to 16 MB) and an exposed
 * collector, which `src/pve/collect.ts` calls once after a large answer. Together they keep a
 * long session near its working size: on a 10,000-guest cluster, 50 inventory calls in a row
 * end at about 120 MiB instead of 270 (`deno task bench:memory`). Without them everything
 * works, with more memory.
 *
 * @module
 */

/** The flag as `deno run` and `deno compile` take it. */
export const V8_FLAGS = "--v8-flags=--expose-gc,--max-semi-space-size=1";
