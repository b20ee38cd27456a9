/**
 * Logging for proxmox-mcp: the only place that writes logs.
 *
 * Logs go to stderr (stdout belongs to the MCP protocol) through LogTape. Every record passes two
 * redaction layers before it is written: field redaction replaces the values of secret-looking
 * properties (password, tokenSecret, ticket, …) and pattern redaction scrubs credentials that
 * appear inside text (`PVEAPIToken=…`, `PVEAuthCookie=…`, PVE tickets, `user@realm!id=secret`).
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
import { redactByField, redactByPattern, type RedactionPattern } from "@logtape/redaction";

/** The LogTape logger returned by {@link getLog}. */
export type { Logger } from "@logtape/logtape";

/** The log levels accepted by {@link configureLogging}, from most to least verbose. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevelName = typeof LOG_LEVELS[number];

/** The root category of every logger returned by {@link getLog}. */
export const ROOT_CATEGORY = "proxmox-mcp";

/** The text that replaces a redacted value. */
export const REDACTED = "[redacted]";

/**
 * Property names whose values are secrets (case-insensitive): anything ending in password,
 * passwd, passphrase or secret (`tokenSecret`, `token_secret`, `cipassword`), plus token, ticket,
 * CSRFPreventionToken, authorization, cookie, set-cookie, api token, private key and otp.
 * Names ending in `File` (`passwordFile`, `tokenSecretFile`) are paths, not secrets.
 */
const SECRET_KEY =
  /^(?:[a-z0-9_-]*(?:password|passwd|passphrase|secret)|token|ticket|csrf[-_]?prevention[-_]?token|(?:proxy[-_]?)?authorization|cookie|set[-_]?cookie|api[-_]?token|private[-_]?key|otp)$/i;

/** Key names matched inside text (`key=value` and `"key": "value"`). */
const SECRET_KEY_IN_TEXT =
  "[A-Za-z0-9_-]*(?:password|passwd|passphrase|secret)|token|ticket|CSRFPreventionToken|otp";

/**
 * Redaction patterns applied to free text (all have the `g` flag, as LogTape requires).
 *
 * Every pattern runs in time linear in the text, whatever the text (a model may send megabytes):
 * each match attempt starts at a literal or a separator, and the variable-length part scanned
 * from one start cannot contain the next start, so no character is scanned from more than a
 * bounded number of starts. Where a credential's shape begins with a run of ordinary characters
 * (`user@realm!id=…`, a URL scheme, the principal after `PVEAPIToken`), the pattern starts at the
 * run's unambiguous end (`@`, `://`, `=`) and checks the run with a lookbehind instead of
 * starting at every character of it. `src/log_test.ts` runs each on 1 MB adversarial inputs.
 */
const TEXT_PATTERNS: readonly RedactionPattern[] = [
  // Authorization: PVEAPIToken=user@realm!id=secret (also the "PVEAPIToken user..." variant).
  // Starts at the `=` after the principal; the principal cannot contain `=`.
  {
    pattern: /=(?<=PVEAPIToken[= ]\s*[^\s=]+=)[^\s"',;&]+/g,
    replacement: `=${REDACTED}`,
  },
  // Cookie: PVEAuthCookie=<ticket> and Authorization: PVEAuthCookie=<ticket>.
  { pattern: /(PVEAuthCookie=)[^\s"',;&]+/g, replacement: `$1${REDACTED}` },
  // A bare PVE ticket: PVE:<userid>:<8 hex>::<base64 signature>, and a console ticket
  // (PVEVNC:<8 hex>::<signature>). The userid cannot contain `:`, so it ends before the next
  // `PVE:` could start.
  { pattern: /PVE:[^\s:"']+:[0-9A-Fa-f]{8}::[A-Za-z0-9+/=]+/g, replacement: `PVE:${REDACTED}` },
  { pattern: /PVEVNC:[0-9A-Fa-f]{8}::[A-Za-z0-9+/=]+/g, replacement: `PVEVNC:${REDACTED}` },
  // A URL-encoded ticket (PVE%3Auser%40realm%3A…), as in a logged cookie or query string.
  { pattern: /PVE(VNC)?%3A[^\s"',;&]+/gi, replacement: `PVE$1%3A${REDACTED}` },
  // Credentials inside a URL: https://user:password@host. Starts at `://`, the scheme is
  // checked behind it; user and password cannot contain `/`, so they end before the next `://`.
  {
    pattern: /:\/\/(?<=\b[A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s:@/"']+:)[^\s@/"']+@/g,
    replacement: `://$1${REDACTED}@`,
  },
  // A token written as user@realm!tokenid=secret. Starts at `@` (the user part, at least one
  // character, is checked behind it); realm and token id cannot contain `@`.
  {
    pattern: /(?<=[^\s@"'=:/])(@[A-Za-z][A-Za-z0-9.\-_]*![A-Za-z][A-Za-z0-9.\-_]*)=[^\s"',;&]+/g,
    replacement: `$1=${REDACTED}`,
  },
  // CSRFPreventionToken: <8 hex>:<base64>.
  {
    pattern: /(CSRFPreventionToken["']?\s*[:=]\s*["']?)[0-9A-Fa-f]{8}:[A-Za-z0-9+/=]+/g,
    replacement: `$1${REDACTED}`,
  },
  // JSON-shaped text: "password": "value". Starts at a quote; a key is one word.
  {
    pattern: new RegExp(`("(?:${SECRET_KEY_IN_TEXT})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, "gi"),
    replacement: `$1"${REDACTED}"`,
  },
  // YAML-shaped lines (cloud-init user data, config dumps): `password: value`, `'password': 'v'`.
  // The leading indentation and list dashes are taken whole (a lookahead and a backreference
  // make them atomic), so a key starting with `-` cannot split them in every possible way.
  {
    pattern: new RegExp(
      `^(?=([ \\t-]*))\\1(['"]?(?:${SECRET_KEY_IN_TEXT})['"]?[ \\t]*:[ \\t]*)(?!\\[redacted\\])\\S.*$`,
      "gim",
    ),
    replacement: `$1$2${REDACTED}`,
  },
  // Form- or query-encoded text: password=value. Starts at a separator; a key is one word.
  {
    pattern: new RegExp(`((?:^|[?&\\s;,])(?:${SECRET_KEY_IN_TEXT})=)[^&\\s"',;]+`, "gi"),
    replacement: `$1${REDACTED}`,
  },
];

/** Secrets the program holds (configured token secrets and passwords), longest first. */
let knownSecrets: string[] = [];

/** Secrets shorter than this are not scrubbed as literals (they would eat ordinary words). */
const MIN_KNOWN_SECRET_LENGTH = 6;

/**
 * Remember a secret this program holds (a configured token secret or password), so that
 * {@link redactText} — and through it every log line, tool result, error and audit line —
 * scrubs it wherever it appears, even in text no pattern recognises (an echoed request, a
 * library's error message). The URL-encoded form is scrubbed too.
 */
export function registerSecret(secret: string): void {
  if (secret.length < MIN_KNOWN_SECRET_LENGTH) return;
  const forms = new Set([secret, encodeURIComponent(secret)]);
  knownSecrets = [...new Set([...knownSecrets, ...forms])].sort((a, b) => b.length - a.length);
}

function scrubKnownSecrets(text: string): string {
  let result = text;
  for (const secret of knownSecrets) result = result.replaceAll(secret, REDACTED);
  return result;
}

/** Whether a property name looks like it holds a secret (see {@link redactSecrets}). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * Scrub credentials from free text: `PVEAPIToken=…`, `PVEAuthCookie=…`, PVE tickets,
 * `user@realm!id=secret`, CSRF tokens, and `password=…`/`"password": "…"` pairs.
 *
 * @example
 * ```ts
 * redactText("Authorization: PVEAPIToken=root@pam!mcp=2e3a9b4c");
 * // "Authorization: PVEAPIToken=root@pam!mcp=[redacted]"
 * ```
 */
export function redactText(text: string): string {
  let result = scrubKnownSecrets(text);
  for (const { pattern, replacement } of TEXT_PATTERNS) {
    result = result.replace(pattern, replacement as string);
  }
  return result;
}

/**
 * Return a deep copy of `value` in which every property with a secret-looking name
 * ({@link isSecretKey}) is replaced by `"[redacted]"` and every string is passed through
 * {@link redactText}. Errors become `{ name, message }`; cycles become `"[circular]"`.
 */
export function redactSecrets(value: unknown): unknown {
  return redactValue(value, new WeakSet());
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redactText(value);
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) return "[circular]";
  if (value instanceof Date) return new Date(value.getTime());
  seen.add(value);
  try {
    if (value instanceof Error) {
      return { name: value.name, message: redactText(value.message) };
    }
    if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const redacted = isSecretKey(key) && item !== undefined && item !== null && item !== ""
        ? REDACTED
        : redactValue(item, seen);
      Object.defineProperty(copy, key, {
        value: redacted,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}

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

/** The formatter, with pattern redaction applied to the finished line. */
const patternFormatter: TextFormatter = redactByPattern(textFormatter, TEXT_PATTERNS);

/** The formatter, with known secrets and then the patterns scrubbed from the finished line. */
const redactingFormatter: TextFormatter = (record) => scrubKnownSecrets(patternFormatter(record));

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
