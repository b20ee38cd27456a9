/**
 * The command line's deliberate output: the one place besides `src/log.ts` that writes to
 * stdout or stderr. stdout carries results (JSON, tables, the demo walk-through); stderr carries
 * one-line errors and progress. Writes are synchronous and need no permission.
 *
 * @module
 */

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
}

/** Where a command writes; tests and the demo may collect instead of printing. */
export interface Output {
  /** Writes one line (a newline is added) to the result stream (stdout). */
  line(text?: string): void;
  /** Writes one line (a newline is added) to the diagnostic stream (stderr). */
  error(text: string): void;
}

/** The process's stdout and stderr. */
export const stdio: Output = {
  line(text = "") {
    writeAll(Deno.stdout, `${text}\n`);
  },
  error(text) {
    writeAll(Deno.stderr, `${text}\n`);
  },
};

/** Writes a question to stdout without a newline, so the answer is typed after it. */
export function writePrompt(text: string): void {
  writeAll(Deno.stdout, text);
}

/** Writes `value` as indented JSON on one or more stdout lines. */
export function printJson(value: unknown, out: Output = stdio): void {
  out.line(JSON.stringify(value, null, 2));
}

/**
 * Renders rows as an aligned text table with a header and a rule; the last column is not
 * padded.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...rows.map((row) => (row[index] ?? "").length))
  );
  const render = (cells: readonly string[]) =>
    cells.map((cell, index) => index === cells.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))
      .join("  ").trimEnd();
  return [
    render(headers),
    render(widths.map((width) => "-".repeat(width))),
    ...rows.map(render),
  ];
}
