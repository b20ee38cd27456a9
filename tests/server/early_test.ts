import assert from "node:assert/strict";
import { toolListFacts } from "../../src/config/facts.ts";
import { configSchema } from "../../src/config/mod.ts";
import { mergeSources } from "../../src/config/merge.ts";
import { CAPABILITIES } from "../../src/policy/capability.ts";
import { runWire } from "./_wire.ts";

const CLUSTER = { url: "https://pve.example.com:8006", token: "root@pam!mcp=0123456789" };

/** Raw configurations whose start-up answers must equal the full server's. */
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
};

const legacyInit = (id: number, version: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: {
      protocolVersion: version,
      capabilities: extra.capabilities ?? {},
      clientInfo: extra.clientInfo ?? { name: "early-test", version: "1.0.0" },
    },
  });

const modernMeta = (capabilities: Record<string, unknown> = {}) => ({
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "early-test", version: "1.0.0", title: "Test" },
  "io.modelcontextprotocol/clientCapabilities": capabilities,
});

/** Conversations, each a list of lines, covering both protocol eras. */
const CONVERSATIONS: Record<string, string[]> = {
  "2025-11-25 initialize, tools/list, ping": [
    legacyInit(1, "2025-11-25"),
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    '{"jsonrpc":"2.0","id":2,"method":"tools/list"}',
    '{"jsonrpc":"2.0","id":"three","method":"ping"}',
  ],
  "2025-11-25 prompts, resources and resource templates": [
    legacyInit(1, "2025-11-25"),
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    '{"jsonrpc":"2.0","id":2,"method":"prompts/list"}',
    '{"jsonrpc":"2.0","id":3,"method":"resources/list","params":{}}',
    '{"jsonrpc":"2.0","id":4,"method":"resources/templates/list"}',
    '{"jsonrpc":"2.0","id":5,"method":"prompts/list"}',
  ],
  "an older version with elicitation and a titled client": [
    legacyInit(7, "2024-11-05", {
      capabilities: { elicitation: { form: {} }, roots: { listChanged: true } },
      clientInfo: { name: "x", version: "2", title: "X" },
    }),
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    '{"jsonrpc":"2.0","id":8,"method":"tools/list","params":{}}',
  ],
  "an MCP Apps host (the ui extension with its mime types)": [
    legacyInit(5, "2025-11-25", {
      capabilities: {
        elicitation: { form: {} },
        extensions: { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } },
      },
    }),
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    '{"jsonrpc":"2.0","id":6,"method":"tools/list"}',
  ],
  "an unsupported version (answered with the latest)": [
    legacyInit(1, "2099-01-01"),
    '{"jsonrpc":"2.0","id":2,"method":"tools/list"}',
  ],
  "2026-07-28 server/discover and tools/list": [
    JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "server/discover",
      params: { _meta: modernMeta() },
    }),
    JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/list",
      params: { _meta: modernMeta({ elicitation: { form: {} } }) },
    }),
  ],
  "2026-07-28 prompts, resources and resource templates": [
    ...["prompts/list", "resources/list", "resources/templates/list"].map((method, index) =>
      JSON.stringify({ jsonrpc: "2.0", id: index + 1, method, params: { _meta: modernMeta() } })
    ),
  ],
  "2026-07-28 tools/list first": [
    JSON.stringify({
      jsonrpc: "2.0",
      id: "a",
      method: "tools/list",
      params: { _meta: modernMeta() },
    }),
  ],
};

for (const [configName, raw] of Object.entries(CONFIGS)) {
  for (const [conversation, lines] of Object.entries(CONVERSATIONS)) {
    Deno.test(`start-up answers equal the full server's byte for byte: ${conversation}, ${configName}`, async () => {
      const config = configSchema.parse(raw);
      const full = await runWire(lines, { config });
      assert.equal(full.loaded, true);
      const early = await runWire(lines, { config, raw });
      assert.equal(early.loaded, false, "the start-up answers needed no full server");
      assert.deepEqual([...early.byId.keys()].sort(), [...full.byId.keys()].sort());
      for (const [id, line] of early.byId) assert.equal(line, full.byId.get(id), `reply to ${id}`);
      // The same conversation followed by a call that loads the full server: its replies to the
      // requests answered early are compared at run time and must not differ.
      const call = JSON.stringify({
        jsonrpc: "2.0",
        id: "call",
        method: "tools/call",
        params: {
          name: "no_such_tool",
          arguments: {},
          ...(lines[0]?.includes("_meta") ? { _meta: modernMeta() } : {}),
        },
      });
      const both = await runWire([...lines, call], { config, raw });
      assert.equal(both.loaded, true);
      assert.deepEqual(both.reports, []);
      assert.ok(both.byId.has('"call"'));
    });
  }
}

Deno.test("the raw reading of the tool-list facts matches the schema's for every test configuration", async () => {
  for (const raw of Object.values(CONFIGS)) {
    const config = configSchema.parse(raw);
    const facts = toolListFacts(raw);
    assert.deepEqual(facts, {
      clusters: Object.keys(config.clusters),
      allow: config.policy.allow,
      exclude: config.policy.exclude,
      ...(config.policy.toolsets === undefined ? {} : { toolsets: config.policy.toolsets }),
    });
  }
  // Environment and flags layer over the file the same way for both readings.
  const merged = await mergeSources({
    env: { PROXMOX_URL: CLUSTER.url, PROXMOX_TOKEN: CLUSTER.token, PROXMOX_MCP_ALLOW: "read,exec" },
    args: { exclude: ["guest_get"] },
  });
  const config = configSchema.parse(merged.raw);
  assert.deepEqual(toolListFacts(merged.raw), {
    clusters: ["default"],
    allow: config.policy.allow,
    exclude: ["guest_get"],
  });
});

Deno.test("unusual first requests are left to the full server", async () => {
  const config = configSchema.parse(CONFIGS["the default policy"]!);
  const raw = CONFIGS["the default policy"]!;
  for (
    const lines of [
      // An unknown client capability, a cursor, a progress token, an unknown modern envelope key.
      [legacyInit(1, "2025-11-25", { capabilities: { shiny: {} } })],
      [
        legacyInit(1, "2025-11-25"),
        '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"x"}}',
      ],
      [
        legacyInit(1, "2025-11-25"),
        '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"progressToken":1}}}',
      ],
      [JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/list",
        params: { _meta: { ...modernMeta(), "io.example/extra": 1 } },
      })],
    ]
  ) {
    const run = await runWire(lines, { config, raw });
    assert.equal(run.loaded, true, lines.join(" "));
    const full = await runWire(lines, { config });
    assert.deepEqual(run.lines, full.lines);
  }
});
