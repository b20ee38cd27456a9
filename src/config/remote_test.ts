import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import { configErrorFromIssues } from "./issues.ts";
import { loadConfig, sha256Hex } from "./load.ts";
import { configSchema } from "./schema.ts";

function messageOf(input: unknown): string {
  const result = configSchema.safeParse(input, { reportInput: true });
  return result.success ? "ok" : configErrorFromIssues(result.error.issues).message;
}

Deno.test("remote-mode keys refuse what cannot work, naming the fix", () => {
  assert.match(
    messageOf({ http: { listen: "localhost:99999" } }),
    /Invalid config "http\.listen": expected a port from 0 to 65535 — pick a free port/,
  );
  assert.match(messageOf({ http: { listen: "a b" } }), /expected "\[HOST:\]PORT"/);
  assert.match(
    messageOf({ http: { tlsCertFile: "/c.pem" } }),
    /Invalid config "http\.tlsKeyFile": missing: TLS needs both/,
  );
  assert.match(
    messageOf({ http: { oauth: { issuer: "https://auth.example.com" } } }),
    /Invalid config "http\.oauth\.audience": missing: OAuth needs the audience/,
  );
  assert.match(
    messageOf({ profiles: { ops: {} } }),
    /Invalid config "profiles\.ops": no way to authenticate as this profile — add "tokenSha256"/,
  );
  assert.match(
    messageOf({ profiles: { ops: { tokenSha256: ["ABC"] } } }),
    /64 lowercase hex digits/,
  );
  assert.match(
    messageOf({ profiles: { "bad name": { tokenSha256: [] } } }),
    /invalid profile name/,
  );
  assert.match(
    messageOf({ profiles: { ops: { tokenFiles: ["/t"], clusters: { lab: {} } } } }),
    /Invalid config "profiles\.ops\.clusters\.lab": no credentials configured/,
  );
});

Deno.test("token files are read and kept only as SHA-256 digests; relative paths follow the config file", async () => {
  const files: Record<string, string> = {
    "/etc/pmcp/config.json": JSON.stringify({
      clusters: { lab: { url: "https://pve.example.com", token: "root@pam!mcp=abc" } },
      http: { redisUrlFile: "redis-url", listen: "8080" },
      profiles: {
        ops: {
          tokenFiles: ["ops.token"],
          clusters: { lab: { tokenId: "auditor@pve!ro", tokenSecretFile: "auditor-secret" } },
        },
      },
    }),
    "/etc/pmcp/ops.token": "the-ops-token\n",
    "/etc/pmcp/auditor-secret": "auditor-secret-value\n",
    "/etc/pmcp/redis-url": "redis://:pw@redis:6379\n",
  };
  const { config } = await loadConfig({
    args: { config: "/etc/pmcp/config.json" },
    env: {},
    readFile: (path) =>
      files[path] === undefined
        ? Promise.reject(new Deno.errors.NotFound(path))
        : Promise.resolve(files[path]!),
    stat: () => Promise.resolve({ mode: 0o600 }),
    os: "linux",
  });
  assert.deepEqual(config.profiles.ops?.tokenSha256, [await sha256Hex("the-ops-token")]);
  assert.ok(!JSON.stringify(config.profiles).includes("the-ops-token"));
  assert.equal(config.profiles.ops?.clusters?.lab?.tokenSecret, "auditor-secret-value");
  assert.equal(config.http.redisUrl, "redis://:pw@redis:6379");
  assert.equal(config.http.listen, "8080");
});

Deno.test("--http and PROXMOX_MCP_HTTP set http.listen, the flag winning", async () => {
  const fromEnv = await loadConfig({ env: { PROXMOX_MCP_HTTP: "127.0.0.1:9000" } });
  assert.equal(fromEnv.config.http.listen, "127.0.0.1:9000");
  const both = await loadConfig({ env: { PROXMOX_MCP_HTTP: "9000" }, args: { http: "9001" } });
  assert.equal(both.config.http.listen, "9001");
  await assert.rejects(loadConfig({ args: { http: "nope:x" } }), ConfigError);
});
