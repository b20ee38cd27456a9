import assert from "node:assert/strict";
import { unifiedDiff } from "./diff.ts";

const labels = { from: "a", to: "b" };

Deno.test("unifiedDiff of equal texts is empty", () => {
  assert.equal(unifiedDiff("x\ny\n", "x\ny\n", labels), "");
});

Deno.test("unifiedDiff writes diff -u hunks with three lines of context, split when far apart", () => {
  const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";
  const lines = before.split("\n");
  lines[1] = "changed 2";
  lines[17] = "changed 18";
  const after = lines.join("\n");
  assert.equal(
    unifiedDiff(before, after, labels),
    [
      "--- a",
      "+++ b",
      "@@ -1,5 +1,5 @@",
      " line 1",
      "-line 2",
      "+changed 2",
      " line 3",
      " line 4",
      " line 5",
      "@@ -15,6 +15,6 @@",
      " line 15",
      " line 16",
      " line 17",
      "-line 18",
      "+changed 18",
      " line 19",
      " line 20",
      "",
    ].join("\n"),
  );
});

Deno.test("unifiedDiff marks a pure insertion into an empty text with a zero-length range", () => {
  assert.equal(unifiedDiff("", "new\n", labels), "--- a\n+++ b\n@@ -0,0 +1 @@\n+new\n");
});
