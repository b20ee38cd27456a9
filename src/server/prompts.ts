/**
 * MCP prompts: the procedures admins repeat (`prompt_specs.ts`), each a short instruction with
 * arguments that names this server's tools in the order to call them. A prompt is rendered
 * against the session: a step whose tools the policy hides falls back to an alternative that
 * uses offered tools, or is left out and listed at the end with what to enable instead — the
 * text never names a tool the session does not offer (the model would call it and be refused).
 *
 * Pure data and functions, free of the SDK and zod, so the start-up path can answer
 * `prompts/list` early (see `catalog.ts`); the server maps {@link PromptError} to an
 * invalid-params error.
 *
 * @module
 */

import type { Capability } from "../policy/capability.ts";
import type { PolicyRules } from "../policy/policy.ts";
import { PROMPTS } from "./prompt_specs.ts";

export { PROMPTS };

/** What an argument holds; completions offer values by kind (`completions.ts`). */
export type ArgumentKind =
  | "guest"
  | "node"
  | "storage"
  | "snapshot"
  | "timeframe"
  | "hours"
  | "cluster";

/** One argument of a prompt. */
export interface PromptArgumentSpec {
  name: string;
  description: string;
  required: boolean;
  kind: ArgumentKind;
  /** Storage arguments: only storages holding this content type are offered. */
  content?: string;
}

/** Formats a call of `tool` (with its arguments as JSON) and records that the text names it. */
export type UseTool = (tool: string, args?: Record<string, unknown>) => string;

/** One step: what it is for (said without naming a tool), then its texts, best first. */
export interface StepGroup {
  /** Shown when no option is available, with what to enable. */
  label: string;
  /** Each option names its tools only through `use`; the first whose tools are offered wins. */
  options: ReadonlyArray<(use: UseTool) => string>;
}

/** A prompt: its list entry and how its text is built from the arguments. */
export interface PromptSpec {
  name: string;
  title: string;
  description: string;
  arguments: readonly PromptArgumentSpec[];
  /** The goal (names no tool), the steps in order, and what to report (names no tool). */
  build(args: Readonly<Record<string, string>>): {
    goal: string;
    steps: readonly StepGroup[];
    report: string;
  };
}

/** The `prompts/list` entry of a prompt. */
export interface ListedPrompt {
  name: string;
  title: string;
  description: string;
  arguments: Array<{ name: string; description: string; required: boolean }>;
}

/** A `prompts/get` result (a type, not an interface: the SDK's result type is indexable). */
export type RenderedPrompt = {
  description: string;
  messages: Array<{ role: "user"; content: { type: "text"; text: string } }>;
};

/** What a tool is, for saying how to enable it. */
export interface ToolFacts {
  toolset: string;
  capability: Capability;
}

/** The session a prompt is rendered for. */
export interface PromptSession {
  /** Names of the tools this session offers. */
  offered: ReadonlySet<string>;
  /** Every tool this server knows (offered or not), for saying what to enable. */
  known: ReadonlyMap<string, ToolFacts>;
  /** The policy, with the effective toolsets. */
  policy: PolicyRules;
  /** Configured cluster names; with more than one, prompts take a `cluster` argument. */
  clusters: readonly string[];
}

/** A `prompts/get` the server refuses: unknown prompt, missing or malformed argument. */
export class PromptError extends Error {
  /** A refusal whose message says what to pass instead. */
  constructor(message: string) {
    super(message);
    this.name = "PromptError";
  }
}

/** The timeframes `metrics_get` takes. */
export const TIMEFRAMES: readonly string[] = ["hour", "day", "week", "month", "year"];

/** Suggested values of an hours argument (a day, two, three, a week). */
export const HOURS_SUGGESTIONS: readonly string[] = ["24", "48", "72", "168"];

const CLUSTER_ARG: PromptArgumentSpec = {
  name: "cluster",
  description: "The cluster (default: the first configured)",
  required: false,
  kind: "cluster",
};

/** A prompt's arguments in a session with these clusters (a `cluster` one when several). */
export function promptArguments(
  spec: PromptSpec,
  clusters: readonly string[],
): readonly PromptArgumentSpec[] {
  return clusters.length > 1 ? [...spec.arguments, CLUSTER_ARG] : spec.arguments;
}

/** Arguments to build a prompt with when only the tools it names matter. */
const PLACEHOLDERS: Readonly<Record<ArgumentKind, string>> = {
  guest: "100",
  node: "node",
  storage: "storage",
  snapshot: "snapshot",
  timeframe: "day",
  hours: "48",
  cluster: "cluster",
};

/** Every tool a prompt may name (all options of all steps, arguments given and not). */
function toolsNamed(spec: PromptSpec): Set<string> {
  const names = new Set<string>();
  const use: UseTool = (tool) => {
    names.add(tool);
    return tool;
  };
  const full = Object.fromEntries(spec.arguments.map((a) => [a.name, PLACEHOLDERS[a.kind]]));
  const required = Object.fromEntries(
    spec.arguments.filter((a) => a.required).map((a) => [a.name, PLACEHOLDERS[a.kind]]),
  );
  for (const args of [full, required]) {
    for (const step of spec.build(args).steps) for (const option of step.options) option(use);
  }
  return names;
}

/** Whether a session offering these tools lists the prompt: some tool it names is offered. */
export function promptOffered(spec: PromptSpec, offered: ReadonlySet<string>): boolean {
  for (const tool of toolsNamed(spec)) if (offered.has(tool)) return true;
  return false;
}

/** The `prompts/list` entries for a session offering these tools. */
export function listPrompts(
  offered: Iterable<string>,
  clusters: readonly string[],
): ListedPrompt[] {
  const set = new Set(offered);
  return PROMPTS.filter((spec) => promptOffered(spec, set)).map((spec) => ({
    name: spec.name,
    title: spec.title,
    description: spec.description,
    arguments: promptArguments(spec, clusters).map((a) => ({
      name: a.name,
      description: a.description,
      required: a.required,
    })),
  }));
}

const VALUE_RULES: Readonly<Record<ArgumentKind, { test: RegExp; expect: string }>> = {
  guest: {
    test: /^(?:[1-9]\d{2,8}|[A-Za-z0-9][A-Za-z0-9._-]{0,127})$/,
    expect: 'a vmid (100 to 999999999) or a guest name (letters, digits, ".", "_", "-")',
  },
  node: {
    test: /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/,
    expect: 'a node name (letters, digits and "-")',
  },
  storage: {
    test: /^[A-Za-z][A-Za-z0-9._-]{0,62}[A-Za-z0-9]$/,
    expect: 'a storage id (letters, digits, ".", "_", "-")',
  },
  snapshot: {
    test: /^[A-Za-z][A-Za-z0-9_-]{0,39}$/,
    expect: 'a snapshot name (a letter, then letters, digits, "_" or "-"; at most 40)',
  },
  timeframe: {
    test: new RegExp(`^(?:${TIMEFRAMES.join("|")})$`),
    expect: "hour, day, week, month or year",
  },
  hours: {
    test: /^(?:[1-9]\d{0,3}|[1-7]\d{4}|8[0-6]\d{3}|87[0-5]\d{2}|87600)$/,
    expect: "a whole number of hours from 1 to 87600",
  },
  cluster: { test: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, expect: "a configured cluster name" },
};

function shown(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

/** Checks the arguments of a `prompts/get` and fills nothing in. */
function checkArguments(
  spec: PromptSpec,
  given: Readonly<Record<string, unknown>>,
  clusters: readonly string[],
): Record<string, string> {
  const specs = promptArguments(spec, clusters);
  const names = new Set(specs.map((a) => a.name));
  for (const key of Object.keys(given)) {
    if (!names.has(key)) {
      throw new PromptError(
        `Prompt "${spec.name}" has no argument "${shown(key)}": use ${
          [...names].map((n) => `"${n}"`).join(", ")
        }.`,
      );
    }
  }
  const args: Record<string, string> = {};
  for (const argument of specs) {
    const value = given[argument.name];
    if (value === undefined || value === "") {
      if (argument.required) {
        throw new PromptError(
          `Prompt "${spec.name}" needs the argument "${argument.name}": ${argument.description.toLowerCase()}.`,
        );
      }
      continue;
    }
    const text = String(value);
    const rule = VALUE_RULES[argument.kind];
    const known = argument.kind !== "cluster" || clusters.includes(text);
    if (typeof value !== "string" || !rule.test.test(text) || !known) {
      const expected = argument.kind === "cluster"
        ? `one of ${clusters.map((c) => `"${c}"`).join(", ")}`
        : rule.expect;
      throw new PromptError(
        `Prompt "${spec.name}": argument "${argument.name}" must be ${expected}, got "${
          shown(text)
        }".`,
      );
    }
    args[argument.name] = text;
  }
  return args;
}

/** How to make a hidden tool available, without naming it: `enable the "backup" toolset`. */
function enableHint(tool: string, session: PromptSession): string | undefined {
  const facts = session.known.get(tool);
  if (facts === undefined) return undefined;
  const needs: string[] = [];
  if (!session.policy.allow.includes(facts.capability)) {
    needs.push(`allow the "${facts.capability}" class (policy.allow)`);
  }
  if (session.policy.toolsets !== undefined && !session.policy.toolsets.includes(facts.toolset)) {
    needs.push(`enable the "${facts.toolset}" toolset (policy.toolsets)`);
  }
  if (session.policy.exclude?.includes(tool)) needs.push("lift its exclusion (policy.exclude)");
  return needs.length === 0 ? undefined : needs.join(" and ");
}

/** The tools an option names. */
function toolsOf(option: StepGroup["options"][number]): string[] {
  const tools: string[] = [];
  option((tool) => {
    tools.push(tool);
    return tool;
  });
  return tools;
}

/** What to enable for a step none of whose options is available, or why it cannot be had. */
function stepHint(step: StepGroup, session: PromptSession): string {
  for (const option of step.options) {
    const hidden = toolsOf(option).filter((tool) => !session.offered.has(tool));
    if (hidden.some((tool) => !session.known.has(tool))) continue;
    const hints = [...new Set(hidden.map((tool) => enableHint(tool, session) ?? ""))]
      .filter((hint) => hint !== "");
    if (hints.length > 0) return hints.join(", and ");
  }
  return "this server does not offer it";
}

/**
 * Renders a prompt for a session.
 *
 * @throws {PromptError} for an unknown or unlisted prompt, an unknown argument, a missing
 *   required one or a malformed value.
 */
export function renderPrompt(
  name: string,
  given: Readonly<Record<string, unknown>> | undefined,
  session: PromptSession,
): RenderedPrompt {
  const spec = PROMPTS.find((p) => p.name === name);
  if (spec === undefined || !promptOffered(spec, session.offered)) {
    const listed = listPrompts(session.offered, session.clusters).map((p) => `"${p.name}"`);
    throw new PromptError(
      `Unknown prompt "${shown(name)}": ${
        listed.length === 0
          ? "this server offers no prompts under its policy"
          : `use one of ${listed.join(", ")}`
      }.`,
    );
  }
  const args = checkArguments(spec, given ?? {}, session.clusters);
  const cluster = session.clusters.length > 1 ? args.cluster ?? session.clusters[0] : undefined;
  const use: UseTool = (tool, toolArgs) => {
    const withCluster = cluster === undefined ? toolArgs : { ...toolArgs, cluster };
    return withCluster === undefined || Object.keys(withCluster).length === 0
      ? tool
      : `${tool} ${JSON.stringify(withCluster)}`;
  };
  const built = spec.build(args);
  const steps: string[] = [];
  const missing: string[] = [];
  for (const step of built.steps) {
    const option = step.options.find((candidate) =>
      toolsOf(candidate).every((tool) => session.offered.has(tool))
    );
    if (option === undefined) {
      missing.push(`- ${step.label}: ${stepHint(step, session)}.`);
    } else {
      steps.push(`${steps.length + 1}. ${option(use)}`);
    }
  }
  const lines = [built.goal];
  if (cluster !== undefined) lines.push(`Work on cluster "${cluster}".`);
  lines.push("", "Steps, in order:", ...steps);
  if (missing.length > 0) {
    lines.push(
      "",
      "Left out, because this server does not offer the tools for them (say so in the report):",
      ...missing,
    );
  }
  lines.push("", built.report);
  return {
    description: spec.title,
    messages: [{ role: "user", content: { type: "text", text: lines.join("\n") } }],
  };
}
