import assert from "node:assert/strict";
import { splitToken, TicketAuth, TokenAuth } from "./auth.ts";
import { PveAuthError, PveValidationError } from "./errors.ts";

Deno.test("a token string is split at its last '=' and may carry the PVEAPIToken prefix", () => {
  assert.deepEqual(splitToken("root@pam!mcp=2e3a9b4c-8f41"), {
    tokenId: "root@pam!mcp",
    tokenSecret: "2e3a9b4c-8f41",
  });
  assert.deepEqual(splitToken("PVEAPIToken=a@pve!ro=x-y"), {
    tokenId: "a@pve!ro",
    tokenSecret: "x-y",
  });
  // PVE splits at the last "=", so an "=" inside the id makes the id invalid.
  assert.throws(() => splitToken("a@pve!ro=x=y"), PveValidationError);
});

Deno.test("malformed tokens are refused without quoting the secret", () => {
  for (
    const bad of [
      "root@pam!mcp:2e3a9b4c-secret",
      "root@pam=2e3a9b4c-secret",
      "nobody",
      "root@pam!mcp=",
    ]
  ) {
    try {
      splitToken(bad);
      assert.fail(`should throw for ${bad}`);
    } catch (error) {
      assert.ok(error instanceof PveValidationError, bad);
      assert.doesNotMatch(error.message, /2e3a9b4c-secret/);
    }
  }
  assert.match(
    (() => {
      try {
        splitToken("root@pam!mcp:secret-value");
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    })(),
    /not ":"/,
  );
});

Deno.test("token auth sends the PVEAPIToken header and no CSRF token", async () => {
  const auth = new TokenAuth("root@pam!mcp", "s3cr3t-uuid");
  const h = await auth.headersFor();
  assert.deepEqual(h.headers, { authorization: "PVEAPIToken=root@pam!mcp=s3cr3t-uuid" });
  assert.equal(h.csrf, false);
  assert.throws(() => new TokenAuth("root@pam", "x"), PveValidationError);
});

Deno.test("ticket auth logs in once for concurrent callers and sends CSRF only on writes", async () => {
  let logins = 0;
  const auth = new TicketAuth({
    username: "root@pam",
    password: "pw-123456",
    login: async (params) => {
      logins++;
      await new Promise((r) => setTimeout(r, 1));
      assert.equal(params.password, "pw-123456");
      return {
        ticket: "PVE:root@pam:66B0E3C2::sig",
        CSRFPreventionToken: "66B0E3C2:csrf",
        username: "root@pam",
      };
    },
  });
  const all = await Promise.all(
    Array.from({ length: 20 }, (_, i) => auth.headersFor(i % 2 ? "GET" : "POST")),
  );
  assert.equal(logins, 1);
  assert.equal(all[1]?.headers.cookie, "PVEAuthCookie=PVE:root@pam:66B0E3C2::sig");
  assert.equal(all[1]?.headers.csrfpreventiontoken, undefined);
  assert.equal(all[0]?.headers.csrfpreventiontoken, "66B0E3C2:csrf");
});

Deno.test("ticket auth renews an old ticket by posting it as the password", async () => {
  let now = 0;
  const passwords: string[] = [];
  let n = 0;
  const auth = new TicketAuth({
    username: "root@pam",
    password: "pw-123456",
    now: () => now,
    renewAfterMs: 1000,
    login: (params) => {
      passwords.push(params.password ?? "");
      n++;
      return Promise.resolve({
        ticket: `PVE:root@pam:0000000${n}::sig`,
        CSRFPreventionToken: `c${n}`,
      });
    },
  });
  await auth.headersFor("GET");
  now = 500;
  await auth.headersFor("GET");
  now = 1500;
  const renewed = await auth.headersFor("GET");
  assert.deepEqual(passwords, ["pw-123456", "PVE:root@pam:00000001::sig"]);
  assert.equal(renewed.headers.cookie, "PVEAuthCookie=PVE:root@pam:00000002::sig");
});

Deno.test("a NeedTFA answer is refused with advice to use an API token", async () => {
  const auth = new TicketAuth({
    username: "tfa@pve",
    password: "tfa-pass",
    login: () =>
      Promise.resolve({
        ticket: "PVE:!tfa!{}:66B0E3C2::sig",
        CSRFPreventionToken: "x",
        NeedTFA: 1,
      }),
  });
  await assert.rejects(auth.headersFor("GET"), (error: unknown) => {
    assert.ok(error instanceof PveAuthError);
    assert.match(error.message, /two-factor/);
    assert.match(error.message, /API token/);
    assert.doesNotMatch(error.message, /tfa-pass/);
    return true;
  });
});
