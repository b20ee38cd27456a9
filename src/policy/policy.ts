/**
 * What may run. Policy order (first refusal wins): capability class allowed → toolset enabled →
 * tool not excluded → target in scope (see `scope.ts`) → confirmation for `destroy`/`exec`/`raw`
 * (elicitation; if the client cannot elicit, the configured fallback, `deny` by default).
 *
 * A tool refused by class, toolset or exclusion is not listed at all ({@link toolVisible});
 * {@link explainToolHidden} says why, for `tools` listings, `doctor` and error messages.
 *
 * @module
 */

import { type Capability, type ConfirmationSubject, needsConfirmation } from "./capability.ts";
import { PolicyError } from "./errors.ts";

export { PolicyError, type PolicyReason } from "./errors.ts";

/** The policy rules this module reads (a subset of the configured `policy`). */
export interface PolicyRules {
  /** Allowed capability classes. */
  allow: readonly Capability[];
  /** Enabled toolsets; unset means every toolset. */
  toolsets?: readonly string[] | undefined;
  /** Tool names that are never offered. */
  exclude?: readonly string[] | undefined;
}

/** The confirmation rules (`policy.confirmation`). */
export interface ConfirmationRules {
  /** What to do when the client cannot elicit: refuse (default) or run without asking. */
  fallback: "deny" | "allow";
}

/** The facts about a tool the policy looks at. */
export interface PolicyTool {
  /** The tool name. */
  name: string;
  /** The toolset it belongs to. */
  toolset: string;
  /** Its capability class. */
  capability: Capability;
}

/**
 * Why `tool` is hidden under `policy`, as a `PolicyError` (reason `class`, `toolset` or
 * `excluded`, checked in that order), or `undefined` when the tool is visible.
 */
export function explainToolHidden(tool: PolicyTool, policy: PolicyRules): PolicyError | undefined {
  if (!policy.allow.includes(tool.capability)) {
    return new PolicyError(
      "class",
      `Tool "${tool.name}" needs capability "${tool.capability}", which this server does not allow: ` +
        `add "${tool.capability}" to policy.allow (or PROXMOX_MCP_ALLOW) if you want to permit it`,
    );
  }
  if (policy.toolsets !== undefined && !policy.toolsets.includes(tool.toolset)) {
    return new PolicyError(
      "toolset",
      `Tool "${tool.name}" belongs to toolset "${tool.toolset}", which is not enabled: ` +
        `add "${tool.toolset}" to policy.toolsets (or PROXMOX_MCP_TOOLSETS) to enable it`,
    );
  }
  if (policy.exclude?.includes(tool.name)) {
    return new PolicyError(
      "excluded",
      `Tool "${tool.name}" is excluded by policy.exclude (or PROXMOX_MCP_EXCLUDE): ` +
        "remove it from that list if you want to use it",
    );
  }
  return undefined;
}

/** Whether `tool` is offered under `policy` (class allowed, toolset enabled, not excluded). */
export function toolVisible(tool: PolicyTool, policy: PolicyRules): boolean {
  return explainToolHidden(tool, policy) === undefined;
}

/** Throw the {@link explainToolHidden} error when `tool` is hidden under `policy`. */
export function assertToolAllowed(tool: PolicyTool, policy: PolicyRules): void {
  const error = explainToolHidden(tool, policy);
  if (error !== undefined) throw error;
}

/**
 * How to confirm a call of this class (or of this tool, which may ask for confirmation beyond its
 * class):
 * - `"none"`: no confirmation is needed;
 * - `"elicit"`: ask the user through the client (it can elicit);
 * - `"allow"`: the client cannot elicit and the fallback is `allow`: run without asking;
 * - `"deny"`: the client cannot elicit and the fallback is `deny`: refuse with
 *   {@link confirmationError}(tool, "unavailable").
 */
export function confirmationMode(
  subject: ConfirmationSubject,
  options: { canElicit: boolean; rules: ConfirmationRules },
): "none" | "elicit" | "allow" | "deny" {
  if (!needsConfirmation(subject)) return "none";
  if (options.canElicit) return "elicit";
  return options.rules.fallback === "allow" ? "allow" : "deny";
}

/**
 * The refusal for a call that was not confirmed: `"declined"` when the user said no (or
 * cancelled), `"unavailable"` when the client cannot elicit and the fallback is `deny`.
 */
export function confirmationError(
  tool: string,
  why: "declined" | "unavailable",
): PolicyError {
  if (why === "declined") {
    return new PolicyError(
      "confirmation",
      `The user did not confirm "${tool}": nothing was changed; ask the user before trying again`,
    );
  }
  return new PolicyError(
    "confirmation",
    `Tool "${tool}" needs confirmation, but this client cannot ask the user and ` +
      'policy.confirmation.fallback is "deny": use a client that supports elicitation, or set ' +
      'the fallback to "allow" (PROXMOX_MCP_CONFIRM_FALLBACK=allow) to run without asking',
  );
}
