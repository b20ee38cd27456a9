import assert from "node:assert/strict";
import { sha256Hex } from "../../src/config/mod.ts";
import { runCli } from "../cli/_cli.ts";
import { connectHttp } from "./_http.ts";
import { startServeProcess } from "./_process.ts";

const FIXTURES = new URL("../fixtures/tls/", import.meta.url).pathname;

async function configFile(config: Record<string, unknown>): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "proxmox-mcp-http-", suffix: ".json" });
  await Deno.writeTextFile(path, JSON.stringify(config));
  await Deno.chmod(path, 0o600);
  return path;
}

Deno.test("serve --http on a non-loopback address without any profile refuses to start and names the key", async () => {
  const run = await runCli(
    ["--allow-net=127.0.0.1,localhost,0.0.0.0", "--allow-read"],
    ["serve", "--demo", "--http", "0.0.0.0:0"],
  );
  assert.equal(run.code, 1);
  assert.match(run.stderr, /Refusing to serve MCP on 0\.0\.0\.0:0 without any caller configured/);
  assert.match(run.stderr, /add a caller under "profiles"/);
});

Deno.test("serve --http rejects a malformed address with the expected form", async () => {
  const run = await runCli(["--allow-net=127.0.0.1", "--allow-read"], [
    "serve",
    "--demo",
    "--http",
    "localhost:99999",
  ]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /http\.listen/);
});

Deno.test("serve --demo --http serves both eras from the CLI, and SIGTERM stops it saying Proxmox tasks go on", async () => {
  const token = "cli-test-token-0123456789";
  const config = await configFile({
    profiles: { ops: { tokenSha256: [await sha256Hex(token)] } },
  });
  const server = await startServeProcess(["--demo", "--http", "127.0.0.1:0", "--config", config]);
  try {
    for (const era of ["legacy", "modern"] as const) {
      const session = await connectHttp(server.url, { era, token });
      const result = await session.call("cluster_status", {});
      assert.equal(result.isError, undefined);
      await session.close();
    }
  } finally {
    const code = await server.stop("SIGTERM");
    await Deno.remove(config);
    assert.equal(code, 0, server.stderr());
  }
  assert.match(
    server.stderr(),
    /Stopping \(SIGTERM\): finishing calls in flight for up to 30 s; Proxmox VE tasks already started go on running/,
  );
  assert.match(server.stderr(), /Stopped/);
  assert.ok(!server.stderr().includes(token), "the token never reaches the log");
});

Deno.test("serve --http with a certificate and key serves HTTPS", async () => {
  const token = "tls-test-token-0123456789";
  const config = await configFile({
    http: { tlsCertFile: `${FIXTURES}server.pem`, tlsKeyFile: `${FIXTURES}server.key` },
    profiles: { ops: { tokenSha256: [await sha256Hex(token)] } },
  });
  const server = await startServeProcess(["--demo", "--http", "127.0.0.1:0", "--config", config]);
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${FIXTURES}ca.pem`)] });
  try {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const health = await fetch(new URL("/healthz", server.url), { client });
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    client.close();
    await server.stop();
    await Deno.remove(config);
  }
});
