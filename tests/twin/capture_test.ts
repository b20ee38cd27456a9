import assert from "node:assert/strict";
import { PveAuthError } from "../../src/pve/mod.ts";
import { AUDITOR_TOKEN_SECRET, OPERATOR_TOKEN_SECRET } from "../../src/simulator/seeds/mod.ts";
import { formatTwin, readOnly, TWIN_FORMAT, TWIN_REDACTED } from "../../src/twin/mod.ts";
import { startTestSimulator } from "../simulator/_helpers.ts";
import { capture, clientOf, served } from "./_twin.ts";

Deno.test("twin capture reads the demo cluster with GET requests only", async () => {
  const sim = await startTestSimulator();
  try {
    const twin = await capture(sim);
    const requests = await served(sim);
    assert.ok(requests.length > 50, `the capture read the cluster (${requests.length} requests)`);
    assert.deepEqual(
      requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`),
      [],
      "no request but GET reached the simulator",
    );
    assert.equal(twin.format, TWIN_FORMAT);
    assert.equal(twin.version, 1);
    assert.equal(twin.source.cluster, "homelab");
    assert.deepEqual(twin.nodes.map((n) => n.name), ["pve1", "pve2", "pve3"]);
    assert.equal(twin.guests.length, 12);
    assert.deepEqual(twin.gaps, []);
    const db01 = twin.guests.find((g) => g.vmid === 102);
    assert.deepEqual(db01?.snapshots?.map((s) => s.name), ["pre-upgrade", "pre-upgrade2"]);
    assert.equal(db01?.config.protection, 1);
    const web01 = twin.guests.find((g) => g.vmid === 100);
    assert.equal(web01?.firewall?.options.enable, 1, "web01's firewall is captured");
    const nas = twin.storages.find((s) => s.config.storage === "nas");
    assert.ok(nas?.volumes?.some((v) => v.content === "backup" && v.vmid === 100));
    assert.equal(nas?.volumes?.some((v) => v.node !== undefined), false, "shared: read once");
    assert.deepEqual(twin.pools.map((p) => [p.poolid, p.vms]), [["prod", [100, 101, 102, 201]]]);
    assert.deepEqual(twin.ha.resources.map((r) => r.sid), ["vm:101"]);
    assert.deepEqual(twin.ha.rules.map((r) => r.rule), ["web02-prefers-pve2"]);
    assert.deepEqual(twin.backup_jobs.map((j) => j.id).sort(), [
      "backup-5d1c0e2a-7f3b",
      "backup-pbs-k8s",
    ]);
    assert.ok(twin.firewall.groups.some((g) => g.group === "webserver"));
    assert.match(
      twin.nodes.find((n) => n.name === "pve2")?.network_changes ?? "",
      /\+iface vmbr1/,
      "pending network edits are kept",
    );
  } finally {
    await sim.close();
  }
});

Deno.test("the capture gets a view of the client that has no way to write", () => {
  const client = clientOf(
    {
      url: "http://127.0.0.1:9",
      credentials: { tokenId: "root@pam!mcp", tokenSecret: "x" },
    } as Parameters<typeof clientOf>[0],
  );
  try {
    const view = readOnly(client) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(view).sort(), ["get", "getEnvelope", "host", "name", "principal"]);
    for (const write of ["post", "put", "delete", "request", "requestEnvelope"]) {
      assert.equal(view[write], undefined, `the view has no ${write}`);
    }
    assert.ok(Object.isFrozen(view), "nothing can be added to the view");
  } finally {
    client.close();
  }
});

Deno.test("no secret planted in the simulator reaches the twin file, and the file says what was replaced", async () => {
  const sim = await startTestSimulator();
  const state = sim.sim.state;
  const planted = {
    pendingCloudInit: "Pending-Plain-Pass-1",
    description: "Sup3rS3cret-Descr!",
    privateKey: "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB",
    encodedKey: "QUJDREVGR0hJSktMTU5PUA",
    jsonToken: "tok-9f8e7d6c5b4a3210",
    snapshot: "Pg-Root-Pass-77",
    notes: "c0ffee00-1111-4222-8333-444455556666",
    subscription: "pve1c-5e1f2a3b4c",
    firewall: "Fw-Pass-1234",
    ha: "Ha-Pass-5678",
    network: "Net-Secret-99",
  };
  try {
    const root = {
      Authorization: `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`,
    };
    const put = async (path: string, params: Record<string, string>) => {
      const response = await fetch(`${sim.api}${path}`, {
        method: "PUT",
        headers: { ...root, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(params),
      });
      assert.equal(response.status, 200, `${path}: ${await response.text()}`);
    };
    // Through the API, as an admin would have left them.
    await put("/nodes/pve1/qemu/102/config", {
      description:
        `PostgreSQL\nadmin password=${planted.description}\n-----BEGIN OPENSSH PRIVATE KEY-----\n${planted.privateKey}\n-----END OPENSSH PRIVATE KEY-----`,
    });
    await put("/nodes/pve1/lxc/200/config", {
      description: `{"token": "${planted.jsonToken}"}`,
    });
    await put("/nodes/pve3/qemu/103/config", { cipassword: "Stored-Hashed-Pass" });
    await put("/cluster/ha/resources/vm:101", { comment: `password: ${planted.ha}` });
    const backup = state.volumes.get("nas")?.find((v) => v.content === "backup");
    assert.ok(backup !== undefined);
    await put(`/nodes/pve1/storage/nas/content/${encodeURIComponent(backup.volid)}`, {
      notes: `restore with PVEAPIToken=root@pam!restore=${planted.notes}`,
    });
    const snap = await fetch(`${sim.api}/nodes/pve2/lxc/203/snapshot`, {
      method: "POST",
      headers: { ...root, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        snapname: "before",
        description: `db root password: ${planted.snapshot}`,
      }),
    });
    assert.equal(snap.status, 200, await snap.text());
    // Straight into the state, where the API has no way in.
    const web02 = state.guests.get(101)!;
    web02.pending.cipassword = planted.pendingCloudInit;
    state.guests.get(9000)!.config.sshkeys = encodeURIComponent(
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${planted.encodedKey}\n-----END OPENSSH PRIVATE KEY-----`,
    );
    state.nodes.get("pve1")!.subscription = {
      status: "active",
      key: planted.subscription,
      level: "c",
      productname: "Proxmox VE Community Subscription 1 CPU/year",
      regdate: "2025-01-15 00:00:00",
      nextduedate: "2027-01-15",
      checktime: 1_767_225_600,
    };
    state.firewall.cluster.rules[0]!.comment = `admin passwd=${planted.firewall}`;
    const vmbr0 = state.nodes.get("pve3")!.network.find((i) => i.iface === "vmbr0")!;
    vmbr0.comments = `uplink; secret=${planted.network}\n`;

    const since = (await served(sim)).at(-1)?.seq ?? 0;
    const twin = await capture(sim);
    assert.deepEqual((await served(sim, since)).filter((r) => r.method !== "GET"), []);
    const text = formatTwin(twin);
    for (const [where, secret] of Object.entries(planted)) {
      assert.ok(!text.includes(secret), `the ${where} secret is not in the file`);
    }
    assert.ok(!text.includes(sim.credentials.tokenSecret), "the capturing token's secret is not");
    assert.ok(!text.includes(sim.credentials.password), "nor root's password");
    assert.ok(!text.includes("PRIVATE KEY-----\n"), "no private key block");
    assert.match(twin.secrets.notice, /replaced with "\[redacted\]"/);
    assert.equal(twin.secrets.replaced_with, TWIN_REDACTED);
    assert.ok(twin.secrets.count >= 11, `replacements counted (${twin.secrets.count})`);
    for (
      const path of [
        "guests/101/pending/cipassword",
        "guests/103/config/cipassword",
        "guests/9000/config/sshkeys",
        "nodes/pve1/subscription/key",
      ]
    ) {
      assert.ok(twin.secrets.where.includes(path), `the file says ${path} was replaced`);
    }
    // What is not secret survives the scrubbing.
    const db01 = twin.guests.find((g) => g.vmid === 102);
    assert.match(String(db01?.config.description), /^PostgreSQL\nadmin password=\[redacted\]/);
    assert.equal(twin.guests.find((g) => g.vmid === 103)?.config.cipassword, TWIN_REDACTED);
  } finally {
    await sim.close();
  }
});

Deno.test("a credential that may not read everything captures what it can and lists the gaps", async () => {
  const sim = await startTestSimulator();
  try {
    const twin = await capture(sim, {
      token: { id: "operator@pve!ops", secret: OPERATOR_TOKEN_SECRET },
    });
    assert.deepEqual(
      twin.guests.map((g) => g.vmid),
      [100, 101, 102, 201],
      "the pool's guests, which the operator may audit",
    );
    assert.ok(twin.gaps.length > 0, "the file says what it lacks");
    assert.ok(
      twin.gaps.some((gap) =>
        gap === "node status not read for pve1, pve2, pve3: 403 Permission check failed " +
            "(/nodes/{node}, Sys.Audit)"
      ),
      twin.gaps.join("\n"),
    );
    const auditor = await capture(sim, {
      token: { id: "auditor@pve!ro", secret: AUDITOR_TOKEN_SECRET },
    });
    assert.equal(auditor.guests.length, 12, "an auditor sees every guest");
    assert.ok(auditor.guests.every((g) => Object.keys(g.config).length > 0));
    assert.deepEqual((await served(sim)).filter((r) => r.method !== "GET"), []);
  } finally {
    await sim.close();
  }
});

Deno.test("a node that is offline leaves its guests as the resources list them, and a gap", async () => {
  const sim = await startTestSimulator();
  try {
    await fetch(`${sim.url}/_sim/nodes/pve3/offline`, { method: "POST" });
    const twin = await capture(sim);
    const pve3 = twin.nodes.find((n) => n.name === "pve3");
    assert.equal(pve3?.online, false);
    assert.equal(pve3?.status, undefined);
    const k8s2 = twin.guests.find((g) => g.vmid === 105);
    assert.equal(k8s2?.status, "unknown");
    assert.deepEqual(k8s2?.config, { name: "k8s-node2" });
    assert.ok(twin.gaps.some((gap) => gap.startsWith("Node pve3 was offline")), twin.gaps[0]);
    assert.ok(
      twin.gaps.some((gap) =>
        /^guest config, snapshots and firewall not read for 103, 105/.test(gap)
      ),
      twin.gaps.join("\n"),
    );
  } finally {
    await sim.close();
  }
});

Deno.test("a rejected credential fails the capture", async () => {
  const sim = await startTestSimulator();
  try {
    await assert.rejects(
      () => capture(sim, { token: { id: "root@pam!mcp", secret: "wrong" } }),
      PveAuthError,
    );
  } finally {
    await sim.close();
  }
});
