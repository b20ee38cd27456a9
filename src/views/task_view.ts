/// <reference lib="dom" />
/**
 * The task view, for `task_get`: a Proxmox VE task's status, its progress (the last percentage
 * its log printed, as PVE's own task viewer shows) and the log tail. While the task runs, the
 * view asks `task_get` again through the host every few seconds, and stops when it has
 * finished or the host removes the view.
 *
 * @module
 */

import { h, replace } from "./_ui/dom.ts";
import { resultText, startView, type ToolResultLike } from "./_ui/app.ts";
import { logProgress } from "./_ui/log_progress.ts";
import { badge, errorBox, note, usageBar } from "./_ui/widgets.ts";

interface Task {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  running: boolean;
  exitstatus?: string;
  task_state?: "ok" | "warnings" | "failed";
  start_time?: string;
  log_tail: string[];
  log_lines_total: number;
}

/** Seconds between refreshes of a running task. */
const REFRESH_SECONDS = 2;

const root = document.getElementById("app") as HTMLElement;
let task: Task | undefined;
let lines: number | undefined;
let failure: string | undefined;
let refreshError: string | undefined;
let refreshedAt: Date | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
let stopped = false;

const view = startView("task view", {
  onInput(args) {
    if (typeof args.lines === "number") lines = args.lines;
  },
  onResult(result: ToolResultLike) {
    const data = result.structuredContent;
    if (result.isError === true || data === undefined || typeof data.upid !== "string") {
      failure = resultText(result) || "The tool returned no task.";
      render();
      return;
    }
    failure = undefined;
    show(data as unknown as Task);
  },
  onTeardown() {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  },
});

function show(next: Task): void {
  task = next;
  render();
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  if (next.running && !stopped) timer = setTimeout(refresh, REFRESH_SECONDS * 1000);
}

async function refresh(): Promise<void> {
  if (task === undefined || stopped) return;
  try {
    const next = await view.call<Task>("task_get", {
      upid: task.upid,
      ...(lines === undefined ? {} : { lines }),
    });
    refreshError = undefined;
    refreshedAt = new Date();
    show(next);
  } catch (error) {
    // One failed refresh is shown, and the next one tried; the last state stays on screen.
    refreshError = error instanceof Error ? error.message : String(error);
    render();
    if (!stopped) timer = setTimeout(refresh, REFRESH_SECONDS * 2 * 1000);
  }
}

function stateBadge(t: Task): HTMLElement {
  if (t.running) return badge("running", "info");
  if (t.task_state === "ok") return badge("OK", "ok");
  if (t.task_state === "warnings") return badge(t.exitstatus ?? "warnings", "warn");
  return badge(t.exitstatus ?? "failed", "crit");
}

function progress(t: Task): HTMLElement {
  const fraction = t.running ? logProgress(t.log_tail) : t.task_state === "failed" ? undefined : 1;
  const text = t.running
    ? (fraction === undefined ? "running" : `${(fraction * 100).toFixed(1)}%`)
    : t.task_state === "failed"
    ? "failed"
    : "done";
  return usageBar("Progress", { fraction, text });
}

function render(): void {
  if (failure !== undefined) {
    replace(root, errorBox(failure));
    return;
  }
  if (task === undefined) {
    replace(root, note("Waiting for the task…"));
    return;
  }
  const t = task;
  const started = t.start_time === undefined
    ? undefined
    : `started ${t.start_time.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC")}`;
  replace(
    root,
    h(
      "header",
      { class: "top" },
      h("h1", {}, `${t.type} ${t.id}`),
      stateBadge(t),
      h(
        "span",
        { class: "sub" },
        [`on ${t.node}`, `by ${t.user}`, started].filter(Boolean).join(" · "),
      ),
    ),
    h("div", { class: "bars" }, progress(t)),
    h(
      "section",
      { class: "panel log", "aria-label": "Task log" },
      h(
        "div",
        { class: "top" },
        h("h2", {}, "Log"),
        h(
          "span",
          { class: "sub" },
          t.log_lines_total > t.log_tail.length
            ? `last ${t.log_tail.length} of ${t.log_lines_total} lines`
            : `${t.log_lines_total} line(s)`,
        ),
      ),
      t.log_tail.length === 0
        ? note("The task has written no log yet.")
        : h("pre", { class: "mono log-lines" }, t.log_tail.join("\n")),
    ),
    h(
      "footer",
      { class: "sub" },
      h("span", { class: "mono upid" }, t.upid),
      t.running
        ? ` · refreshing every ${REFRESH_SECONDS} s${
          refreshedAt !== undefined ? `, last at ${refreshedAt.toLocaleTimeString()}` : ""
        }`
        : undefined,
    ),
    refreshError === undefined ? undefined : note(`Refresh failed: ${refreshError}`),
  );
}

render();
