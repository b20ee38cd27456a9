import assert from "node:assert/strict";
import { route } from "../../src/simulator/router.ts";
import { routes as accessRoutes } from "../../src/simulator/routes/access.ts";
import { api, login, rawRequest, rootToken, startTestSimulator } from "./_helpers.ts";

const testRoutes = [
  ...accessRoutes,
  route("GET", "/version", () => ({ version: "9.1.1" })),
  route("POST", "/nodes/{node}/qemu/{vmid}/status/start", () => "UPID:started"),
  route("PUT", "/nodes/{node}/qemu/{vmid}/config", () => null),
  route("DELETE", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}", () => "UPID:deleted"),
  route("POST", "/nodes/{node}/execute", () => []),
];

Deno.test("credentials are found in the cookie, the Authorization header, or an API token", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const session = await login(sim);
    const ok: Record<string, string>[] = [
      { Cookie: `PVEAuthCookie=${session.ticket}` },
      { Cookie: `other=1; PVEAuthCookie=${encodeURIComponent(session.ticket)}` },
      { Authorization: `PVEAuthCookie=${session.ticket}` },
      { Authorization: `PVEAPIToken=${rootToken(sim)}` },
      { Authorization: `PVEAPIToken ${rootToken(sim)}` },
    ];
    for (const headers of ok) {
      const res = await rawRequest(sim, { method: "GET", path: "/api2/json/version", headers });
      assert.equal(res.statusLine, "HTTP/1.1 200 OK", JSON.stringify(headers));
    }
  } finally {
    await sim.close();
  }
});

Deno.test("bad or missing credentials get 401 with PVE's reason phrase and no body", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const { tokenId, tokenSecret } = sim.credentials;
    const cases: { headers: Record<string, string>; line: string }[] = [
      { headers: {}, line: "HTTP/1.1 401 No ticket" },
      {
        headers: { Authorization: `PVEAPIToken=${tokenId}:${tokenSecret}` },
        line: "HTTP/1.1 401 Authentication failed!",
      },
      {
        headers: { Authorization: `PVEAPIToken=${tokenId}=wrong-secret` },
        line: "HTTP/1.1 401 Authentication failed!",
      },
      {
        headers: { Authorization: `PVEAPIToken=root@pam!nope=${tokenSecret}` },
        line: "HTTP/1.1 401 Authentication failed!",
      },
      {
        headers: { Cookie: "PVEAuthCookie=PVE:root@pam:6B000000::forged" },
        line: "HTTP/1.1 401 Authentication failed!",
      },
    ];
    for (const c of cases) {
      const res = await rawRequest(sim, {
        method: "GET",
        path: "/api2/json/version",
        headers: c.headers,
      });
      assert.equal(res.statusLine, c.line, JSON.stringify(c.headers));
      assert.equal(res.body, "");
      assert.equal(res.headers["content-length"], "0");
    }
  } finally {
    await sim.close();
  }
});

Deno.test("non-GET requests with a ticket need the CSRF token; token requests do not", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const session = await login(sim);
    const requests = [
      { method: "POST", path: "/api2/json/nodes/pve1/qemu/100/status/start" },
      { method: "PUT", path: "/api2/json/nodes/pve1/qemu/100/config" },
      { method: "DELETE", path: "/api2/json/nodes/pve1/qemu/100/snapshot/before" },
    ];
    const cookie = `PVEAuthCookie=${session.ticket}`;
    for (const request of requests) {
      const missing = await rawRequest(sim, { ...request, headers: { Cookie: cookie } });
      assert.equal(missing.statusLine, "HTTP/1.1 401 Permission denied - invalid csrf token");
      assert.equal(missing.body, "");
      const invalid = await rawRequest(sim, {
        ...request,
        headers: { Cookie: cookie, CSRFPreventionToken: "6B000000:invalid" },
      });
      assert.equal(invalid.statusLine, "HTTP/1.1 401 Permission denied - invalid csrf token");
      const valid = await rawRequest(sim, {
        ...request,
        headers: { Cookie: cookie, CSRFPreventionToken: session.csrf },
      });
      assert.equal(valid.statusLine, "HTTP/1.1 200 OK", request.method);
      const token = await rawRequest(sim, {
        ...request,
        headers: { Authorization: `PVEAPIToken=${rootToken(sim)}` },
      });
      assert.equal(token.statusLine, "HTTP/1.1 200 OK", request.method);
    }
    assert.match(session.csrf, /^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$/);
    assert.match(session.ticket, /^PVE:root@pam:[0-9A-F]{8}::\S+$/);
  } finally {
    await sim.close();
  }
});

Deno.test("a login failure is a 401 authentication failure with a JSON body", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const attempts = [
      "username=root@pam&password=wrong",
      "username=nobody@pve&password=x",
      "username=disabled@pve&password=disabled-pass",
      // PVE appends realm even to user@realm: this logs in as auditor@pve@pve, who does not exist.
      "username=auditor@pve&realm=pve&password=auditor-pass",
    ];
    for (const body of attempts) {
      const res = await rawRequest(sim, {
        method: "POST",
        path: "/api2/json/access/ticket",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
      });
      assert.equal(res.statusLine, "HTTP/1.1 401 authentication failure", body);
      assert.deepEqual(JSON.parse(res.body), {
        data: null,
        message: "authentication failure\n",
      });
    }
    const realm = await api(sim, "POST", "/access/ticket", {
      params: { username: "auditor", realm: "pve", password: "auditor-pass" },
    });
    assert.equal(realm.status, 200);
    assert.equal(realm.body.data.username, "auditor@pve");
  } finally {
    await sim.close();
  }
});

Deno.test("a ticket renews with password = ticket and expires after 7200 s", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const first = await login(sim);
    sim.sim.clock.advance(3600);
    const renewed = await api(sim, "POST", "/access/ticket", {
      params: { username: "root@pam", password: first.ticket },
    });
    assert.equal(renewed.status, 200);
    const second = renewed.body.data.ticket as string;
    assert.notEqual(second, first.ticket);

    sim.sim.clock.advance(3601);
    const expired = await api(sim, "GET", "/version", {
      session: { ...first, ticket: first.ticket },
    });
    assert.equal(expired.status, 401);
    const stillValid = await api(sim, "GET", "/version", { session: { ...first, ticket: second } });
    assert.equal(stillValid.status, 200);

    const lateRenewal = await api(sim, "POST", "/access/ticket", {
      params: { username: "root@pam", password: first.ticket },
    });
    assert.equal(lateRenewal.status, 401);

    const otherUser = await api(sim, "POST", "/access/ticket", {
      params: { username: "auditor@pve", password: second },
    });
    assert.equal(otherUser.status, 200, "root@pam's ticket may create tickets for others");
  } finally {
    await sim.close();
  }
});

Deno.test("/_sim/tickets/expire invalidates every ticket issued so far", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const session = await login(sim);
    assert.equal((await api(sim, "GET", "/version", { session })).status, 200);
    const expire = await fetch(`${sim.url}/_sim/tickets/expire`, { method: "POST" });
    assert.equal(expire.status, 200);
    await expire.body?.cancel();
    const res = await rawRequest(sim, {
      method: "GET",
      path: "/api2/json/version",
      headers: { Cookie: `PVEAuthCookie=${session.ticket}` },
    });
    assert.equal(res.statusLine, "HTTP/1.1 401 Authentication failed!");
    const fresh = await login(sim);
    assert.equal((await api(sim, "GET", "/version", { session: fresh })).status, 200);
    assert.equal((await api(sim, "GET", "/version", { token: true })).status, 200);
  } finally {
    await sim.close();
  }
});

Deno.test("allowtoken 0 endpoints refuse API tokens with 403", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const res = await rawRequest(sim, {
      method: "POST",
      path: "/api2/json/access/ticket",
      headers: {
        Authorization: `PVEAPIToken=${rootToken(sim)}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "username=root@pam&password=demo-root-password",
    });
    assert.equal(
      res.statusLine,
      "HTTP/1.1 403 URI '/access/ticket' not available with API token, need proper ticket.",
    );
    assert.equal(
      JSON.parse(res.body).message,
      "URI '/access/ticket' not available with API token, need proper ticket.\n",
    );
  } finally {
    await sim.close();
  }
});

Deno.test("TFA login takes two steps and the half ticket is no session", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const step1 = await api(sim, "POST", "/access/ticket", {
      params: { username: "tfa@pve", password: "tfa-pass" },
    });
    assert.equal(step1.status, 200);
    assert.equal(step1.body.data.NeedTFA, 1);
    assert.equal(step1.body.data.cap, undefined);
    const half = step1.body.data.ticket as string;
    assert.ok(half.startsWith("PVE:!tfa!"), half);

    const asSession = await rawRequest(sim, {
      method: "GET",
      path: "/api2/json/version",
      headers: { Cookie: `PVEAuthCookie=${half}` },
    });
    assert.equal(asSession.statusLine, "HTTP/1.1 401 Authentication failed!");

    const wrong = await api(sim, "POST", "/access/ticket", {
      params: { username: "tfa@pve", "tfa-challenge": half, password: "totp:000000" },
    });
    assert.equal(wrong.status, 401);
    const otherUser = await api(sim, "POST", "/access/ticket", {
      params: { username: "auditor@pve", "tfa-challenge": half, password: "totp:123456" },
    });
    assert.equal(otherUser.status, 401);

    const step2 = await api(sim, "POST", "/access/ticket", {
      params: { username: "tfa@pve", "tfa-challenge": half, password: "totp:123456" },
    });
    assert.equal(step2.status, 200);
    assert.equal(step2.body.data.NeedTFA, undefined);
    const ticket = step2.body.data.ticket as string;
    assert.match(ticket, /^PVE:tfa@pve:/);
    assert.equal(typeof step2.body.data.cap, "object");
    const session = { username: "tfa@pve", ticket, csrf: step2.body.data.CSRFPreventionToken };
    assert.equal((await api(sim, "GET", "/access/permissions", { session })).status, 200);
  } finally {
    await sim.close();
  }
});

Deno.test("a disabled user's ticket stops working", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const session = await login(sim, "auditor@pve", "auditor-pass");
    assert.equal((await api(sim, "GET", "/version", { session })).status, 200);
    const user = sim.sim.state.users.get("auditor@pve");
    assert.ok(user);
    user.enable = 0;
    assert.equal((await api(sim, "GET", "/version", { session })).status, 401);
  } finally {
    await sim.close();
  }
});

Deno.test("permission checks follow the schema, ACLs, pools and token privilege separation", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const auditor = await login(sim, "auditor@pve", "auditor-pass");
    const denied = await rawRequest(sim, {
      method: "POST",
      path: "/api2/json/nodes/pve1/qemu/100/status/start",
      headers: { Cookie: `PVEAuthCookie=${auditor.ticket}`, CSRFPreventionToken: auditor.csrf },
    });
    assert.equal(
      denied.statusLine,
      "HTTP/1.1 403 Permission check failed (/vms/100, VM.PowerMgmt)",
    );
    assert.deepEqual(JSON.parse(denied.body), {
      data: null,
      message: "Permission check failed (/vms/100, VM.PowerMgmt)\n",
    });

    // operator@pve has PVEVMUser on /pool/prod: guest 100 is in the pool, 103 is not.
    const operator = await login(sim, "operator@pve", "operator-pass");
    const inPool = await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", {
      session: operator,
    });
    assert.equal(inPool.status, 200);
    const outside = await api(sim, "POST", "/nodes/pve3/qemu/103/status/start", {
      session: operator,
    });
    assert.equal(outside.status, 403);
    assert.equal(outside.body.message, "Permission check failed (/vms/103, VM.PowerMgmt)\n");

    // Endpoints without a permission object are for root@pam only.
    const execute = await api(sim, "POST", "/nodes/pve1/execute", {
      session: operator,
      params: { commands: "[]" },
    });
    assert.equal(execute.status, 403);
    assert.equal(execute.body.message, "Permission check failed (user != root@pam)\n");

    // A privsep token gets user ∩ token: the operator's token has the same ACL → allowed;
    // remove the token ACL and it has nothing.
    const opsToken = "operator@pve!ops=a1b2c3d4-0000-4000-8000-000000000002";
    assert.equal(
      (await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", { token: opsToken })).status,
      200,
    );
    sim.sim.state.acls = sim.sim.state.acls.filter((acl) => acl.type !== "token");
    assert.equal(
      (await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", { token: opsToken })).status,
      403,
    );
    // A token ACL wider than its user's still yields only the user's privileges.
    sim.sim.state.acls.push({
      path: "/",
      ugid: "operator@pve!ops",
      type: "token",
      roleid: "Administrator",
      propagate: 1,
    });
    assert.equal(
      (await api(sim, "POST", "/nodes/pve3/qemu/103/status/start", { token: opsToken })).status,
      403,
    );
    assert.equal(
      (await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", { token: opsToken })).status,
      200,
    );
  } finally {
    await sim.close();
  }
});

Deno.test("propagate 0 ACLs apply to their path only, and user ACLs override group ACLs", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const state = sim.sim.state;
    state.users.set("dev@pve", {
      userid: "dev@pve",
      password: "dev-pass",
      enable: 1,
      expire: 0,
      groups: ["devs"],
      tokens: new Map(),
    });
    state.groups.set("devs", { groupid: "devs", comment: "" });
    state.acls.push(
      { path: "/vms", ugid: "@devs", type: "group", roleid: "PVEVMUser", propagate: 1 },
      { path: "/vms/104", ugid: "dev@pve", type: "user", roleid: "PVEAuditor", propagate: 1 },
      { path: "/nodes", ugid: "dev@pve", type: "user", roleid: "PVEAuditor", propagate: 0 },
    );
    const dev = await login(sim, "dev@pve", "dev-pass");
    const start = (node: string, vmid: number) =>
      api(sim, "POST", `/nodes/${node}/qemu/${vmid}/status/start`, { session: dev });
    assert.equal((await start("pve3", 105)).status, 200);
    assert.equal((await start("pve2", 104)).status, 403);
    const perms = await api(sim, "GET", "/access/permissions", { session: dev });
    assert.equal(perms.body.data["/nodes"]["Sys.Audit"], 0, "propagate flag 0");
    const nodePerms = await api(sim, "GET", "/access/permissions", {
      session: dev,
      params: { path: "/nodes/pve1" },
    });
    assert.deepEqual(nodePerms.body.data, { "/nodes/pve1": {} });
  } finally {
    await sim.close();
  }
});

Deno.test("/access/permissions lists the caller's effective privileges per path", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const operator = await login(sim, "operator@pve", "operator-pass");
    const all = await api(sim, "GET", "/access/permissions", { session: operator });
    assert.equal(all.status, 200);
    assert.equal(all.body.data["/vms/100"]["VM.PowerMgmt"], 1);
    assert.equal(all.body.data["/pool/prod"]["VM.Console"], 1);
    assert.equal(all.body.data["/vms/103"], undefined);
    assert.equal(all.body.data["/"], undefined);

    const one = await api(sim, "GET", "/access/permissions", {
      session: operator,
      params: { path: "/vms/101" },
    });
    assert.deepEqual(Object.keys(one.body.data), ["/vms/101"]);

    const ownToken = await api(sim, "GET", "/access/permissions", {
      session: operator,
      params: { userid: "operator@pve!ops" },
    });
    assert.equal(ownToken.status, 200);

    const other = await api(sim, "GET", "/access/permissions", {
      session: operator,
      params: { userid: "root@pam" },
    });
    assert.equal(other.status, 403);
    assert.equal(other.body.message, "Permission check failed (/access, Sys.Audit)\n");

    const root = await api(sim, "GET", "/access/permissions", { token: true });
    assert.equal(root.body.data["/"]["Permissions.Modify"], 1);

    const users = await api(sim, "GET", "/access/users", { session: operator });
    assert.deepEqual(users.body.data.map((u: { userid: string }) => u.userid), ["operator@pve"]);
    const allUsers = await api(sim, "GET", "/access/users", { token: true, params: { full: 1 } });
    assert.ok(allUsers.body.data.length >= 5);
    const rootUser = allUsers.body.data.find((u: { userid: string }) => u.userid === "root@pam");
    assert.equal(rootUser.tokens[0].tokenid, "mcp");
    assert.equal(JSON.stringify(allUsers.body).includes(sim.credentials.tokenSecret), false);

    const domains = await api(sim, "GET", "/access/domains");
    assert.equal(domains.status, 200);
    assert.deepEqual(domains.body.data.map((d: { realm: string }) => d.realm), ["pam", "pve"]);
  } finally {
    await sim.close();
  }
});

Deno.test("expired tokens and tokens of disabled or expired users are refused", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const auditorToken = "auditor@pve!ro=a1b2c3d4-0000-4000-8000-000000000001";
    assert.equal((await api(sim, "GET", "/version", { token: auditorToken })).status, 200);
    const user = sim.sim.state.users.get("auditor@pve");
    const token = user?.tokens.get("ro");
    assert.ok(user && token);
    token.expire = sim.sim.clock.now() - 1;
    assert.equal((await api(sim, "GET", "/version", { token: auditorToken })).status, 401);
    token.expire = 0;
    user.expire = sim.sim.clock.now() - 1;
    assert.equal((await api(sim, "GET", "/version", { token: auditorToken })).status, 401);
    user.expire = 0;
    user.enable = 0;
    const res = await rawRequest(sim, {
      method: "GET",
      path: "/api2/json/version",
      headers: { Authorization: `PVEAPIToken=${auditorToken}` },
    });
    assert.equal(res.statusLine, "HTTP/1.1 401 Authentication failed!");
  } finally {
    await sim.close();
  }
});

Deno.test("userid checks allow yourself, group admins, and nobody else", async () => {
  const sim = await startTestSimulator({
    routes: [
      ...testRoutes,
      route("GET", "/access/users/{userid}", ({ params }) => ({ userid: params["userid"] })),
      route("GET", "/access/users/{userid}/token", () => []),
    ],
  });
  try {
    const operator = await login(sim, "operator@pve", "operator-pass");
    const own = await api(sim, "GET", "/access/users/operator@pve/token", { session: operator });
    assert.equal(own.status, 200);
    const other = await api(sim, "GET", "/access/users/auditor@pve/token", { session: operator });
    assert.equal(other.status, 403);
    assert.equal(other.body.message, "Permission check failed\n");
    const read = await api(sim, "GET", "/access/users/auditor@pve", { session: operator });
    assert.equal(read.status, 403);

    // The auditor has Sys.Audit on / (propagated to /access/groups).
    const auditor = await login(sim, "auditor@pve", "auditor-pass");
    assert.equal(
      (await api(sim, "GET", "/access/users/operator@pve", { session: auditor })).status,
      200,
    );
    // Sys.Audit on one group lets a user see that group's members only.
    const state = sim.sim.state;
    state.groups.set("ops", { groupid: "ops", comment: "" });
    state.users.get("operator@pve")?.groups.push("ops");
    state.acls.push({
      path: "/access/groups/ops",
      ugid: "tfa@pve",
      type: "user",
      roleid: "PVEAuditor",
      propagate: 1,
    });
    delete state.users.get("tfa@pve")!.totp;
    const tfaUser = await login(sim, "tfa@pve", "tfa-pass");
    assert.equal(
      (await api(sim, "GET", "/access/users/operator@pve", { session: tfaUser })).status,
      200,
    );
    assert.equal(
      (await api(sim, "GET", "/access/users/auditor@pve", { session: tfaUser })).status,
      403,
    );
  } finally {
    await sim.close();
  }
});

Deno.test("a login names the cluster only to users with Sys.Audit on /", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const rows = [
      { username: "root@pam", password: sim.credentials.password, clustername: "homelab" },
      { username: "auditor@pve", password: "auditor-pass", clustername: "homelab" },
      { username: "operator@pve", password: "operator-pass", clustername: undefined },
    ];
    for (const row of rows) {
      const res = await api(sim, "POST", "/access/ticket", {
        params: { username: row.username, password: row.password },
      });
      assert.equal(res.status, 200, row.username);
      assert.equal(res.body.data.clustername, row.clustername, row.username);
      assert.equal(typeof res.body.data.cap, "object", row.username);
    }
  } finally {
    await sim.close();
  }
});

Deno.test("a login with path and privs only verifies them and issues no ticket", async () => {
  const sim = await startTestSimulator({ routes: testRoutes });
  try {
    const params = { username: "auditor@pve", password: "auditor-pass", path: "/vms/100" };
    const ok = await api(sim, "POST", "/access/ticket", {
      params: { ...params, privs: "VM.Audit" },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body.data, { username: "auditor@pve" });
    const denied = await api(sim, "POST", "/access/ticket", {
      params: { ...params, privs: "VM.PowerMgmt" },
    });
    assert.equal(denied.status, 401);
    assert.equal(denied.body.message, "authentication failure\n");
  } finally {
    await sim.close();
  }
});
