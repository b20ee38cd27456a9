import assert from "node:assert/strict";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

function simulatorCommand(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", "--allow-read", MAIN, "simulator", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test("the simulator CLI prints exactly one JSON line and serves until SIGTERM", async () => {
  const child = simulatorCommand(["--port", "0", "--speed", "instant", "--password", "pw-123"])
    .spawn();
  const stderr = readAll(child.stderr);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  try {
    while (!stdout.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    const firstLine = stdout.slice(0, stdout.indexOf("\n"));
    const info = JSON.parse(firstLine);
    assert.deepEqual(Object.keys(info), [
      "url",
      "api",
      "user",
      "password",
      "token_id",
      "token_secret",
    ]);
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(info.api, `${info.url}/api2/json`);
    assert.equal(info.user, "root@pam");
    assert.equal(info.password, "pw-123");
    assert.equal(info.token_id, "root@pam!mcp");

    const response = await fetch(`${info.api}/version`, {
      headers: { Authorization: `PVEAPIToken=${info.token_id}=${info.token_secret}` },
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  } finally {
    child.kill("SIGTERM");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    const status = await child.status;
    await stderr;
    assert.equal(status.code, 0);
  }
  assert.equal(stdout.split("\n").filter((line) => line !== "").length, 1);
});

Deno.test("the simulator CLI rejects bad flags with one stderr line and exit code 2", async () => {
  const cases = [
    ["--port", "abc"],
    ["--seed", "huge"],
    ["--speed", "fast"],
    ["--cert", "only-cert.pem"],
    ["--bogus"],
  ];
  for (const args of cases) {
    const output = await simulatorCommand(args).output();
    assert.equal(output.code, 2, args.join(" "));
    assert.equal(output.stdout.length, 0);
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.match(stderr, /^simulator: /);
  }
  const help = await simulatorCommand(["--help"]).output();
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /^Usage: proxmox-mcp simulator/);
});
