/**
 * The usage error of every command, apart from the parser so that modules reporting failures
 * (`_runtime.ts`) do not load `node:util`.
 *
 * @module
 */

/** A command-line mistake: one line on stderr and exit code 2. */
export class UsageError extends Error {
  /** A usage error with a message saying what to do. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
