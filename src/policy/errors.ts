/**
 * `PolicyError`: a call this server refuses by policy. The server turns it into a tool result
 * with `isError: true`; its message names the rule in one sentence and says what to do next.
 *
 * @module
 */

/** Why the policy refused: the first refusing rule, in policy order. */
export type PolicyReason = "class" | "toolset" | "excluded" | "scope" | "confirmation";

/** A call refused by policy. */
export class PolicyError extends Error {
  /** The refusing rule. */
  readonly reason: PolicyReason;

  /** A refusal by the rule `reason`; `message` names it and says what to do next. */
  constructor(reason: PolicyReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PolicyError";
    this.reason = reason;
  }
}
