import assert from "node:assert/strict";
import { configSchema } from "../../src/config/mod.ts";
import { readLines } from "../../src/server/wire/lines.ts";
import { testTools } from "./_harness.ts";
import { runWire } from "./_wire.ts";

const config = configSchema.parse({
  clusters: { lab: { url: "https://pve.example.com:8006", token: "root@pam!mcp=0123456789" } },
  policy: { allow: ["read", "change"] },
});
const INIT =
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}';
const READY = '{"jsonrpc":"2.0","method":"notifications/initialized"}';

interface ErrorLine {
  id: unknown;
  error: { code: number; message: string };
}

Deno.test("every malformed request that carries an id gets the JSON-RPC error the spec gives it", async () => {
  const cases: Array<[string, number, unknown, RegExp]> = [
    ['{"jsonrpc":"2.0","id":2,"method":"tools/li', -32700, null, /Parse error/],
    ["[1, 2]", -32600, null, /batches are not supported/],
    ['"hello"', -32600, null, /expected a JSON-RPC object/],
    ['{"jsonrpc":"1.0","id":3,"method":"ping"}', -32600, 3, /"jsonrpc" must be "2.0"/],
    ['{"jsonrpc":"2.0","id":4}', -32600, 4, /"method" must be a non-empty string/],
    ['{"jsonrpc":"2.0","id":5,"method":""}', -32600, 5, /"method" must be a non-empty string/],
    [
      '{"jsonrpc":"2.0","id":6,"method":"tools/list","params":null}',
      -32602,
      6,
      /must be an object/,
    ],
    ['{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', -32600, null, /"id" must be a string or/],
    ['{"jsonrpc":"2.0","id":1e999,"method":"ping"}', -32600, null, /got Infinity/],
    ['{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600, null, /"id" must be a string or/],
    ['{"jsonrpc":"2.0","id":7,"method":"ping","extra":true}', -32600, 7, /unexpected member/],
    ['{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{}}', -32602, 8, /needs params\.name/],
    [
      '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"probe_read","arguments":[1]}}',
      -32602,
      9,
      /arguments of tools\/call must be an object/,
    ],
    [
      '{"jsonrpc":"2.0","id":10,"method":"logging/setLevel","params":{"level":"loud"}}',
      -32602,
      10,
      /unknown log level "loud": use one of debug, info, notice, warning, error, critical/,
    ],
  ];
  const run = await runWire([INIT, READY, ...cases.map(([line]) => line)], {
    config,
    tools: testTools,
  });
  const errors = run.lines.slice(1).map((line) => JSON.parse(line) as ErrorLine);
  assert.equal(errors.length, cases.length, run.lines.join("\n"));
  for (const [index, [line, code, id, message]] of cases.entries()) {
    const reply = errors[index]!;
    assert.equal(reply.error.code, code, line);
    assert.deepEqual(reply.id, id, line);
    assert.match(reply.error.message, message, line);
    assert.doesNotMatch(reply.error.message, /\n/, "one line, no schema dump");
  }
});

Deno.test("a request whose _meta, task or capabilities the SDK cannot read is answered -32602 in one line, not dropped", async () => {
  // Found by the fuzz suite: `_meta: "x"` on any method got no reply at all (the SDK drops a
  // request its base schema rejects), and a bad `task` or capability came back as a multi-line
  // schema dump, for initialize as -32603.
  const call = (id: number, params: string) =>
    `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}`;
  const cases: Array<[string, RegExp]> = [
    [call(2, '{"name":"probe_read","_meta":"x"}'), /params\._meta must be an object/],
    [call(3, '{"name":"probe_read","_meta":null}'), /params\._meta must be an object/],
    [
      call(4, '{"name":"probe_read","_meta":{"progressToken":1.5}}'),
      /progressToken must be a string or an integer, got 1\.5/,
    ],
    [
      call(5, '{"name":"probe_read","_meta":{"io.modelcontextprotocol/related-task":7}}'),
      /related-task"\] must be an object with a taskId/,
    ],
    [call(6, '{"name":"probe_read","task":{"ttl":"x"}}'), /params\.task of tools\/call/],
    ['{"jsonrpc":"2.0","id":7,"method":"ping","params":{"_meta":[]}}', /params\._meta/],
    [
      '{"jsonrpc":"2.0","id":8,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":"x"},"clientInfo":{"name":"t","version":"1"}}}',
      /params\.capabilities\.elicitation of initialize must be an object/,
    ],
    [
      '{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"roots":{"listChanged":"x"}},"clientInfo":{"name":"t","version":"1"}}}',
      /^Invalid params: params\.capabilities\.roots\.listChanged: /,
    ],
  ];
  const run = await runWire([INIT, READY, ...cases.map(([line]) => line)], {
    config,
    tools: testTools,
    drainMs: 2_000,
  });
  assert.doesNotMatch(run.reports.join("\n"), /abandoned/);
  for (const [index, [line, message]] of cases.entries()) {
    const reply = JSON.parse(run.byId.get(String(index + 2)) ?? "null") as ErrorLine | null;
    assert.ok(reply !== null, `no reply to ${line}`);
    assert.equal(reply.error.code, -32602, line);
    assert.match(reply.error.message, message, line);
    assert.doesNotMatch(reply.error.message, /[\r\n]/, line);
  }
});

Deno.test("an unknown tool's name is quoted by a bounded prefix, never echoed whole", async () => {
  const name = "x".repeat(100);
  const huge = "y".repeat(1_000_000);
  const run = await runWire([
    INIT,
    READY,
    JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name } }),
    JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: huge } }),
  ], { config, tools: testTools });
  for (const id of ["2", "3"]) {
    const line = run.byId.get(id) ?? "";
    const reply = JSON.parse(line) as ErrorLine;
    assert.match(
      reply.error.message,
      /^(Unknown tool "x{60}…"|Invalid params: no tool is named "y{60}…")/,
    );
    assert.ok(line.length < 400, `reply ${id} is ${line.length} bytes`);
  }
});

Deno.test("a line longer than the limit is answered and skipped, and the next line is served", async () => {
  const big = JSON.stringify({
    jsonrpc: "2.0",
    id: 2,
    method: "tools/call",
    params: { name: "probe_read", arguments: { note: "z".repeat(5000) } },
  });
  const run = await runWire([INIT, READY, big, '{"jsonrpc":"2.0","id":3,"method":"ping"}'], {
    config,
    tools: testTools,
    maxMessageBytes: 1024,
  });
  const tooLong = JSON.parse(run.byId.get("2") ?? "{}") as ErrorLine;
  assert.equal(tooLong.error.code, -32600);
  assert.match(tooLong.error.message, /more than this server accepts \(1024\)/);
  assert.match(run.byId.get("3") ?? "", /"result":\{\}/);
});

Deno.test("requests received before stdin ends are all answered (printf … | serve)", async () => {
  const calls = [2, 3, 4].map((id) =>
    JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "probe_read", arguments: {} },
    })
  );
  const run = await runWire([INIT, READY, ...calls], { config, tools: testTools });
  for (const id of ["1", "2", "3", "4"]) assert.ok(run.byId.has(id), `reply ${id}`);
  assert.deepEqual(run.reports, []);
});

Deno.test("a request that cannot finish before the drain time is reported as abandoned", async () => {
  // The request stays unanswered: its method is served by nobody (a response from the client to
  // a request the server never made is dropped by the SDK), so the drain time runs out.
  const run = await runWire([
    INIT,
    READY,
    '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"probe_slow"}}',
  ], {
    config,
    tools: [...testTools, slowTool()],
    drainMs: 50,
  });
  assert.equal(run.byId.has("9"), false);
  assert.match(
    run.reports.join("\n"),
    /1 request\(s\) did not finish within 50 ms.*tools\/call \(id 9\)/,
  );
});

Deno.test("malformed notifications cannot be answered and are reported for the log", async () => {
  const run = await runWire([INIT, READY, '{"jsonrpc":"2.0","method":"x","junk":1}'], {
    config,
    tools: testTools,
  });
  assert.equal(run.lines.length, 1);
  assert.match(
    run.reports.join("\n"),
    /Ignored a message that cannot be answered: .*unexpected member "junk"/,
  );
});

Deno.test("framing is linear: a 4 MiB line in small chunks is counted, not buffered or rescanned", async () => {
  const chunk = new Uint8Array(4096).fill(0x61);
  const chunks = Array.from({ length: 1024 }, () => chunk);
  chunks.push(new TextEncoder().encode("\n{}\n"));
  const lines = [];
  for await (const line of readLines(ReadableStream.from(chunks), 1024)) lines.push(line);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[0], { kind: "too_long", bytes: 4096 * 1024, head: "a".repeat(256) });
  assert.deepEqual(lines[1], { kind: "line", text: "{}" });
});

function slowTool() {
  const tool = testTools.find((t) => t.name === "probe_read")!;
  return {
    ...tool,
    name: "probe_slow",
    handler: () => new Promise<never>(() => {}),
  };
}
