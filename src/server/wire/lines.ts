/**
 * Newline-delimited framing of a byte stream (MCP's stdio binding): each line is one message.
 * Linear in the input: each byte is scanned once with the native `indexOf`, and a line is
 * decoded once. A line longer than the limit is not buffered: its bytes are counted and
 * skipped up to the next newline, and it is reported as too long (with its first bytes, so the
 * caller can try to name the request), so no input can make the reader hold more than the
 * limit.
 *
 * @module
 */

const NEWLINE = 0x0a;

/** What the reader yields for one line. */
export type Line =
  | { kind: "line"; text: string }
  | { kind: "too_long"; bytes: number; head: string };

/** How many leading bytes of an over-long line are kept for the report. */
export const HEAD_BYTES = 256;

/**
 * Yields the lines of `stream` (chunks it does not reuse) (without the newline; a final line without newline counts).
 * Lines of more than `maxBytes` bytes come back as `too_long`.
 */
export async function* readLines(
  stream: AsyncIterable<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<Line> {
  const decoder = new TextDecoder();
  let parts: Uint8Array[] = [];
  let length = 0;
  let skipping = false;
  let head: Uint8Array = new Uint8Array(0);

  function finishLine(): Line | undefined {
    if (skipping) {
      const line: Line = { kind: "too_long", bytes: length, head: decoder.decode(head) };
      skipping = false;
      parts = [];
      length = 0;
      return line;
    }
    const bytes = parts.length === 1 ? parts[0]! : concat(parts, length);
    parts = [];
    length = 0;
    const text = decoder.decode(bytes);
    return { kind: "line", text: text.endsWith("\r") ? text.slice(0, -1) : text };
  }

  function take(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    length += chunk.length;
    if (skipping) return;
    if (length > maxBytes) {
      const buffered = concat([...parts, chunk], Math.min(length, HEAD_BYTES));
      head = buffered.subarray(0, Math.min(buffered.length, HEAD_BYTES));
      parts = [];
      skipping = true;
      return;
    }
    parts.push(chunk);
  }

  for await (const chunk of stream) {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) {
        take(chunk.subarray(start));
        break;
      }
      take(chunk.subarray(start, end));
      const line = finishLine();
      if (line !== undefined) yield line;
      start = end + 1;
    }
  }
  if (length > 0 || skipping) {
    const line = finishLine();
    if (line !== undefined) yield line;
  }
}

/** The first `length` bytes of `parts`, as one array. */
function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    if (offset >= length) break;
    const slice = part.subarray(0, length - offset);
    out.set(slice, offset);
    offset += slice.length;
  }
  return out;
}
