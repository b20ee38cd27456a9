/**
 * Simulated PVE workers: UPIDs, the task lifecycle and its log.
 *
 * A task is pushed to `state.tasks` as `running` and its UPID is returned at once; the body
 * runs on the next macrotask, logs lines, sleeps on the cluster clock, and the task ends
 * with exactly one final line `TASK OK`, `TASK WARNINGS: n` or `TASK ERROR: <message>` —
 * as `PVE::RESTEnvironment::fork_worker` does.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { AuthInfo, TaskBody, TaskRunner, TaskSpec } from "./router.ts";
import type { SimState, Task } from "./state.ts";
import { formatUpid, type UpidFields } from "./upid.ts";

/** Splits a task user into `user` and `tokenid` (the part after `!`), as PVE's task API does. */
export function splitTaskUser(user: string): { user: string; tokenid?: string } {
  const bang = user.indexOf("!");
  if (bang < 0) return { user };
  return { user: user.slice(0, bang), tokenid: user.slice(bang + 1) };
}

/** The user a task records for this caller: `user@realm`, or the token id `user@realm!name`. */
export function taskUser(auth: AuthInfo): string {
  return auth.kind === "token" && auth.tokenid !== undefined ? auth.tokenid : auth.userid;
}

/** The message a stopped task ends with (PVE's SIGTERM handler in the worker). */
export const INTERRUPT_MESSAGE = "received interrupt";

class TaskInterrupted extends Error {
  constructor() {
    super(INTERRUPT_MESSAGE);
    this.name = "TaskInterrupted";
  }
}

function errorText(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  return raw.replace(/\n+$/, "").replace(/\n/g, " ");
}

/** Runs the simulated cluster's workers. */
export class TaskEngine {
  readonly #state: SimState;
  readonly #clock: Clock;
  readonly #running = new Map<string, Promise<void>>();

  /**
   * @param state the cluster state whose `tasks` list receives every task
   * @param clock the cluster clock task bodies sleep on
   */
  constructor(state: SimState, clock: Clock) {
    this.#state = state;
    this.#clock = clock;
  }

  /** Forks a task: records it as running, schedules the body, returns the UPID at once. */
  start(auth: AuthInfo, spec: TaskSpec, body: TaskBody): string {
    const state = this.#state;
    const starttime = this.#clock.now();
    const pid = state.nextPid++;
    const node = state.nodes.get(spec.node);
    const bootTime = node?.bootTime ?? starttime - 86_400;
    // Clock ticks (100 Hz) since boot when the worker process started.
    const pstart = Math.max(0, (starttime - bootTime) * 100) + (pid % 97);
    const user = taskUser(auth);
    const fields: UpidFields = {
      node: spec.node,
      pid,
      pstart,
      starttime,
      type: spec.type,
      id: spec.id,
      user,
    };
    const upid = formatUpid(fields);
    const task: Task = {
      upid,
      ...fields,
      status: "running",
      log: [],
      abort: new AbortController(),
    };
    state.tasks.push(task);
    const done = this.#run(task, body).finally(() => this.#running.delete(upid));
    this.#running.set(upid, done);
    return upid;
  }

  /** Resolves when the task with this UPID has ended (at once when it is not running). */
  finished(upid: string): Promise<void> {
    return this.#running.get(upid) ?? Promise.resolve();
  }

  /** Stops every running task and waits until all have ended. */
  async shutdown(): Promise<void> {
    for (const task of this.#state.tasks) {
      if (task.status === "running") task.abort.abort();
    }
    this.#clock.wakeAll();
    await Promise.all([...this.#running.values()]);
  }

  /** Adds the warnings injected through the control API for this task's type, if any. */
  #injectWarnings(task: Task, runner: TaskRunner): void {
    const injected = this.#state.taskWarnings;
    const index = injected.findIndex((w) => w.type === task.type || w.type === "*");
    const spec = injected[index];
    if (spec === undefined) return;
    for (const line of spec.lines) runner.warn(line);
    if (spec.remaining !== null && --spec.remaining <= 0) injected.splice(index, 1);
  }

  async #run(task: Task, body: TaskBody): Promise<void> {
    // Next macrotask: the HTTP response with the UPID goes out first.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    let warnings = 0;
    const clock = this.#clock;
    const signal = task.abort.signal;
    const runner: TaskRunner = {
      upid: task.upid,
      signal,
      log(line: string): void {
        for (const part of line.split("\n")) task.log.push(part);
      },
      warn(line: string): void {
        warnings++;
        task.log.push(`WARN: ${line}`);
      },
      sleep(seconds: number): Promise<void> {
        if (signal.aborted) return Promise.reject(new TaskInterrupted());
        return new Promise<void>((resolve, reject) => {
          const onAbort = (): void => reject(new TaskInterrupted());
          signal.addEventListener("abort", onAbort, { once: true });
          clock.sleep(seconds).then(() => {
            signal.removeEventListener("abort", onAbort);
            if (signal.aborted) reject(new TaskInterrupted());
            else resolve();
          });
        });
      },
    };
    let error: string | undefined;
    try {
      if (signal.aborted) throw new TaskInterrupted();
      await body(runner);
      if (signal.aborted) throw new TaskInterrupted();
      this.#injectWarnings(task, runner);
    } catch (e) {
      error = errorText(e);
    }
    if (error !== undefined) {
      task.log.push(`TASK ERROR: ${error}`);
      task.exitstatus = error;
    } else if (warnings > 0) {
      task.log.push(`TASK WARNINGS: ${warnings}`);
      task.exitstatus = `WARNINGS: ${warnings}`;
    } else {
      task.log.push("TASK OK");
      task.exitstatus = "OK";
    }
    task.endtime = this.#clock.now();
    task.status = "stopped";
  }
}
