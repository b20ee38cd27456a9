import assert from "node:assert/strict";
import { z } from "zod";
import { annotationsFor } from "../../src/policy/capability.ts";
import { PveClient, pvePath } from "../../src/pve/mod.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/mod.ts";
import { type AnyTool, defineTool } from "../../src/tools/types.ts";
import { connect, type Session, textOf } from "./_harness.ts";

/** Clones a guest and waits for the task (a task that logs `progress n%` lines). */
const probeClone = defineTool({
  name: "probe_clone",
  title: "Test clone",
  description: "Test-only clone that waits for its task.",
  toolset: "testing",
  capability: "change",
  inputSchema: z.object({ vmid: z.number().int(), newid: z.number().int() }),
  outputSchema: z.object({ upid: z.string(), state: z.string() }),
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    const target = await ctx.client.resolveGuest(args.vmid, { signal: ctx.signal });
    return {
      target,
      summary: `Clone VM ${target.vmid} to ${args.newid}`,
      calls: [{
        method: "POST",
        path: pvePath`/nodes/${target.node}/qemu/${target.vmid}/clone`,
        params: { newid: args.newid, full: 1 },
      }],
    };
  },
  async handler(_args, ctx, plan) {
    const call = plan!.calls[0]!;
    const upid = await ctx.client.post<string>(call.path, call.params as Record<string, number>);
    const outcome = await ctx.waitTask(upid);
    return { text: `Clone ${outcome.state}: ${upid}`, structured: { upid, state: outcome.state } };
  },
});

/** Renames a guest (a synchronous config write). */
const probeConfig = defineTool({
  name: "probe_config",
  title: "Test config",
  description: "Test-only rename.",
  toolset: "testing",
  capability: "change",
  inputSchema: z.object({ vmid: z.number().int(), name: z.string() }),
  outputSchema: z.object({ ok: z.boolean() }),
  annotations: { ...annotationsFor("change"), idempotentHint: true },
  async plan(args, ctx) {
    const target = await ctx.client.resolveGuest(args.vmid, { signal: ctx.signal });
    return {
      target,
      summary: `Rename VM ${target.vmid} to ${args.name}`,
      calls: [{
        method: "PUT",
        path: pvePath`/nodes/${target.node}/qemu/${target.vmid}/config`,
        params: { name: args.name },
      }],
    };
  },
  async handler(_args, ctx, plan) {
    const call = plan!.calls[0]!;
    await ctx.client.put(call.path, call.params as Record<string, string>);
    return { text: "Renamed.", structured: { ok: true } };
  },
});

const tools: readonly AnyTool[] = [probeClone, probeConfig];
const WRITE = { allow: ["read", "change"] };

async function withSimulator(
  options: {
    speed: number | "instant";
    clusters?: string[];
    policy?: Record<string, unknown>;
    auditPath?: string;
  },
  body: (session: Session, sim: SimulatorHandle) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ seed: "demo", speed: options.speed, log: () => {} });
  const names = options.clusters ?? ["lab"];
  const clients = new Map(names.map((name) => [
    name,
    new PveClient({
      url: sim.url,
      tokenId: sim.credentials.tokenId,
      tokenSecret: sim.credentials.tokenSecret,
      name,
    }),
  ]));
  const clusters = Object.fromEntries(names.map((name) => [name, {
    url: sim.url,
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
  }]));
  const session = await connect({
    tools,
    clients,
    config: { clusters, policy: options.policy ?? WRITE },
    ...(options.auditPath === undefined ? {} : { auditPath: options.auditPath }),
  });
  try {
    await body(session, sim);
  } finally {
    await session.close();
    for (const client of clients.values()) client.close();
    await sim.close();
  }
}

async function simRequests(sim: SimulatorHandle): Promise<Array<{ method: string; path: string }>> {
  const response = await fetch(`${sim.url}/_sim/requests`);
  const body = await response.json();
  return (Array.isArray(body) ? body : body.requests ?? body.data) as Array<
    { method: string; path: string }
  >;
}

Deno.test("dry_run makes no write request to Proxmox VE", async () => {
  await withSimulator({ speed: "instant" }, async (session, sim) => {
    await fetch(`${sim.url}/_sim/requests`, { method: "DELETE" }).then((r) => r.body?.cancel());
    const result = await session.call("probe_clone", { vmid: 100, newid: 900, dry_run: true });
    assert.equal(result.isError, undefined, textOf(result));
    assert.deepEqual(result.structuredContent, {
      dry_run: true,
      summary: "Clone VM 100 to 900",
      calls: [{
        method: "POST",
        path: "/nodes/pve1/qemu/100/clone",
        params: { newid: 900, full: 1 },
      }],
    });
    const requests = await simRequests(sim);
    assert.ok(requests.length > 0, "the plan read the inventory");
    assert.deepEqual(requests.filter((r) => r.method !== "GET"), []);
  });
});

Deno.test("a task wait sends progress notifications with the request's progress token", async () => {
  await withSimulator({ speed: 20 }, async (session) => {
    const messages: string[] = [];
    const values: number[] = [];
    const result = await session.call("probe_clone", { vmid: 100, newid: 901 }, {
      onprogress: (progress) => {
        messages.push(progress.message ?? "");
        values.push(progress.progress);
      },
    });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(result.structuredContent?.state, "ok");
    assert.match(messages[0] ?? "", /^Waiting for task UPID:pve1:/);
    assert.ok(messages.some((message) => message.includes("(100.00%)")), messages.join("|"));
    for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!);
    const [line] = await session.auditLines();
    assert.equal(line?.outcome, "ok");
    assert.match(String(line?.upid), /^UPID:pve1:.*:qmclone:100:/);
  });
});

Deno.test("cancelling a call stops the wait, audits the UPID, tells the client the task goes on and leaves it running", async () => {
  await withSimulator({ speed: 0.5 }, async (session, sim) => {
    const abort = new AbortController();
    await assert.rejects(
      session.call("probe_clone", { vmid: 100, newid: 902 }, {
        signal: abort.signal,
        onprogress: (progress) => {
          if (progress.message?.startsWith("Waiting for task")) abort.abort();
        },
      }),
    );
    let lines: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 200 && lines.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      lines = await session.auditLines();
    }
    assert.equal(lines[0]?.outcome, "cancelled");
    const upid = String(lines[0]?.upid);
    assert.match(upid, /^UPID:pve1:/);
    const status = await fetch(
      `${sim.api}/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`,
      {
        headers: {
          Authorization: `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`,
        },
      },
    ).then((r) => r.json());
    assert.equal(status.data.status, "running");
    for (let i = 0; i < 200 && session.notices.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const notice = session.notices.find((n) => String(n.data).includes(upid));
    assert.ok(notice, "the client is told the task goes on, with its UPID");
    assert.match(String(notice.data), /goes on running on the cluster: call task_wait/);
  });
});

Deno.test("a locked guest is an isError result that says to wait for the task", async () => {
  await withSimulator({ speed: "instant" }, async (session, sim) => {
    await fetch(`${sim.url}/_sim/guests/100/lock`, {
      method: "POST",
      body: JSON.stringify({ lock: "backup" }),
    }).then((r) => r.body?.cancel());
    const result = await session.call("probe_config", { vmid: 100, name: "web-x" });
    assert.equal(result.isError, true);
    assert.match(
      textOf(result),
      /locked.*Retry when the task holding the lock has finished.*task_wait waits for it/s,
    );
    const [line] = await session.auditLines();
    assert.equal(line?.outcome, "error");
  });
});

Deno.test("an offline node is an isError result that names the node", async () => {
  await withSimulator({ speed: "instant" }, async (session, sim) => {
    await fetch(`${sim.url}/_sim/nodes/pve1/offline`, { method: "POST" }).then((r) =>
      r.body?.cancel()
    );
    const result = await session.call("probe_config", { vmid: 100, name: "web-x" });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /pve1/);
  });
});

Deno.test("with two clusters every tool takes a required cluster argument", async () => {
  await withSimulator({ speed: "instant", clusters: ["east", "west"] }, async (session) => {
    const tools = await session.listTools();
    for (const tool of tools) {
      assert.deepEqual(tool.inputSchema.properties?.cluster?.enum, ["east", "west"]);
      assert.ok(tool.inputSchema.required?.includes("cluster"));
    }
    const missing = await session.call("probe_config", { vmid: 100, name: "web-x" });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /cluster/);
    const result = await session.call("probe_config", {
      vmid: 100,
      name: "web-x",
      cluster: "west",
    });
    assert.equal(result.isError, undefined, textOf(result));
    const lines = await session.auditLines();
    assert.equal(lines.at(-1)?.cluster, "west");
  });
});

Deno.test("audit lines redact secrets in the arguments", async () => {
  await withSimulator({ speed: "instant" }, async (session) => {
    await session.call("probe_config", {
      vmid: 100,
      name: "PVEAPIToken=root@pam!mcp=0b6c1b43-4b9a-a6f1-2c5e7d9b0a14",
      dry_run: true,
    });
    const [line] = await session.auditLines();
    assert.equal(line?.outcome, "dry-run");
    assert.ok(!JSON.stringify(line).includes("0b6c1b43-4b9a-a6f1-2c5e7d9b0a14"));
  });
});

Deno.test("a task that outlasts the wait limit is audited as a timeout with its UPID", async () => {
  await withSimulator({
    speed: 0.5,
    policy: { ...WRITE, wait: { defaultSeconds: 0, maxSeconds: 1 } },
  }, async (session) => {
    const result = await session.call("probe_clone", { vmid: 100, newid: 903 });
    assert.equal(result.structuredContent?.state, "timeout");
    const [line] = await session.auditLines();
    assert.equal(line?.outcome, "timeout");
    assert.match(String(line?.upid), /^UPID:pve1:.*:qmclone:100:/);
  });
});

Deno.test("a write whose audit line cannot be written is refused with nothing changed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "audit-gone-" });
  const auditPath = `${dir}/audit.jsonl`;
  await Deno.remove(dir);
  await withSimulator({ speed: "instant", auditPath }, async (session, sim) => {
    await fetch(`${sim.url}/_sim/requests`, { method: "DELETE" }).then((r) => r.body?.cancel());
    const result = await session.call("probe_clone", { vmid: 100, newid: 903 });
    assert.equal(result.isError, true);
    assert.match(
      textOf(result),
      /^Nothing was changed: probe_clone was refused because the audit log/,
    );
    assert.match(
      textOf(result),
      /Fix audit\.path or its permissions, or set audit\.enabled to false\.$/,
    );
    const writes = (await simRequests(sim)).filter((r) => r.method !== "GET");
    assert.deepEqual(writes, []);
  });
});
