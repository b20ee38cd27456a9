import assert from "node:assert/strict";
import { sha256Hex } from "../../src/config/mod.ts";
import { startSimulator } from "../../src/simulator/mod.ts";
import { AUDITOR_TOKEN_SECRET } from "../../src/simulator/seeds/mod.ts";
import { runCli } from "../cli/_cli.ts";
import { textOf } from "../server/_harness.ts";
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

Deno.test("a profile with its own Proxmox credential acts as that token: Proxmox's permissions back the profile's policy", async () => {
  const sim = await startSimulator({ seed: "demo", speed: "instant", log: () => {} });
  const dir = await Deno.makeTempDir({ prefix: "proxmox-mcp-profile-" });
  await Deno.writeTextFile(`${dir}/auditor-secret`, AUDITOR_TOKEN_SECRET);
  await Deno.chmod(`${dir}/auditor-secret`, 0o600);
  const opsToken = "ops-own-credential-test-token";
  const auditorToken = "auditor-own-credential-test-token";
  const config = await configFile({
    clusters: {
      lab: {
        url: sim.url,
        tokenId: sim.credentials.tokenId,
        tokenSecret: sim.credentials.tokenSecret,
      },
    },
    audit: { path: `${dir}/audit.jsonl` },
    profiles: {
      ops: { tokenSha256: [await sha256Hex(opsToken)], policy: { allow: ["read", "lifecycle"] } },
      auditor: {
        tokenSha256: [await sha256Hex(auditorToken)],
        policy: { allow: ["read", "lifecycle"] },
        clusters: { lab: { tokenId: "auditor@pve!ro", tokenSecretFile: "auditor-secret" } },
      },
    },
  });
  await Deno.rename(config, `${dir}/config.json`);
  const server = await startServeProcess([
    "--http",
    "127.0.0.1:0",
    "--config",
    `${dir}/config.json`,
  ]);
  try {
    const auditor = await connectHttp(server.url, { token: auditorToken });
    const refused = await auditor.call("guest_start", { vmid: 103 });
    await auditor.close();
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /permission|not allowed|403/i);
    const ops = await connectHttp(server.url, { token: opsToken });
    const started = await ops.call("guest_start", { vmid: 103 });
    await ops.close();
    assert.equal(started.isError, undefined, textOf(started));
  } finally {
    await server.stop();
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert.ok(
    !server.stderr().includes(AUDITOR_TOKEN_SECRET),
    "the profile's secret never reaches the log",
  );
});
