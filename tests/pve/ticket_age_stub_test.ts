/**
 * Ticket age on the server's clock, against a stubbed PVE whose clock the test controls
 * (the simulator's `Date` header follows the real clock, not its simulated one).
 */
import assert from "node:assert/strict";
import { PveClient } from "../../src/pve/mod.ts";
import { ticketIssuedAt } from "../../src/pve/auth.ts";

const START = 1_750_000_000; // server clock, epoch seconds

/** A tiny PVE: tickets carry the server time; every answer has a `Date` header. */
function fakePve() {
  const server = { now: START };
  const logins: string[] = [];
  const fetchStub = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const headers = {
      "content-type": "application/json",
      date: new Date(server.now * 1000).toUTCString(),
    };
    if (url.pathname.endsWith("/access/ticket")) {
      const password = new URLSearchParams(String(init?.body)).get("password") ?? "";
      logins.push(password.startsWith("PVE:") ? "renew" : "password");
      const hex = server.now.toString(16).toUpperCase().padStart(8, "0");
      return Promise.resolve(
        new Response(
          JSON.stringify({
            data: {
              username: "root@pam",
              ticket: `PVE:root@pam:${hex}::c2lnbmF0dXJl`,
              CSRFPreventionToken: `${hex}:abc`,
            },
          }),
          { headers },
        ),
      );
    }
    return Promise.resolve(new Response(JSON.stringify({ data: [] }), { headers }));
  };
  return { server, logins, fetch: fetchStub };
}

Deno.test("the ticket's own timestamp is read from PVE's ticket format", () => {
  assert.equal(ticketIssuedAt("PVE:root@pam:66B0E3C2::k8Tq+/abc=="), 0x66B0E3C2 * 1000);
  assert.equal(ticketIssuedAt("PVE:a%3Ab@pve:66B0E3C2::sig"), 0x66B0E3C2 * 1000);
  assert.equal(ticketIssuedAt("not-a-ticket"), undefined);
});

Deno.test("a ticket is renewed by its age on the server's clock, whatever the client's clock does", async () => {
  const pve9 = fakePve();
  // The client's clock is two hours behind the server's and then jumps back another hour.
  let client = (START - 7200) * 1000;
  const pve = new PveClient({
    url: "https://pve.example:8006",
    username: "root@pam",
    password: "secret-password",
    fetch: pve9.fetch,
    now: () => client,
  });
  try {
    await pve.get("/nodes");
    assert.deepEqual(pve9.logins, ["password"]);

    // 50 minutes pass on the server, while the client's clock is set back by an hour.
    pve9.server.now += 3000;
    client += 3000 * 1000 - 3_600_000;
    await pve.get("/nodes");
    assert.deepEqual(pve9.logins, ["password"], "a 50-minute-old ticket is kept");

    // 11 more minutes: the ticket is over an hour old on the server, so it is renewed, even
    // though the client's own clock says less than 10 minutes passed since the login.
    pve9.server.now += 660;
    client += 660 * 1000;
    await pve.get("/nodes");
    assert.deepEqual(pve9.logins, ["password", "renew"]);

    // The renewed ticket is fresh: no further login.
    pve9.server.now += 60;
    client += 60 * 1000;
    await pve.get("/nodes");
    assert.deepEqual(pve9.logins, ["password", "renew"]);
  } finally {
    pve.close();
  }
});
