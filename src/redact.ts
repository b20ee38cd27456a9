/**
 * Redaction: the one definition of what a secret looks like, used by the logger, tool results,
 * errors and the audit log. Secret-named properties (`password`, `tokenSecret`, `ticket`, …) are
 * replaced wherever they appear, credentials inside free text are scrubbed by pattern, and the
 * secrets this program holds (its configured token secret or password) are scrubbed as
 * literals.
 *
 * Pure and free of the logging library, so the configuration can be validated (and secrets
 * registered) before LogTape is loaded.
 *
 * @module
 */

/** A text pattern and its replacement (the shape `@logtape/redaction` takes). */
export interface RedactionPattern {
  /** A global regular expression. */
  pattern: RegExp;
  /** Its replacement (`$1` etc. allowed). */
  replacement: string;
}

/** The text that replaces a redacted value. */
export const REDACTED = "[redacted]";

/**
 * Property names whose values are secrets (case-insensitive): anything ending in password,
 * passwd, passphrase or secret (`tokenSecret`, `token_secret`, `cipassword`), plus token, ticket,
 * CSRFPreventionToken, authorization, cookie, set-cookie, api token, private key and otp.
 * Names ending in `File` (`passwordFile`, `tokenSecretFile`) are paths, not secrets.
 */
export const SECRET_KEY =
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
export const TEXT_PATTERNS: readonly RedactionPattern[] = [
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

/** Replaces every registered secret (see {@link registerSecret}) in `text`. */
export function scrubKnownSecrets(text: string): string {
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
