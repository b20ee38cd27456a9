/**
 * The Deno flags the server runs with (the tasks, the printed client configurations, the
 * compiled binary):
 *
 * - {@linkcode V8_FLAGS}: a small young generation (1 MB semi-spaces instead of up to 16 MB) and
 *   an exposed collector, which `src/pve/collect.ts` calls once after a large answer. Together
 *   they keep a long session near its working size: on a 10,000-guest cluster, 50 inventory
 *   calls in a row end at about 120 MiB instead of 330 (`deno task bench:memory`).
 * - {@linkcode LAZY_IMPORTS}: Deno loads the module graph of a dynamic import when it runs
 *   instead of walking every one before the first line, so `serve` answers its first requests
 *   in about 1.3× Deno's own start-up instead of 2.5× (`deno task bench:start`). The price is
 *   read access to the program's own files ({@linkcode programDir}).
 *
 * Without them everything works, slower and with more memory.
 *
 * @module
 */

/** The V8 flags as `deno run` and `deno compile` take them. */
export const V8_FLAGS = "--v8-flags=--expose-gc,--max-semi-space-size=1";

/** Deno's flag for loading dynamic imports on use (`deno run` only; a binary embeds them). */
export const LAZY_IMPORTS = "--unstable-lazy-dynamic-imports";

/**
 * The directory holding `main` (a local path), which `deno run` with {@linkcode LAZY_IMPORTS}
 * must be allowed to read; `undefined` for a remote `main`, which is run without the flag.
 */
export function programDir(main: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(main)) return undefined;
  const cut = Math.max(main.lastIndexOf("/"), main.lastIndexOf("\\"));
  return cut <= 0 ? (cut === 0 ? "/" : ".") : main.slice(0, cut);
}
