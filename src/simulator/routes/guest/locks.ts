/**
 * Guest config locks (`lock:`): PVE's `VM is locked (x)` errors, sync or inside a task, and
 * holding a lock for a task.
 *
 * @module
 */

import { dieError } from "../../errors.ts";
import type { Guest } from "../../state.ts";
import type { Kind } from "./kind.ts";

/** `VM is locked (<lock>)` / `CT is locked (<lock>)`, or undefined when unlocked. */
export function lockError(kind: Kind, guest: Guest): string | undefined {
  const lock = guest.config.lock;
  if (lock === undefined || lock === "") return undefined;
  return `${kind.label} is locked (${lock})`;
}

/** Throws a sync 500 when locked (unless skiplock). */
export function assertUnlockedSync(kind: Kind, guest: Guest, skiplock = false): void {
  const msg = skiplock ? undefined : lockError(kind, guest);
  if (msg !== undefined) throw dieError(msg);
}

/** Throws a task error when locked (unless skiplock). */
export function assertUnlockedTask(kind: Kind, guest: Guest, skiplock = false): void {
  const msg = skiplock ? undefined : lockError(kind, guest);
  if (msg !== undefined) throw new Error(msg);
}

/** Sets a lock for the duration of `fn`; clears it afterwards if still ours. */
export async function withLock<T>(guest: Guest, lock: string, fn: () => Promise<T>): Promise<T> {
  guest.config.lock = lock;
  try {
    return await fn();
  } finally {
    if (guest.config.lock === lock) delete guest.config.lock;
  }
}
