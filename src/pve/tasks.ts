/**
 * Waiting for PVE tasks (FACTS §4, §6.3).
 *
 * {@linkcode waitForTask} polls `GET /nodes/{node}/tasks/{upid}/status` (fast at first,
 * backing off to ~2 s), reads the log incrementally with `start=N`, reports every new log
 * line (and a percentage where PVE logs one) through `onProgress`, and returns a
 * discriminated {@linkcode TaskOutcome}. It does not throw when the task fails: a failed
 * task is an outcome (`state: "failed"`) that callers usually turn into a tool result; use
 * {@linkcode assertTaskSucceeded} to throw a {@linkcode PveTaskError} instead. On timeout
 * or abort it stops waiting and returns the UPID — the task keeps running on the cluster.
 *
 * A status poll that fails transiently (connection, timeout, 5xx after the client's own
 * retries) is tolerated a few times in a row; ticket renewal and re-login happen inside the
 * client and are invisible here.
 *
 * @module
 */

import {
  describeGuestLock,
  guestLockOf,
  PveAuthError,
  PveError,
  PveNotFoundError,
  PveTaskError,
  PveValidationError,
} from "./errors.ts";
import type { TaskLogLine, TaskStatus } from "./coerce.ts";
import { parseUpid, type Upid } from "./upid.ts";

/** One progress report: a new log line, with a percentage when the line carries one. */
export interface TaskProgress {
  /** The task's UPID. */
  upid: string;
  /** The new log line. */
  line: string;
  /** 1-based line number in the task log. */
  lineNumber: number;
  /** Percentage (0–100) parsed from this line, when PVE logs one. */
  percent?: number;
}

/** Fields every outcome has. */
interface OutcomeBase {
  /** The task's UPID. */
  upid: string;
  /** Node the task runs on. */
  node: string;
  /** Worker type, e.g. `qmstart`. */
  type: string;
  /** Worker id, usually the vmid. */
  id: string;
  /** The last lines of the task log (up to 20). */
  logTail: string[];
  /** `WARN:` lines seen in the log. */
  warnings: string[];
}

/**
 * How waiting for a task ended.
 * - `ok`: exit status `OK`;
 * - `warnings`: exit status `WARNINGS: n` — a success, with `warnings` worth showing;
 * - `failed`: any other exit status (the task's error text) — see {@linkcode assertTaskSucceeded};
 * - `timeout` / `aborted`: stopped waiting; the task may still be running.
 */
export type TaskOutcome =
  | OutcomeBase & { state: "ok"; exitstatus: string }
  | OutcomeBase & { state: "warnings"; exitstatus: string; warningCount: number }
  | OutcomeBase & {
    state: "failed";
    exitstatus: string;
    /** The guest lock that made the task fail (`VM is locked (backup)` ⇒ `backup`). */
    lock?: string;
  }
  | OutcomeBase & { state: "timeout"; waitedMs: number }
  | OutcomeBase & { state: "aborted" };

/** Options of {@linkcode waitForTask}. */
export interface WaitForTaskOptions {
  /** Give up waiting after this long (default 600 000 ms); returns `state: "timeout"`. */
  timeoutMs?: number;
  /** Stop waiting when aborted; returns `state: "aborted"`. */
  signal?: AbortSignal;
  /** Called for every new log line, in order. */
  onProgress?: (progress: TaskProgress) => void;
  /** Successive waits between polls in ms; the last one repeats (default 250, 500, 1000, 1000, 2000). */
  pollIntervalsMs?: number[];
  /** Consecutive failed polls tolerated before giving up (default 5). */
  maxPollFailures?: number;
}

/** What {@linkcode waitForTask} needs from the client. */
export interface TaskApi {
  /** `GET /nodes/{node}/tasks/{upid}/status`, coerced. */
  taskStatus(node: string, upid: string, signal: AbortSignal | undefined): Promise<TaskStatus>;
  /** `GET /nodes/{node}/tasks/{upid}/log?start=N&limit=0`, coerced. */
  taskLog(
    node: string,
    upid: string,
    start: number,
    signal: AbortSignal | undefined,
  ): Promise<TaskLogLine[]>;
}

const DEFAULT_INTERVALS = [250, 500, 1000, 1000, 2000];
const TAIL = 20;
const WARNINGS_RE = /^WARNINGS: (\d+)$/;

/** Whether an exit status means success (`OK` or `WARNINGS: n`), as `PVE::UPID::status_is_error`. */
export function isTaskSuccess(exitstatus: string): boolean {
  return exitstatus === "OK" || WARNINGS_RE.test(exitstatus);
}

/**
 * Extracts a progress percentage from one task log line, for the formats PVE logs:
 * clone/move `transferred 2.0 GiB of 32.0 GiB (6.25%)`, vzdump `INFO:  10% (…)`,
 * restore `progress 45% (…)`, and download lines ending in `NN%` / `NN.NN%`.
 */
export function parseProgressPercent(line: string, taskType?: string): number | undefined {
  const patterns = [
    /transferred .* \((\d+(?:\.\d+)?)%\)/,
    /^INFO:\s+(\d+(?:\.\d+)?)%\s/,
    /^progress (\d+(?:\.\d+)?)%/,
  ];
  if (taskType === "download" || taskType === "imgcopy") {
    patterns.push(/(\d+(?:\.\d+)?)%(?:\s|$)/);
  }
  for (const re of patterns) {
    const m = re.exec(line);
    if (m?.[1] !== undefined) {
      const percent = Number(m[1]);
      if (percent >= 0 && percent <= 100) return percent;
    }
  }
  return undefined;
}

/**
 * Throws a {@linkcode PveTaskError} (with UPID, exit status and log tail) unless the task
 * ended `ok` or `warnings`; timeouts and aborts are thrown as well, with the UPID to wait on.
 */
export function assertTaskSucceeded(
  outcome: TaskOutcome,
): asserts outcome is Extract<TaskOutcome, { state: "ok" | "warnings" }> {
  if (outcome.state === "ok" || outcome.state === "warnings") return;
  const tail = outcome.logTail.slice(-5).join(" | ");
  const details = {
    upid: outcome.upid,
    node: outcome.node,
    logTail: outcome.logTail,
    exitstatus: outcome.state === "failed" ? outcome.exitstatus : outcome.state,
  };
  if (outcome.state === "failed") {
    const locked = guestLockOf(outcome.exitstatus);
    const vmid = /^\d+$/.test(outcome.id) ? Number(outcome.id) : undefined;
    throw new PveTaskError(
      `Task ${outcome.type} ${outcome.id} on node "${outcome.node}" failed: ${outcome.exitstatus}` +
        (locked === undefined
          ? ""
          : `: ${describeGuestLock(locked.lock, locked.guestType, vmid)}`) +
        (tail === "" ? "" : `. Log tail: ${tail}`),
      { ...details, ...(locked === undefined ? {} : { lock: locked.lock }) },
    );
  }
  throw new PveTaskError(
    `Task ${outcome.type} ${outcome.id} on node "${outcome.node}" is still running ` +
      `(stopped waiting: ${outcome.state}): wait again for ${outcome.upid}`,
    details,
  );
}

function isTransient(error: unknown): boolean {
  if (!(error instanceof PveError)) return false;
  if (error instanceof PveAuthError || error instanceof PveValidationError) return false;
  if (error instanceof PveNotFoundError) return false;
  if (error.status === undefined) return true; // connection or timeout
  return error.status >= 500 || error.status === 429;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Waits for a task; see the module documentation.
 *
 * @throws {PveValidationError} when `upid` does not parse; `PveUnknownTaskError` (a
 * `PveValidationError`) when PVE does not know the task.
 * @throws {PveError} when polling keeps failing or authentication fails.
 */
export async function waitForTask(
  api: TaskApi,
  upid: string,
  options: WaitForTaskOptions = {},
): Promise<TaskOutcome> {
  const parsed: Upid = parseUpid(upid);
  const intervals = options.pollIntervalsMs !== undefined && options.pollIntervalsMs.length > 0
    ? options.pollIntervalsMs
    : DEFAULT_INTERVALS;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const maxFailures = options.maxPollFailures ?? 5;
  const started = performance.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  const signals = [deadline.signal, ...(options.signal === undefined ? [] : [options.signal])];
  const stop = AbortSignal.any(signals);

  const tail: string[] = [];
  const warnings: string[] = [];
  let logStart = 0;
  let failures = 0;
  let poll = 0;
  const base = () => ({
    upid,
    node: parsed.node,
    type: parsed.type,
    id: parsed.id,
    logTail: [...tail],
    warnings: [...warnings],
  });

  const readLog = async (): Promise<void> => {
    const lines = await api.taskLog(parsed.node, upid, logStart, stop);
    if (
      logStart === 0 && lines.length === 1 && lines[0]?.n === 1 && lines[0].t === "no content"
    ) return;
    for (const { n, t } of lines) {
      if (n <= logStart) continue;
      logStart = n;
      tail.push(t);
      if (tail.length > TAIL) tail.shift();
      if (/^WARN(?:ING)?: /.test(t)) warnings.push(t.replace(/^WARN(?:ING)?: /, ""));
      const percent = parseProgressPercent(t, parsed.type);
      options.onProgress?.({
        upid,
        line: t,
        lineNumber: n,
        ...(percent === undefined ? {} : { percent }),
      });
    }
  };

  const stopped = (): TaskOutcome | undefined => {
    if (options.signal?.aborted) return { ...base(), state: "aborted" };
    if (deadline.signal.aborted) {
      return { ...base(), state: "timeout", waitedMs: Math.round(performance.now() - started) };
    }
    return undefined;
  };

  try {
    for (;;) {
      const early = stopped();
      if (early !== undefined) return early;
      let status: TaskStatus;
      try {
        status = await api.taskStatus(parsed.node, upid, stop);
        await readLog();
        failures = 0;
      } catch (error) {
        const interrupted = stopped();
        if (interrupted !== undefined) return interrupted;
        if (!isTransient(error) || ++failures > maxFailures) throw error;
        await sleep(intervals[Math.min(poll++, intervals.length - 1)] ?? 1000, stop);
        continue;
      }
      if (status.status !== "running") {
        const exitstatus = status.exitstatus ?? "unexpected status";
        const warn = WARNINGS_RE.exec(exitstatus);
        if (exitstatus === "OK") return { ...base(), state: "ok", exitstatus };
        if (warn !== null) {
          return {
            ...base(),
            state: "warnings",
            exitstatus,
            warningCount: Number(warn[1]),
          };
        }
        const lock = guestLockOf(exitstatus)?.lock;
        return { ...base(), state: "failed", exitstatus, ...(lock === undefined ? {} : { lock }) };
      }
      await sleep(intervals[Math.min(poll++, intervals.length - 1)] ?? 1000, stop);
    }
  } finally {
    clearTimeout(timer);
  }
}
