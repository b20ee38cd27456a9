import assert from "node:assert/strict";
import { forwardToReplica } from "../../src/server/http/forward.ts";
import type { ReadBody } from "../../src/server/http/body.ts";

/** A replica address where nothing listens (the discard port). */
const GONE = "http://127.0.0.1:9";

function post(message: Record<string, unknown>): ReadBody {
  const text = JSON.stringify(message);
  const request = new Request("http://127.0.0.1:8080/mcp", {
    method: "POST",
    headers: { "content-type": "application/json", "mcp-session-id": "s-1" },
    body: text,
  });
  return { request, text, parsed: message, messages: [message] };
}

Deno.test("a tool call for a session on an unreachable replica says its outcome is unknown", async () => {
  const body = post({
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name: "guest_stop", arguments: { vmid: 100 } },
  });
  const response = await forwardToReplica(GONE, body.request, body);
  assert.equal(response.status, 502);
  const answer = await response.json();
  assert.equal(answer.id, 7);
  assert.match(answer.error.message, /cannot be reached/);
  assert.match(answer.error.message, /ran there is unknown: before repeating a change, check/);
});

Deno.test("any other request for a session on an unreachable replica asks for a new session", async () => {
  const body = post({ jsonrpc: "2.0", id: 8, method: "tools/list" });
  const response = await forwardToReplica(GONE, body.request, body);
  assert.equal(response.status, 502);
  const answer = await response.json();
  assert.equal(
    answer.error.message,
    "The replica holding this session cannot be reached: start a new session (initialize again)",
  );
});
