/**
 * The fuzz suite's own parts: the generator covers every tool and every argument from the
 * schemas alone, is deterministic for a seed, and the verdicts judge texts, lines and traffic
 * as the issue asks.
 *
 * @module
 */

import assert from "node:assert/strict";
import { allTools } from "../../src/tools/mod.ts";
import { buildToolEntry, isWriteTool } from "../../src/tools/registry.ts";
import { refusalProblem, retryAdvice, rpcErrorProblem, trafficProblems } from "./_checks.ts";
import type { Domain } from "./_domain.ts";
import {
  coverageCases,
  generateCase,
  pathologicalCase,
  type SchemaNode,
  type ToolShape,
} from "./_generate.ts";
import { Rng } from "./_rng.ts";
import { catalogLines, mutatedLine, owedReply } from "./_rpc_lines.ts";
import type { SimRequest } from "./_targets.ts";

const domain: Domain = {
  vmids: [100, 101, 200],
  freeVmids: [300, 301],
  names: ["web01", "web02", "pihole"],
  nodes: ["pve1", "pve2"],
  storages: ["local", "local-lvm", "nas"],
  pools: ["prod"],
  tags: ["prod", "web"],
  snapshots: ["pre-upgrade"],
  volids: ["local:iso/debian.iso"],
  upids: ["UPID:pve1:00001234:00005678:65000000:qmstart:100:root@pam:"],
  getPaths: ["/version", "/nodes"],
  writePaths: ["/nodes/pve1/qemu/100/snapshot"],
};

function shapes(): Array<ToolShape & { input: ReturnType<typeof buildToolEntry>["input"] }> {
  return allTools.map((tool) => {
    const entry = buildToolEntry(tool, { clusters: ["lab"] });
    return {
      name: tool.name,
      schema: entry.inputJsonSchema as SchemaNode,
      write: isWriteTool(tool),
      input: entry.input,
    };
  });
}

Deno.test("every tool in allTools gets coverage cases touching each of its arguments, from its schema alone", () => {
  for (const shape of shapes()) {
    const cases = coverageCases(shape, new Rng(1).fork(shape.name), domain);
    const kinds = new Set(cases.map((c) => c.kind));
    assert.ok(kinds.has("valid"), `${shape.name}: no valid case`);
    if (shape.write) assert.ok(kinds.has("dry_run"), `${shape.name}: no dry run`);
    const targets = new Set(cases.map((c) => c.target?.split(".")[0]));
    for (const property of Object.keys(shape.schema.properties ?? {})) {
      assert.ok(targets.has(property), `${shape.name}: argument ${property} never targeted`);
    }
    for (const c of cases) JSON.parse(c.argumentsJson.replace(/\b1e999\b/g, "0"));
  }
});

Deno.test("generated valid calls pass each tool's own input check, so they reach the handlers", () => {
  for (const shape of shapes()) {
    const rng = new Rng(3).fork(shape.name);
    let accepted = 0;
    for (let i = 0; i < 20; i++) {
      const c = generateCase(shape, "valid", rng, domain);
      if (c !== undefined && shape.input.safeParse(JSON.parse(c.argumentsJson)).success) {
        accepted++;
      }
    }
    assert.ok(accepted > 0, `${shape.name}: no generated valid call passed its input check`);
  }
});

Deno.test("the same seed generates the same cases, another seed others", () => {
  const shape = shapes().find((s) => s.name === "guest_list") as ToolShape;
  const run = (seed: number) =>
    coverageCases(shape, new Rng(seed), domain).map((c) => c.argumentsJson.slice(0, 200));
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
});

Deno.test("a pathological call puts a megabyte in up to three text arguments and stays under the wire's limit", () => {
  for (const shape of shapes()) {
    const c = pathologicalCase(shape, new Rng(2), domain, 0);
    assert.ok(c.argumentsJson.length < 4 * 1024 * 1024, `${shape.name}: ${c.argumentsJson.length}`);
  }
  const guestList = shapes().find((s) => s.name === "guest_list") as ToolShape;
  assert.ok(pathologicalCase(guestList, new Rng(2), domain, 0).argumentsJson.length > 3_000_000);
});

Deno.test("a refusal passes only as one line whose last sentence names the next step", () => {
  assert.equal(
    refusalProblem("No guest 999 in cluster lab: list the guests with guest_list."),
    undefined,
  );
  assert.equal(
    refusalProblem('Storage "x" does not exist: known storages are local, nas.'),
    undefined,
  );
  assert.equal(refusalProblem('Bad cloud_init: use e.g. "1.1.1.1 9.9.9.9".'), undefined);
  assert.match(refusalProblem("Bad name\nsecond line: fix it.") ?? "", /spans 2 lines/);
  assert.equal(refusalProblem('No storage series "x": a storage has used, total.'), undefined);
  assert.match(refusalProblem("The text is wrong.") ?? "", /does not end with a next step/);
  assert.match(refusalProblem("Arguments are wrong, sorry, really.") ?? "", /next step/);
  assert.match(
    refusalProblem('Cannot use API path "/x%09": segment "x%09" decodes to a control character.') ??
      "",
    /does not end with a next step/,
  );
  assert.match(refusalProblem(`Bad "${"x".repeat(2_000)}": fix it.`) ?? "", /characters long/);
  assert.match(refusalProblem("") ?? "", /empty/);
  assert.equal(
    refusalProblem("Task failed: bad. Fix the cause, then retry.\nTask log (last lines):\na\nb"),
    undefined,
  );
});

Deno.test("a JSON-RPC error passes only with an integer code and one bounded line", () => {
  assert.equal(rpcErrorProblem({ code: -32602, message: "Invalid params: no name" }), undefined);
  assert.match(rpcErrorProblem({ code: -32602, message: "a\nb" }) ?? "", /spans lines/);
  assert.match(rpcErrorProblem({ code: -1, message: "t".repeat(1_000) }) ?? "", /characters/);
  assert.match(rpcErrorProblem({ message: "x" }) ?? "", /integer code/);
});

Deno.test("traffic checks flag a 400, a path outside /api2/json and a write sent twice, not PVE's unknown task", () => {
  const request = (over: Partial<SimRequest>): SimRequest => ({
    seq: 1,
    method: "GET",
    path: "/version",
    query: {},
    body: {},
    status: 200,
    ...over,
  });
  assert.deepEqual(trafficProblems([request({})]), []);
  assert.deepEqual(
    trafficProblems([request({ status: 400, errors: { upid: "no such task" } })]),
    [],
  );
  const checks = trafficProblems([
    request({ status: 400, errors: { limit: "type check ('integer') failed" } }),
    request({ path: "/api2/extjs/version", status: 501 }),
    request({ method: "POST", path: "/nodes/pve1/qemu/100/status/start" }),
    request({ method: "POST", path: "/nodes/pve1/qemu/100/status/start" }),
  ]).map((problem) => problem.check);
  assert.deepEqual(checks, ["pve_400", "outside_api", "write_twice"]);
  const ping = request({ method: "POST", path: "/nodes/pve1/qemu/100/agent/ping" });
  assert.deepEqual(trafficProblems([ping, ping, ping]), [], "polling the agent is not a write");
});

Deno.test("retry advice is flagged only when the text does not say the outcome is unknown", () => {
  assert.equal(retryAdvice("Proxmox VE answered 503: try again in a moment."), true);
  assert.equal(
    retryAdvice("The outcome is unknown: check the guest before you retry."),
    false,
  );
  assert.equal(retryAdvice("VM 100 started."), false);
});

Deno.test("every malformed line is owed the reply JSON-RPC 2.0 gives it", () => {
  assert.equal(owedReply("{"), null);
  assert.equal(owedReply("[1]"), null);
  assert.equal(owedReply('{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}'), null);
  assert.equal(owedReply('{"jsonrpc":"2.0","id":1e999,"method":"ping"}'), null);
  assert.equal(owedReply('{"jsonrpc":"1.0","id":4,"method":"ping"}'), 4);
  assert.equal(owedReply('{"jsonrpc":"2.0","id":"a","method":""}'), "a");
  assert.equal(owedReply('{"jsonrpc":"2.0","method":"notifications/x"}'), undefined);
  assert.equal(owedReply('{"jsonrpc":"2.0","id":9,"result":{}}'), undefined);
  let id = 0;
  const lines = catalogLines(() => ++id);
  assert.ok(lines.length >= 40);
  assert.ok(lines.some((line) => line.why === "a blank line" && line.expect === undefined));
  const ids = lines.map((line) => line.expect).filter((e) => typeof e === "number");
  assert.equal(new Set(ids).size, ids.length, "no id is owed twice");
  const mutated = mutatedLine(new Rng(1), 77);
  assert.equal(mutated.expect, owedReply(mutated.line as string));
});
