/**
 * The bounded run's size and how a run prints its figures and findings (stdout, one line at a
 * time; the test runner shows it under the test).
 *
 * @module
 */

import { type Finding, formatFinding, type FuzzOptions } from "./_run.ts";

/**
 * The run inside `deno task test`: fixed seed, every tool's coverage cases plus a share of
 * random ones, well under a minute on two cores.
 */
export const BOUNDED_RUN: FuzzOptions = {
  seed: 14,
  calls: 400,
  mutations: 40,
  bursts: 5,
  stdioCalls: 40,
  clientCalls: 40,
  latencyAttempts: 3,
  latencyBound: 200,
};

const encoder = new TextEncoder();

/** Writes one line to stdout. */
export function printLine(line = ""): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}

/** Prints findings under a heading, the same defect once with how often it was seen. */
export function printFindings(heading: string, findings: readonly Finding[]): void {
  if (findings.length === 0) return;
  const seen = new Map<string, { finding: Finding; count: number }>();
  for (const finding of findings) {
    const key = `${finding.check} ${finding.via} ${finding.tool ?? ""} ${
      finding.detail.replace(/"[^"]*"/g, '"…"').slice(0, 80)
    }`;
    const entry = seen.get(key);
    if (entry === undefined) seen.set(key, { finding, count: 1 });
    else entry.count++;
  }
  printLine(`  ${heading}: ${findings.length}`);
  for (const { finding, count } of seen.values()) {
    printLine(`    ${count > 1 ? `${count}× ` : ""}${formatFinding(finding).slice(0, 600)}`);
  }
}
