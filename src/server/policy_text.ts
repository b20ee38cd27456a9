/**
 * The active policy resource's text: what this server may do and why — which capability
 * classes, toolsets and tools it offers and which configuration key decides each, the scope,
 * confirmation and waits — written from the settings the server runs with. It holds no
 * secret: the configuration's credentials and URLs are not part of it.
 *
 * @module
 */

import { CAPABILITIES, type Capability, needsConfirmation } from "../policy/capability.ts";
import type { ConfirmationRules, PolicyRules } from "../policy/policy.ts";
import type { Scope } from "../policy/scope.ts";
import { TOOLSETS } from "../tools/toolsets.ts";
import type { WaitRules } from "./context.ts";

/** A tool as the policy sees it. */
export interface PolicyTextTool {
  name: string;
  toolset: string;
  capability: Capability;
  /** Asks the user to confirm although its class would not. */
  confirm?: boolean;
}

/** What the text is written from. */
export interface PolicyTextInput {
  /** The policy with the effective toolsets (defaults filled in). */
  policy: PolicyRules;
  scope: Scope;
  confirmation: ConfirmationRules;
  wait: WaitRules;
  clusters: readonly string[];
  /** Every tool the server knows. */
  tools: readonly PolicyTextTool[];
  /** Names of the tools this session offers. */
  offered: ReadonlySet<string>;
}

function quotedList(values: readonly string[]): string {
  return values.map((value) => `"${value}"`).join(", ");
}

function namesOf(tools: readonly PolicyTextTool[], max = 8): string {
  const names = tools.map((tool) => tool.name);
  return names.length <= max
    ? names.join(", ")
    : `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

function scopeLines(scope: Scope): string[] {
  const rules: string[] = [];
  if (scope.nodes?.length) rules.push(`on nodes ${quotedList(scope.nodes)} (policy.scope.nodes)`);
  if (scope.vmids?.length) {
    rules.push(`with a vmid in ${quotedList(scope.vmids)} (policy.scope.vmids)`);
  }
  if (scope.pools?.length) rules.push(`in pools ${quotedList(scope.pools)} (policy.scope.pools)`);
  if (scope.tags?.length) {
    rules.push(`carrying at least one tag of ${quotedList(scope.tags)} (policy.scope.tags)`);
  }
  if (rules.length === 0) {
    return ["Every guest and node: no policy.scope is configured."];
  }
  return [
    "Only guests " + rules.join(", and ") + ".",
    "Guests outside the scope are not listed, not counted and cannot be read or changed; " +
    "ask the administrator to widen policy.scope for more.",
  ];
}

/** The policy as Markdown. */
export function policyText(input: PolicyTextInput): string {
  const { policy, tools, offered } = input;
  const offeredCount = tools.filter((tool) => offered.has(tool.name)).length;
  const clusters = input.clusters.length === 1
    ? `cluster "${input.clusters[0]}"`
    : `clusters ${quotedList(input.clusters)} (tools take a cluster argument)`;
  const lines = [
    "# Active policy",
    "",
    `This server offers ${offeredCount} of its ${tools.length} tools, on ${clusters}. ` +
    "A tool is offered when its capability class is allowed, its toolset is enabled and it is " +
    "not excluded; anything else is neither listed nor callable.",
    "",
    "## Capability classes (policy.allow)",
  ];
  for (const capability of CAPABILITIES) {
    const ofClass = tools.filter((tool) => tool.capability === capability);
    if (policy.allow.includes(capability)) {
      lines.push(`- ${capability}: allowed (${ofClass.length} tools).`);
    } else {
      lines.push(
        `- ${capability}: not allowed; add "${capability}" to policy.allow to offer ${
          namesOf(ofClass)
        }.`,
      );
    }
  }
  lines.push("", "## Toolsets (policy.toolsets)");
  const known = new Set(tools.map((tool) => tool.toolset));
  for (const toolset of TOOLSETS.filter((t) => known.has(t.id))) {
    const enabled = policy.toolsets === undefined || policy.toolsets.includes(toolset.id);
    lines.push(
      `- ${toolset.id}: ${
        enabled ? "enabled" : `off; add "${toolset.id}" to policy.toolsets`
      }. ${toolset.description}.`,
    );
  }
  const excluded = policy.exclude ?? [];
  lines.push(
    "",
    "## Excluded tools (policy.exclude)",
    excluded.length === 0 ? "None." : `${excluded.join(", ")}: never offered.`,
    "",
    "## Scope (policy.scope)",
    ...scopeLines(input.scope),
    "",
    "## Confirmation (policy.confirmation)",
  );
  const confirmed = CAPABILITIES.filter((capability) => needsConfirmation(capability));
  const alsoConfirmed = tools.filter((tool) =>
    tool.confirm === true && !needsConfirmation(tool.capability)
  );
  lines.push(
    `Calls of the classes ${quotedList(confirmed)}${
      alsoConfirmed.length === 0 ? "" : ` and of ${namesOf(alsoConfirmed)}`
    } ask the user first. A client that cannot ask: ${
      input.confirmation.fallback === "deny"
        ? 'the call is refused (fallback "deny")'
        : 'the call runs without asking (fallback "allow")'
    }. Every write tool takes dry_run, which returns the exact Proxmox VE calls and makes none.`,
    "",
    "## Waits (policy.wait)",
    `Write tools wait up to ${input.wait.defaultSeconds} s for their task unless asked for ` +
      `longer, never more than ${input.wait.maxSeconds} s; a task still running then is ` +
      "returned by its UPID, to be followed.",
  );
  return lines.join("\n");
}
