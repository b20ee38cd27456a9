import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { generatedFiles, SNAPSHOT_DIR } from "../../scripts/gen_snapshots.ts";

const UPDATE = Deno.env.get("UPDATE_TOOLSNAPS") === "1";

Deno.test("every tool's snapshot, the tool sets per mode and the start-up manifest are up to date", () => {
  const expected = generatedFiles();
  const stale: string[] = [];
  for (const [path, text] of expected) {
    let current: string | undefined;
    try {
      current = Deno.readTextFileSync(path);
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    if (UPDATE) Deno.writeTextFileSync(path, text);
    else stale.push(`${path}${current === undefined ? " (missing)" : ""}`);
  }
  const dir = fileURLToPath(SNAPSHOT_DIR);
  for (const entry of Deno.readDirSync(SNAPSHOT_DIR)) {
    const path = `${dir}${entry.name}`;
    if (entry.isFile && entry.name.endsWith(".json") && !expected.has(path)) {
      if (UPDATE) Deno.removeSync(path);
      else stale.push(`${path} (no such tool)`);
    }
  }
  assert.deepEqual(
    stale,
    [],
    "Tool snapshots are stale: review the change, then run `deno task snapshots` (or " +
      "UPDATE_TOOLSNAPS=1 deno task test) and commit the result",
  );
});
