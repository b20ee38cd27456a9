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
