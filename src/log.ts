/**
 * Logging for proxmox-mcp: the only place that writes logs.
 *
 * Logs go to stderr (stdout belongs to the MCP protocol) through LogTape. Every record passes two
 * redaction layers before it is written (the rules are `redact.ts`): field redaction replaces the
 * values of secret-looking properties (password, tokenSecret, ticket, …) and pattern redaction
 * scrubs credentials that appear inside text (`PVEAPIToken=…`, `PVEAuthCookie=…`, PVE tickets,
 * `user@realm!id=secret`), and the secrets this program holds are scrubbed as literals.
 *
 * The stderr sink uses `Deno.stderr.writeSync`, which needs no permission, so logging works under
 * `deno run` without `--allow-env`, `--allow-read` or `--allow-write`.
 *
 * @module
 */

import {
  configure,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogRecord,
  reset,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import { redactByField, redactByPattern } from "@logtape/redaction";
import { LOG_LEVELS, type LogLevelName } from "./log_levels.ts";
import { REDACTED, scrubKnownSecrets, SECRET_KEY, TEXT_PATTERNS } from "./redact.ts";

export { LOG_LEVELS, type LogLevelName } from "./log_levels.ts";
export { isSecretKey, REDACTED, redactSecrets, redactText, registerSecret } from "./redact.ts";

/** The LogTape logger returned by {@link getLog}. */
export type { Logger } from "@logtape/logtape";

/** The root category of every logger returned by {@link getLog}. */
export const ROOT_CATEGORY = "proxmox-mcp";

/** Options for {@link configureLogging}. */
export interface LoggingOptions {
  /** The lowest level that is written; default `"info"`. */
  level?: LogLevelName;
  /**
   * Where formatted, redacted lines go (each ends with a newline). Default: stderr. Tests pass a
   * function that collects the lines.
   */
  write?: (line: string) => void;
}

const encoder = new TextEncoder();

/** Write all of `text` to stderr; needs no permission. */
function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) {
    offset += Deno.stderr.writeSync(bytes.subarray(offset));
  }
}

/** Render a value for the trailing properties of a log line. */
function renderProperty(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  try {
    return JSON.stringify(value, (_key, item) => typeof item === "bigint" ? String(item) : item) ??
      String(value);
  } catch {
    return String(value);
  }
}

/** Names used as `{placeholder}` in a message template. */
function placeholders(record: LogRecord): Set<string> {
  const names = new Set<string>();
  if (typeof record.rawMessage !== "string") return names;
  for (const match of record.rawMessage.matchAll(/\{([^{}]+)\}/g)) {
    if (match[1] !== undefined) names.add(match[1].trim());
  }
  return names;
}

/**
 * The line format: `2026-01-01T12:00:00.000Z [INF] proxmox-mcp·pve: message key="value"`,
 * with properties that are not already in the message appended as `key=value`.
 */
const textFormatter: TextFormatter = getTextFormatter({
  timestamp: "rfc3339",
  value: "bare",
  format(values) {
    const used = placeholders(values.record);
    const extras = Object.entries(values.record.properties)
      .filter(([key]) => !used.has(key))
      .map(([key, item]) => `${key}=${renderProperty(item)}`);
    const tail = extras.length > 0 ? ` ${extras.join(" ")}` : "";
    return `${values.timestamp} [${values.level}] ${values.category}: ${values.message}${tail}`;
  },
});

/**
 * The formatter, with known secrets and then the patterns scrubbed from the finished line, in
 * the order `redactText` uses: a pattern that ends a value early (at `&`, `;`, a quote) must not
 * cut a registered secret in two before the secret is replaced whole.
 */
const redactingFormatter: TextFormatter = redactByPattern(
  (record) => scrubKnownSecrets(textFormatter(record)),
  TEXT_PATTERNS,
);

/** Build the sink: field redaction → text formatting → pattern redaction → writer. */
function makeSink(write: (line: string) => void): Sink {
  const sink: Sink = (record) => {
    write(redactingFormatter(record));
  };
  return redactByField(sink, {
    fieldPatterns: [SECRET_KEY],
    action: () => REDACTED,
  });
}

/**
 * Configure (or reconfigure) logging: records of {@link ROOT_CATEGORY} at `level` or above go to
 * stderr, redacted. Calling it again replaces the previous configuration.
 */
export async function configureLogging(options: LoggingOptions = {}): Promise<void> {
  const level = options.level ?? "info";
  await configure({
    reset: true,
    sinks: { stderr: makeSink(options.write ?? writeStderr) },
    loggers: [
      { category: [ROOT_CATEGORY], sinks: ["stderr"], lowestLevel: level },
      { category: ["logtape", "meta"], sinks: ["stderr"], lowestLevel: "warning" },
    ],
  });
}

/** Remove the logging configuration (records are dropped until configured again). */
export async function resetLogging(): Promise<void> {
  await reset();
}

/**
 * A logger for one area of the program. `category` is dotted (`"pve.client"`) and becomes the
 * LogTape category `["proxmox-mcp", "pve", "client"]`.
 *
 * @example
 * ```ts
 * const log = getLog("pve.client");
 * log.info("Request {method} {path} took {ms} ms", { method: "GET", path: "/version", ms: 12 });
 * ```
 */
export function getLog(category: string): Logger {
  const parts = category.split(".").filter((part) => part.length > 0);
  return getLogger([ROOT_CATEGORY, ...parts]);
}

/** Whether `value` is one of {@link LOG_LEVELS}. */
export function isLogLevel(value: string): value is LogLevelName {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
