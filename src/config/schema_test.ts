import assert from "node:assert/strict";
import type { ConfirmationRules, PolicyRules } from "../policy/policy.ts";
import type { Scope } from "../policy/scope.ts";
import { configErrorFromIssues } from "./issues.ts";
import {
  type ConfigInput,
  configSchema,
  DEFAULT_AUDIT_PATH,
  normalizeClusterUrl,
} from "./schema.ts";

const TOKEN = "root@pam!mcp=2e3a9b4c-8f41-4a7e-9a1e-3c0f5b6d7e8f";

/** The message of the ConfigError a raw config produces, or "ok". */
function messageOf(input: unknown): string {
  const result = configSchema.safeParse(input, { reportInput: true });
  return result.success ? "ok" : configErrorFromIssues(result.error.issues).message;
}

function cluster(fields: Record<string, unknown>): unknown {
  return { clusters: { lab: { url: "https://pve.example.com", ...fields } } };
}

Deno.test("an empty config gets the documented defaults", () => {
  assert.deepEqual(configSchema.parse({}), {
    clusters: {},
    policy: {
      allow: ["read"],
      exclude: [],
      scope: {},
      confirmation: { fallback: "deny" },
      wait: { defaultSeconds: 60, maxSeconds: 900 },
    },
    audit: { enabled: true, path: DEFAULT_AUDIT_PATH },
    logging: { level: "info" },
    http: {
      maxBodyBytes: 1_048_576,
      maxSessions: 256,
      sessionIdleSeconds: 1800,
      shutdownSeconds: 30,
      rateLimit: {
        calls: { perMinute: 120, burst: 60 },
        writes: { perMinute: 20, burst: 5 },
      },
    },
    profiles: {},
  });
});

Deno.test("a cluster gets port 8006, TLS verification and default timeouts", () => {
  const config = configSchema.parse(cluster({ token: TOKEN }));
  assert.deepEqual(config.clusters.lab, {
    url: "https://pve.example.com:8006",
    token: TOKEN,
    insecure: false,
    timeouts: { requestMs: 30000, longRequestMs: 120000 },
  });
});

Deno.test("cluster URLs are normalised to scheme, host and port", () => {
  const table: [string, string][] = [
    ["https://pve.example.com", "https://pve.example.com:8006"],
    ["https://pve.example.com:8006/", "https://pve.example.com:8006"],
    ["https://pve.example.com:443", "https://pve.example.com:443"],
    ["https://PVE.example.com:8006/api2/json", "https://pve.example.com:8006"],
    ["http://10.0.0.5", "http://10.0.0.5:8006"],
    ["https://[fd00::5]:8006", "https://[fd00::5]:8006"],
  ];
  for (const [input, expected] of table) assert.equal(normalizeClusterUrl(input), expected, input);
});

Deno.test("one cluster, a named list and a record all become clusters by name", () => {
  const fields = { url: "https://pve.example.com", token: TOKEN };
  const single = configSchema.parse({ clusters: fields }).clusters;
  const named = configSchema.parse({ clusters: { ...fields, name: "lab" } }).clusters;
  const list = configSchema.parse({
    clusters: [{ name: "lab", ...fields }, { name: "prod", ...fields }],
  }).clusters;
  const record = configSchema.parse({ clusters: { lab: fields, prod: fields } }).clusters;
  assert.deepEqual(Object.keys(single), ["default"]);
  assert.deepEqual(Object.keys(named), ["lab"]);
  assert.deepEqual(Object.keys(list), ["lab", "prod"]);
  assert.deepEqual(list, record);
  assert.equal("name" in (list.lab ?? {}), false);
});

Deno.test("each auth method on its own is accepted", () => {
  for (
    const fields of [
      { token: TOKEN },
      { tokenFile: "/etc/proxmox-mcp/token" },
      { tokenId: "root@pam!mcp", tokenSecret: "2e3a9b4c" },
      { tokenId: "root@pam!mcp", tokenSecretFile: "/etc/proxmox-mcp/secret" },
      { user: "monitor@pve", password: "hunter2" },
      { user: "monitor@pve", passwordFile: "/etc/proxmox-mcp/password" },
    ]
  ) {
    assert.equal(messageOf(cluster(fields)), "ok", JSON.stringify(fields));
  }
});

const AUTH_FIX = 'set "token" ("user@realm!tokenid=secret"), "tokenId" with "tokenSecret", or ' +
  '"user" with "password" (each secret may also come from a file: "tokenFile", ' +
  '"tokenSecretFile", "passwordFile")';

Deno.test("each refinement names the key and the fix", () => {
  const table: [unknown, string][] = [
    [
      { clusters: { lab: { url: "pve:8006", token: TOKEN } } },
      'Invalid config "clusters.lab.url": expected an https:// or http:// URL, got "pve:8006" — ' +
      'set it like "https://pve.example.com:8006"',
    ],
    [
      { clusters: { lab: { token: TOKEN } } },
      'Invalid config "clusters.lab.url": missing — add it: set it like ' +
      '"https://pve.example.com:8006"',
    ],
    [
      { clusters: { lab: { url: "https://pve/other", token: TOKEN } } },
      'Invalid config "clusters.lab.url": expected the server address without a path, got ' +
      '"https://pve/other" — set it like "https://pve.example.com:8006"',
    ],
    [
      { clusters: { lab: { url: "https://root:pw@pve", token: TOKEN } } },
      'Invalid config "clusters.lab.url": expected a URL without user name or password — remove ' +
      'them from the URL and use "token" or "user"/"password" instead',
    ],
    [
      cluster({}),
      `Invalid config "clusters.lab": no credentials configured — ${AUTH_FIX}`,
    ],
    [
      cluster({ token: TOKEN, user: "monitor@pve", password: "x" }),
      'Invalid config "clusters.lab": more than one auth method configured ("token", "user") — ' +
      `keep exactly one: ${AUTH_FIX}`,
    ],
    [
      cluster({ tokenId: "root@pam!mcp" }),
      'Invalid config "clusters.lab.tokenSecret": missing: "tokenId" needs its secret — add ' +
      '"tokenSecret" or "tokenSecretFile"',
    ],
    [
      cluster({ tokenSecret: "abc" }),
      'Invalid config "clusters.lab.tokenId": missing: the token secret needs its token id — add ' +
      '"tokenId" like "root@pam!mcp"',
    ],
    [
      cluster({ tokenId: "root!mcp", tokenSecret: "abc" }),
      'Invalid config "clusters.lab.tokenId": expected "user@realm!tokenid", got "root!mcp" — ' +
      'write it like "root@pam!mcp"',
    ],
    [
      cluster({ user: "root", password: "x" }),
      'Invalid config "clusters.lab.user": expected "user@realm", got "root" — add the realm, ' +
      'like "root@pam" or "monitor@pve"',
    ],
    [
      cluster({ password: "x" }),
      'Invalid config "clusters.lab.user": missing: the password needs its user — add "user" ' +
      'like "monitor@pve"',
    ],
    [
      cluster({ user: "monitor@pve" }),
      'Invalid config "clusters.lab.password": missing: "user" needs a password — add ' +
      '"password" or "passwordFile"',
    ],
    [
      cluster({ user: "monitor@pve", password: "x", passwordFile: "/p" }),
      'Invalid config "clusters.lab.passwordFile": both "password" and "passwordFile" are set — ' +
      "keep only one of them",
    ],
    [
      cluster({ token: "root@pam!mcp:2e3a9b4c" }),
      'Invalid config "clusters.lab.token": expected "user@realm!tokenid=secret", but the token ' +
      'id and secret are separated by ":" — Proxmox VE separates them with "=" (":" is the ' +
      "Proxmox Backup Server syntax)",
    ],
    [
      cluster({ token: TOKEN, insecure: "yes" }),
      'Invalid config "clusters.lab.insecure": expected true or false, got "yes" — write it ' +
      "without quotes",
    ],
    [
      cluster({ token: TOKEN, timeouts: { requestMs: 0 } }),
      'Invalid config "clusters.lab.timeouts.requestMs": expected at least 1 milliseconds, got 0 ' +
      "— use 1 or more",
    ],
    [
      { clusters: { "bad name": { url: "https://pve", token: TOKEN } } },
      'Invalid config "clusters.bad name": invalid cluster name "bad name" — use letters, ' +
      'digits, ".", "_" and "-", starting with a letter or digit',
    ],
    [
      { clusters: [{ url: "https://pve", token: TOKEN }] },
      'Invalid config "clusters.0.name": missing — add it: give each cluster in the list a ' +
      '"name", like "lab"',
    ],
    [
      {
        clusters: [{ name: "a", url: "https://pve", token: TOKEN }, {
          name: "a",
          url: "https://pve",
          token: TOKEN,
        }],
      },
      'Invalid config "clusters.1.name": duplicate cluster name "a" — give each cluster its own ' +
      "name",
    ],
    [
      { polcy: {} },
      'Invalid config: unknown key "polcy" — valid keys here are "$schema", "clusters", ' +
      '"policy", "audit", "logging", "http" and "profiles"',
    ],
    [
      { policy: { alow: ["read"] } },
      'Invalid config "policy": unknown key "alow" — valid keys here are "allow", "toolsets", ' +
      '"exclude", "scope", "confirmation" and "wait"',
    ],
    [
      { policy: { allow: ["read", "delete"] } },
      'Invalid config "policy.allow.1": unknown capability class "delete" — valid classes are ' +
      '"read", "lifecycle", "change", "destroy", "exec" and "raw"',
    ],
    [
      { policy: { allow: "read" } },
      'Invalid config "policy.allow": expected a list, got "read" — write it like ["read", ' +
      '"lifecycle"]',
    ],
    [
      { policy: { scope: { vmids: ["abc"] } } },
      'Invalid config "policy.scope.vmids.0": invalid VMID range "abc": expected "100" or ' +
      '"100-199" — write it like "100-199" or "105"',
    ],
    [
      { policy: { scope: { vmids: ["300-200"] } } },
      'Invalid config "policy.scope.vmids.0": invalid VMID range "300-200": expected the start ' +
      '(300) to be at most the end (200) — write it like "100-199" or "105"',
    ],
    [
      { policy: { scope: { nodes: [] } } },
      'Invalid config "policy.scope.nodes": expected at least one node name — remove the key to ' +
      "lift this restriction",
    ],
    [
      { policy: { scope: { nodes: ["pve.example.com"] } } },
      'Invalid config "policy.scope.nodes.0": invalid node name "pve.example.com" — write it like "pve1"',
    ],
    [
      { policy: { confirmation: { fallback: "ask" } } },
      'Invalid config "policy.confirmation.fallback": expected "deny" or "allow", got "ask" — ' +
      'use "deny" (the safe default) or "allow"',
    ],
    [
      { policy: { wait: { defaultSeconds: 1000 } } },
      'Invalid config "policy.wait.defaultSeconds": expected at most maxSeconds (900), got 1000 ' +
      '— lower it or raise "policy.wait.maxSeconds"',
    ],
    [
      { policy: { wait: { defaultSeconds: 1.5 } } },
      'Invalid config "policy.wait.defaultSeconds": expected a whole number of seconds, got 1.5 ' +
      "— drop the fraction",
    ],
    [
      { audit: { path: "" } },
      'Invalid config "audit.path": expected a non-empty string — write a path like ' +
      '"/var/log/proxmox-mcp/audit.jsonl"',
    ],
    [
      { logging: { level: "warn" } },
      'Invalid config "logging.level": unknown log level "warn" — use one of "trace", "debug", ' +
      '"info", "warning", "error" and "fatal"',
    ],
  ];
  for (const [input, expected] of table) assert.equal(messageOf(input), expected);
});

Deno.test("several problems are counted after the first", () => {
  assert.match(
    messageOf({ policy: { allow: ["x"], exclude: "y" } }),
    /^Invalid config "policy.allow.0": .* \(and 1 more problem\)$/,
  );
});

Deno.test("messages never echo a token secret or password", () => {
  const secret = "2e3a9b4c-8f41-4a7e-9a1e-3c0f5b6d7e8f";
  for (
    const fields of [
      { token: `root@pam!mcp:${secret}` },
      { token: `nonsense ${secret}` },
      { tokenId: "root@pam!mcp", tokenSecret: 42 },
      { user: "monitor@pve", password: [secret] },
    ]
  ) {
    const message = messageOf(cluster(fields));
    assert.notEqual(message, "ok");
    assert.equal(message.includes(secret), false, message);
  }
  const withUrlPassword = messageOf({ clusters: { url: `pve://root:${secret}@x`, token: TOKEN } });
  assert.equal(withUrlPassword.includes(secret), false, withUrlPassword);
});

Deno.test("the $schema key is allowed for editors", () => {
  const input: ConfigInput = { $schema: "./config.schema.json" };
  assert.equal(messageOf(input), "ok");
});

Deno.test("the parsed policy fits the policy module's rule types", () => {
  const config = configSchema.parse({ policy: { scope: { vmids: ["100-199"] } } });
  const rules: PolicyRules = config.policy;
  const scope: Scope = config.policy.scope;
  const confirmation: ConfirmationRules = config.policy.confirmation;
  assert.deepEqual(rules.allow, ["read"]);
  assert.deepEqual(scope.vmids, ["100-199"]);
  assert.equal(confirmation.fallback, "deny");
});
