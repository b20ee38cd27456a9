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
export const KNOWN_FINDINGS: readonly KnownFinding[] = [
  {
    check: "non_actionable",
    tool: "guest_migrate",
    detail: /is already on \S+: nothing to migrate/,
    owner: "provisioning, src/tools/provisioning/guest_migrate.ts",
    why:
      "moving a guest to the node it is on is an isError result with no next step (name another target_node, or answer it as done)",
  },
  {
    check: "stale_verdict",
    tool: "guest_delete",
    detail: /an empty lock was read as a lock/,
    owner: "provisioning, src/tools/provisioning/guest_delete.ts (plan)",
    why:
      'a lock key present but empty ("lock": "", which means unlocked) refuses the delete as "locked ()": the plan reads status.lock as a string instead of with lockOf',
  },
  {
    check: "stale_verdict",
    tool: "guest_template",
    detail: /an empty lock was read as a lock/,
    owner: "provisioning, src/tools/provisioning/guest_template.ts (plan)",
    why:
      'the same as guest_delete: "lock": "" refuses the conversion as "locked ()" (status.lock read without lockOf)',
  },
  {
    check: "non_actionable",
    tool: "guest_agent_info",
    detail: /containers have no QEMU guest agent: the agent tools work only on VMs/,
    owner: "agent, src/tools/agent/_agent.ts",
    why:
      "the refusal for a container ends on a fact, not a step (e.g. read it with guest_get, or run the command with pct exec on the node)",
  },
  {
    check: "non_actionable",
    tool: "guest_exec",
    detail: /containers have no QEMU guest agent: the agent tools work only on VMs/,
    owner: "agent, src/tools/agent/_agent.ts",
    why: "the same refusal as guest_agent_info's",
  },
  {
    check: "unanswered",
    tool: "guests_rolling_restart",
    detail: /no reply within the timeout|abandoned without a reply/,
    owner: "workflows, src/tools/workflows/guests_rolling_restart.ts (awaitAgent)",
    why:
      "the wait for each guest's agent (agent_seconds, up to 900 s per guest, one guest after another) ignores policy.wait.maxSeconds (10 s in the fuzz configuration), so a call runs for minutes and is abandoned when stdin ends after maxSeconds + 5 s",
  },
  {
    check: "non_actionable",
    tool: "storage_download",
    detail: /URL scheme .* is not supported: Proxmox VE downloads only over http/,
    owner: "storage, src/tools/storage/storage_download.ts",
    why:
      'a file:// (or other) URL is refused with what PVE supports, not what to do (e.g. "give an http:// or https:// URL")',
  },
];

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
