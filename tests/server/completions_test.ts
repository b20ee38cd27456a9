import assert from "node:assert/strict";
import { complete, MAX_COMPLETION_VALUES } from "../../src/server/completions.ts";
import { allTools } from "../../src/tools/mod.ts";
import { TOOLSETS } from "../../src/tools/toolsets.ts";
import type { CompletionRef } from "./_harness.ts";
import { openSession, type SimSession } from "../tools/_helpers.ts";

const EVERY_TOOLSET = TOOLSETS.map((t) => t.id);
const prompt = (name: string): CompletionRef => ({ type: "ref/prompt", name });
const template = (uri: string): CompletionRef => ({ type: "ref/resource", uri });

async function values(
  s: SimSession,
  ref: CompletionRef,
  name: string,
  value: string,
  filled?: Record<string, string>,
): Promise<{ values: string[]; total?: number; hasMore?: boolean }> {
  const { completion } = await s.surface.complete({
    ref,
    argument: { name, value },
    ...(filled === undefined ? {} : { context: { arguments: filled } }),
  });
  return completion;
}

async function resourceReads(s: SimSession, since: number): Promise<number> {
  return (await s.requests(since)).filter((r) => r.path.endsWith("/cluster/resources")).length;
}

for (const era of ["legacy", "modern"] as const) {
  Deno.test(`(${era} era) completions offer guest names and vmids, nodes, storages, snapshots of the given guest, UPIDs and fixed values`, async () => {
    const s = await openSession({ tools: allTools, era });
    try {
      const since = await s.mark();
      assert.deepEqual(await values(s, prompt("guest_wont_start"), "guest", "web"), {
        values: ["web01", "web02"],
        total: 2,
        hasMore: false,
      });
      // A name containing the text follows the names starting with it.
      assert.deepEqual(
        (await values(s, prompt("slow_guest"), "guest", "node")).values,
        ["k8s-node1", "k8s-node2"],
      );
      assert.deepEqual(
        (await values(s, prompt("slow_guest"), "guest", "10")).values,
        ["100", "101", "102", "103", "104", "105"],
      );
      const all = await values(s, prompt("slow_guest"), "guest", "");
      assert.equal(all.total, 24, "12 names and 12 vmids");
      assert.equal(all.values[0], "web01");
      assert.deepEqual(
        (await values(s, template("pve://lab/guests/{vmid}/config"), "vmid", "9")).values,
        ["9000"],
      );
      assert.deepEqual(
        (await values(s, prompt("node_upgrade_checklist"), "node", "PVE")).values,
        ["pve1", "pve2", "pve3"],
      );
      // Storages holding backups only, each once.
      assert.deepEqual(
        (await values(s, prompt("backup_audit"), "storage", "")).values,
        ["local", "nas", "pbs"],
      );
      assert.deepEqual(
        (await values(s, prompt("snapshot_rollback"), "snapshot", "pre", { guest: "db01" })).values,
        ["pre-upgrade", "pre-upgrade2"],
      );
      assert.deepEqual(
        (await values(s, prompt("snapshot_rollback"), "snapshot", "", { guest: "102" })).values,
        ["pre-upgrade", "pre-upgrade2"],
      );
      assert.deepEqual(
        (await values(s, prompt("snapshot_rollback"), "snapshot", "")).values,
        [],
        "no guest given yet: nothing to suggest",
      );
      assert.deepEqual(
        (await values(s, prompt("capacity_report"), "timeframe", "")).values,
        ["hour", "day", "week", "month", "year"],
      );
      assert.deepEqual(
        (await values(s, prompt("backup_audit"), "max_age_hours", "1")).values,
        ["168"],
      );
      assert.equal(await resourceReads(s, since), 1, "one inventory read for all of them");

      const started = await s.call("guest_start", { vmid: 204 });
      const upid = String(started.structuredContent?.upid);
      assert.deepEqual(
        (await values(s, template("pve://lab/tasks/{upid}/log"), "upid", "UPID:pve3")).values,
        [upid],
      );
      // Completing a static resource's URI: nothing to complete.
      assert.deepEqual(
        (await values(s, template("pve://lab/summary"), "anything", "")).values,
        [],
      );
    } finally {
      await s.close();
    }
  });
}

Deno.test("completions stay inside the scope: guests, nodes, storages and snapshots outside it are not offered", async () => {
  const s = await openSession({
    tools: allTools,
    config: { policy: { scope: { nodes: ["pve1"] } } },
  });
  try {
    assert.deepEqual(
      (await values(s, prompt("slow_guest"), "guest", "")).values,
      ["web01", "db01", "pihole", "debian12-tmpl", "100", "102", "200", "9000"],
    );
    assert.deepEqual((await values(s, prompt("capacity_report"), "node", "")).values, ["pve1"]);
    assert.deepEqual(
      (await values(s, prompt("backup_audit"), "storage", "")).values,
      ["local", "nas", "pbs"],
    );
    assert.deepEqual(
      (await values(s, template("pve://lab/guests/{vmid}/config"), "vmid", "10")).values,
      ["100", "102"],
    );
    assert.deepEqual(
      (await values(s, prompt("snapshot_rollback"), "snapshot", "", { guest: "102" })).values,
      ["pre-upgrade", "pre-upgrade2"],
    );
  } finally {
    await s.close();
  }
  const tagged = await openSession({
    tools: allTools,
    config: { policy: { scope: { tags: ["web"] } } },
  });
  try {
    assert.deepEqual(
      (await values(tagged, prompt("slow_guest"), "guest", "")).values,
      ["web01", "web02", "nginx-proxy", "100", "101", "201"],
    );
    const since = await tagged.mark();
    assert.deepEqual(
      (await values(tagged, prompt("snapshot_rollback"), "snapshot", "", { guest: "db01" }))
        .values,
      [],
      "db01 is outside the scope: its snapshots are not read",
    );
    assert.deepEqual(
      (await tagged.requests(since)).filter((r) => r.path.includes("/snapshot")),
      [],
    );
    await tagged.pve.post("/nodes/pve3/lxc/204/status/start");
    assert.deepEqual(
      (await values(tagged, template("pve://lab/tasks/{upid}/log"), "upid", "")).values,
      [],
      "a task on a guest outside the scope is not offered",
    );
  } finally {
    await tagged.close();
  }
});

Deno.test("a large inventory yields the first 100 values with hasMore and the total, from one inventory read", async () => {
  const s = await openSession({
    tools: allTools,
    sim: { seed: "scale", nodes: 4, guests: 400 },
  });
  try {
    const since = await s.mark();
    const first = await values(s, template("pve://lab/guests/{vmid}/config"), "vmid", "");
    assert.equal(first.values.length, MAX_COMPLETION_VALUES);
    assert.equal(first.hasMore, true);
    assert.equal(first.total, 400);
    for (const typed of ["1", "10", "100", "2"]) {
      const some = await values(s, template("pve://lab/guests/{vmid}/config"), "vmid", typed);
      assert.ok(some.values.every((v) => v.startsWith(typed)), typed);
      assert.equal(some.hasMore, (some.total ?? 0) > MAX_COMPLETION_VALUES);
    }
    assert.equal(await resourceReads(s, since), 1);
  } finally {
    await s.close();
  }
});

Deno.test("under a policy without the read class, completions read nothing from the cluster", async () => {
  const s = await openSession({
    tools: allTools,
    config: { policy: { allow: ["lifecycle"], toolsets: EVERY_TOOLSET } },
  });
  try {
    const since = await s.mark();
    assert.deepEqual(await values(s, prompt("guest_wont_start"), "guest", ""), {
      values: [],
      total: 0,
      hasMore: false,
    });
    assert.deepEqual(await s.requests(since), []);
  } finally {
    await s.close();
  }
});

Deno.test("completing an unknown prompt, template or argument is an invalid-params error naming the list to use", async () => {
  const s = await openSession({ tools: allTools });
  try {
    const cases: Array<[CompletionRef, string, RegExp]> = [
      [
        prompt("nope"),
        "guest",
        /^Unknown prompt "nope": prompts\/list names the prompts of this server\.$/,
      ],
      [
        prompt("slow_guest"),
        "colour",
        /^Prompt "slow_guest" has no argument "colour": use "guest", "timeframe"\.$/,
      ],
      [
        template("pve://lab/guests/{id}/config"),
        "id",
        /^No resource template "pve:\/\/lab\/guests\/\{id\}\/config": resources\/templates\/list names the templates of this server\.$/,
      ],
      [
        template("pve://lab/guests/{vmid}/config"),
        "node",
        /^The guest config template has no argument "node": use "vmid"\.$/,
      ],
    ];
    for (const [ref, name, message] of cases) {
      await assert.rejects(
        () => s.surface.complete({ ref, argument: { name, value: "" } }),
        (error: Error & { code?: number }) => {
          assert.equal(error.code, -32602);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  } finally {
    await s.close();
  }
});

Deno.test("a cluster that cannot be read yields no completions rather than an error on every keystroke", async () => {
  const s = await openSession({ tools: allTools, client: { retry: { attempts: 0 } } });
  try {
    await s.sim.close();
    assert.deepEqual(await values(s, prompt("slow_guest"), "guest", "w"), {
      values: [],
      total: 0,
      hasMore: false,
    });
  } finally {
    await s.close().catch(() => {});
  }
});

Deno.test("complete() puts prefix matches before name matches and numbers match by their start only", () => {
  assert.deepEqual(complete(["db-web", "web01", "1010", "2101"], "10").values, ["1010"]);
  assert.deepEqual(complete(["db-web", "web01", "Web02"], "WEB").values, [
    "web01",
    "Web02",
    "db-web",
  ]);
  const many = complete(Array.from({ length: 250 }, (_, i) => `g${i}`), "g");
  assert.deepEqual([many.values.length, many.total, many.hasMore], [100, 250, true]);
  assert.deepEqual(complete(["a", "a", "b"], "").values, ["a", "b"], "each value once");
});
