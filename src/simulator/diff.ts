/**
 * A unified diff of two small texts, as `diff -u` prints it: the `---`/`+++` header, then
 * hunks with three lines of context. PVE puts such a diff of `/etc/network/interfaces` against
 * `interfaces.new` into the `changes` key of `GET /nodes/{node}/network`.
 *
 * @module
 */

type Op = [" " | "-" | "+", string];

/** The edit script from `a` to `b` (longest common subsequence; the texts are small). */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j]
        ? lcs[i + 1]![j + 1]! + 1
        : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push([" ", a[i]!]);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // Deletions before insertions, as diff prints a changed line.
      ops.push(["-", a[i]!]);
      i++;
    } else {
      ops.push(["+", b[j]!]);
      j++;
    }
  }
  return ops;
}

function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

/**
 * `diff -u` of two texts (split at newlines), or `""` when they are equal.
 *
 * @param labels the `---` and `+++` header lines after the marker (file name and time)
 */
export function unifiedDiff(
  before: string,
  after: string,
  labels: { from: string; to: string },
  context = 3,
): string {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.at(-1) === "") a.pop();
  if (b.at(-1) === "") b.pop();
  const ops = editScript(a, b);
  const changed = ops.map((op, index) => (op[0] === " " ? -1 : index)).filter((x) => x >= 0);
  if (changed.length === 0) return "";
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  let k = 0;
  while (k < changed.length) {
    const first = changed[k]!;
    let last = first;
    while (k + 1 < changed.length && changed[k + 1]! - last <= 2 * context + 1) {
      last = changed[++k]!;
    }
    k++;
    const start = Math.max(0, first - context);
    const end = Math.min(ops.length - 1, last + context);
    let lineA = 1;
    let lineB = 1;
    for (let x = 0; x < start; x++) {
      if (ops[x]![0] !== "+") lineA++;
      if (ops[x]![0] !== "-") lineB++;
    }
    const hunk = ops.slice(start, end + 1);
    const countA = hunk.filter((op) => op[0] !== "+").length;
    const countB = hunk.filter((op) => op[0] !== "-").length;
    out.push(`@@ -${range(lineA, countA)} +${range(lineB, countB)} @@`);
    for (const [mark, line] of hunk) out.push(`${mark}${line}`);
  }
  return `${out.join("\n")}\n`;
}
