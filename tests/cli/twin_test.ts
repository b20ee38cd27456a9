import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { startSimulator } from "../../src/simulator/mod.ts";
import { formatTwin } from "../../src/twin/mod.ts";
import { capture } from "../twin/_twin.ts";
import { DEMO_FLAGS, MAIN, runCli } from "./_cli.ts";

/** A directory with the demo cluster's twin in `demo.twin.json`. */
async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "twin-cli-" });
  const sim = await startSimulator({ speed: "instant" });
  const twin = await capture(sim);
  await sim.close();
  const file = `${dir}/demo.twin.json`;
  await Deno.writeTextFile(file, formatTwin(twin));
  return { dir, file, twin, close: () => Deno.remove(dir, { recursive: true }) };
}

type Result = { content: { text?: string }[]; structuredContent?: unknown; isError?: boolean };

function stdioClient(args: string[], permissions = ["--allow-net=127.0.0.1", "--allow-read"]) {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "--quiet", "--no-prompt", ...permissions, MAIN, ...args],
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => {
    stderr += new TextDecoder().decode(chunk);
  });
  return { transport, stderr: () => stderr, client: new Client({ name: "twin", version: "1" }) };
}

Deno.test("twin capture --demo writes the demo cluster's twin, mode 0600, and sums it up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "twin-cli-" });
  const file = `${dir}/demo.json`;
  try {
    const run = await runCli(
      [...DEMO_FLAGS, `--allow-write=${file}`],
      ["twin", "capture", "--demo", "--out", file],
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "");
    assert.match(
      run.stderr,
      /^Captured cluster "homelab": 3 node\(s\), 12 guest\(s\), 4 storage\(s\), \d+ volume\(s\); 0 secret\(s\) replaced; 0 gap\(s\) -> .*demo\.json \(\d+ KiB, [\d.]+ s\)\.\n$/,
    );
    const twin = JSON.parse(await Deno.readTextFile(file));
    assert.equal(twin.format, "proxmox-mcp-twin");
    assert.equal(twin.guests.length, 12);
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("twin capture refuses a missing --out and names what to add", async () => {
  const run = await runCli(DEMO_FLAGS, ["twin", "capture", "--demo"]);
  assert.equal(run.code, 2);
  assert.equal(
    run.stderr,
    "proxmox-mcp twin: Missing --out FILE: where to write the twin (see proxmox-mcp twin --help)\n",
  );
  const write = await runCli(DEMO_FLAGS, ["twin", "capture", "--demo", "--out", "/tmp/x.json"]);
  assert.equal(write.code, 1);
  assert.equal(write.stderr, "Missing permission: add --allow-write=/tmp/x.json\n");
});

Deno.test("twin diff of a twin with itself finds nothing, and --json says so", async () => {
  const fx = await fixture();
  try {
    const text = await runCli(["--allow-read"], ["twin", "diff", fx.file, fx.file]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^Twin diff of homelab: .*\n\nNo guests, configs, volumes or placements changed\.\n$/,
    );
    const json = await runCli(["--allow-read"], ["twin", "diff", "--json", fx.file, fx.file]);
    assert.equal(JSON.parse(json.stdout).unchanged, true);
    const bad = await runCli(["--allow-read"], ["twin", "diff", fx.file, MAIN]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^proxmox-mcp twin: Cannot read twin ".*main\.ts": not JSON/);
  } finally {
    await fx.close();
  }
});

Deno.test("call --twin runs the tool on the twin and the result says it is one", async () => {
  const fx = await fixture();
  try {
    const run = await runCli(DEMO_FLAGS, ["call", "guest_list", "--twin", fx.file]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /^\[twin\] Rehearsal twin of cluster "homelab" captured \S+Z, not production/,
    );
    assert.equal(JSON.parse(run.stdout).total_matching, 12);
    const both = await runCli(DEMO_FLAGS, ["call", "guest_list", "--twin", fx.file, "--demo"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /Give --demo or --twin, not both/);
    const missing = await runCli(DEMO_FLAGS, [
      "call",
      "guest_list",
      "--twin",
      `${fx.dir}/nope.json`,
    ]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /Cannot read --twin ".*nope\.json": no such file \(write one with proxmox-mcp twin capture\)/,
    );
  } finally {
    await fx.close();
  }
});

Deno.test("serve --twin boots the twin in process and marks every result", async () => {
  const fx = await fixture();
  const { transport, client, stderr } = stdioClient(["serve", "--twin", fx.file]);
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === "cluster_health"));
    assert.ok(tools.every((tool) => !("cluster" in (tool.inputSchema.properties ?? {}))));
    const result = await client.callTool({
      name: "guest_get",
      arguments: { name: "db01" },
    }) as Result;
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.match(result.content[0]?.text ?? "", /^\[twin\] Rehearsal twin of cluster "homelab"/);
    assert.match(JSON.stringify(result.structuredContent), /"vmid":102/);
  } finally {
    await client.close();
    await fx.close();
  }
  assert.doesNotMatch(stderr(), /bug in proxmox-mcp/);
});

Deno.test("serve --twin --url works on the twin simulator booted from that file, and on nothing else", async () => {
  const fx = await fixture();
  const twinSim = await startSimulator({ speed: "instant", twin: fx.twin });
  const demo = await startSimulator({ speed: "instant" });
  const { transport, client } = stdioClient(["serve", "--twin", fx.file, "--url", twinSim.url]);
  try {
    await client.connect(transport);
    const result = await client.callTool({ name: "guest_list", arguments: { limit: 1 } }) as Result;
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.match(result.content[0]?.text ?? "", /^\[twin\] /);
    await client.close();

    const other = { ...fx.twin, id: "7d3c6a1e-0000-4000-8000-000000000000" };
    await Deno.writeTextFile(`${fx.dir}/other.json`, formatTwin(other));
    const mismatch = await runCli(DEMO_FLAGS, [
      "call",
      "guest_list",
      "--twin",
      `${fx.dir}/other.json`,
      "--url",
      twinSim.url,
    ]);
    assert.equal(mismatch.code, 2);
    assert.match(
      mismatch.stderr,
      /was booted from another twin file .*give --twin the file it runs/,
    );
    const notTwin = await runCli(DEMO_FLAGS, [
      "call",
      "guest_list",
      "--twin",
      fx.file,
      "--url",
      demo.url,
    ]);
    assert.equal(notTwin.code, 2);
    assert.match(notTwin.stderr, /is not a twin simulator/);
    const remote = await runCli(DEMO_FLAGS, [
      "call",
      "guest_list",
      "--twin",
      fx.file,
      "--url",
      "https://pve.example.com:8006",
    ]);
    assert.equal(remote.code, 2);
    assert.match(
      remote.stderr,
      /needs the twin simulator on this machine, not "pve\.example\.com:8006"/,
    );
    const http = await runCli(DEMO_FLAGS, ["serve", "--http", "0", "--twin", fx.file]);
    assert.equal(http.code, 2);
    assert.match(http.stderr, /serve --http does not serve a rehearsal twin/);
  } finally {
    await client.close();
    await twinSim.close();
    await demo.close();
    await fx.close();
  }
});

Deno.test("the simulator CLI boots from --twin and names the twin on its JSON line", async () => {
  const fx = await fixture();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      MAIN,
      "simulator",
      "--port",
      "0",
      "--twin",
      fx.file,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  try {
    while (!stdout.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    const info = JSON.parse(stdout.slice(0, stdout.indexOf("\n")));
    assert.deepEqual(info.twin, {
      id: fx.twin.id,
      cluster: "homelab",
      captured_at: fx.twin.captured_at,
    });
  } finally {
    child.kill("SIGTERM");
    while (!(await reader.read()).done) { /* drain */ }
    await child.status;
    await fx.close();
  }
  const bad = await runCli(DEMO_FLAGS, ["simulator", "--twin", MAIN]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^simulator: Cannot read --twin ".*main\.ts": not JSON/);
  const both = await runCli(DEMO_FLAGS, ["simulator", "--twin", MAIN, "--seed", "scale"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /Give --twin or a seed/);
});
