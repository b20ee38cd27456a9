import assert from "node:assert/strict";
import deno from "../deno.json" with { type: "json" };
import { ENV_NAMES } from "../src/config/mod.ts";

const tasks = deno.tasks as Record<string, { description?: string; command: string }>;

Deno.test("every deno task has a description and none grants all permissions", () => {
  for (const [name, task] of Object.entries(tasks)) {
    assert.ok(task.description, `task "${name}" has a description`);
    assert.doesNotMatch(task.command, /(^|\s)(-A|--allow-all)(\s|$)/, `task "${name}" is not -A`);
  }
});

Deno.test("every run task passes explicit permission flags", () => {
  for (const [name, task] of Object.entries(tasks)) {
    if (!/^deno (run|test|bench|compile)\b/.test(task.command)) continue;
    assert.match(task.command, /--allow-/, `task "${name}" names its permissions`);
  }
});

Deno.test("the start task may read exactly the environment variables the config reads", () => {
  const allowEnv = /--allow-env=(\S+)/.exec(tasks.start?.command ?? "")?.[1];
  assert.deepEqual(allowEnv?.split(",").sort(), [...ENV_NAMES].sort());
});

Deno.test("compile tasks build the single binary for the five release targets", () => {
  const targets = Object.keys(tasks).filter((name) => name.startsWith("compile:")).sort();
  assert.deepEqual(targets, [
    "compile:linux-arm64",
    "compile:linux-x64",
    "compile:macos-arm64",
    "compile:macos-x64",
    "compile:windows-x64",
  ]);
  for (const name of targets) {
    // Through the script that refuses to leave a broken binary (tests/compile_test.ts).
    assert.equal(
      tasks[name]!.command,
      "deno run --allow-read --allow-write=dist --allow-run --allow-env=DENORT_BIN " +
        `scripts/compile.ts ${name.slice("compile:".length)}`,
    );
  }
});
