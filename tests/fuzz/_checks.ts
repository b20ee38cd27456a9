/**
 * The verdicts of the fuzz run on one answer: is a refusal one actionable sentence, is a
 * JSON-RPC error one bounded line, and did the calls the simulator served stay inside
 * `/api2/json`, pass PVE's validation and send each write once.
 *
 * @module
 */

import type { SimRequest } from "./_targets.ts";

/** The checks the fuzz run makes, each counted in the figures. */
export type CheckName =
  | "crash"
  | "unanswered"
  | "unexpected_reply"
  | "non_actionable"
  | "internal_error"
  | "sent_bad_input"
  | "pve_400"
  | "outside_api"
  | "write_twice"
  | "retry_advice_on_unknown_write"
  | "slow_beside_pathological"
  | "client_rejected"
  | "silent_rewrite"
  | "stale_verdict";

/** Every check, in report order. */
export const CHECK_NAMES: readonly CheckName[] = [
  "crash",
  "unanswered",
  "unexpected_reply",
  "non_actionable",
  "internal_error",
  "sent_bad_input",
  "pve_400",
  "outside_api",
  "write_twice",
  "retry_advice_on_unknown_write",
  "slow_beside_pathological",
  "client_rejected",
  "silent_rewrite",
  "stale_verdict",
];

/** Longest refusal sentence accepted: a bounded prefix of any input, never the input. */
export const MAX_REFUSAL_CHARS = 1_200;
/** Longest JSON-RPC error message accepted. */
export const MAX_RPC_ERROR_CHARS = 600;

/** Where a failed task's log tail starts in an error text (the tail may span lines). */
const LOG_TAIL = "\nTask log (last lines):\n";

/**
 * Words that name a next step. The last sentence of a refusal must hold one (or a tool name,
 * which is how the server points at the next call).
 */
const NEXT_STEP = new RegExp(
  "\\b(" + [
    "add",
    "allow",
    "ask",
    "bring",
    "call",
    "change",
    "check",
    "choose",
    "clone",
    "copy",
    "configure",
    "confirm",
    "correct",
    "create",
    "delete",
    "drop",
    "enable",
    "fix",
    "follow",
    "free",
    "give",
    "grant",
    "increase",
    "install",
    "join",
    "leave",
    "list",
    "look",
    "lower",
    "move",
    "omit",
    "pass",
    "pick",
    "raise",
    "read",
    "reduce",
    "remove",
    "rename",
    "repeat",
    "resize",
    "restore",
    "restart",
    "retry",
    "run",
    "say",
    "see",
    "select",
    "send",
    "set",
    "shorten",
    "shut",
    "specify",
    "start",
    "stop",
    "trust",
    "try",
    "unlock",
    "update",
    "upgrade",
    "use",
    "wait",
  ].join("|") + ")\\b",
  "i",
);

const TOOL_NAME = /\b[a-z]+(?:_[a-z]+)+\b/;

/**
 * A sentence that lists the valid choices names the next step too: "known storages are local,
 * nas", "a node has cpu, iowait, loadavg", "PVE accepts .tar, .tar.gz or .tar.zst".
 */
const CHOICES = new RegExp(
  "\\b(known|valid|available|existing|accepted|allowed)\\b[^.]*\\b(are|is)\\b|" +
    "\\b(has|have|accepts|takes|is on|are on)\\s[^,;:]+(,[^,;:]+)+[.!]?$",
  "i",
);

/**
 * The sentences of a text (split after `.`, `!` or `?` followed by a space and a capital or a
 * quote; "e.g." and "i.e." do not end one).
 */
function sentences(text: string): string[] {
  return text.replace(/\b(e\.g|i\.e)\./g, "$1")
    .split(/(?<=[.!?])\s+(?=[A-Z`"'(])/).filter((part) => part.trim() !== "");
}

/**
 * What is wrong with the text of an `isError` result, or `undefined` when it is one line of at
 * most {@linkcode MAX_REFUSAL_CHARS} characters whose last sentence names the next step. A failed
 * task's log tail, which the design asks for, may follow on further lines.
 */
export function refusalProblem(text: string): string | undefined {
  const tail = text.indexOf(LOG_TAIL);
  const head = tail < 0 ? text : text.slice(0, tail);
  if (head.trim() === "") return "the error text is empty";
  if (/[\r\n\u2028\u2029]/.test(head)) {
    return `the refusal spans ${head.split(/\r\n|[\r\n\u2028\u2029]/).length} lines`;
  }
  if (head.length > MAX_REFUSAL_CHARS) {
    return `the refusal is ${head.length} characters long (at most ${MAX_REFUSAL_CHARS})`;
  }
  const trimmed = head.trim();
  if (!/[.!?)"'`…]$/.test(trimmed)) return "the refusal does not end as a sentence";
  const last = sentences(trimmed).at(-1) ?? trimmed;
  const advice = advicePart(last);
  const opening = /^\W*(\w+)/.exec(last)?.[1] ?? "";
  if (
    !NEXT_STEP.test(advice) && !TOOL_NAME.test(advice) && !CHOICES.test(advice) &&
    !NEXT_STEP.test(opening)
  ) {
    return "the refusal does not end with a next step";
  }
  return undefined;
}

/**
 * Where a refusal's last sentence says what to do: after its first ": " or "; " outside quotes
 * and parentheses ("No guest 999 in lab: list the guests"), else the whole sentence. A sentence
 * may also open with the step ("Give a guest alone: …").
 */
function advicePart(sentence: string): string {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < sentence.length - 1; i++) {
    const char = sentence[i];
    if (char === "\\") i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && char === "(") depth++;
    else if (!quoted && char === ")") depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && (char === ":" || char === ";") && sentence[i + 1] === " ") {
      return sentence.slice(i + 2);
    }
  }
  return sentence;
}

/**
 * What is wrong with the text of an `isError` result that carries structured content: a
 * failure report (a task that failed, a guest locked, a multi-guest action with failures),
 * which may list one line per guest or a task's log, or `undefined` when its first line is a
 * bounded sentence and the text names a next step.
 */
export function failureReportProblem(text: string): string | undefined {
  const first = text.split("\n")[0] ?? "";
  if (first.trim() === "") return "the failure report's first line is empty";
  if (first.length > MAX_REFUSAL_CHARS) {
    return `the failure report's first line is ${first.length} characters long`;
  }
  if (!NEXT_STEP.test(text) && !TOOL_NAME.test(text) && !CHOICES.test(text)) {
    return "the failure report names no next step";
  }
  return undefined;
}

/** What is wrong with a JSON-RPC error, or `undefined` when it is one bounded line. */
export function rpcErrorProblem(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return "the error is not an object";
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (!Number.isInteger(code)) return "the error has no integer code";
  if (typeof message !== "string" || message.trim() === "") return "the error has no message";
  if (/[\r\n\u2028\u2029]/.test(message)) return "the error message spans lines";
  if (message.length > MAX_RPC_ERROR_CHARS) {
    return `the error message is ${message.length} characters long (at most ${MAX_RPC_ERROR_CHARS})`;
  }
  return undefined;
}

/** A problem with what the simulator served for one call. */
export interface TrafficProblem {
  check: CheckName;
  detail: string;
}

/**
 * Guest agent commands PVE serves as POST although they change nothing (ping, info, get-*):
 * polling them is waiting, not a repeated write.
 */
const READ_OVER_POST = /\/agent\/(ping|info|get-[a-z-]+|network-get-interfaces|fsfreeze-status)$/;

/** PVE's answer to a well-formed UPID it does not know: not bad input, a missing task. */
function unknownTask(request: SimRequest): boolean {
  const errors = request.errors ?? {};
  return Object.keys(errors).length === 1 && errors.upid === "no such task";
}

/**
 * Checks the requests the simulator served for one call: nothing outside `/api2/json`, no 400
 * (the pre-send checks must catch bad input; PVE's "no such task" for a well-formed UPID
 * excepted), and no write sent twice (agent commands that only read excepted).
 */
export function trafficProblems(requests: readonly SimRequest[]): TrafficProblem[] {
  const problems: TrafficProblem[] = [];
  const writes = new Map<string, number>();
  for (const request of requests) {
    if (request.path.startsWith("/api2/") || !request.path.startsWith("/")) {
      problems.push({
        check: "outside_api",
        detail: `${request.method} ${request.path.slice(0, 120)} is outside /api2/json`,
      });
    }
    if (request.status === 400 && !unknownTask(request)) {
      problems.push({
        check: "pve_400",
        detail: `${request.method} ${request.path.slice(0, 120)} was answered 400 (${
          JSON.stringify(request.errors ?? {}).slice(0, 200)
        })`,
      });
    }
    if (request.method !== "GET" && !READ_OVER_POST.test(request.path)) {
      const key = `${request.method} ${request.path} ${JSON.stringify(request.body)}`;
      writes.set(key, (writes.get(key) ?? 0) + 1);
    }
  }
  for (const [key, count] of writes) {
    if (count > 1) {
      problems.push({
        check: "write_twice",
        detail: `${key.slice(0, 200)} was sent ${count} times`,
      });
    }
  }
  return problems;
}

/** URLs the client fetched that are not below the cluster's `/api2/json/`. */
export function strayUrls(fetched: readonly string[], api: string): string[] {
  return fetched.filter((url) => !url.startsWith(`${api}/`));
}

/**
 * Whether a write's error text tells the model to repeat it. After a write whose answer was
 * lost the outcome is unknown: the text must say so and how to check, never "try again".
 */
export function retryAdvice(text: string): boolean {
  return /\b(try again|retry)\b/i.test(text) && !/\bunknown\b/i.test(text);
}
