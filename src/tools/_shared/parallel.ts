/**
 * Parallel requests of one tool call that fail together: when one fails, the others are
 * aborted, so no request of a failed call keeps running and its late answer cannot land in
 * (or be mistaken for part of) the next call.
 *
 * @module
 */

/**
 * Runs every `task` with a signal that aborts when `signal` does or when any task fails; the
 * first failure is thrown once the others have been told to stop.
 *
 * @example
 * ```ts
 * const [status, config] = await allOrAbort(ctx.signal, [
 *   (signal) => ctx.client.get(`${base}/status/current`, undefined, { signal }),
 *   (signal) => ctx.client.get(`${base}/config`, undefined, { signal }),
 * ]);
 * ```
 */
export async function allOrAbort<const T extends readonly unknown[]>(
  signal: AbortSignal,
  tasks: { [K in keyof T]: (signal: AbortSignal) => Promise<T[K]> },
): Promise<T> {
  const siblings = new AbortController();
  const linked = AbortSignal.any([signal, siblings.signal]);
  const running = tasks.map((task) => task(linked));
  try {
    return await Promise.all(running) as unknown as T;
  } catch (error) {
    siblings.abort(new DOMException("A parallel request of this call failed", "AbortError"));
    for (const promise of running) promise.catch(() => {});
    throw error;
  }
}
