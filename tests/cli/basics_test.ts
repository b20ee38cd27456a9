import assert from "node:assert/strict";
import { VERSION } from "../../src/version.ts";
import { runCli } from "./_cli.ts";

Deno.test("--version prints the name and version from deno.json", async () => {
  const run = await runCli([], ["--version"]);
  assert.equal(run.code, 0);
  assert.equal(run.stdout, `proxmox-mcp ${VERSION}\n`);
});

Deno.test("--help lists every command, and each command has its own --help", async () => {
  const top = await runCli([], ["--help"]);
  assert.equal(top.code, 0);
  for (const command of ["serve", "demo", "call", "tools", "doctor", "init", "simulator"]) {
    assert.match(top.stdout, new RegExp(`^  ${command} `, "m"));
  }
  for (const command of ["serve", "demo", "call", "tools", "doctor", "init"]) {
    const run = await runCli([], [command, "--help"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Usage: proxmox-mcp ${command}`));
    assert.equal(run.stderr, "");
  }
});

Deno.test("an unknown command or flag is a usage error with exit code 2 and one stderr line", async () => {
  const unknown = await runCli([], ["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^proxmox-mcp: unknown command "frobnicate": expected one of /);
  assert.equal(unknown.stderr.trim().split("\n").length, 1);

  const flag = await runCli([], ["tools", "--frobnicate"]);
  assert.equal(flag.code, 2);
  assert.match(
    flag.stderr,
    /^proxmox-mcp tools: .*frobnicate.*\(see proxmox-mcp tools --help\)\n$/,
  );
});

Deno.test("a configuration error exits non-zero and names the key", async () => {
  const allow = await runCli(["--allow-env"], ["tools", "--allow", "read,nuke"]);
  assert.equal(allow.code, 1);
  assert.match(allow.stderr, /"policy\.allow\.1" \(from --allow\)/);
  assert.match(allow.stderr, /unknown capability class "nuke"/);

  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/config.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ clusters: { lab: { url: "pve:8006", tokenFile: "token" } } }),
    );
    const url = await runCli([`--allow-read=${dir}`], ["doctor", "--config", file]);
    assert.equal(url.code, 1);
    assert.match(url.stderr, /"clusters\.lab\.url"/);
    assert.match(url.stderr, /https:\/\/pve\.example\.com:8006/);

    const env = await runCli(["--allow-env"], ["tools"], {
      env: { PROXMOX_MCP_EXCLUDE: "guest_nuke" },
    });
    assert.equal(env.code, 1);
    assert.match(env.stderr, /"policy\.exclude": unknown tool "guest_nuke"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a command that talks to Proxmox VE without any cluster configured says how to add one", async () => {
  const run = await runCli(["--allow-env"], ["doctor"]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /No Proxmox VE cluster configured — set PROXMOX_URL and PROXMOX_TOKEN/);
});
