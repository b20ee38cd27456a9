import assert from "node:assert/strict";
import { pveApiCall } from "../../src/tools/api/pve_api_call.ts";
import { openSession, textOf } from "./_helpers.ts";

const tools = [pveApiCall];

Deno.test("a wrong password to POST /access/ticket through pve_api_call says the login was rejected", async () => {
  const s = await openSession({ tools, ticket: true });
  try {
    const result = await s.call("pve_api_call", {
      method: "POST",
      path: "/access/ticket",
      params: { username: "root@pam", password: "not-the-password" },
    });
    assert.equal(result.isError, true);
    const text = textOf(result);
    assert.match(text, /rejected the login of POST \/access\/ticket/);
    assert.match(text, /username, realm or password in its parameters is wrong/);
    assert.doesNotMatch(text, /no credentials were sent/);
    assert.doesNotMatch(text, /not-the-password/);
    const logins = (await s.requests()).filter((r) => r.path === "/access/ticket");
    // The session's own login, then the one call: not re-sent after logging in again.
    assert.equal(logins.length, 2);
  } finally {
    await s.close();
  }
});

Deno.test("POST /access/ticket with token auth says the endpoint does not take a token", async () => {
  const s = await openSession({ tools });
  try {
    const result = await s.call("pve_api_call", {
      method: "POST",
      path: "/access/ticket",
      params: { username: "root@pam", password: "whatever1" },
    });
    assert.equal(result.isError, true);
    const text = textOf(result);
    assert.match(text, /does not accept POST \/access\/ticket with an API token/);
    assert.match(text, /only works with a login ticket/);
    assert.doesNotMatch(text, /grant .* the needed privilege/);
  } finally {
    await s.close();
  }
});
