import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { DEV_CONFIG } from "../_dev_config.ts";

const fixture = new URL("./_stdio_fixture.ts", import.meta.url).pathname;

for (const era of ["legacy", "modern"] as const) {
  Deno.test(`${era} client over real stdio: stdout carries only the protocol, logs go to stderr`, async () => {
    const transport = new StdioClientTransport({
      command: Deno.execPath(),
      args: [
        "run",
        ...DEV_CONFIG,
        "--quiet",
        "--no-prompt",
        "--allow-read",
        "--allow-env",
        fixture,
      ],
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Uint8Array) => {
      stderr += new TextDecoder().decode(chunk);
    });
    const client = new Client({ name: `${era}-stdio`, version: "1.0.0" }, {
      ...(era === "modern" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {}),
    });
    try {
      await client.connect(transport);
      assert.equal(client.getProtocolEra(), era);
      const result = await client.callTool({ name: "probe_read", arguments: {} });
      assert.deepEqual(result.structuredContent, { ok: true, cluster: "lab" });
      for (let i = 0; i < 200 && !stderr.includes("Fixture server starting"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.match(stderr, /Fixture server starting on stdio/);
    } finally {
      await client.close();
    }
  });
}
