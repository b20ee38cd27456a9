import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { toolListFacts } from "../../src/config/facts.ts";
import { configSchema } from "../../src/config/mod.ts";
import { CAPABILITIES } from "../../src/policy/capability.ts";
import { toolVisible } from "../../src/policy/policy.ts";
import { catalogOf, parseResourceUri, taskLogUri } from "../../src/server/catalog.ts";
import { INSTRUCTIONS, SERVER_INFO, serverCapabilities } from "../../src/server/identity.ts";
import type { ToolManifest } from "../../src/server/manifest.ts";
import manifest from "../../src/server/tools_manifest.json" with { type: "json" };
import { defaultToolsetIds } from "../../src/tools/toolsets.ts";
import { runWire } from "./_wire.ts";

const CLUSTER = { url: "https://pve.example.com:8006", token: "root@pam!mcp=0123456789" };

/** Raw configurations (those of early_test.ts, and two more) whose lists the catalog must give. */
const CONFIGS: Record<string, Record<string, unknown>> = {
  "the default policy": { clusters: { lab: CLUSTER } },
  "every class": { clusters: CLUSTER, policy: { allow: [...CAPABILITIES] } },
  "two toolsets and an exclusion": {
    clusters: [{ name: "main", ...CLUSTER }],
    policy: {
      allow: ["read", "lifecycle", "destroy"],
      toolsets: ["lifecycle", "tasks"],
      exclude: ["guest_stop"],
    },
  },
  "no read class": { clusters: { lab: CLUSTER }, policy: { allow: ["lifecycle"] } },
  "two clusters": { clusters: { lab: CLUSTER, prod: CLUSTER }, policy: { toolsets: ["backup"] } },
};

/** The offered tool names as the start-up path sees them: the manifest filtered by the facts. */
function visibleNames(raw: Record<string, unknown>): { tools: string[]; clusters: string[] } {
  const facts = toolListFacts(raw);
  assert.ok(facts !== undefined);
  const policy = {
    allow: facts.allow,
    toolsets: facts.toolsets ?? defaultToolsetIds(),
    exclude: facts.exclude,
  };
  const tools = (manifest as ToolManifest).tools
    .filter((tool) => toolVisible({ name: String(tool.listed.name), ...tool }, policy))
    .map((tool) => String(tool.listed.name));
  return { tools, clusters: facts.clusters };
}

const legacyInit = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "catalog-test", version: "1.0.0" },
  },
});
const modernMeta = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "catalog-test", version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": {},
};
const LISTS = [
  ["prompts/list", "prompts"],
  ["resources/list", "resources"],
  ["resources/templates/list", "resourceTemplates"],
] as const;

for (const [configName, raw] of Object.entries(CONFIGS)) {
  Deno.test(`the catalog gives the full server's prompts, resources and templates byte for byte, both eras: ${configName}`, async () => {
    const config = configSchema.parse(raw);
    const catalog = catalogOf(visibleNames(raw));
    const legacy = await runWire([
      legacyInit,
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      ...LISTS.map(([method], index) => JSON.stringify({ jsonrpc: "2.0", id: 10 + index, method })),
    ], { config });
    const modern = await runWire(
      LISTS.map(([method], index) =>
        JSON.stringify({ jsonrpc: "2.0", id: 20 + index, method, params: { _meta: modernMeta } })
      ),
      { config },
    );
    const serverMeta = `"_meta":{"io.modelcontextprotocol/serverInfo":${
      JSON.stringify(SERVER_INFO)
    }}`;
    for (const [index, [method, key]] of LISTS.entries()) {
      const list = JSON.stringify(catalog[key]);
      assert.equal(
        legacy.byId.get(String(10 + index)),
        `{"result":{"${key}":${list}},"jsonrpc":"2.0","id":${10 + index}}`,
        `${method} (2025-11-25)`,
      );
      assert.equal(
        modern.byId.get(String(20 + index)),
        `{"result":{"${key}":${list},"resultType":"complete","ttlMs":0,"cacheScope":"private",${serverMeta}},"jsonrpc":"2.0","id":${
          20 + index
        }}`,
        `${method} (2026-07-28)`,
      );
    }
    // The capabilities the start-up path announces are the full server's.
    assert.equal(
      legacy.byId.get("1"),
      `{"result":{"protocolVersion":"2025-11-25","capabilities":${
        JSON.stringify(serverCapabilities())
      },"serverInfo":${JSON.stringify(SERVER_INFO)},"instructions":${
        JSON.stringify(INSTRUCTIONS)
      }},"jsonrpc":"2.0","id":1}`,
    );
  });
}

Deno.test("the server announces prompts, resources and completions, with lists fixed for the session", () => {
  assert.deepEqual(serverCapabilities(), {
    tools: { listChanged: false },
    prompts: { listChanged: false },
    resources: { listChanged: false },
    completions: {},
    logging: {},
  });
});

Deno.test("catalog.ts loads neither the SDK nor zod, so the start-up path can use it", async () => {
  const entry = fileURLToPath(new URL("../../src/server/catalog.ts", import.meta.url));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: Array<{ specifier: string }>;
  };
  const foreign = info.modules.map((m) => m.specifier).filter((s) => !s.startsWith("file:"));
  assert.deepEqual(foreign, []);
  const ours = info.modules.map((m) => m.specifier.replace(/^.*\/src\//, "src/"));
  assert.ok(ours.length <= 8, `a small graph: ${ours.join(", ")}`);
});

Deno.test("resource URIs parse back to what they address, and foreign or malformed ones to nothing", () => {
  const upid = "UPID:pve1:00001234:00ABCDEF:6B0E4696:qmstart:100:root@pam!mcp:";
  assert.deepEqual(parseResourceUri(taskLogUri("lab", upid)), {
    kind: "task_log",
    cluster: "lab",
    upid,
  });
  assert.equal(
    taskLogUri("lab", upid),
    "pve://lab/tasks/UPID%3Apve1%3A00001234%3A00ABCDEF%3A6B0E4696%3Aqmstart%3A100%3Aroot%40pam!mcp%3A/log",
  );
  assert.deepEqual(parseResourceUri("pve://lab.example/summary"), {
    kind: "summary",
    cluster: "lab.example",
  });
  assert.deepEqual(parseResourceUri("pve://lab/guests/101/config"), {
    kind: "guest_config",
    cluster: "lab",
    vmid: "101",
  });
  assert.deepEqual(parseResourceUri("proxmox-mcp://policy"), { kind: "policy" });
  for (
    const uri of [
      "pve://lab/tasks/%E0%A4%A/log",
      "pve://lab/guests/101/config/extra",
      "pve:///summary",
      "http://lab/summary",
      "proxmox-mcp://policy/x",
    ]
  ) {
    assert.equal(parseResourceUri(uri), undefined, uri);
  }
});
