import assert from "node:assert/strict";
import {
  README_COMMAND,
  renderToolDocs,
  TOOL_DOCS,
  unlistedEnvNames,
  updateReadme,
} from "../scripts/gen_readme.ts";
import { ENV_NAMES } from "../src/config/mod.ts";
import { allTools } from "../src/tools/mod.ts";

const README = new URL("../README.md", import.meta.url);

Deno.test("the README's generated tool and configuration tables match the registry and the config schema", async () => {
  const text = await Deno.readTextFile(README);
  assert.ok(
    updateReadme(text) === text,
    `README.md is out of date with the registry or the config schema: run \`${README_COMMAND}\``,
  );
});

Deno.test("the README names every tool and every environment variable the configuration reads", async () => {
  const text = await Deno.readTextFile(README);
  for (const tool of allTools) assert.ok(text.includes(`\`${tool.name}\``), tool.name);
  assert.deepEqual(unlistedEnvNames(), [], "scripts/gen_readme.ts KEY_SOURCES lacks these");
  assert.ok(
    text.includes(`--allow-env=${ENV_NAMES.join(",")}`),
    `README's least-privilege --allow-env list differs from ENV_NAMES: update it by hand`,
  );
});

Deno.test("the README's quick start is exactly the two npx commands", async () => {
  const text = await Deno.readTextFile(README);
  const quickStart = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(text)?.[1];
  assert.equal(quickStart, "npx -y deno@2.9.6 task demo\nnpx -y deno@2.9.6 task test\n");
});

Deno.test("docs/tools.md describes every tool with its parameters, as the registry has them", async () => {
  const text = await Deno.readTextFile(TOOL_DOCS);
  assert.ok(
    renderToolDocs() === text,
    `docs/tools.md is out of date with the registry: run \`${README_COMMAND}\``,
  );
  for (const tool of allTools) assert.ok(text.includes(`<code>${tool.name}</code>`), tool.name);
});
