/**
 * Keeping secrets out of a twin file. Every value on its way into the file passes through a
 * {@linkcode Redactor}: a value under a secret-looking name (`isSecretKey` of `src/redact.ts`, plus
 * the names only Proxmox VE uses for secrets: a subscription `key`, a storage's
 * `encryption-key` or `keyring`) becomes `[redacted]`; every other string goes through
 * `redactText` (tokens, tickets, `password=…`, `"password": "…"`, `password: …` lines), a
 * secret-looking word with `:` or `=` anywhere in it loses the value after it, and a PEM private
 * key block is replaced too. Guest config keys arrive as values
 * (`{key: "cipassword", value: …}` in `GET …/pending`), so configs are redacted by key name,
 * not by the property that holds them.
 *
 * The redactor counts what it replaced and where, so the file can say so.
 *
 * @module
 */

import { isSecretKey, redactText } from "../redact.ts";
import { TWIN_REDACTED } from "./format.ts";

/** Names that hold secrets in PVE answers but that `isSecretKey` does not know. */
const PVE_SECRET_KEYS = new Set(["encryption-key", "keyring"]);

/** The first line of a PEM private key (RSA, EC, OpenSSH, PKCS#8, encrypted), at a position. */
const KEY_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY-----/y;
/** The last line of one, at a position. */
const KEY_END = /-----END (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY-----/y;

/**
 * Replaces every PEM private key block with `[redacted]`; a block without its END line takes
 * the rest of the text with it. One pass: each search starts where the previous one stopped.
 */
function withoutPrivateKeys(text: string): string {
  let out = "";
  let from = 0;
  for (;;) {
    let begin = text.indexOf("-----BEGIN ", from);
    while (begin >= 0) {
      KEY_BEGIN.lastIndex = begin;
      if (KEY_BEGIN.test(text)) break;
      begin = text.indexOf("-----BEGIN ", begin + 1);
    }
    if (begin < 0) return out + text.slice(from);
    out += text.slice(from, begin) + TWIN_REDACTED;
    let end = text.indexOf("-----END ", KEY_BEGIN.lastIndex);
    while (end >= 0) {
      KEY_END.lastIndex = end;
      if (KEY_END.test(text)) break;
      end = text.indexOf("-----END ", end + 1);
    }
    if (end < 0) return out;
    from = KEY_END.lastIndex;
  }
}

/**
 * A secret-looking word followed by `:` or `=` anywhere in free text ("db root password: x"),
 * which `redactText` takes only at the start of a line or after a separator. A file that
 * leaves the building errs on the side of replacing. Each match starts at a literal word, so
 * the scan stays linear in the text.
 */
const SECRET_ANYWHERE =
  /(password|passwd|passphrase|secret|token)(\s*[:=]\s*)(?!\[redacted\])[^\s"',;&]+/gi;

/** Where a twin file says what was replaced (at most this many places are listed). */
const MAX_WHERE = 100;

/** The notice a twin file carries about its secrets. */
export const SECRETS_NOTICE =
  "Passwords, cloud-init passwords, token values, tickets, SSH private keys, subscription keys " +
  "and anything else proxmox-mcp's redaction rules recognise were replaced with " +
  `"${TWIN_REDACTED}" before this file was written; it holds none of them.`;

/** Whether a property or config key names a secret. */
export function isTwinSecretKey(key: string): boolean {
  return isSecretKey(key) || PVE_SECRET_KEYS.has(key.toLowerCase());
}

/** Free text without credentials: `redactText`, and private key blocks removed. */
export function scrubText(text: string): string {
  const out = redactText(text).replace(SECRET_ANYWHERE, `$1$2${TWIN_REDACTED}`);
  return out.includes("PRIVATE KEY-----") ? withoutPrivateKeys(out) : out;
}

/** Whether a URL-encoded value (`sshkeys`) hides a private key. */
function encodedPrivateKey(text: string): boolean {
  if (!/PRIVATE(%20|\+)KEY/i.test(text)) return false;
  try {
    return decodeURIComponent(text.replaceAll("+", " ")).includes("PRIVATE KEY");
  } catch {
    return true;
  }
}

/** Replaces secrets on their way into a twin file, and remembers where it did. */
export class Redactor {
  #count = 0;
  readonly #where: string[] = [];

  /** How many values were replaced. */
  get count(): number {
    return this.#count;
  }

  /** Where (the first {@link MAX_WHERE} places, as `guests/100/config/cipassword`). */
  get where(): string[] {
    return [...this.#where];
  }

  #replaced(path: string): string {
    this.#count++;
    if (this.#where.length < MAX_WHERE) this.#where.push(path);
    return TWIN_REDACTED;
  }

  /**
   * A value stored under `key` at `path`: a non-empty value under a secret name is replaced
   * whole; strings are scrubbed; objects and lists are walked.
   */
  value(path: string, key: string, value: unknown): unknown {
    if (isTwinSecretKey(key) && value !== undefined && value !== null && value !== "") {
      return this.#replaced(path);
    }
    if (typeof value === "string") {
      if (encodedPrivateKey(value)) return this.#replaced(path);
      const scrubbed = scrubText(value);
      if (scrubbed !== value) this.#replaced(path);
      return scrubbed;
    }
    if (Array.isArray(value)) return value.map((item, i) => this.value(`${path}/${i}`, "", item));
    if (typeof value === "object" && value !== null) {
      return this.object(path, value as Record<string, unknown>);
    }
    return value;
  }

  /** An object with every property passed through {@linkcode value}. */
  object(path: string, value: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      out[key] = this.value(`${path}/${key}`, key, item);
    }
    return out;
  }

  /** A replaced value counted by a caller that knows it is secret (a subscription key). */
  secret(path: string): string {
    return this.#replaced(path);
  }
}
