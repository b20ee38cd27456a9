import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import {
  assertHasCluster,
  assertKnownNames,
  clusterAuth,
  clusterNames,
  loadConfig,
  type LoadConfigOptions,
} from "./load.ts";
import { configSchema } from "./schema.ts";
import { REDACTED, redactText } from "../log.ts";

const SECRET = "2e3a9b4c-8f41-4a7e-9a1e-3c0f5b6d7e8f";

/** In-memory files for `readFile`; `stat` reports mode 0600 unless told otherwise. */
function memory(files: Record<string, string | object>, modes: Record<string, number> = {}) {
  return {
    readFile: (path: string): Promise<string> => {
      const content = files[path];
      if (content === undefined) return Promise.reject(new Deno.errors.NotFound(path));
      return Promise.resolve(typeof content === "string" ? content : JSON.stringify(content));
    },
    stat: (path: string) => Promise.resolve({ mode: modes[path] ?? 0o100600 }),
    os: "linux",
  } satisfies LoadConfigOptions;
}

const FILE = {
  clusters: {
    lab: {
      url: "https://file.example.com",
      user: "monitor@pve",
      passwordFile: "secrets/password",
    },
  },
  policy: {
    allow: ["read", "lifecycle"],
    scope: { nodes: ["pve1"] },
    wait: { defaultSeconds: 30 },
  },
  audit: { path: "logs/audit.jsonl" },
  logging: { level: "warning" },
};

const files = {
  "/etc/pmcp/config.json": FILE,
  "/etc/pmcp/secrets/password": "  hunter2\n",
};

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("with nothing configured the defaults apply and no cluster is set", async () => {
  const { config, warnings, sources } = await loadConfig({ env: {}, ...memory({}) });
  assert.deepEqual(config, configSchema.parse({}));
  assert.deepEqual(warnings, []);
  assert.deepEqual(sources, { env: [], flags: [] });
  assert.deepEqual(clusterNames(config), []);
  assert.throws(() => assertHasCluster(config), {
    name: "ConfigError",
    message: /^No Proxmox VE cluster configured — set PROXMOX_URL and PROXMOX_TOKEN/,
  });
});

Deno.test("the file is read from --config, relative paths resolve beside it, secrets are read", async () => {
  const { config, sources } = await loadConfig({
    args: { config: "/etc/pmcp/config.json" },
    env: {},
    ...memory(files),
  });
  assert.deepEqual(sources, { file: "/etc/pmcp/config.json", env: [], flags: ["--config"] });
  const lab = config.clusters.lab;
  assert.ok(lab);
  assert.equal(lab.url, "https://file.example.com:8006");
  assert.equal(lab.passwordFile, "/etc/pmcp/secrets/password");
  assert.equal(lab.password, "hunter2");
  assert.deepEqual(clusterAuth(lab, "lab"), {
    kind: "password",
    user: "monitor@pve",
    password: "hunter2",
  });
  assert.equal(config.audit.path, "/etc/pmcp/logs/audit.jsonl");
  assert.deepEqual(config.policy.allow, ["read", "lifecycle"]);
  assertHasCluster(config);
});

Deno.test("precedence is file < environment < flags, and flags count only when given", async () => {
  const env = {
    PROXMOX_MCP_CONFIG: "/etc/pmcp/config.json",
    PROXMOX_URL: "https://env.example.com",
    PROXMOX_MCP_ALLOW: "read,change",
    PROXMOX_MCP_SCOPE_VMIDS: "100-199, 250",
    PROXMOX_MCP_WAIT_SECONDS: "45",
    PROXMOX_MCP_LOG_LEVEL: "debug",
  };
  const fromEnv = await loadConfig({ env, ...memory(files) });
  assert.equal(fromEnv.config.clusters.lab?.url, "https://env.example.com:8006");
  assert.deepEqual(fromEnv.config.policy.allow, ["read", "change"]);
  assert.deepEqual(fromEnv.config.policy.scope, { nodes: ["pve1"], vmids: ["100-199", "250"] });
  assert.equal(fromEnv.config.policy.wait.defaultSeconds, 45);
  assert.equal(fromEnv.config.logging.level, "debug");
  assert.equal(fromEnv.sources.file, "/etc/pmcp/config.json");

  const fromFlags = await loadConfig({
    env,
    args: {
      url: "https://flag.example.com:8443",
      allow: ["read", "destroy"],
      logLevel: "error",
      waitSeconds: "5",
      auditPath: undefined,
      insecure: undefined,
    },
    ...memory(files),
  });
  assert.equal(fromFlags.config.clusters.lab?.url, "https://flag.example.com:8443");
  assert.deepEqual(fromFlags.config.policy.allow, ["read", "destroy"]);
  assert.equal(fromFlags.config.policy.wait.defaultSeconds, 5);
  assert.equal(fromFlags.config.logging.level, "error");
  // Flags left undefined do not override the file.
  assert.equal(fromFlags.config.audit.path, "/etc/pmcp/logs/audit.jsonl");
  assert.equal(fromFlags.config.clusters.lab?.insecure, false);
  assert.deepEqual(fromFlags.sources.flags, ["--url", "--allow", "--wait-seconds", "--log-level"]);
  assert.deepEqual(fromFlags.sources.env, [
    "PROXMOX_MCP_CONFIG",
    "PROXMOX_URL",
    "PROXMOX_MCP_ALLOW",
    "PROXMOX_MCP_SCOPE_VMIDS",
    "PROXMOX_MCP_WAIT_SECONDS",
    "PROXMOX_MCP_LOG_LEVEL",
  ]);
});

Deno.test("credentials from the environment replace the file's credentials as a unit", async () => {
  const { config } = await loadConfig({
    env: {
      PROXMOX_MCP_CONFIG: "/etc/pmcp/config.json",
      PROXMOX_TOKEN_ID: "root@pam!mcp",
      PROXMOX_TOKEN_SECRET: SECRET,
    },
    ...memory(files),
  });
  const lab = config.clusters.lab;
  assert.ok(lab);
  assert.equal(lab.user, undefined);
  assert.equal(lab.passwordFile, undefined);
  assert.deepEqual(clusterAuth(lab), { kind: "token", tokenId: "root@pam!mcp", secret: SECRET });
});

Deno.test("the environment alone configures a cluster named default", async () => {
  const { config, sources } = await loadConfig({
    env: { PROXMOX_URL: "https://pve.example.com", PROXMOX_TOKEN: `root@pam!mcp=${SECRET}` },
    ...memory({}),
  });
  assert.deepEqual(clusterNames(config), ["default"]);
  const auth = clusterAuth(config.clusters.default ?? assert.fail("no default cluster"));
  assert.deepEqual(auth, { kind: "token", tokenId: "root@pam!mcp", secret: SECRET });
  assert.deepEqual(sources.env, ["PROXMOX_URL", "PROXMOX_TOKEN"]);
});

Deno.test("an environment cluster without URL or credentials says which variable to set", async () => {
  const noUrl = await rejection(
    loadConfig({ env: { PROXMOX_TOKEN: `root@pam!mcp=${SECRET}` }, ...memory({}) }),
  );
  assert.equal(
    noUrl.message,
    'Invalid config "clusters.default.url": missing ("PROXMOX_TOKEN" set, but no URL) — set ' +
      'PROXMOX_URL (or --url) like "https://pve.example.com:8006"',
  );
  assert.equal(noUrl.message.includes(SECRET), false);
  const noAuth = await rejection(
    loadConfig({ env: {}, args: { url: "https://pve.example.com" }, ...memory({}) }),
  );
  assert.match(noAuth.message, /^Invalid config "clusters.default": no credentials \("--url" set/);
  assert.match(noAuth.fix, /PROXMOX_TOKEN/);
});

Deno.test("bad values from the environment are reported with the variable's name", async () => {
  const error = await rejection(
    loadConfig({
      env: {
        PROXMOX_URL: "pve:8006",
        PROXMOX_TOKEN: `root@pam!mcp=${SECRET}`,
      },
      ...memory({}),
    }),
  );
  assert.equal(
    error.message,
    'Invalid config "clusters.default.url" (from PROXMOX_URL): expected an https:// or http:// ' +
      'URL, got "pve:8006" — set it like "https://pve.example.com:8006"',
  );
  const allow = await rejection(
    loadConfig({ env: { PROXMOX_MCP_ALLOW: "read,everything" }, ...memory({}) }),
  );
  assert.match(allow.message, /^Invalid config "policy.allow.1" \(from PROXMOX_MCP_ALLOW\)/);
  const wait = await rejection(
    loadConfig({ env: { PROXMOX_MCP_WAIT_SECONDS: "soon" }, ...memory({}) }),
  );
  assert.match(wait.message, /^Invalid config "PROXMOX_MCP_WAIT_SECONDS": expected a whole/);
});

Deno.test("cluster settings from env or flags are refused when the file has several clusters", async () => {
  const two = {
    "/c.json": {
      clusters: {
        a: { url: "https://a.example.com", token: `root@pam!mcp=${SECRET}` },
        b: { url: "https://b.example.com", token: `root@pam!mcp=${SECRET}` },
      },
    },
  };
  const error = await rejection(
    loadConfig({
      env: { PROXMOX_URL: "https://c.example.com" },
      args: { config: "/c.json" },
      ...memory(two),
    }),
  );
  assert.equal(error.key, "clusters");
  assert.match(
    error.message,
    /"PROXMOX_URL" set cluster settings, but the config file defines 2 clusters \("a" and "b"\)/,
  );
  const ok = await loadConfig({
    env: { PROXMOX_MCP_ALLOW: "read" },
    args: { config: "/c.json" },
    ...memory(two),
  });
  assert.deepEqual(clusterNames(ok.config), ["a", "b"]);
});

Deno.test("audit can be turned off from the environment and pointed elsewhere by a flag", async () => {
  const off = await loadConfig({ env: { PROXMOX_MCP_AUDIT_PATH: "off" }, ...memory({}) });
  assert.equal(off.config.audit.enabled, false);
  const moved = await loadConfig({
    env: { PROXMOX_MCP_AUDIT_PATH: "off" },
    args: { auditPath: "./audit.jsonl" },
    ...memory({}),
  });
  assert.deepEqual(moved.config.audit, { enabled: true, path: "./audit.jsonl" });
});

Deno.test("unreadable environment variables are skipped, not fatal", async () => {
  const { config, sources } = await loadConfig({
    env: (name) => {
      if (name === "PROXMOX_MCP_LOG_LEVEL") return "debug";
      throw new Deno.errors.NotCapable(`Requires env access to "${name}"`);
    },
    ...memory({}),
  });
  assert.equal(config.logging.level, "debug");
  assert.deepEqual(sources.env, ["PROXMOX_MCP_LOG_LEVEL"]);
});

Deno.test("secret files are read and trimmed; token files are checked", async () => {
  const mem = memory({
    "/c.json": {
      clusters: [
        { name: "a", url: "https://a.example.com", tokenFile: "/s/token" },
        {
          name: "b",
          url: "https://b.example.com",
          tokenId: "root@pam!mcp",
          tokenSecretFile: "/s/secret",
        },
      ],
    },
    "/s/token": `root@pam!mcp=${SECRET}\n`,
    "/s/secret": `\n${SECRET}\n`,
  });
  const { config } = await loadConfig({ env: {}, args: { config: "/c.json" }, ...mem });
  assert.equal(config.clusters.a?.token, `root@pam!mcp=${SECRET}`);
  assert.equal(config.clusters.b?.tokenSecret, SECRET);

  const bad = await rejection(loadConfig({
    env: {},
    args: { config: "/c.json" },
    ...memory({
      "/c.json": { clusters: { url: "https://a.example.com", tokenFile: "/s/token" } },
      "/s/token": `root@pam!mcp:${SECRET}`,
    }),
  }));
  assert.equal(bad.key, "clusters.default.tokenFile");
  assert.equal(bad.message.includes(SECRET), false);
  assert.match(bad.message, /the file should hold "user@realm!tokenid=secret"/);
});

Deno.test("missing or empty secret files name the key and the path", async () => {
  const config = {
    clusters: { lab: { url: "https://a.example.com", user: "a@pve", passwordFile: "/s/pw" } },
  };
  const missing = await rejection(
    loadConfig({ env: {}, args: { config: "/c.json" }, ...memory({ "/c.json": config }) }),
  );
  assert.equal(
    missing.message,
    'Invalid config "clusters.lab.passwordFile": secret file "/s/pw" does not exist — check the ' +
      "path, or configure the secret another way",
  );
  const empty = await rejection(
    loadConfig({
      env: {},
      args: { config: "/c.json" },
      ...memory({ "/c.json": config, "/s/pw": "\n" }),
    }),
  );
  assert.equal(
    empty.message,
    'Invalid config "clusters.lab.passwordFile": secret file "/s/pw" is empty — write the secret ' +
      "into it (one line)",
  );
});

Deno.test("an unreadable or malformed config file is a clear error", async () => {
  const missing = await rejection(
    loadConfig({ env: { PROXMOX_MCP_CONFIG: "/nope.json" }, ...memory({}) }),
  );
  assert.equal(
    missing.message,
    'Cannot read config: config file "/nope.json" does not exist — check the path (given by ' +
      "--config or PROXMOX_MCP_CONFIG)",
  );
  const broken = await rejection(
    loadConfig({
      env: {},
      args: { config: "/c.json" },
      ...memory({ "/c.json": '{"policy": {},}' }),
    }),
  );
  assert.match(
    broken.message,
    /^Config file "\/c.json" is not valid JSON: .* — fix the JSON syntax/,
  );
  const notObject = await rejection(
    loadConfig({ env: {}, args: { config: "/c.json" }, ...memory({ "/c.json": "[]" }) }),
  );
  assert.match(notObject.message, /^Config file "\/c.json" must hold a JSON object/);
});

Deno.test("insecure TLS and plain http produce warnings", async () => {
  const { warnings } = await loadConfig({
    env: {
      PROXMOX_URL: "http://pve.example.com",
      PROXMOX_TOKEN: `root@pam!mcp=${SECRET}`,
      PROXMOX_INSECURE_TLS: "1",
    },
    ...memory({}),
  });
  assert.deepEqual(warnings, [
    'TLS certificate verification is off for cluster "default" (insecure): anyone on the ' +
    'network path could impersonate it and read its credentials — set "caFile" to the ' +
    "cluster's CA certificate instead",
    'Cluster "default" is reached over plain http://: credentials travel unencrypted — use https://',
  ]);
});

Deno.test("a config file holding secrets warns when group or others can read it", {
  ignore: Deno.build.os === "windows",
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmox-mcp-config-" });
  try {
    const withSecret = {
      clusters: { lab: { url: "https://pve.example.com", token: `root@pam!mcp=${SECRET}` } },
    };
    const loose = `${dir}/loose.json`;
    const tight = `${dir}/tight.json`;
    const noSecret = `${dir}/no-secret.json`;
    const secretFile = `${dir}/secret`;
    await Deno.writeTextFile(loose, JSON.stringify(withSecret), { mode: 0o644 });
    await Deno.chmod(loose, 0o644);
    await Deno.writeTextFile(tight, JSON.stringify(withSecret), { mode: 0o600 });
    await Deno.chmod(tight, 0o600);
    await Deno.writeTextFile(secretFile, SECRET, { mode: 0o644 });
    await Deno.chmod(secretFile, 0o644);
    await Deno.writeTextFile(
      noSecret,
      JSON.stringify({
        clusters: {
          lab: {
            url: "https://pve.example.com",
            tokenId: "root@pam!mcp",
            tokenSecretFile: "secret",
          },
        },
      }),
      { mode: 0o644 },
    );
    await Deno.chmod(noSecret, 0o644);

    const looseResult = await loadConfig({ env: {}, args: { config: loose } });
    assert.deepEqual(looseResult.warnings, [
      `Config file "${loose}" holds secrets and is readable by others: run chmod 600 ${loose}`,
    ]);
    const tightResult = await loadConfig({ env: {}, args: { config: tight } });
    assert.deepEqual(tightResult.warnings, []);
    const noSecretResult = await loadConfig({ env: {}, args: { config: noSecret } });
    assert.deepEqual(noSecretResult.warnings, [
      `Secret file "${secretFile}" holds secrets and is readable by others: run chmod 600 ${secretFile}`,
    ]);
    assert.equal(noSecretResult.config.clusters.lab?.tokenSecret, SECRET);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the mode check is skipped on Windows", async () => {
  const mem = memory(
    { "/c.json": { clusters: { url: "https://a.example.com", password: "x", user: "a@pve" } } },
    { "/c.json": 0o100644 },
  );
  const linux = await loadConfig({ env: {}, args: { config: "/c.json" }, ...mem });
  assert.equal(linux.warnings.length, 1);
  const windows = await loadConfig({ env: {}, args: { config: "/c.json" }, ...mem, os: "windows" });
  assert.deepEqual(windows.warnings, []);
});

Deno.test("assertKnownNames lists the valid names for unknown tools and toolsets", () => {
  const config = configSchema.parse({
    policy: { toolsets: ["inventory", "snapshotz"], exclude: ["guest_delete"] },
  });
  const known = { tools: ["guest_list", "guest_delete"], toolsets: ["inventory", "snapshots"] };
  assert.throws(() => assertKnownNames(config, known), {
    name: "ConfigError",
    message: 'Invalid config "policy.toolsets": unknown toolset "snapshotz" — valid toolsets are ' +
      '"inventory" and "snapshots"',
  });
  const excluded = configSchema.parse({ policy: { exclude: ["guest_stpo", "x"] } });
  assert.throws(() => assertKnownNames(excluded, known), {
    message: 'Invalid config "policy.exclude": unknown tools "guest_stpo" and "x" — valid tools ' +
      'are "guest_list" and "guest_delete"',
  });
  assert.doesNotThrow(() => assertKnownNames(configSchema.parse({}), known));
});

Deno.test("clusterAuth refuses a cluster whose secret file was not read", () => {
  const config = configSchema.parse({
    clusters: { lab: { url: "https://a.example.com", user: "a@pve", passwordFile: "/s/pw" } },
  });
  assert.throws(() => clusterAuth(config.clusters.lab ?? assert.fail(), "lab"), {
    name: "ConfigError",
    message: /^Credentials of cluster "lab" are not loaded/,
  });
});

Deno.test("clusterAuth registers the secret so text anywhere is scrubbed of it", () => {
  const secret = "a1b2c3d4-0000-4a7e-9a1e-load-test-secret";
  const config = configSchema.parse({
    clusters: { lab: { url: "https://pve.example:8006", token: `root@pam!mcp=${secret}` } },
  });
  const lab = config.clusters.lab;
  assert.ok(lab);
  assert.equal(redactText(`upstream echoed ${secret}`), `upstream echoed ${secret}`);
  clusterAuth(lab, "lab");
  assert.equal(redactText(`upstream echoed ${secret}`), `upstream echoed ${REDACTED}`);
});
