/**
 * The development configuration (`deno.dev.json`: the runtime imports plus the test-only
 * packages). A test that runs one of the tests' own scripts in a subprocess passes it, since a
 * plain `deno run` would use `deno.json`, which lists only what the server needs.
 *
 * @module
 */

/** `--config <deno.dev.json>` for `deno run` of a test script. */
export const DEV_CONFIG: readonly string[] = [
  "--config",
  new URL("../deno.dev.json", import.meta.url).pathname,
];
