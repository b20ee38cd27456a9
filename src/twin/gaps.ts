/**
 * What a capture could not read, summed up: one sentence per kind of read and reason, with a
 * few examples, so ten thousand guests the credential may not audit cost one line, not ten
 * thousand.
 *
 * @module
 */

import { PveError } from "../pve/mod.ts";

/** Examples named per gap. */
const EXAMPLES = 5;

interface Gap {
  what: string;
  reason: string;
  subjects: string[];
}

/** The first line of an error's message. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? "").trim().replace(/\.$/, "");
}

/**
 * A reason for grouping: PVE's own text when it sent one, else the first line; the node or
 * guest in an ACL path becomes a placeholder, so one missing privilege is one gap.
 */
function reasonOf(error: unknown): string {
  const text = error instanceof PveError && error.pveMessage !== undefined
    ? `${error.status === undefined ? "" : `${error.status} `}${firstLine(error.pveMessage)}`
    : firstLine(error);
  return text.replace(/\/nodes\/[^/,)\s]+/g, "/nodes/{node}").replace(/\/vms\/\d+/g, "/vms/{vmid}");
}

function bySubject(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** Collects what could not be read, grouped by what and why. */
export class Gaps {
  readonly #gaps = new Map<string, Gap>();

  /** Notes that `what` (e.g. "guest firewall") could not be read for `subject` (e.g. "100"). */
  add(what: string, subject: string, error: unknown): void {
    const reason = reasonOf(error);
    const key = `${what}\u0000${reason}`;
    let gap = this.#gaps.get(key);
    if (gap === undefined) {
      gap = { what, reason, subjects: [] };
      this.#gaps.set(key, gap);
    }
    gap.subjects.push(subject);
  }

  /** Notes a gap that is one sentence already (e.g. an offline node). */
  note(sentence: string): void {
    this.#gaps.set(`\u0001${sentence}`, { what: sentence, reason: "", subjects: [] });
  }

  /** One sentence per gap, in the order they were first seen. */
  lines(): string[] {
    return [...this.#gaps.values()].map((gap) => {
      if (gap.subjects.length === 0) return gap.what;
      const shown = [...gap.subjects].sort(bySubject).slice(0, EXAMPLES).join(", ");
      const more = gap.subjects.length > EXAMPLES ? `, … (${gap.subjects.length} in all)` : "";
      return `${gap.what} not read for ${shown}${more}: ${gap.reason}`;
    });
  }
}
