import assert from "node:assert/strict";
import { startSimulator } from "../../src/simulator/mod.ts";
import { DEMO_FLAGS, runCli } from "./_cli.ts";

Deno.test("demo runs to completion with the demo task's permissions and prints every step", async () => {
  const run = await runCli(DEMO_FLAGS, ["demo", "--fast"]);
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  const headings = [...out.matchAll(/^== Step (\d)\/6: (.*)$/gm)].map((match) => match[2]);
  assert.deepEqual(headings, [
    "cluster_status",
    "guest_list (inventory)",
    "guest_start win11-desk, with live progress",
    "snapshot_create on win11-desk",
    "guest_stop web01 under the default read-only policy",
    "guest_stop web01 as a dry run, with destroy allowed",
  ]);
  assert.match(out, /Audit log: disabled in the demo/);
  assert.match(out, /this step runs with policy\.allow = \[read, lifecycle, change\]/i);
  assert.match(out, /^ {3}progress .*Waiting for task UPID:pve3:.*:qmstart:103:/m);
  assert.match(out, /VM 103 \(win11-desk\) started on pve3\./);
  assert.match(out, /Created snapshot "before_updates"/);
  assert.match(out, /<- isError: true:\n {3}Tool "guest_stop" needs capability "destroy"/);
  assert.match(
    out,
    /Dry run, nothing was changed\. Would: .*\n {5}POST \/nodes\/pve1\/qemu\/100\/status\/stop/,
  );
  assert.match(out, /"mcpServers"/);
  assert.match(
    out,
    /claude mcp add proxmox-demo -- deno run --unstable-lazy-dynamic-imports --v8-flags=--expose-gc,--max-semi-space-size=1 --allow-net=127\.0\.0\.1 --allow-read=\S+ \S*main\.ts serve --demo/,
  );
});

Deno.test("doctor --demo passes every check against the simulated cluster", async () => {
  const run = await runCli(DEMO_FLAGS, ["doctor", "--demo"]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  for (const check of ["tcp", "http", "auth", "version", "permissions"]) {
    assert.match(run.stdout, new RegExp(`^  ${check} +pass `, "m"));
  }
  assert.match(run.stdout, /Proxmox VE 9\.1\.1/);
  assert.match(run.stdout, /All checks passed\./);
});

Deno.test("doctor reports a rejected token with the token-format fix and exits 1", async () => {
  const sim = await startSimulator({ speed: "instant" });
  try {
    const run = await runCli(["--allow-net=127.0.0.1", "--allow-env"], ["doctor"], {
      env: { PROXMOX_URL: sim.url, PROXMOX_TOKEN: "root@pam!mcp=not-the-secret" },
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^ {2}auth +fail +401: root@pam!mcp was rejected +check the token/m);
    assert.match(run.stdout, /'=' between id and secret, not ':'/);
    assert.doesNotMatch(run.stdout + run.stderr, /not-the-secret/);
  } finally {
    await sim.close();
  }
});

Deno.test("doctor lists the privileges a narrow token lacks for the enabled tools", async () => {
  const sim = await startSimulator({ speed: "instant" });
  try {
    const run = await runCli(["--allow-net=127.0.0.1", "--allow-env"], [
      "doctor",
      "--allow",
      "read,change",
    ], {
      env: {
        PROXMOX_URL: sim.url,
        PROXMOX_TOKEN_ID: "auditor@pve!ro",
        PROXMOX_TOKEN_SECRET: "a1b2c3d4-0000-4000-8000-000000000001",
      },
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^ {2}auth +pass +accepted token of auditor@pve!ro/m);
    assert.match(
      run.stdout,
      /permissions +fail +missing VM\.Snapshot on \/vms \(for snapshot_create\) +pveum acl modify \/vms --tokens 'auditor@pve!ro'/,
    );
  } finally {
    await sim.close();
  }
});

Deno.test("doctor reports an untrusted certificate with the caFile fix, and passes with the CA file", async () => {
  const tls = new URL("../fixtures/tls/", import.meta.url).pathname;
  const sim = await startSimulator({
    speed: "instant",
    cert: await Deno.readTextFile(`${tls}server.pem`),
    key: await Deno.readTextFile(`${tls}server.key`),
  });
  try {
    const env = {
      PROXMOX_URL: sim.url,
      PROXMOX_TOKEN: `root@pam!mcp=${sim.credentials.tokenSecret}`,
    };
    const untrusted = await runCli(["--allow-net=127.0.0.1", "--allow-env"], ["doctor"], { env });
    assert.equal(untrusted.code, 1, untrusted.stderr);
    assert.match(
      untrusted.stdout,
      /^ {2}tls +fail +.*set caFile .*\/etc\/pve\/pve-root-ca\.pem, or knowingly set insecure/m,
    );

    const trusted = await runCli(
      ["--allow-net=127.0.0.1", "--allow-env", `--allow-read=${tls}ca.pem`],
      ["doctor", "--ca-file", `${tls}ca.pem`],
      { env },
    );
    assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
    assert.match(trusted.stdout, /^ {2}tls +pass +certificate verified/m);
  } finally {
    await sim.close();
  }
});
