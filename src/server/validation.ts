/**
 * Turning a tool's input validation failure into sentences a model can act on: one per
 * argument, naming it, saying what it must be (with the argument's own description), and never
 * quoting more than a short prefix of what was sent. Unknown arguments are refused too, with the
 * arguments the tool takes: a misspelt argument silently dropped could make a write do less than
 * the model believes.
 *
 * @module
 */

import type { z } from "zod";
import { quote } from "./wire/jsonrpc.ts";

/** The input JSON Schema of a tool, as far as the messages need it. */
export interface InputSchemaView {
  properties?: Record<string, { description?: string; type?: unknown }>;
}

const MAX_SENTENCES = 5;

function argumentName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "the arguments";
  let name = "";
  for (const part of path) {
    name += typeof part === "number"
      ? `[${part}]`
      : name === ""
      ? String(part)
      : `.${String(part)}`;
  }
  return `\`${name}\``;
}

function hint(path: readonly PropertyKey[], schema: InputSchemaView): string {
  const top = typeof path[0] === "string" ? schema.properties?.[path[0]] : undefined;
  const description = path.length === 1 ? top?.description : undefined;
  return description === undefined ? "" : ` (${description.replace(/\.$/, "")})`;
}

/** The JSON Schema type of a top-level argument (zod reports an integer as a number). */
function kindAt(path: readonly PropertyKey[], schema: InputSchemaView): string | undefined {
  if (path.length !== 1 || typeof path[0] !== "string") return undefined;
  return schema.properties?.[path[0]]?.type === "integer" ? "int" : undefined;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "string") return `the text ${quote(value, 40)}`;
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

function expected(kind: string): string {
  switch (kind) {
    case "int":
      return "an integer";
    case "number":
      return "a number";
    case "string":
      return "a text";
    case "boolean":
      return "true or false";
    case "array":
      return "a list";
    case "object":
      return "an object";
    default:
      return `a ${kind}`;
  }
}

/** One sentence for one zod issue. */
function sentence(issue: z.core.$ZodIssue, schema: InputSchemaView): string {
  const name = argumentName(issue.path);
  const about = hint(issue.path, schema);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "invalid_type":
      if (input === undefined) return `missing required argument ${name}${about}`;
      return `${name} must be ${expected(kindAt(issue.path, schema) ?? issue.expected)}${about}, ` +
        `not ${typeOf(input)}`;
    case "too_big": {
      const limit = String(issue.maximum);
      if (issue.origin === "string") return `${name} is longer than ${limit} characters`;
      if (issue.origin === "array" || issue.origin === "set") {
        return `${name} has more than ${limit} items`;
      }
      return `${name} must be at most ${limit}${about}, not ${typeOf(input)}`;
    }
    case "too_small": {
      const limit = String(issue.minimum);
      if (issue.origin === "string") {
        return issue.minimum === 1
          ? `${name} must not be empty${about}`
          : `${name} must be at least ${limit} characters long${about}`;
      }
      if (issue.origin === "array" || issue.origin === "set") {
        return `${name} needs at least ${limit} item${issue.minimum === 1 ? "" : "s"}${about}`;
      }
      return `${name} must be at least ${limit}${about}, not ${typeOf(input)}`;
    }
    case "invalid_value":
      return `${name} must be one of ${
        issue.values.map((value) => JSON.stringify(value)).join(", ")
      }, not ${typeOf(input)}`;
    case "invalid_format":
      return `${name} is not in the expected form${about}`;
    case "not_multiple_of":
      return `${name} must be a multiple of ${String(issue.divisor)}`;
    case "unrecognized_keys":
      return `unknown argument${issue.keys.length === 1 ? "" : "s"} ${
        issue.keys.slice(0, 3).map((key) => `\`${key.slice(0, 40)}\``).join(", ")
      }`;
    case "invalid_union":
      return `${name} does not fit any of the accepted forms${about}`;
    default: {
      const message = issue.message.split("\n")[0]?.slice(0, 120) ?? "";
      // Our own refinements read as a predicate ("must have at most 64 entries").
      return /^(must|has|is) /.test(message) ? `${name} ${message}` : `${name}: ${message}`;
    }
  }
}

/**
 * "Invalid arguments for x: missing required argument `upid` (Task id (UPID)); `lines` must be
 * at most 500, not the number 900. Fix them and call again." — one clause per argument (at most
 * five), then the next step.
 */
export function validationMessage(
  tool: string,
  error: z.ZodError,
  schema: InputSchemaView = {},
): string {
  const clauses = error.issues.slice(0, MAX_SENTENCES).map((issue) => sentence(issue, schema));
  const more = error.issues.length > MAX_SENTENCES
    ? ` (and ${error.issues.length - MAX_SENTENCES} more)`
    : "";
  return `Invalid arguments for ${tool}: ${clauses.join("; ")}${more}. ` +
    "Fix them and call again.";
}

/**
 * The arguments a tool does not take, as a refusal sentence, or `undefined`. `known` are the
 * names in its input schema.
 */
export function unknownArgumentsMessage(
  tool: string,
  args: Readonly<Record<string, unknown>>,
  known: readonly string[],
): string | undefined {
  const unknown = Object.keys(args).filter((key) =>
    args[key] !== undefined && !known.includes(key)
  );
  if (unknown.length === 0) return undefined;
  const shown = unknown.slice(0, 3).map((key) => quote(key, 40)).join(", ");
  return `Invalid arguments for ${tool}: unknown argument${
    unknown.length === 1 ? "" : "s"
  } ${shown}` +
    `${unknown.length > 3 ? ` (and ${unknown.length - 3} more)` : ""}; it takes ${
      known.length === 0 ? "no arguments" : known.join(", ")
    }. Nothing was sent: remove or rename ${unknown.length === 1 ? "it" : "them"} and call again.`;
}
