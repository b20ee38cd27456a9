/**
 * Simulated time. Wall time runs at the real rate (so a ticket lives 7200 real seconds
 * unless the clock is advanced); task work is scaled by `speed` so that tests finish
 * instantly and demos show visible progress. `advance()` moves simulated time forward and
 * wakes every sleeper whose deadline has passed.
 *
 * @module
 */

/** How fast task work runs: a multiplier of real time, or `"instant"` (no waiting). */
export type Speed = number | "instant";

interface Sleeper {
  deadline: number;
  resolve: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A clock shared by the whole simulated cluster. */
export class Clock {
  #offsetMs = 0;
  #speed: Speed;
  #sleepers = new Set<Sleeper>();
  readonly #startMs: number;

  /**
   * @param speed task speed factor
   * @param startEpochSeconds simulated start time (defaults to the real time)
   */
  constructor(speed: Speed = 1, startEpochSeconds?: number) {
    this.#speed = speed;
    this.#startMs = Date.now();
    if (startEpochSeconds !== undefined) {
      this.#offsetMs = startEpochSeconds * 1000 - this.#startMs;
    }
  }

  /** The task speed factor. */
  get speed(): Speed {
    return this.#speed;
  }

  /** Current simulated time in milliseconds since the epoch. */
  nowMs(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Current simulated time in whole seconds since the epoch (PVE's unit). */
  now(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Moves simulated time forward by `seconds` and wakes sleepers that are due. */
  advance(seconds: number): void {
    this.#offsetMs += seconds * 1000;
    const now = this.nowMs();
    for (const sleeper of [...this.#sleepers]) {
      if (sleeper.deadline <= now) this.#wake(sleeper);
    }
  }

  /**
   * Sleeps for `seconds` of task work: `seconds / speed` real seconds, at once when the
   * speed is `"instant"`, or earlier when {@linkcode advance} passes the deadline.
   */
  sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        deadline: this.nowMs() + seconds * 1000,
        resolve,
        timer: undefined,
      };
      const realMs = this.#speed === "instant" ? 0 : (seconds * 1000) / Math.max(this.#speed, 1e-9);
      this.#sleepers.add(sleeper);
      sleeper.timer = setTimeout(() => this.#wake(sleeper), realMs);
    });
  }

  /** Wakes all sleepers (used when the cluster shuts down). */
  wakeAll(): void {
    for (const sleeper of [...this.#sleepers]) this.#wake(sleeper);
  }

  #wake(sleeper: Sleeper): void {
    if (!this.#sleepers.delete(sleeper)) return;
    if (sleeper.timer !== undefined) clearTimeout(sleeper.timer);
    sleeper.resolve();
  }
}
