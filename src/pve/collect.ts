/**
 * A hint to the garbage collector after a large answer (a 10,000-guest `/cluster/resources` is
 * about 3 MB of text and 10,000 parsed objects). Back-to-back inventory calls otherwise let V8
 * grow the heap by tens of megabytes per call before it collects; one full collection shortly
 * after a large answer has been used keeps the process near its working size. It runs only when
 * the process was started with `--v8-flags=--expose-gc` (the tasks and the compiled binary are);
 * answers arriving together share one collection.
 *
 * @module
 */

/** Answers at least this large (characters of text) are followed by a collection. */
export const LARGE_ANSWER = 1024 * 1024;

/** How soon after a large answer the collection runs (the tool is done with it by then). */
const DELAY_MS = 20;

let timer: ReturnType<typeof setTimeout> | undefined;

/** Schedules one collection shortly after a large answer (a no-op without the hook). */
export function collectAfterLargeAnswer(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function" || timer !== undefined) return;
  timer = setTimeout(() => {
    timer = undefined;
    gc();
  }, DELAY_MS);
  // A pending hint must not keep the process alive.
  Deno.unrefTimer(timer);
}
