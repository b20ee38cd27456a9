/**
 * Writing and reading twin files. A twin is written one item per line (each node, storage,
 * guest, pool… on its own line), so a text diff or a `grep` of two captures stays readable and
 * the file stays close to the size of compact JSON.
 *
 * @module
 */

import { type TwinFile, twinProblem } from "./format.ts";

/** A twin file that cannot be read, with the reason. */
export class TwinReadError extends Error {
  /** An error naming the file and what is wrong with it. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TwinReadError";
  }
}

/** The text of a twin file: top-level fields one per line, lists one item per line. */
export function formatTwin(twin: TwinFile): string {
  const lines: string[] = [];
  const entries = Object.entries(twin);
  entries.forEach(([key, value], index) => {
    const comma = index < entries.length - 1 ? "," : "";
    if (Array.isArray(value) && value.length > 0) {
      lines.push(`${JSON.stringify(key)}: [`);
      value.forEach((item, i) => {
        lines.push(`  ${JSON.stringify(item)}${i < value.length - 1 ? "," : ""}`);
      });
      lines.push(`]${comma}`);
    } else {
      lines.push(`${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}`);
    }
  });
  return `{\n${lines.map((line) => `  ${line}`).join("\n")}\n}\n`;
}

/**
 * Parses the text of a twin file.
 *
 * @throws {TwinReadError} when it is not JSON or not a twin this program reads.
 */
export function parseTwin(text: string, name: string): TwinFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new TwinReadError(
      `Cannot read twin "${name}": not JSON (${error instanceof Error ? error.message : error})`,
    );
  }
  const problem = twinProblem(doc);
  if (problem !== undefined) throw new TwinReadError(`Cannot read twin "${name}": ${problem}`);
  return doc as TwinFile;
}
