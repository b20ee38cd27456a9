/**
 * The signals that ask a long-running command (`serve`, `serve --http`, `simulator`) to stop:
 * SIGINT and SIGTERM (SIGINT alone on Windows, which has no SIGTERM listener).
 *
 * @module
 */

/** A pending stop request; `dispose` removes the listeners. */
export interface StopSignal {
  /** Resolves with the signal's name when one arrives. */
  stopped: Promise<string>;
  /** Stops listening. */
  dispose(): void;
}

/** Starts listening for SIGINT/SIGTERM. */
export function onStopSignal(): StopSignal {
  const { promise, resolve } = Promise.withResolvers<string>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => resolve(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return {
    stopped: promise,
    dispose() {
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    },
  };
}
