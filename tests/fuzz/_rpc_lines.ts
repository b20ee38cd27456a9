/**
 * Malformed JSON-RPC lines: the catalog of issue 14 (truncated JSON, batches, a wrong
 * `jsonrpc`, a missing method, `params: null`, object and non-finite ids, extra members, bad
 * log levels, unknown and megabyte tool names, over-long lines, invalid UTF-8, deep nesting) and
 * random mutations of valid requests. Each line says which reply it is owed, decided by the
 * JSON-RPC 2.0 rules, not by the server's code: a line whose id can be read is answered with
 * that id, one whose id cannot be read (or that is not JSON) with id `null`, a notification not
 * at all.
 *
 * @module
 */

import type { Rng } from "./_rng.ts";

/** One line to send and the reply it is owed. */
export interface RpcLine {
  /** The line without its newline (bytes for invalid UTF-8). */
  line: string | Uint8Array;
  /** The id of the reply owed: a value, `null`, or `undefined` for no reply. */
  expect: string | number | null | undefined;
  /** What the line tries. */
  why: string;
}

const encoder = new TextEncoder();

/** A request line with the given id and body members (raw JSON text after the id). */
function request(id: string, rest: string): string {
  return `{"jsonrpc":"2.0","id":${id}${rest}}`;
}

/** The id a line is owed by JSON-RPC 2.0 (see the module doc). */
export function owedReply(text: string): string | number | null | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const message = value as Record<string, unknown>;
  if (!("id" in message)) return undefined;
  const id = message.id;
  const valid = (typeof id === "string" && id.length <= 256) || Number.isSafeInteger(id);
  if (!valid) return null;
  // A response (result or error, no method) to a request never sent is not answered.
  if (!("method" in message) && ("result" in message || "error" in message)) return undefined;
  return id as string | number;
}

/** The fixed catalog; `id()` gives a fresh numeric id for each line. */
export function catalogLines(id: () => number): RpcLine[] {
  const lines: RpcLine[] = [];
  // By default the reply owed is read from the line itself; bytes and blank lines say theirs.
  const add = (
    line: string | Uint8Array,
    why: string,
    expect: string | number | null | "none" | "read" = "read",
  ) => {
    lines.push({
      line,
      why,
      expect: expect === "none"
        ? undefined
        : expect !== "read"
        ? expect
        : owedReply(typeof line === "string" ? line : ""),
    });
  };
  let n = id();
  add(`{"jsonrpc":"2.0","id":${n},"method":"tools/li`, "truncated JSON");
  add(`[{"jsonrpc":"2.0","id":${id()},"method":"ping"}]`, "a batch");
  add("[]", "an empty batch");
  add(`{"jsonrpc":"1.0","id":${id()},"method":"ping"}`, "jsonrpc 1.0");
  add(`{"id":${id()},"method":"ping"}`, "no jsonrpc member");
  add(request(String(id()), ""), "no method");
  add(request(String(id()), ',"method":""'), "an empty method");
  add(request(String(id()), ',"method":7'), "a numeric method");
  add(request(String(id()), `,"method":"${"m".repeat(10_000)}"`), "a 10 KB method");
  add(request(String(id()), ',"method":"tools/list","params":null'), "params null");
  add(request(String(id()), ',"method":"tools/list","params":[1]'), "params a list");
  add(request(String(id()), ',"method":"tools/list","params":"x"'), "params a string");
  add('{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', "an object id");
  add('{"jsonrpc":"2.0","id":[1],"method":"ping"}', "a list id");
  add('{"jsonrpc":"2.0","id":1e999,"method":"ping"}', "a non-finite id");
  add('{"jsonrpc":"2.0","id":1.5,"method":"ping"}', "a fractional id");
  add('{"jsonrpc":"2.0","id":true,"method":"ping"}', "a boolean id");
  add('{"jsonrpc":"2.0","id":null,"method":"ping"}', "a null id");
  add(`{"jsonrpc":"2.0","id":"${"i".repeat(300)}","method":"ping"}`, "a 300-character id");
  add(request(String(id()), ',"method":"ping","extra":1'), "an extra member");
  add(request(String(id()), ',"method":"no/such/method"'), "an unknown method");
  add(
    request(String(id()), ',"method":"logging/setLevel","params":{"level":"loud"}'),
    "an unknown log level",
  );
  add(request(String(id()), ',"method":"logging/setLevel","params":{}'), "no log level");
  add(request(String(id()), ',"method":"tools/call","params":{}'), "tools/call without a name");
  add(request(String(id()), ',"method":"tools/call","params":{"name":7}'), "a numeric tool name");
  add(
    request(String(id()), ',"method":"tools/call","params":{"name":"no_such_tool"}'),
    "an unknown tool",
  );
  add(
    request(String(id()), `,"method":"tools/call","params":{"name":"${"t".repeat(1_048_576)}"}`),
    "a 1 MB tool name",
  );
  add(
    request(
      String(id()),
      ',"method":"tools/call","params":{"name":"guest_list","arguments":"limit=1"}',
    ),
    "arguments as a string",
  );
  add(
    request(String(id()), ',"method":"tools/call","params":{"name":"guest_list","arguments":[1]}'),
    "arguments as a list",
  );
  add(
    request(
      String(id()),
      ',"method":"tools/call","params":{"name":"guest_list","arguments":null}',
    ),
    "arguments null",
  );
  add(
    request(
      String(id()),
      `,"method":"tools/call","params":{"name":"guest_list","arguments":{"x":${
        "[".repeat(100_000)
      }${"]".repeat(100_000)}}}`,
    ),
    "arguments nested 100,000 deep",
  );
  add(
    request(String(id()), ',"method":"tools/list","params":{"cursor":{}}'),
    "a cursor that is an object",
  );
  add(
    request(String(id()), ',"method":"initialize","params":{"protocolVersion":1}'),
    "a second initialize, malformed",
  );
  add(`{"jsonrpc":"2.0","id":${id()},"id":${n = id()},"method":"ping"}`, "a duplicate id member");
  add(
    request(
      String(id()),
      ',"method":"tools/call","params":{"name":"cluster_status","arguments":{},"_meta":{"progressToken":{"a":1}}}}',
    ),
    "an object progress token",
  );
  add(
    request(
      String(id()),
      `,"method":"tools/call","params":{"name":"cluster_status","arguments":{},"_meta":{"progressToken":"${
        "p".repeat(1_048_576)
      }"}}`,
    ),
    "a 1 MB progress token",
  );
  add(
    request(String(id()), ',"method":"tools/call","params":{"name":"cluster_status","_meta":"x"}'),
    "_meta a string",
  );
  add(
    request(
      String(id()),
      ',"method":"tools/call","params":{"name":"task_list","arguments":{"limit":2},"_meta":{"progressToken":7}}',
    ),
    "a numeric progress token",
  );
  add(
    request(String(id()), `,"method":"tools/list","params":{"cursor":"${"c".repeat(1_048_576)}"}`),
    "a 1 MB tools/list cursor",
  );
  add(
    request(
      String(id()),
      ',"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"again","version":"1"}}',
    ),
    "a second initialize",
  );
  add(
    request(String(id()), ',"method":"resources/read","params":{"uri":"file:///etc/passwd"}'),
    "resources/read of a file",
  );
  add(request(String(id()), ',"method":"prompts/get","params":{"name":"x"}'), "prompts/get");
  add(
    request(
      String(id()),
      ',"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"x"},"argument":{"name":"a","value":"b"}}',
    ),
    "completion/complete",
  );
  add(
    request(String(id()), ',"method":"logging/setLevel","params":{"level":"debug"}'),
    "a valid log level",
  );
  add("hello", "plain text");
  add("{", "an open brace");
  add("null", "null");
  add("123", "a number");
  add('"text"', "a string");
  add("\u0000", "a NUL byte");
  add(
    new Uint8Array([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
    "invalid UTF-8",
    null,
  );
  add(
    encoder.encode(
      `{"jsonrpc":"2.0","id":${n =
        id()},"method":"tools/call","params":{"name":"guest_list","arguments":{"cursor":"${
        "c".repeat(5 * 1024 * 1024)
      }"}}}`,
    ),
    "a 5 MB line (over the transport's limit)",
    n,
  );
  add(
    `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{}}}`,
    "a cancellation with an object request id",
  );
  add(`{"jsonrpc":"1.0","method":"notifications/initialized"}`, "a notification with jsonrpc 1.0");
  add(`{"jsonrpc":"2.0","id":${id()},"result":{}}`, "a response to nothing");
  add(`{"jsonrpc":"2.0","id":${id()},"error":"bad"}`, "a malformed error response");
  add("   ", "a blank line", "none");
  add(`${request(String(id()), ',"method":"ping"')}\r`, "a ping ending in CR");
  return lines;
}

/** A valid request line with a fresh id, to mutate. */
function seedLine(rng: Rng, id: number): string {
  return rng.pick([
    `{"jsonrpc":"2.0","id":${id},"method":"ping"}`,
    `{"jsonrpc":"2.0","id":${id},"method":"tools/list","params":{}}`,
    `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"guest_list","arguments":{"limit":2}}}`,
    `{"jsonrpc":"2.0","id":"s${id}","method":"tools/call","params":{"name":"task_list","arguments":{}}}`,
  ]);
}

const NOISE: readonly string[] = [
  '"',
  "{",
  "}",
  "[",
  ",",
  ":",
  "\\",
  "\u0000",
  "\u001b",
  "é",
  "1e999",
  " ",
];

/** A random mutation of a valid request: cut short, a character replaced, or noise inserted. */
export function mutatedLine(rng: Rng, id: number): RpcLine {
  const base = seedLine(rng, id);
  const at = rng.int(0, base.length - 1);
  let line: string;
  let why: string;
  switch (rng.int(0, 2)) {
    case 0:
      line = base.slice(0, at);
      why = `cut at ${at}`;
      break;
    case 1:
      line = `${base.slice(0, at)}${rng.pick(NOISE)}${base.slice(at + 1)}`;
      why = `character ${at} replaced`;
      break;
    default:
      line = `${base.slice(0, at)}${rng.pick(NOISE)}${base.slice(at)}`;
      why = `noise inserted at ${at}`;
  }
  if (line.trim() === "") line = "x";
  return { line, why: `mutation (${why})`, expect: owedReply(line) };
}

const METHODS: readonly string[] = [
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "logging/setLevel",
  "server/discover",
  "resources/list",
  "resources/read",
  "resources/templates/list",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "no/such",
];

const PARAM_KEYS: readonly string[] = [
  "_meta",
  "name",
  "arguments",
  "cursor",
  "level",
  "task",
  "protocolVersion",
  "capabilities",
  "clientInfo",
  "progressToken",
  "inputResponses",
  "requestState",
  "io.modelcontextprotocol/related-task",
  "uri",
  "ref",
  "argument",
  "__proto__",
];

/** A random JSON value, nested up to `depth`. */
function randomValue(rng: Rng, depth: number): unknown {
  switch (rng.int(0, depth > 0 ? 9 : 6)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 2 ** 53, 7]);
    case 3:
      return rng.pick([
        "",
        "x",
        "cluster_status",
        "debug",
        "2025-11-25",
        "\u0000",
        "t".repeat(300),
      ]);
    case 4:
      return rng.pick([[], {}]);
    case 5:
      return { progressToken: rng.pick([1, "p", 1.5, null, {}]) };
    case 6:
      return rng.pick([
        "guest_list",
        "task_list",
        "cluster_status",
        "pve://lab/guests/100/config",
        "pve://lab/tasks/%2e%2e/log",
        "pve://lab/guests/../../etc/passwd",
        "ui://views/cluster",
        "file:///etc/passwd",
      ]);
    case 7:
    case 8:
      return Object.fromEntries(
        Array.from(
          { length: rng.int(0, 3) },
          () => [rng.pick(PARAM_KEYS), randomValue(rng, depth - 1)],
        ),
      );
    default:
      return Array.from({ length: rng.int(0, 3) }, () => randomValue(rng, depth - 1));
  }
}

/**
 * A well-formed request to a method the server serves (or not) with random params: keys MCP
 * uses (`_meta`, `name`, `arguments`, `task`, `capabilities`, …) holding random values.
 */
export function randomRequest(rng: Rng, id: number): RpcLine {
  const method = rng.pick(METHODS);
  const params: Record<string, unknown> = {};
  for (let i = rng.int(0, 4); i > 0; i--) params[rng.pick(PARAM_KEYS)] = randomValue(rng, 2);
  if (method === "tools/call" && rng.chance(0.7)) {
    params.name = rng.pick(["cluster_status", "guest_list", "task_list"]);
  }
  const line = JSON.stringify({ jsonrpc: "2.0", id, method, params });
  return { line, why: `random params for ${method}`, expect: owedReply(line) };
}
