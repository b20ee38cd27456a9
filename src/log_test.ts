import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { assertLinear, repeated } from "../tests/_linear.ts";
import {
  configureLogging,
  getLog,
  isLogLevel,
  isSecretKey,
  type LogLevelName,
  REDACTED,
  redactSecrets,
  redactText,
  registerSecret,
  resetLogging,
} from "./log.ts";

const SECRET = "2e3a9b4c-8f41-4a7e-9a1e-3c0f5b6d7e8f";
const TICKET = "PVE:root@pam:66B0E3C2::k8Tq+abc/def==";

async function capture(
  level: LogLevelName,
  body: () => void,
): Promise<string[]> {
  const lines: string[] = [];
  await configureLogging({ level, write: (line) => lines.push(line) });
  try {
    body();
  } finally {
    await resetLogging();
  }
  return lines;
}

Deno.test("secret-looking keys are recognised and paths to secret files are not", () => {
  for (
    const key of [
      "password",
      "PASSWORD",
      "tokenSecret",
      "token_secret",
      "secret",
      "token",
      "ticket",
      "CSRFPreventionToken",
      "authorization",
      "Authorization",
      "cookie",
      "cipassword",
      "new-password",
    ]
  ) {
    assert.equal(isSecretKey(key), true, key);
  }
  for (const key of ["tokenId", "passwordFile", "tokenSecretFile", "user", "vmid", "url"]) {
    assert.equal(isSecretKey(key), false, key);
  }
});

Deno.test("redactText scrubs API tokens, cookies, tickets and key=value secrets", () => {
  const cases: [string, string][] = [
    [
      `Authorization: PVEAPIToken=root@pam!mcp=${SECRET}`,
      `Authorization: PVEAPIToken=root@pam!mcp=${REDACTED}`,
    ],
    [`PVEAPIToken root@pam!mcp=${SECRET}`, `PVEAPIToken root@pam!mcp=${REDACTED}`],
    [`Cookie: PVEAuthCookie=${TICKET}; path=/`, `Cookie: PVEAuthCookie=${REDACTED}; path=/`],
    [`got ticket ${TICKET} back`, `got ticket PVE:${REDACTED} back`],
    [`token root@pam!mcp=${SECRET} rejected`, `token root@pam!mcp=${REDACTED} rejected`],
    [`username=root@pam&password=hunter2`, `username=root@pam&password=${REDACTED}`],
    [`{"password":"hunter2","user":"root@pam"}`, `{"password":"${REDACTED}","user":"root@pam"}`],
    [
      `CSRFPreventionToken: 66B0E3C2:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ`,
      `CSRFPreventionToken: ${REDACTED}`,
    ],
    ["VM 100 is running on node pve1", "VM 100 is running on node pve1"],
  ];
  for (const [input, expected] of cases) assert.equal(redactText(input), expected);
});

Deno.test("redactSecrets deep-copies and replaces secret values without touching the input", () => {
  const input = {
    vmid: 100,
    password: "hunter2",
    nested: { tokenSecret: SECRET, list: [{ cipassword: "pw" }, "PVEAuthCookie=abc"] },
    empty: { password: "" },
    when: new Date(0),
  };
  const output = redactSecrets(input);
  assert.deepEqual(output, {
    vmid: 100,
    password: REDACTED,
    nested: {
      tokenSecret: REDACTED,
      list: [{ cipassword: REDACTED }, `PVEAuthCookie=${REDACTED}`],
    },
    empty: { password: "" },
    when: new Date(0),
  });
  assert.equal(input.password, "hunter2");
  assert.equal(input.nested.tokenSecret, SECRET);
});

Deno.test("redactSecrets survives cycles and errors", () => {
  const cyclic: Record<string, unknown> = { name: "a" };
  cyclic.self = cyclic;
  assert.deepEqual(redactSecrets(cyclic), { name: "a", self: "[circular]" });
  assert.deepEqual(redactSecrets(new Error(`bad PVEAPIToken=root@pam!mcp=${SECRET}`)), {
    name: "Error",
    message: `bad PVEAPIToken=root@pam!mcp=${REDACTED}`,
  });
});

Deno.test("logged secrets never reach the sink, in properties, placeholders or text", async () => {
  const lines = await capture("debug", () => {
    const log = getLog("pve.client");
    log.info("Logging in as {user} with {password}", { user: "root@pam", password: "hunter2" });
    log.debug("Request headers", {
      headers: { Authorization: `PVEAPIToken=root@pam!mcp=${SECRET}`, Accept: "json" },
    });
    log.warn(`Ticket ${TICKET} expires soon`);
    log.error("Login failed for {body}", { body: `username=root@pam&password=hunter2` });
    log.info("Token config", { tokenSecret: SECRET, tokenId: "root@pam!mcp" });
  });
  const all = lines.join("");
  assert.equal(lines.length, 5);
  for (const secret of ["hunter2", SECRET, "k8Tq+abc"]) {
    assert.equal(all.includes(secret), false, `${secret} leaked into: ${all}`);
  }
  assert.match(all, /Logging in as root@pam with \[redacted\]/);
  assert.match(all, /tokenId="root@pam!mcp"/);
  assert.match(all, /\[INF\] proxmox-mcp·pve·client:/);
});

Deno.test("the configured level filters records and reconfiguring replaces it", async () => {
  const quiet = await capture("warning", () => {
    getLog("server").info("hidden");
    getLog("server").warn("shown");
  });
  assert.equal(quiet.length, 1);
  assert.match(quiet[0] ?? "", /\[WRN\] proxmox-mcp·server: shown\n$/);
  const verbose = await capture("trace", () => getLog("server").trace("now shown"));
  assert.equal(verbose.length, 1);
});

Deno.test("records logged after reset are dropped", async () => {
  const lines: string[] = [];
  await configureLogging({ write: (line) => lines.push(line) });
  await resetLogging();
  getLog("server").error("nobody hears this");
  assert.deepEqual(lines, []);
});

Deno.test("isLogLevel accepts only LogTape level names", () => {
  assert.equal(isLogLevel("warning"), true);
  assert.equal(isLogLevel("warn"), false);
});

Deno.test("logs go to stderr only, redacted, with no permissions granted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmox-mcp-log-" });
  const path = `${dir}/probe.ts`;
  await Deno.writeTextFile(
    path,
    `import { configureLogging, getLog } from ${
      JSON.stringify(new URL("./log.ts", import.meta.url).href)
    };
await configureLogging({ level: "info" });
getLog("probe").info("Login with {password}", { password: "hunter2", user: "root@pam" });
getLog("probe").debug("not shown");
`,
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--config=${fileURLToPath(new URL("../deno.json", import.meta.url))}`,
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(dir, { recursive: true }));
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.equal(output.stdout.length, 0);
  assert.match(stderr, /\[INF\] proxmox-mcp·probe: Login with \[redacted\] user="root@pam"\n$/);
  assert.equal(stderr.includes("hunter2"), false);
  assert.equal(stderr.includes("not shown"), false);
});

Deno.test("redactText scrubs encoded and console tickets, URL credentials and YAML secrets", () => {
  const cases: [string, string][] = [
    [
      "ticket=PVE%3Aroot%40pam%3A66B0E3C2%3A%3Ak8Tq%2Babc%2Fdef%3D%3D&x=1",
      `ticket=${REDACTED}&x=1`,
    ],
    [
      "cookie was PVE%3Aroot%40pam%3A66B0E3C2%3A%3Ak8Tq%2Babc then",
      `cookie was PVE%3A${REDACTED} then`,
    ],
    ["vnc PVEVNC:66B0E3C2::k8Tq+abc/def== ok", `vnc PVEVNC:${REDACTED} ok`],
    [
      "fetch https://root%40pam:hunter2@pve.example:8006/api2/json failed",
      `fetch https://root%40pam:${REDACTED}@pve.example:8006/api2/json failed`,
    ],
    [
      "#cloud-config\nuser: root\npassword: $5$rounds$abc\nchpasswd:\n  expire: False",
      `#cloud-config\nuser: root\npassword: ${REDACTED}\nchpasswd:\n  expire: False`,
    ],
    ["  'cipassword': 'hunter2'", `  'cipassword': ${REDACTED}`],
    ["clusters.lab.tokenSecret: expected string", "clusters.lab.tokenSecret: expected string"],
    [
      "Check the API token id and secret configured",
      "Check the API token id and secret configured",
    ],
  ];
  for (const [input, expected] of cases) assert.equal(redactText(input), expected, input);
});

Deno.test("a registered secret is scrubbed from text and log lines wherever it appears", async () => {
  const secret = "f00dcafe-1234-4a7e-9a1e-registered01";
  registerSecret(secret);
  registerSecret("short");
  assert.equal(redactText(`echoed body: ${secret}!`), `echoed body: ${REDACTED}!`);
  assert.equal(
    redactText(`q=${encodeURIComponent(`${secret} x`)}`),
    `q=${REDACTED}%20x`,
  );
  assert.equal(redactText("a short word"), "a short word");
  const lines = await capture("info", () => {
    getLog("test").info(`upstream said ${secret}`);
    getLog("test").info("value {v}", { v: `<${secret}>` });
  });
  assert.equal(lines.length, 2);
  for (const line of lines) assert.ok(!line.includes(secret), line);
});

Deno.test("a registered secret holding a separator is scrubbed whole from log lines, as by redactText", async () => {
  const secret = "ab&cd;ef-registered-02";
  registerSecret(secret);
  const text = `sent password=${secret} to the node`;
  assert.equal(redactText(text), `sent password=${REDACTED} to the node`);
  const lines = await capture("info", () => getLog("test").info(text));
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes("ef-registered-02"), lines[0]);
  assert.ok(lines[0]!.includes(`password=${REDACTED} to the node`), lines[0]);
});

Deno.test("redactText keeps the shapes it scrubs after the linear-time rewrite of its patterns", () => {
  const cases: [string, string][] = [
    [`a PVEAPIToken=x@pve!t=${SECRET}`, `a PVEAPIToken=x@pve!t=${REDACTED}`],
    [`PVEAPIToken=weird=${SECRET}`, `PVEAPIToken=weird=${REDACTED}`],
    [`PVEAPIToken   odd=${SECRET}`, `PVEAPIToken   odd=${REDACTED}`],
    [`xroot@pam!mcp=${SECRET}`, `xroot@pam!mcp=${REDACTED}`],
    [`@pam!mcp=${SECRET}`, `@pam!mcp=${SECRET}`],
    ["git+ssh://me:hunter2@host/x", `git+ssh://me:${REDACTED}@host/x`],
    ["x.a://me:hunter2@host", `x.a://me:${REDACTED}@host`],
    ["- password: hunter2", `- password: ${REDACTED}`],
    ["  - --password: hunter2", `  - --password: ${REDACTED}`],
    ["--- not: a secret", "--- not: a secret"],
  ];
  for (const [input, expected] of cases) assert.equal(redactText(input), expected, input);
});

Deno.test("redactText takes linear time on 1 MB of every shape its patterns look for", () => {
  const shapes = [
    "a",
    "!",
    "a.",
    "a-",
    "-",
    "a@",
    "a@b!",
    "a@b!c",
    "@a!b",
    "a://",
    "a:",
    "://a:",
    "PVEAPIToken=",
    "PVEAPIToken ",
    "PVEAPIToken",
    "PVE:",
    "PVE:a",
    "PVE%3A",
    "PVEVNC:",
    "CSRFPreventionToken: ",
    '"',
    '"password',
    '"password":"',
    "password",
    "&password",
    " -",
    "\n-",
    "\n- password",
    "\t",
    "=",
  ].map((unit) => repeated(unit, "\u0001"));
  assertLinear("redactText", redactText, [
    ...shapes,
    repeated("PVEAPIToken=x", " "),
    repeated("a", "@b!c=secret"),
    repeated(" ", "password: x"),
  ]);
});
