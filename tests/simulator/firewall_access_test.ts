import assert from "node:assert/strict";
import type { SimulatorHandle } from "../../src/simulator/mod.ts";
import { AUDITOR_TOKEN_SECRET, OPERATOR_TOKEN_SECRET } from "../../src/simulator/seeds/mod.ts";
import { api, startTestSimulator } from "./_helpers.ts";

type Entry = Record<string, unknown>;

const AUDITOR = `auditor@pve!ro=${AUDITOR_TOKEN_SECRET}`;
const OPERATOR = `operator@pve!ops=${OPERATOR_TOKEN_SECRET}`;

async function data(sim: SimulatorHandle, path: string, token: string | true = true) {
  const res = await api(sim, "GET", path, { token });
  assert.equal(res.status, 200, `${path}: ${res.text}`);
  return res.body.data;
}

Deno.test("cluster firewall options, rules in order, aliases and IP sets carry pos and the file digest", async () => {
  const sim = await startTestSimulator();
  try {
    const options = await data(sim, "/cluster/firewall/options") as Entry;
    assert.equal(options.enable, 1);
    assert.equal(options.policy_in, "DROP");
    assert.match(String(options.digest), /^[0-9a-f]{40}$/);
    const rules = await data(sim, "/cluster/firewall/rules") as Entry[];
    assert.deepEqual(rules.map((r) => r.pos), [0, 1, 2, 3]);
    assert.equal(rules[0]?.action, "DROP");
    assert.equal(rules[0]?.source, "+blocklist");
    assert.ok(rules.every((r) => r.digest === options.digest));
    const one = await data(sim, "/cluster/firewall/rules/2") as Entry;
    assert.equal(one.macro, "SSH");
    const past = await api(sim, "GET", "/cluster/firewall/rules/9", { token: true });
    assert.equal(past.status, 500);
    assert.equal(past.body.message, "no rule at position 9\n");
    const aliases = await data(sim, "/cluster/firewall/aliases") as Entry[];
    assert.deepEqual(aliases.map((a) => a.name), ["mgmt-net", "monitoring"]);
    const sets = await data(sim, "/cluster/firewall/ipset") as Entry[];
    assert.deepEqual(sets.map((s) => s.name), ["blocklist", "management"]);
    const members = await data(sim, "/cluster/firewall/ipset/management") as Entry[];
    assert.deepEqual(members.map((m) => m.cidr), ["10.0.0.0/24", "192.168.1.10"]);
    const missing = await api(sim, "GET", "/cluster/firewall/ipset/nope", { token: true });
    assert.equal(missing.body.message, "no such IPSet 'nope'\n");
  } finally {
    await sim.close();
  }
});

Deno.test("security groups list by name and their rules read like any rule list", async () => {
  const sim = await startTestSimulator();
  try {
    const groups = await data(sim, "/cluster/firewall/groups") as Entry[];
    assert.deepEqual(groups.map((g) => g.group), ["monitoring", "webserver"]);
    const web = await data(sim, "/cluster/firewall/groups/webserver") as Entry[];
    assert.deepEqual(web.map((r) => r.macro), ["HTTP", "HTTPS"]);
    const missing = await api(sim, "GET", "/cluster/firewall/groups/nope", { token: true });
    assert.equal(missing.status, 500);
    assert.equal(missing.body.message, "no such security group 'nope'\n");
  } finally {
    await sim.close();
  }
});

Deno.test("node and guest firewalls answer per level; a guest without a .fw file has an empty one", async () => {
  const sim = await startTestSimulator();
  try {
    const host = await data(sim, "/nodes/pve1/firewall/options") as Entry;
    assert.equal(host.nf_conntrack_max, 524288);
    assert.equal((await data(sim, "/nodes/pve2/firewall/rules") as Entry[]).length, 0);
    const vmRules = await data(sim, "/nodes/pve1/qemu/100/firewall/rules") as Entry[];
    assert.deepEqual(vmRules.map((r) => [r.type, r.action, r.enable]), [
      ["group", "webserver", 1],
      ["group", "monitoring", 1],
      ["in", "ACCEPT", 1],
      ["in", "ACCEPT", 0],
    ]);
    const vmSets = await data(sim, "/nodes/pve1/qemu/100/firewall/ipset") as Entry[];
    assert.deepEqual(vmSets.map((s) => s.name), ["web01-clients"]);
    const ctOptions = await data(sim, "/nodes/pve1/lxc/200/firewall/options") as Entry;
    assert.equal(ctOptions.enable, 1);
    const none = await data(sim, "/nodes/pve3/lxc/204/firewall/options") as Entry;
    assert.deepEqual(Object.keys(none), ["digest"]);
    const index = await data(sim, "/nodes/pve1/qemu/100/firewall") as Entry[];
    assert.ok(index.some((e) => e.name === "options"));
  } finally {
    await sim.close();
  }
});

Deno.test("firewall reads need the schema's privileges: Sys.Audit on / for the cluster, VM.Audit for a guest", async () => {
  const sim = await startTestSimulator();
  try {
    assert.equal(
      (await api(sim, "GET", "/cluster/firewall/rules", { token: AUDITOR })).status,
      200,
    );
    const operator = await api(sim, "GET", "/cluster/firewall/rules", { token: OPERATOR });
    assert.equal(operator.status, 403);
    const inPool = await api(sim, "GET", "/nodes/pve1/qemu/100/firewall/rules", {
      token: OPERATOR,
    });
    assert.equal(inPool.status, 200, "guest 100 is in the operator's pool");
  } finally {
    await sim.close();
  }
});

Deno.test("users, tokens, groups, roles and ACLs read as PVE shows them", async () => {
  const sim = await startTestSimulator();
  try {
    const user = await data(sim, "/access/users/auditor@pve") as Entry;
    assert.deepEqual(user.tokens, { ro: { privsep: 1, expire: 0, comment: "read-only token" } });
    assert.deepEqual(user.groups, []);
    const tokens = await data(sim, "/access/users/operator@pve/token") as Entry[];
    assert.deepEqual(tokens.map((t) => t.tokenid), ["ops"]);
    const token = await data(sim, "/access/users/operator@pve/token/ops") as Entry;
    assert.equal(token.privsep, 1);
    const noToken = await api(sim, "GET", "/access/users/operator@pve/token/nope", {
      token: true,
    });
    assert.equal(noToken.body.message, "no such token 'nope' for user 'operator@pve'\n");
    const noUser = await api(sim, "GET", "/access/users/ghost@pve", { token: true });
    assert.equal(noUser.body.message, "no such user ('ghost@pve')\n");
    const roles = await data(sim, "/access/roles") as Entry[];
    const auditor = roles.find((r) => r.roleid === "PVEAuditor");
    assert.equal(auditor?.special, 1);
    assert.equal(
      auditor?.privs,
      "Datastore.Audit,Mapping.Audit,Pool.Audit,SDN.Audit,Sys.Audit,VM.Audit",
    );
    const role = await data(sim, "/access/roles/PVEVMUser") as Entry;
    assert.equal(role["VM.PowerMgmt"], 1);
    assert.equal(role["VM.Allocate"], undefined);
    const acl = await data(sim, "/access/acl") as Entry[];
    assert.ok(
      acl.some((e) =>
        e.path === "/" && e.type === "token" && e.ugid === "auditor@pve!ro" &&
        e.roleid === "PVEAuditor" && e.propagate === 1
      ),
    );
    const groups = await data(sim, "/access/groups") as Entry[];
    assert.deepEqual(groups, [{
      groupid: "admins",
      users: "root@pam",
      comment: "Cluster administrators",
    }]);
  } finally {
    await sim.close();
  }
});

Deno.test("the ACL list is empty without Permissions.Modify, and another user's tokens need User.Modify", async () => {
  const sim = await startTestSimulator();
  try {
    assert.deepEqual(await data(sim, "/access/acl", AUDITOR), []);
    const others = await api(sim, "GET", "/access/users/operator@pve/token", { token: AUDITOR });
    assert.equal(others.status, 403);
  } finally {
    await sim.close();
  }
});
