/**
 * Findings in code another engineer owns, reported to its owner with the input that reproduces
 * them: the bounded run prints them and does not fail on them, so the suite stays a gate for
 * everything else. Remove an entry when its owner lands the fix (the run then fails if the
 * defect comes back).
 *
 * @module
 */

import type { Finding } from "./_run.ts";
import type { CheckName } from "./_checks.ts";

/** A finding the suite knows about. */
export interface KnownFinding {
  check: CheckName;
  tool: string;
  /** Matches the finding's detail. */
  detail: RegExp;
  /** Who owns the code, and where it lives. */
  owner: string;
  /** The defect in one sentence. */
  why: string;
}

/** The known findings (see the module doc). */
export const KNOWN_FINDINGS: readonly KnownFinding[] = [];

/** Splits findings into known ones and new ones. */
export function partitionFindings(
  findings: readonly Finding[],
): { known: Finding[]; fresh: Finding[] } {
  const known: Finding[] = [];
  const fresh: Finding[] = [];
  for (const finding of findings) {
    const match = KNOWN_FINDINGS.some((entry) =>
      entry.check === finding.check && entry.tool === finding.tool &&
      entry.detail.test(finding.detail)
    );
    (match ? known : fresh).push(finding);
  }
  return { known, fresh };
}
