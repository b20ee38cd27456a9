import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { ENV_NAMES } from "../../src/config/mod.ts";
import { startSimulator } from "../../src/simulator/mod.ts";
import { MAIN, runCli } from "./_cli.ts";

async function fixture() {
  const sim = await startSimulator({ speed: "instant" });
  const dir = await Deno.makeTempDir();
  const config = `${dir}/config.json`;
  const audit = `${dir}/audit.jsonl`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      clusters: {
        lab: {
          url: sim.url,
          tokenId: sim.credentials.tokenId,
          tokenSecret: sim.credentials.tokenSecret,
        },
      },
      audit: { path: audit },
    }),
    { mode: 0o600 },
  );
  const host = new URL(sim.url).host;
  return {
    host,
    config,
    audit,
    async close() {
      await sim.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("serve works under exactly --allow-net=<host:port> --allow-env=<names> --allow-read=<config> --allow-write=<audit>", async () => {
  const fx = await fixture();
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      `--allow-net=${fx.host}`,
      `--allow-env=${ENV_NAMES.join(",")}`,
      `--allow-read=${fx.config}`,
      `--allow-write=${fx.audit}`,
      MAIN,
      "serve",
      "--config",
      fx.config,
    ],
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => {
    stderr += new TextDecoder().decode(chunk);
  });
  const client = new Client({ name: "least-privilege", version: "1.0.0" });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === "guest_list"));
    assert.ok(tools.every((tool) => tool.annotations?.readOnlyHint === true), "read-only default");
    const result = await client.callTool({ name: "guest_list", arguments: { limit: 1 } });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.equal((result.structuredContent as { returned: number }).returned, 1);
    assert.doesNotMatch(stderr, /Missing permission|NotCapable/);
  } finally {
    await client.close();
    await fx.close();
  }
});

Deno.test("serve without --allow-net prints one line naming the flag to add and exits 1", async () => {
  const fx = await fixture();
  try {
    const run = await runCli(
      [`--allow-env=${ENV_NAMES.join(",")}`, `--allow-read=${fx.config}`],
      ["serve", "--config", fx.config],
    );
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.equal(run.stderr, `Missing permission: add --allow-net=${fx.host}\n`);
  } finally {
    await fx.close();
  }
});

Deno.test("serve without read permission for the config file names --allow-read", async () => {
  const fx = await fixture();
  try {
    const run = await runCli([`--allow-net=${fx.host}`], ["serve", "--config", fx.config]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `Missing permission: add --allow-read=${fx.config}\n`);
  } finally {
    await fx.close();
  }
});

Deno.test("serve without write permission for the audit log names --allow-write", async () => {
  const fx = await fixture();
  try {
    const run = await runCli(
      [`--allow-net=${fx.host}`, `--allow-read=${fx.config}`],
      ["serve", "--config", fx.config],
    );
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `Missing permission: add --allow-write=${fx.audit}\n`);
  } finally {
    await fx.close();
  }
});

Deno.test("serve --demo needs only --allow-net=127.0.0.1 and serves the simulated cluster", async () => {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "--quiet", "--no-prompt", "--allow-net=127.0.0.1", MAIN, "serve", "--demo"],
    stderr: "pipe",
  });
  const client = new Client({ name: "demo", version: "1.0.0" });
  try {
    await client.connect(transport);
    const result = await client.callTool({ name: "guest_get", arguments: { name: "pihole" } });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.match(JSON.stringify(result.structuredContent), /"vmid":200/);
  } finally {
    await client.close();
  }
});

Deno.test("a configuration mistake found after the start-up answers is the answer to every request, said once on stderr, and exit code 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/config.json`;
    // Plain enough for the start-up answers, wrong for the schema (a token without its secret).
    await Deno.writeTextFile(
      config,
      JSON.stringify({ clusters: { lab: { url: "https://127.0.0.1:9", token: "root@pam!mcp" } } }),
      { mode: 0o600 },
    );
    const lines = [
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}',
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      '{"jsonrpc":"2.0","id":2,"method":"tools/list"}',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"guest_list","arguments":{}}}',
      '{"jsonrpc":"2.0","id":4,"method":"logging/setLevel","params":{"level":"debug"}}',
    ];
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--allow-read",
        "--allow-net",
        "--allow-env",
        MAIN,
        "serve",
      ],
      env: { PROXMOX_MCP_CONFIG: config },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(lines.map((line) => `${line}\n`).join("")));
    await writer.close();
    const output = await child.output();
    const replies = new TextDecoder().decode(output.stdout).trim().split("\n").map((line) =>
      JSON.parse(line) as {
        id: number;
        result?: Record<string, unknown>;
        error?: { message: string };
      }
    );
    const byId = new Map(replies.map((reply) => [reply.id, reply]));
    assert.ok(byId.get(1)?.result?.protocolVersion, "initialize is answered");
    assert.ok(Array.isArray(byId.get(2)?.result?.tools), "tools/list is answered");
    const call = byId.get(3)?.result as { isError?: boolean; content: { text: string }[] };
    assert.equal(call.isError, true);
    assert.match(
      call.content[0]?.text ?? "",
      /^The proxmox-mcp server cannot run: Invalid config "clusters\.lab\.token".*Fix its configuration, then restart it\.$/,
    );
    assert.match(byId.get(4)?.error?.message ?? "", /^The proxmox-mcp server cannot run/);
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(stderr.match(/Invalid config "clusters\.lab\.token"/g)?.length, 1, stderr);
    assert.equal(output.code, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
