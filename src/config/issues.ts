/**
 * Turn zod issues into one `ConfigError` that names the key, where the value came from and the
 * fix. Schema messages are written `detail — fix` (see `schema.ts`); messages from zod itself
 * get a generic fix.
 *
 * @module
 */

import type { z } from "zod";
import { isSecretKey } from "../redact.ts";
import { ConfigError } from "./errors.ts";
import { clustersBranch } from "./schema.ts";

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

const GENERIC_FIX = "see config.example.json for the expected shape";

/** Flatten unions: keep the issues of the branch the input's shape selects. */
function flatten(issues: readonly Issue[], prefix: readonly PathKey[] = []): Issue[] {
  const result: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length === 3) {
      const branch = issue.errors[clustersBranch(issue.input)] ?? [];
      result.push(...flatten(branch, path));
      continue;
    }
    if (issue.code === "invalid_key" && issue.issues[0] !== undefined) {
      result.push({ ...issue, message: issue.issues[0].message, path } as Issue);
      continue;
    }
    result.push({ ...issue, path } as Issue);
  }
  return result;
}

/** The dotted key of a path: `["clusters", "lab", "url"]` → `"clusters.lab.url"`. */
export function keyOf(path: readonly PathKey[]): string {
  return path.map((part) => String(part)).join(".");
}

/** The source label of the closest configured ancestor of `key`, if any. */
function sourceOf(key: string, origins: ReadonlyMap<string, string>): string | undefined {
  let current = key;
  while (true) {
    const label = origins.get(current);
    if (label !== undefined) return label;
    const dot = current.lastIndexOf(".");
    if (dot < 0) return undefined;
    current = current.slice(0, dot);
  }
}

/** Convert one issue to a `ConfigError`. */
function toError(issue: Issue, origins: ReadonlyMap<string, string>): ConfigError {
  const key = keyOf(issue.path);
  const source = sourceOf(key, origins);
  const separator = issue.message.indexOf(" — ");
  let detail = separator < 0 ? issue.message : issue.message.slice(0, separator);
  let fix = separator < 0 ? GENERIC_FIX : issue.message.slice(separator + 3);
  if (issue.code === "invalid_type" && issue.input === undefined) {
    detail = "missing";
    fix = separator < 0 ? `add it (${GENERIC_FIX})` : `add it: ${fix}`;
  } else if (separator < 0) {
    // A zod default message: make sure it cannot carry a secret value.
    const last = issue.path.at(-1);
    if (typeof last === "string" && isSecretKey(last)) detail = "invalid value";
  }
  return ConfigError.invalid(key, detail, { fix, source });
}

/**
 * The `ConfigError` for a failed parse: the first problem, with the number of further problems
 * appended when there are several.
 */
export function configErrorFromIssues(
  issues: readonly Issue[],
  options: { origins?: ReadonlyMap<string, string> } = {},
): ConfigError {
  const flat = flatten(issues);
  const first = flat[0];
  if (first === undefined) return new ConfigError("Invalid config: unknown problem");
  const error = toError(first, options.origins ?? new Map());
  if (flat.length === 1) return error;
  const more = flat.length - 1;
  return new ConfigError(
    `${error.message} (and ${more} more ${more === 1 ? "problem" : "problems"})`,
    { key: error.key, fix: error.fix },
  );
}
