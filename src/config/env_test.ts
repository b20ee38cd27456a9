import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ENV_NAMES, envLayer, parseBoolean, splitList, tolerantEnv } from "./env.ts";
import { ConfigError } from "./errors.ts";

Deno.test("a variable the process may not read counts as unset", () => {
  const get = tolerantEnv((name) => {
    if (name === "PROXMOX_URL") return "https://pve.example.com";
    throw new Deno.errors.NotCapable(`Requires env access to "${name}"`);
  });
  assert.equal(get("PROXMOX_URL"), "https://pve.example.com");
  assert.equal(get("PROXMOX_TOKEN"), undefined);
  const denied = tolerantEnv(() => {
    throw new Deno.errors.PermissionDenied("denied");
  });
  assert.equal(denied("PROXMOX_URL"), undefined);
});

Deno.test("other errors from the environment are not swallowed", () => {
  const get = tolerantEnv(() => {
    throw new TypeError("boom");
  });
  assert.throws(() => get("PROXMOX_URL"), TypeError);
});

Deno.test("empty variables count as unset", () => {
  const get = tolerantEnv((name) => ({ PROXMOX_URL: "", PROXMOX_TOKEN: "  " })[name]);
  assert.equal(get("PROXMOX_URL"), undefined);
  assert.equal(get("PROXMOX_TOKEN"), undefined);
});

Deno.test("ENV_NAMES lists exactly the variables the configuration reads", () => {
  const asked = new Set<string>();
  envLayer((name) => {
    asked.add(name);
    return undefined;
  });
  asked.add("PROXMOX_MCP_CONFIG"); // read by loadConfig to find the file
  assert.deepEqual([...asked].sort(), [...ENV_NAMES].sort());
  for (
    const name of [
      "PROXMOX_URL",
      "PROXMOX_TOKEN",
      "PROXMOX_TOKEN_ID",
      "PROXMOX_TOKEN_SECRET",
      "PROXMOX_USER",
      "PROXMOX_PASSWORD",
      "PROXMOX_CA_FILE",
      "PROXMOX_INSECURE_TLS",
      "PROXMOX_MCP_LOG_LEVEL",
    ]
  ) {
    assert.ok(ENV_NAMES.includes(name), name);
  }
});

Deno.test("the process environment can be read with only --allow-env=<ENV_NAMES>", async () => {
  const script = `
    import { loadConfig } from ${JSON.stringify(new URL("./load.ts", import.meta.url).href)};
    const { config, sources } = await loadConfig();
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify({
      url: config.clusters.default?.url, level: config.logging.level, env: sources.env,
    })));
  `;
  const dir = await Deno.makeTempDir({ prefix: "proxmox-mcp-env-" });
  const path = `${dir}/probe.ts`;
  await Deno.writeTextFile(path, script);
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--config=${fileURLToPath(new URL("../../deno.json", import.meta.url))}`,
      "--allow-env=PROXMOX_URL,PROXMOX_TOKEN",
      path,
    ],
    env: {
      PROXMOX_URL: "https://pve.example.com",
      PROXMOX_TOKEN: "root@pam!mcp=secret",
      PROXMOX_MCP_LOG_LEVEL: "debug",
    },
    stdout: "piped",
    stderr: "piped",
  });
  const output = await command.output().finally(() => Deno.remove(dir, { recursive: true }));
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), {
    url: "https://pve.example.com:8006",
    level: "info",
    env: ["PROXMOX_URL", "PROXMOX_TOKEN"],
  });
});

Deno.test("lists split on commas and drop blanks", () => {
  assert.deepEqual(splitList(" read, lifecycle ,,change"), ["read", "lifecycle", "change"]);
  assert.deepEqual(splitList(["read,lifecycle", "raw"]), ["read", "lifecycle", "raw"]);
});

Deno.test("booleans accept the usual spellings and reject the rest with the variable name", () => {
  for (const value of ["1", "true", "YES", "on"]) assert.equal(parseBoolean(value, "X"), true);
  for (const value of ["0", "false", "No", "off"]) assert.equal(parseBoolean(value, "X"), false);
  assert.throws(() => parseBoolean("maybe", "PROXMOX_INSECURE_TLS"), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.key, "PROXMOX_INSECURE_TLS");
    assert.equal(
      error.message,
      'Invalid config "PROXMOX_INSECURE_TLS": expected true or false, got "maybe" — set it to ' +
        '"true" or "false" (1/0, yes/no and on/off work too)',
    );
    return true;
  });
});
