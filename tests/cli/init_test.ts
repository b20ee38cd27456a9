import assert from "node:assert/strict";
import { LAZY_IMPORTS, programDir, V8_FLAGS } from "../../src/cli/_run_flags.ts";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { clientSnippets, launchFor, shellQuote } from "../../src/cli/_clients.ts";
import { defaultConfigPath } from "../../src/cli/init.ts";
import { ENV_NAMES } from "../../src/config/mod.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/mod.ts";
import { OPERATOR_TOKEN_SECRET } from "../../src/simulator/seeds/demo.ts";
import { cleanEnv, MAIN } from "./_cli.ts";

const TLS = new URL("../fixtures/tls/", import.meta.url).pathname;
const encoder = new TextEncoder();
/** Guards against a question the test does not expect (not a timing assertion). */
const STUCK_MS = 60_000;

/** `init` as a subprocess whose questions the test answers one by one. */
class InitRun {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stdout: ReadableStreamDefaultReader<string>;
  readonly #stderr: Promise<string>;
  /** Everything printed so far. */
  transcript = "";
  #seen = 0;

  constructor(args: readonly string[], permissions: readonly string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-prompt", ...permissions, MAIN, "init", ...args],
      env: cleanEnv(),
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#stdout = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Waits until the output after the last match shows `pattern`; returns that output. */
  async expect(pattern: RegExp): Promise<string> {
    const deadline = setTimeout(() => this.#child.kill("SIGKILL"), STUCK_MS);
    try {
      for (;;) {
        const rest = this.transcript.slice(this.#seen);
        const match = pattern.exec(rest);
        if (match !== null) {
          this.#seen += match.index + match[0].length;
          return rest.slice(0, match.index + match[0].length);
        }
        const { value, done } = await this.#stdout.read();
        if (done) {
          assert.fail(
            `init ended without printing ${pattern}:\n${this.transcript}\n${await this.#stderr}`,
          );
        }
        this.transcript += value;
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Types `answer` and Enter. */
  async type(answer: string): Promise<void> {
    await this.#stdin.write(encoder.encode(`${answer}\n`));
  }

  /** Waits for `question`, then types `answer` and Enter. */
  async answer(question: RegExp, answer: string): Promise<void> {
    await this.expect(question);
    await this.type(answer);
  }

  /** Closes stdin and waits for the exit; resolves with the code and all output. */
  async finish(): Promise<{ code: number; stdout: string; stderr: string }> {
    await this.#stdin.close().catch(() => {});
    for (;;) {
      const { value, done } = await this.#stdout.read();
      if (done) break;
      this.transcript += value;
    }
    const status = await this.#child.status;
    return { code: status.code, stdout: this.transcript, stderr: await this.#stderr };
  }
}

/** The permissions `init` needs for a config in `dir` against a simulator on loopback. */
function initPermissions(dir: string, reads: readonly string[] = []): string[] {
  return [
    "--allow-net=127.0.0.1",
    `--allow-read=${[dir, ...reads].join(",")}`,
    `--allow-write=${dir}`,
    "--allow-env=HOME,XDG_CONFIG_HOME,APPDATA",
  ];
}

async function fixture(options: { tls?: boolean } = {}) {
  const sim = await startSimulator({
    speed: "instant",
    ...(options.tls
      ? {
        cert: await Deno.readTextFile(`${TLS}server.pem`),
        key: await Deno.readTextFile(`${TLS}server.key`),
      }
      : {}),
  });
  const dir = await Deno.makeTempDir();
  return {
    sim,
    dir,
    config: `${dir}/config.json`,
    async close() {
      await sim.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function modeOf(path: string): Promise<number> {
  return ((await Deno.stat(path)).mode ?? 0) & 0o777;
}

async function missing(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => false, () => true);
}

/** The `mcpServers` snippet printed by init. */
function printedServer(stdout: string): { command: string; args: string[] } {
  const start = stdout.indexOf('{\n  "mcpServers"');
  const end = stdout.indexOf("\n}\n", start);
  assert.ok(start >= 0 && end > start, stdout);
  const parsed = JSON.parse(stdout.slice(start, end + 2)) as {
    mcpServers: { proxmox: { command: string; args: string[] } };
  };
  return parsed.mcpServers.proxmox;
}

/** Answers the token questions of a fresh run. */
async function answerToken(run: InitRun, sim: SimulatorHandle, tokenId: string, secret: string) {
  await run.answer(/Proxmox VE URL \(e\.g\. https:\/\/pve\.example\.com:8006\): $/, sim.url);
  await run.answer(/Log in with an API token or a password\? \(token\/password\) \[token\]: $/, "");
  await run.answer(/API token id \(user@realm!tokenid\): $/, tokenId);
  await run.answer(/API token secret \(input hidden\): $/, secret);
}

Deno.test("init asks, checks live, writes a 0600 config and prints client configs that start the server", async () => {
  const fx = await fixture();
  const secret = fx.sim.credentials.tokenSecret;
  try {
    const run = new InitRun(["--config", fx.config], initPermissions(fx.dir));
    await answerToken(run, fx.sim, "root@pam!mcp", secret);
    const checks = await run.expect(/All checks passed\.\n/);
    for (const check of ["tcp", "http", "auth", "version", "permissions"]) {
      assert.match(checks, new RegExp(`^  ${check} +pass `, "m"));
    }
    assert.match(checks, /permissions +pass +root@pam!mcp holds what the \d+ enabled tools need/);
    await run.answer(
      /Keep the token secret in a file of its own \(tokenSecretFile\)\? \[y\/N\]: $/,
      "y",
    );
    await run.answer(/File for the token secret \[.*\/default-token-secret\]: $/, "");
    const result = await run.finish();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(secret));

    const secretFile = `${fx.dir}/default-token-secret`;
    assert.equal(await modeOf(fx.config), 0o600);
    assert.equal(await modeOf(secretFile), 0o600);
    assert.equal((await Deno.readTextFile(secretFile)).trim(), secret);
    const written = JSON.parse(await Deno.readTextFile(fx.config));
    assert.deepEqual(written, {
      clusters: {
        default: { url: fx.sim.url, tokenId: "root@pam!mcp", tokenSecretFile: secretFile },
      },
      policy: { allow: ["read"] },
      audit: { path: `${fx.dir}/audit.jsonl` },
    });

    for (const client of ["Claude Desktop", "Cursor", "Gemini CLI", "VS Code", "Claude Code"]) {
      assert.match(result.stdout, new RegExp(client));
    }
    assert.match(result.stdout, /"servers": \{\n\s+"proxmox": \{\n\s+"type": "stdio"/);
    assert.match(result.stdout, /^claude mcp add --scope user proxmox -- .* serve --config /m);
    const server = printedServer(result.stdout);
    const host = new URL(fx.sim.url).host;
    assert.deepEqual(server.args.slice(0, 8), [
      "run",
      LAZY_IMPORTS,
      V8_FLAGS,
      `--allow-net=${host}`,
      `--allow-env=${ENV_NAMES.join(",")}`,
      `--allow-read=${programDir(MAIN)},${fx.config},${secretFile}`,
      `--allow-write=${fx.dir}/audit.jsonl`,
      MAIN,
    ]);
    assert.deepEqual(server.args.slice(8), ["serve", "--config", fx.config]);

    // The printed configuration, exactly as a client would start it.
    const transport = new StdioClientTransport({
      command: server.command,
      args: [server.args[0]!, "--quiet", "--no-prompt", ...server.args.slice(1)],
      env: cleanEnv(),
      stderr: "pipe",
    });
    const client = new Client({ name: "init-test", version: "1.0.0" });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      assert.ok(tools.some((tool) => tool.name === "guest_list"));
      const list = await client.callTool({ name: "guest_list", arguments: { limit: 1 } });
      assert.notEqual(list.isError, true, JSON.stringify(list));
    } finally {
      await client.close();
    }
  } finally {
    await fx.close();
  }
});

Deno.test("init shows a rejected token with its fix and writes nothing unless confirmed", async () => {
  const fx = await fixture();
  try {
    const run = new InitRun(["--config", fx.config], initPermissions(fx.dir));
    await answerToken(run, fx.sim, "root@pam!mcp", "not-the-secret");
    const checks = await run.expect(/Enter it again\? \[Y\/n\]: $/);
    assert.match(checks, /^ {2}auth +fail +401: root@pam!mcp was rejected +check the token/m);
    assert.match(checks, /'=' between id and secret, not ':'/);
    await run.type("n");
    await run.answer(/Write the configuration anyway\? \[y\/N\]: $/, "");
    await run.expect(/Nothing written\.\n/);
    const result = await run.finish();
    assert.equal(result.code, 1);
    assert.ok(await missing(fx.config));
    assert.doesNotMatch(result.stdout + result.stderr, /not-the-secret/);
  } finally {
    await fx.close();
  }
});

Deno.test("init lets a rejected token be typed again, then passes", async () => {
  const fx = await fixture();
  try {
    const run = new InitRun(["--config", fx.config], initPermissions(fx.dir));
    await answerToken(run, fx.sim, "root@pam!mcp", "not-the-secret");
    await run.answer(/Enter it again\? \[Y\/n\]: $/, "");
    await run.answer(/API token id \(user@realm!tokenid\) \[root@pam!mcp\]: $/, "");
    await run.answer(/API token secret \(input hidden\): $/, fx.sim.credentials.tokenSecret);
    await run.expect(/All checks passed\.\n/);
    await run.answer(/\(tokenSecretFile\)\? \[y\/N\]: $/, "n");
    const result = await run.finish();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(await modeOf(fx.config), 0o600);
    const written = JSON.parse(await Deno.readTextFile(fx.config));
    assert.equal(written.clusters.default.tokenSecret, fx.sim.credentials.tokenSecret);
    assert.doesNotMatch(result.stdout, new RegExp(fx.sim.credentials.tokenSecret));
    assert.match(result.stdout, /the token secret is in it/);
  } finally {
    await fx.close();
  }
});

Deno.test("init names the privilege a token lacks for the default tools, and writes only when told to", async () => {
  const fx = await fixture();
  try {
    const run = new InitRun(["--config", fx.config], initPermissions(fx.dir));
    await answerToken(run, fx.sim, "operator@pve!ops", OPERATOR_TOKEN_SECRET);
    const checks = await run.expect(/Write the configuration anyway\? \[y\/N\]: $/);
    assert.match(checks, /^ {2}auth +pass +accepted token of operator@pve!ops/m);
    assert.match(
      checks,
      /permissions +fail +missing Sys\.Audit on \/ \(for cluster_status[^)]*\) +pveum acl modify \/ --tokens 'operator@pve!ops' --roles PVEAuditor/,
    );
    assert.ok(await missing(fx.config), "nothing is written before the answer");
    await run.type("y");
    await run.answer(/\(tokenSecretFile\)\? \[y\/N\]: $/, "");
    const result = await run.finish();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(await modeOf(fx.config), 0o600);
    assert.doesNotMatch(result.stdout, new RegExp(OPERATOR_TOKEN_SECRET));
  } finally {
    await fx.close();
  }
});

Deno.test("init offers the CA file when the certificate is not trusted, and passes with it", async () => {
  const fx = await fixture({ tls: true });
  const ca = `${TLS}ca.pem`;
  try {
    const run = new InitRun(["--config", fx.config], initPermissions(fx.dir, [ca]));
    await answerToken(run, fx.sim, "root@pam!mcp", fx.sim.credentials.tokenSecret);
    const untrusted = await run.expect(/The certificate is not trusted\. .*: $/);
    assert.match(untrusted, /^ {2}tls +fail +.*set caFile/m);
    await run.type(ca);
    const trusted = await run.expect(/All checks passed\.\n/);
    assert.match(trusted, /^ {2}tls +pass +certificate verified/m);
    await run.answer(/\(tokenSecretFile\)\? \[y\/N\]: $/, "");
    const result = await run.finish();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const written = JSON.parse(await Deno.readTextFile(fx.config));
    assert.equal(written.clusters.default.caFile, ca);
    assert.equal(written.clusters.default.insecure, undefined);
    assert.ok(
      printedServer(result.stdout).args.includes(
        `--allow-read=${programDir(MAIN)},${fx.config},${ca}`,
      ),
    );
  } finally {
    await fx.close();
  }
});

Deno.test("init --yes takes every answer from flags, and writes nothing when a check fails", async () => {
  const fx = await fixture();
  const secretFile = `${fx.dir}/secret`;
  const flags = ["--config", fx.config, "--url", fx.sim.url, "--token-id", "root@pam!mcp"];
  try {
    await Deno.writeTextFile(secretFile, "not-the-secret\n", { mode: 0o600 });
    const wrong = await new InitRun(
      [...flags, "--token-secret-file", secretFile, "--yes"],
      initPermissions(fx.dir),
    ).finish();
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /^ {2}auth +fail /m);
    assert.match(wrong.stdout, /Nothing written: a check failed .*add --force to write anyway\./);
    assert.ok(await missing(fx.config));

    await Deno.writeTextFile(secretFile, `${fx.sim.credentials.tokenSecret}\n`);
    const right = await new InitRun(
      [...flags, "--token-secret-file", secretFile, "--allow", "read,lifecycle", "--yes"],
      initPermissions(fx.dir),
    ).finish();
    assert.equal(right.code, 0, right.stdout + right.stderr);
    assert.doesNotMatch(right.stdout, /\[y\/N\]|\? /, "asks nothing");
    assert.doesNotMatch(right.stdout, new RegExp(fx.sim.credentials.tokenSecret));
    assert.equal(await modeOf(fx.config), 0o600);
    const written = JSON.parse(await Deno.readTextFile(fx.config));
    assert.equal(written.clusters.default.tokenSecretFile, secretFile);
    assert.equal(written.clusters.default.tokenSecret, undefined);
    assert.deepEqual(written.policy.allow, ["read", "lifecycle"]);

    const again = await new InitRun(
      [...flags, "--token-secret-file", secretFile, "--yes"],
      initPermissions(fx.dir),
    ).finish();
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists: nothing written — add --force to replace it/);
  } finally {
    await fx.close();
  }
});

Deno.test("init refuses secrets as flags and half-given credentials with usage errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string[], RegExp][] = [
      [["--token-secret", "x"], /Unknown option '--token-secret'/],
      [
        ["--yes", "--url", "https://pve:8006", "--token-id", "root@pam!mcp"],
        /--token-id needs --token-secret-file \(secrets are not taken as flags\)/,
      ],
      [
        ["--yes", "--url", "https://pve:8006"],
        /pass --token-id with --token-secret-file, or --user with --password-file/,
      ],
      [["--force"], /--force goes with --yes/],
      [["--yes", "--url", "pve:8006"], /--url: expected an https:\/\/ or http:\/\/ URL/],
    ];
    for (const [args, message] of cases) {
      const run = await new InitRun(
        ["--config", `${dir}/config.json`, ...args],
        initPermissions(dir),
      ).finish();
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.ok(await missing(`${dir}/config.json`));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("init stops without writing when its input ends before the questions are answered", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = new InitRun(["--config", `${dir}/config.json`], initPermissions(dir));
    await run.expect(/Proxmox VE URL .*: $/);
    const result = await run.finish();
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /Input ended before "Proxmox VE URL .*" was answered: nothing written/,
    );
    assert.ok(await missing(`${dir}/config.json`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a compiled binary is started as itself; deno run gets exactly the permissions the config needs", () => {
  const needs = {
    config: "/etc/proxmox-mcp/config.json",
    host: "pve.example.com:8006",
    reads: ["/etc/proxmox-mcp/ca.pem"],
    audit: "/var/log/proxmox-mcp/audit.jsonl",
  };
  assert.deepEqual(
    launchFor("serve", needs, {
      standalone: true,
      execPath: "/usr/local/bin/proxmox-mcp",
      main: "file:///unused",
    }),
    {
      command: "/usr/local/bin/proxmox-mcp",
      args: ["serve", "--config", "/etc/proxmox-mcp/config.json"],
    },
  );
  const runtime = { standalone: false, execPath: "/usr/bin/deno", main: "/opt/pmcp/main.ts" };
  assert.deepEqual(launchFor("serve", needs, runtime).args, [
    "run",
    LAZY_IMPORTS,
    V8_FLAGS,
    "--allow-net=pve.example.com:8006",
    `--allow-env=${ENV_NAMES.join(",")}`,
    "--allow-read=/opt/pmcp,/etc/proxmox-mcp/config.json,/etc/proxmox-mcp/ca.pem",
    "--allow-write=/var/log/proxmox-mcp/audit.jsonl",
    "/opt/pmcp/main.ts",
    "serve",
    "--config",
    "/etc/proxmox-mcp/config.json",
  ]);
  const doctor = launchFor("doctor", needs, runtime).args;
  assert.ok(!doctor.some((arg) => arg.startsWith("--allow-write")));
  const { audit: _audit, ...noAudit } = needs;
  assert.ok(!launchFor("serve", noAudit, runtime).args.some((a) => a.startsWith("--allow-write")));

  // A main.ts fetched from a URL runs without lazy imports (there is no directory to allow).
  const remote = { ...runtime, main: "https://example.com/proxmox-mcp/main.ts" };
  const remoteArgs = launchFor("serve", needs, remote).args;
  assert.ok(!remoteArgs.includes(LAZY_IMPORTS));
  assert.ok(
    remoteArgs.includes("--allow-read=/etc/proxmox-mcp/config.json,/etc/proxmox-mcp/ca.pem"),
  );
  assert.equal(programDir("C:\\pmcp\\main.ts"), "C:\\pmcp");
  assert.equal(programDir("/main.ts"), "/");

  const lines = clientSnippets(launchFor("serve", needs, runtime)).join("\n");
  assert.match(lines, /claude mcp add --scope user proxmox -- \/usr\/bin\/deno run /);
  assert.equal(shellQuote("/a b/it's"), `'/a b/it'"'"'s'`);
});

Deno.test("the default config file is in the user's configuration folder", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  assert.equal(
    defaultConfigPath(env({ HOME: "/home/ada" }), "linux"),
    "/home/ada/.config/proxmox-mcp/config.json",
  );
  assert.equal(
    defaultConfigPath(env({ HOME: "/home/ada", XDG_CONFIG_HOME: "/cfg" }), "linux"),
    "/cfg/proxmox-mcp/config.json",
  );
  assert.equal(
    defaultConfigPath(env({ APPDATA: "C:\\Users\\ada\\AppData\\Roaming" }), "windows"),
    "C:\\Users\\ada\\AppData\\Roaming\\proxmox-mcp\\config.json",
  );
  assert.equal(defaultConfigPath(env({}), "linux"), undefined);
});
