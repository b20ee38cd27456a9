/**
 * Building and checking API paths below `/api2/json`.
 *
 * Use {@linkcode pvePath} to build a path from values (each value is percent-encoded as
 * one segment and may not be empty, `.`, `..` or contain `/`), and
 * {@linkcode checkPvePath} to vet a path that arrived as raw text (for example from a
 * model). Both refuse anything that could leave `/api2/json`, before any request is made.
 *
 * @module
 */

import { PveValidationError } from "./errors.ts";

/**
 * Thrown when a path is refused, before any request is made. It is a
 * {@linkcode PveValidationError} whose `errors` has a `path` entry.
 */
export class PvePathError extends PveValidationError {
  /** Creates a path error. */
  constructor(message: string) {
    super(message, { errors: { path: message } });
    this.name = "PvePathError";
  }
}

function checkValue(value: string | number): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new PvePathError(`Cannot use "${value}" in an API path: expected a finite number`);
    }
    return String(value);
  }
  if (value === "" || value === "." || value === "..") {
    throw new PvePathError(
      `Cannot use "${value}" in an API path: a segment may not be empty, "." or ".."`,
    );
  }
  if (/[/\\]/.test(value)) {
    throw new PvePathError(
      `Cannot use "${value}" in an API path: a segment may not contain "/" or "\\"`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new PvePathError(
      `Cannot use ${
        JSON.stringify(value)
      } in an API path: control characters are not allowed, so give the name without them`,
    );
  }
  if (!value.isWellFormed()) {
    // encodeURIComponent throws on a lone surrogate; that is bad input, not a bug.
    throw new PvePathError(
      `Cannot use ${
        JSON.stringify(value.toWellFormed())
      } in an API path: it holds a broken UTF-16 character, so give the name as plain text`,
    );
  }
  return encodeURIComponent(value);
}

/**
 * Tagged template that builds an API path below `/api2/json`, encoding each interpolated
 * value as exactly one path segment.
 *
 * @example
 * ```ts
 * pvePath`/nodes/${node}/qemu/${vmid}/status/start`; // "/nodes/pve1/qemu/100/status/start"
 * ```
 * @throws {PvePathError} for empty, `.`/`..` or `/`-containing values, or an unsafe result.
 */
export function pvePath(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += checkValue(value) + (strings[i + 1] ?? "");
  });
  return checkPvePath(out);
}

const SEGMENT_RE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;

/**
 * Checks a raw API path and returns it normalized to the part below `/api2/json`
 * (a leading `/api2/json` is accepted and removed; a trailing `/` is dropped).
 *
 * Refused: paths not starting with `/`, other `/api2/<format>` prefixes, a query or
 * fragment, empty segments (`//`), `.` and `..` segments (also percent-encoded), encoded
 * slashes or backslashes, and characters that are not valid in a URL path segment.
 *
 * @throws {PvePathError} describing what is wrong.
 */
export function checkPvePath(path: string): string {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new PvePathError(
      `Cannot use API path "${path}": it must start with "/" (e.g. "/nodes/pve1/qemu")`,
    );
  }
  let rest = path;
  if (rest === "/api2/json" || rest.startsWith("/api2/json/")) {
    rest = rest.slice("/api2/json".length);
  } else if (rest === "/api2" || rest.startsWith("/api2/")) {
    throw new PvePathError(
      `Cannot use API path "${path}": only paths below /api2/json are allowed, so give it as "/nodes/…"`,
    );
  }
  if (/[?#]/.test(rest)) {
    throw new PvePathError(
      `Cannot use API path "${path}": pass query parameters as params, not in the path`,
    );
  }
  if (rest.length > 1 && rest.endsWith("/")) rest = rest.slice(0, -1);
  if (rest === "" || rest === "/") return "/";
  const segments = rest.slice(1).split("/");
  for (const segment of segments) {
    if (segment === "") {
      throw new PvePathError(
        `Cannot use API path "${path}": it has an empty segment, so remove the doubled "/"`,
      );
    }
    if (!SEGMENT_RE.test(segment)) {
      throw new PvePathError(
        `Cannot use API path "${path}": segment "${segment}" has characters that must be ` +
          "percent-encoded, so write them as %XX (pvePath does it)",
      );
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new PvePathError(
        `Cannot use API path "${path}": segment "${segment}" is not valid percent-encoding, ` +
          "so write each % as %25",
      );
    }
    if (decoded === "." || decoded === "..") {
      throw new PvePathError(
        `Cannot use API path "${path}": "." and ".." segments are not allowed, so name each ` +
          "segment plainly",
      );
    }
    // deno-lint-ignore no-control-regex
    if (/[/\\\u0000-\u001f\u007f]/.test(decoded)) {
      throw new PvePathError(
        `Cannot use API path "${path}": segment "${segment}" decodes to a slash, ` +
          "backslash or control character, so give a plain name or id there",
      );
    }
  }
  return rest;
}

/**
 * Normalizes a cluster URL to its origin and returns the API base (`<origin>/api2/json`).
 * Accepts `https://host:8006`, with or without `/api2/json` and a trailing slash.
 *
 * @throws {TypeError} when the URL is not http(s), carries credentials, a query or another path.
 */
export function apiBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `Cannot use Proxmox VE URL "${url}": expected e.g. https://pve.example.com:8006`,
    );
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new TypeError(
      `Cannot use Proxmox VE URL "${parsed.protocol}//${parsed.host}": expected https://`,
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new TypeError(
      `Cannot use Proxmox VE URL "${parsed.protocol}//${parsed.host}": ` +
        "do not put credentials in the URL; use the token or username/password options",
    );
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new TypeError(
      `Cannot use Proxmox VE URL "${parsed.origin}${parsed.pathname}": remove the query or fragment`,
    );
  }
  const path = parsed.pathname.replace(/\/+$/, "");
  if (path !== "" && path !== "/api2/json") {
    throw new TypeError(
      `Cannot use Proxmox VE URL "${parsed.origin}${parsed.pathname}": ` +
        "expected no path or /api2/json",
    );
  }
  return `${parsed.origin}/api2/json`;
}
