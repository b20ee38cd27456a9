/**
 * The log levels, from most to least verbose: the logger's and the configuration's one list.
 *
 * @module
 */

/** The log levels accepted by `configureLogging` (`log.ts`), from most to least verbose. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevelName = typeof LOG_LEVELS[number];
