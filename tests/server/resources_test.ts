import assert from "node:assert/strict";
import { connectInProcess } from "../../src/cli/_in_process.ts";
import { AuditLog } from "../../src/policy/audit.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { createServer } from "../../src/server/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { TOOLSETS } from "../../src/tools/toolsets.ts";
import { VIEWS } from "../../src/views/mod.ts";
import { openSession, type SimSession, textOf } from "../tools/_helpers.ts";
import { startTestSimulator } from "../simulator/_helpers.ts";
import { connect, testConfig } from "./_harness.ts";

const EVERY_TOOLSET = TOOLSETS.map((t) => t.id);

/** Reads a resource's one text content. */
async function read(s: SimSession, uri: string): Promise<{ mimeType?: string; text: string }> {
  const { contents } = await s.surface.readResource({ uri });
  assert.equal(contents.length, 1, uri);
  const [content] = contents;
  assert.equal(content?.uri, uri);
  return {
    ...(content?.mimeType === undefined ? {} : { mimeType: content.mimeType }),
    text: content?.text ?? "",
  };
}

/** The JSON-RPC error a refused read gets: its code and one-sentence message. */
async function refusal(s: SimSession, uri: string): Promise<{ code: number; message: string }> {
  try {
    await s.surface.readResource({ uri });
  } catch (error) {
    const { code, message } = error as { code: number; message: string };
    assert.doesNotMatch(message, /\n/, "one line");
    assert.match(message, /^[A-Z"].*[.]$/, "one sentence");
    return { code, message };
  }
  throw new Error(`Reading ${uri} was not refused`);
}

/** A task of the simulator: start the stopped container 204 (old-wiki) and return its UPID. */
async function startTask(s: SimSession, vmid = 204): Promise<string> {
  const result = await s.call("guest_start", { vmid });
  assert.equal(result.isError, undefined, textOf(result));
  return String(result.structuredContent?.upid);
}

for (const era of ["legacy", "modern"] as const) {
  Deno.test(`(${era} era) resources/list names the cluster summary, the policy and the views; the templates a guest's config and a task's log`, async () => {
    const s = await openSession({ tools: allTools, era });
    try {
      const { resources } = await s.surface.listResources();
      assert.deepEqual(resources.map((r) => [r.uri, r.name, r.mimeType]), [
        ["pve://lab/summary", "cluster_summary", "text/markdown"],
        ["proxmox-mcp://policy", "active_policy", "text/markdown"],
        ...VIEWS.map((v) => [v.uri, v.name, "text/html;profile=mcp-app"]),
      ]);
      for (const resource of resources) {
        assert.ok((resource.title ?? "").length > 3 && (resource.description ?? "").length > 40);
      }
      const { resourceTemplates } = await s.surface.listResourceTemplates();
      assert.deepEqual(resourceTemplates.map((t) => [t.uriTemplate, t.name, t.mimeType]), [
        ["pve://lab/guests/{vmid}/config", "guest_config", "application/json"],
        ["pve://lab/tasks/{upid}/log", "task_log", "text/plain"],
      ]);
    } finally {
      await s.close();
    }
  });

  Deno.test(`(${era} era) each resource reads: the summary, the policy, a guest's config and a task's log`, async () => {
    const s = await openSession({ tools: allTools, era });
    try {
      const summary = await read(s, "pve://lab/summary");
      assert.equal(summary.mimeType, "text/markdown");
      assert.match(
        summary.text,
        /^# Cluster summary: lab\n\nProxmox VE cluster "homelab" is quorate\. 3 of 3 nodes online\. 12 guests this server may act on: /,
      );
      assert.match(
        summary.text,
        /\| pve1 \| online \| [\d.]+% of 12 \| [\d.]+ GiB \/ 64\.0 GiB \| 3 \/ 4 \|/,
      );
      assert.match(summary.text, /\| pbs \| shared \| pbs \| available \| /);
      assert.equal((summary.text.match(/\| nas \|/g) ?? []).length, 1, "a shared storage once");

      const policy = await read(s, "proxmox-mcp://policy");
      assert.equal(policy.mimeType, "text/markdown");
      assert.match(
        policy.text,
        new RegExp(
          `^# Active policy\n\nThis server offers ${allTools.length} of its ${allTools.length} tools, on cluster "lab"\\.`,
        ),
      );
      assert.match(policy.text, /- destroy: allowed \(\d+ tools\)\./);
      assert.match(policy.text, /Every guest and node: no policy\.scope is configured\./);
      assert.match(
        policy.text,
        /Calls of the classes "destroy", "exec", "raw" and of node_drain ask the user first\./,
      );
      assert.doesNotMatch(policy.text, new RegExp(s.sim.credentials.tokenSecret));
      assert.doesNotMatch(policy.text, /127\.0\.0\.1|http:/, "no cluster URL");

      const config = await read(s, "pve://lab/guests/102/config");
      assert.equal(config.mimeType, "application/json");
      const parsed = JSON.parse(config.text);
      assert.equal(parsed.vmid, 102);
      assert.equal(parsed.name, "db01");
      assert.equal(parsed.node, "pve1");
      assert.equal(parsed.type, "qemu");
      assert.match(parsed.digest, /^[0-9a-f]{40}$/);
      assert.equal(parsed.config.scsi1, "local-lvm:vm-102-disk-1,iothread=1,size=100G");
      assert.equal(parsed.config.digest, undefined, "the digest is beside the config");

      const upid = await startTask(s);
      const log = await read(s, `pve://lab/tasks/${encodeURIComponent(upid)}/log`);
      assert.equal(log.mimeType, "text/plain");
      assert.match(
        log.text,
        /^Task vzstart 204 on pve3 finished: OK\.\nLog \(last \d+ of \d+ lines\):\n/,
      );
      assert.match(log.text, /TASK OK$/);
      // A client that fills the template without encoding reaches the same log.
      assert.equal((await read(s, `pve://lab/tasks/${upid}/log`)).text, log.text);
    } finally {
      await s.close();
    }
  });
}

Deno.test("a guest's config resource shows no secret: a cloud-init password is masked", async () => {
  const s = await openSession({ tools: allTools });
  try {
    const update = await s.call("guest_config_update", {
      vmid: 100,
      set: { cipassword: "res-Secret-77" },
    });
    assert.equal(update.isError, undefined, textOf(update));
    const config = JSON.parse((await read(s, "pve://lab/guests/100/config")).text);
    assert.equal(config.config.cipassword, "[redacted]");
    assert.doesNotMatch(JSON.stringify(config), /res-Secret-77/);
  } finally {
    await s.close();
  }
});

Deno.test("under a scope, the summary counts only what it admits and a guest or task outside it is refused in one sentence", async () => {
  const s = await openSession({
    tools: allTools,
    config: { policy: { scope: { vmids: ["100-199"] } } },
  });
  try {
    const refused = await s.call("guest_start", { vmid: 204 });
    assert.equal(refused.isError, true, "outside the scope, the tool is refused too");
    const inside = await startTask(s, 103);
    // A task on a guest outside the scope, started behind this server's back.
    const outside = String(await s.pve.post("/nodes/pve3/lxc/204/status/start"));

    const summary = (await read(s, "pve://lab/summary")).text;
    assert.match(summary, / 6 guests this server may act on: 6 running, 0 not running; 6 VMs, /);
    assert.match(summary, /\| pve3 \| online \| .* \| 2 \/ 2 \|/, "103 and 105 on pve3");
    assert.doesNotMatch(summary, /old-wiki|pihole/);

    assert.deepEqual(await refusal(s, "pve://lab/guests/204/config"), {
      code: -32602,
      message:
        "Guest 204 is outside the scope this server may act on: choose a target inside the configured scope, or ask the administrator to widen policy.scope.",
    });
    assert.equal(JSON.parse((await read(s, "pve://lab/guests/101/config")).text).name, "web02");

    assert.deepEqual(await refusal(s, `pve://lab/tasks/${encodeURIComponent(outside)}/log`), {
      code: -32602,
      message:
        "Guest 204 is outside the scope this server may act on: choose a target inside the configured scope, or ask the administrator to widen policy.scope.",
    });
    const log = await read(s, `pve://lab/tasks/${encodeURIComponent(inside)}/log`);
    assert.match(log.text, /^Task qmstart 103 on pve3 finished: OK\./);

    const policy = (await read(s, "proxmox-mcp://policy")).text;
    assert.match(policy, /Only guests with a vmid in "100-199" \(policy\.scope\.vmids\)\./);
  } finally {
    await s.close();
  }
});

Deno.test("under a policy without the read class, cluster resources are neither listed nor read; the policy says how to allow them", async () => {
  const s = await openSession({
    tools: allTools,
    config: { policy: { allow: ["lifecycle"], toolsets: EVERY_TOOLSET } },
  });
  try {
    const since = await s.mark();
    const { resources } = await s.surface.listResources();
    assert.deepEqual(resources.map((r) => r.uri), ["proxmox-mcp://policy"]);
    assert.deepEqual((await s.surface.listResourceTemplates()).resourceTemplates, []);
    for (const uri of ["pve://lab/summary", "pve://lab/guests/100/config"]) {
      const refused = await refusal(s, uri);
      assert.equal(refused.code, -32602);
      assert.equal(
        refused.message,
        `Resource "${uri}" is refused: it needs the "read" class, which this server does not allow: add "read" to policy.allow to permit it.`,
      );
    }
    const policy = (await read(s, "proxmox-mcp://policy")).text;
    assert.match(
      policy,
      /- read: not allowed; add "read" to policy.allow to offer cluster_status, /,
    );
    assert.deepEqual(await s.requests(since), [], "nothing was read from the cluster");
  } finally {
    await s.close();
  }
});

Deno.test("a cluster resource follows its tool's toolset and exclusion, and says which key to change", async () => {
  const s = await openSession({
    tools: allTools,
    config: {
      policy: { allow: ["read"], toolsets: ["inventory", "observe"], exclude: ["guest_get"] },
    },
  });
  try {
    const { resources } = await s.surface.listResources();
    assert.ok(resources.some((r) => r.uri === "pve://lab/summary"));
    assert.deepEqual((await s.surface.listResourceTemplates()).resourceTemplates, []);
    assert.equal(
      (await refusal(s, "pve://lab/guests/100/config")).message,
      'Resource "pve://lab/guests/100/config" is refused: it is read like guest_get, which policy.exclude excludes: remove guest_get from that list to read it.',
    );
    const upid = "UPID:pve1:00001234:00ABCDEF:6B0E4696:qmstart:100:root@pam:";
    assert.equal(
      (await refusal(s, `pve://lab/tasks/${encodeURIComponent(upid)}/log`)).message,
      `Resource "pve://lab/tasks/${
        encodeURIComponent(upid)
      }/log" is refused: it belongs to the "tasks" toolset, which is not enabled: add "tasks" to policy.toolsets to enable it.`,
    );
  } finally {
    await s.close();
  }
});

Deno.test("unknown resources, clusters, guests and tasks are refused with what to do, and a malformed vmid or UPID before any request", async () => {
  const s = await openSession({ tools: allTools });
  try {
    for (
      const uri of [
        "pve://other/summary",
        "pve://lab/nothing",
        "proxmox-mcp://secrets",
        "file:///etc/passwd",
      ]
    ) {
      const refused = await refusal(s, uri);
      assert.equal(refused.code, -32602);
      assert.match(
        refused.message,
        /^No resource ".*": resources\/list and resources\/templates\/list name what this server offers\.$/,
      );
    }
    const since = await s.mark();
    assert.equal(
      (await refusal(s, "pve://lab/guests/abc/config")).message,
      '"abc" is not a vmid: use a number from 100 to 999999999 in pve://lab/guests/{vmid}/config.',
    );
    assert.match(
      (await refusal(s, "pve://lab/tasks/not-a-upid/log")).message,
      /^Cannot parse UPID "not-a-upid": expected UPID:node:pid:pstart:starttime:type:id:user:, so copy it whole from the task list or from the answer that started the task\.$/,
    );
    assert.deepEqual(await s.requests(since), [], "nothing was sent for malformed input");
    assert.match((await refusal(s, "pve://lab/guests/999/config")).message, /999/);
    const gone = "UPID:pve1:00001234:00ABCDEF:6B0E4696:qmstart:100:root@pam:";
    assert.match(
      (await refusal(s, `pve://lab/tasks/${encodeURIComponent(gone)}/log`)).message,
      /^No task UPID:pve1:.* on node "pve1": the UPID is wrong or the task has left the node's task log; find it with task_list\.$/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("with several clusters each has its own summary and templates, named by cluster", async () => {
  const cluster = { url: "http://127.0.0.1:9", tokenId: "root@pam!mcp", tokenSecret: "secret-two" };
  const s = await connect({
    tools: allTools,
    config: { clusters: { lab: cluster, prod: cluster } },
  });
  try {
    const { resources } = await s.surface.listResources();
    assert.deepEqual(resources.slice(0, 3).map((r) => [r.uri, r.name, r.title]), [
      ["pve://lab/summary", "cluster_summary_lab", "Cluster summary (lab)"],
      ["pve://prod/summary", "cluster_summary_prod", "Cluster summary (prod)"],
      ["proxmox-mcp://policy", "active_policy", "Active policy"],
    ]);
    const { resourceTemplates } = await s.surface.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate), [
      "pve://lab/guests/{vmid}/config",
      "pve://prod/guests/{vmid}/config",
      "pve://lab/tasks/{upid}/log",
      "pve://prod/tasks/{upid}/log",
    ]);
    const policy = await s.surface.readResource({ uri: "proxmox-mcp://policy" });
    assert.match(
      policy.contents[0]?.text ?? "",
      /on clusters "lab", "prod" \(tools take a cluster argument\)\./,
    );
    assert.doesNotMatch(policy.contents[0]?.text ?? "", /secret-two/);
  } finally {
    await s.close();
  }
});

Deno.test("on a rehearsal twin every data resource starts with the twin's notice, as tool results do", async () => {
  const notice = "[twin] Rehearsal twin captured 2026-01-02T03:04:05Z, not production: " +
    "nothing done here touches the real cluster.";
  const sim = await startTestSimulator();
  const pve = new PveClient({
    url: sim.url,
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
    name: "lab",
  });
  const session = await connectInProcess(() =>
    createServer({
      config: testConfig({
        clusters: { lab: { url: sim.url, tokenId: "root@pam!mcp", tokenSecret: "x" } },
      }),
      clients: new Map([["lab", pve]]),
      audit: AuditLog.disabled(),
      notice,
    })
  );
  try {
    for (const uri of ["pve://lab/summary", "proxmox-mcp://policy"]) {
      const { contents } = await session.client.readResource({ uri });
      const body = (contents[0] as { text?: string }).text ?? "";
      assert.ok(body.startsWith(`${notice}\n\n# `), uri);
    }
    const { contents } = await session.client.readResource({ uri: "pve://lab/guests/100/config" });
    const config = JSON.parse((contents[0] as { text?: string }).text ?? "");
    assert.equal(Object.keys(config)[0], "notice");
    assert.equal(config.notice, notice);
    const view = await session.client.readResource({ uri: "ui://proxmox-mcp/cluster.html" });
    assert.match((view.contents[0] as { text?: string }).text ?? "", /^<!doctype html>/);
  } finally {
    await session.close();
    pve.close();
    await sim.close();
  }
});
