import assert from "node:assert/strict";
import { CAPABILITIES, type Capability } from "../../src/policy/capability.ts";
import {
  PromptError,
  promptOffered,
  PROMPTS,
  type PromptSession,
  renderPrompt,
  type ToolFacts,
} from "../../src/server/prompts.ts";
import { allTools } from "../../src/tools/mod.ts";
import { TOOLSETS } from "../../src/tools/toolsets.ts";
import { connect } from "./_harness.ts";

const EVERYTHING = {
  policy: {
    allow: [...CAPABILITIES],
    toolsets: TOOLSETS.map((t) => t.id),
    confirmation: { fallback: "allow" },
  },
};

/** Arguments that fill every argument of every prompt. */
const FULL_ARGS: Record<string, Record<string, string>> = {
  guest_wont_start: { guest: "web01" },
  node_upgrade_checklist: { node: "pve1" },
  capacity_report: { node: "pve2", timeframe: "month" },
  backup_audit: { max_age_hours: "24", storage: "pbs" },
  slow_guest: { guest: "102", timeframe: "hour" },
  snapshot_rollback: { guest: "db01", snapshot: "pre-upgrade" },
};

/** The drain workflow tool, landing separately; prompts must work with and without it. */
const NODE_DRAIN: [string, ToolFacts] = ["node_drain", {
  toolset: "workflows",
  capability: "change",
}];

const KNOWN = new Map<string, ToolFacts>([
  ...allTools.map((tool): [string, ToolFacts] => [tool.name, tool]),
  NODE_DRAIN,
]);

/** Tool names named in a text (every tool this server may know). */
function toolsIn(text: string): string[] {
  return [...KNOWN.keys()].filter((name) => new RegExp(`\\b${name}\\b`).test(text));
}

function session(
  allow: readonly Capability[],
  toolsets: readonly string[],
  options: { exclude?: string[]; known?: ReadonlyMap<string, ToolFacts>; clusters?: string[] } = {},
): PromptSession {
  const known = options.known ?? KNOWN;
  const exclude = options.exclude ?? [];
  const offered = new Set(
    [...known].filter(([name, tool]) =>
      allow.includes(tool.capability) && toolsets.includes(tool.toolset) && !exclude.includes(name)
    ).map(([name]) => name),
  );
  return {
    offered,
    known,
    policy: { allow, toolsets, exclude },
    clusters: options.clusters ?? ["lab"],
  };
}

function textOf(rendered: { messages: Array<{ content: { text: string } }> }): string {
  return rendered.messages.map((m) => m.content.text).join("\n");
}

for (const era of ["legacy", "modern"] as const) {
  Deno.test(`(${era} era) prompts/list names the six procedures with their arguments, and each renders with its arguments`, async () => {
    const s = await connect({ era, tools: allTools, config: EVERYTHING });
    try {
      assert.deepEqual(s.protocolVersion, era === "legacy" ? "2025-11-25" : "2026-07-28");
      const { prompts } = await s.surface.listPrompts();
      assert.deepEqual(prompts.map((p) => p.name), [
        "guest_wont_start",
        "node_upgrade_checklist",
        "capacity_report",
        "backup_audit",
        "slow_guest",
        "snapshot_rollback",
      ]);
      const rollback = prompts.find((p) => p.name === "snapshot_rollback");
      assert.deepEqual(rollback?.arguments?.map((a) => [a.name, a.required]), [
        ["guest", true],
        ["snapshot", true],
      ]);
      for (const prompt of prompts) {
        assert.ok((prompt.title ?? "").length > 5, prompt.name);
        assert.ok((prompt.description ?? "").length > 40, prompt.name);
        const args = FULL_ARGS[prompt.name] ?? {};
        assert.deepEqual(
          Object.keys(args).sort(),
          (prompt.arguments ?? []).map((a) => a.name).sort(),
          `${prompt.name}: the test fills every argument`,
        );
        const rendered = await s.surface.getPrompt({ name: prompt.name, arguments: args });
        assert.equal(rendered.description, prompt.title);
        assert.equal(rendered.messages.length, 1);
        assert.equal(rendered.messages[0]?.role, "user");
        const text = rendered.messages[0]?.content.text ?? "";
        assert.match(text, /Steps, in order:\n1\. /);
        assert.doesNotMatch(text, /Left out/, `${prompt.name}: every tool is offered here`);
        for (const value of Object.values(args)) assert.ok(text.includes(value), `${value} used`);
      }
      const slow = textOf(
        await s.surface.getPrompt({ name: "slow_guest", arguments: { guest: "102" } }) as {
          messages: Array<{ content: { text: string } }>;
        },
      );
      assert.match(slow, /guest_get \{"vmid":102\}/);
      assert.match(slow, /metrics_get \{"vmid":102,"timeframe":"day"\}/, "the default timeframe");
      const start = textOf(
        await s.surface.getPrompt({
          name: "guest_wont_start",
          arguments: { guest: "web01" },
        }) as { messages: Array<{ content: { text: string } }> },
      );
      assert.match(start, /guest_get \{"name":"web01"\}.*\n.*task_list.*task_get/);
      assert.match(start, /Only after I agree .*guest_start \{"name":"web01"\}/);
    } finally {
      await s.close();
    }
  });
}

Deno.test("a rendered prompt never names a tool the session does not offer, whatever the classes and toolsets", () => {
  const classSets: Capability[][] = [["read"], ["read", "lifecycle"], ["read", "change"], [
    ...CAPABILITIES,
  ], ["lifecycle"]];
  const toolsetSets = [
    ...TOOLSETS.map((t) => [t.id]),
    TOOLSETS.filter((t) => t.default).map((t) => t.id),
    TOOLSETS.map((t) => t.id),
  ];
  let rendered = 0;
  for (const allow of classSets) {
    for (const toolsets of toolsetSets) {
      for (const known of [KNOWN, new Map([...KNOWN].filter(([name]) => name !== "node_drain"))]) {
        const s = session(allow, toolsets, { known });
        for (const spec of PROMPTS) {
          for (
            const args of [FULL_ARGS[spec.name] ?? {}, {
              guest: "100",
              node: "pve1",
              snapshot: "s1",
            }]
          ) {
            const relevant = Object.fromEntries(
              Object.entries(args).filter(([key]) => spec.arguments.some((a) => a.name === key)),
            );
            let text: string;
            try {
              text = textOf(renderPrompt(spec.name, relevant, s));
            } catch (error) {
              // Unlisted here: none of its tools is offered, and it says so.
              assert.ok(error instanceof PromptError);
              assert.ok(!promptOffered(spec, s.offered), `${spec.name} is refused only unlisted`);
              continue;
            }
            rendered++;
            const hidden = toolsIn(text).filter((tool) => !s.offered.has(tool));
            assert.deepEqual(hidden, [], `${spec.name} under ${allow} / ${toolsets}`);
          }
        }
      }
    }
  }
  assert.ok(rendered > 200, `${rendered} renderings checked`);
});

Deno.test("a step whose tools are hidden is left out with what to enable, naming no hidden tool", () => {
  const defaults = session(["read"], TOOLSETS.filter((t) => t.default).map((t) => t.id));
  const audit = textOf(renderPrompt("backup_audit", {}, defaults));
  assert.match(
    audit,
    /Left out, because this server does not offer the tools for them \(say so in the report\):\n- Guests without a recent backup: enable the "backup" toolset \(policy\.toolsets\)\./,
  );
  assert.match(audit, /1\. task_list \{"type":"vzdump","errors":true\}/);

  const upgrade = textOf(renderPrompt("node_upgrade_checklist", { node: "pve2" }, defaults));
  assert.match(
    upgrade,
    /- A drain plan \(dry run\): allow the "change" class \(policy\.allow\) and enable the "workflows" toolset \(policy\.toolsets\)\./,
  );
  assert.deepEqual(toolsIn(upgrade).sort(), ["cluster_health", "node_get"]);

  const excluded = session(["read", "lifecycle"], TOOLSETS.map((t) => t.id), {
    exclude: ["guest_start"],
  });
  const start = textOf(renderPrompt("guest_wont_start", { guest: "101" }, excluded));
  assert.match(
    start,
    /- Starting the guest once the cause is fixed: lift its exclusion \(policy\.exclude\)\./,
  );
  assert.doesNotMatch(start, /guest_start/);
});

Deno.test("the drain plan uses node_drain with dry_run when offered, else guest_migrate per guest with dry_run", () => {
  const all = TOOLSETS.map((t) => t.id);
  const withDrain = textOf(
    renderPrompt("node_upgrade_checklist", { node: "pve1" }, session(["read", "change"], all)),
  );
  assert.match(withDrain, /node_drain \{"node":"pve1","dry_run":true\}/);
  assert.doesNotMatch(withDrain, /guest_migrate/);

  const noWorkflows = textOf(
    renderPrompt(
      "node_upgrade_checklist",
      { node: "pve1" },
      session(["read", "change"], all.filter((id) => id !== "workflows")),
    ),
  );
  assert.doesNotMatch(noWorkflows, /node_drain/);
  assert.match(
    noWorkflows,
    /guest_list \{"node":"pve1","status":"running"\}, then guest_migrate \{"vmid":"<vmid>","target_node":"<node>","dry_run":true\} for each running guest/,
  );

  // A server without the drain tool at all (it lands separately) says the same.
  const withoutTool = new Map([...KNOWN].filter(([name]) => name !== "node_drain"));
  const fallback = textOf(
    renderPrompt(
      "node_upgrade_checklist",
      { node: "pve1" },
      session(["read", "change"], all, { known: withoutTool }),
    ),
  );
  assert.equal(fallback, noWorkflows);
});

Deno.test("with several clusters a prompt takes a cluster argument and every call names the cluster", async () => {
  const cluster = { url: "http://127.0.0.1:9", tokenId: "root@pam!mcp", tokenSecret: "secret-two" };
  const s = await connect({
    tools: allTools,
    config: { ...EVERYTHING, clusters: { lab: cluster, prod: cluster } },
  });
  try {
    const { prompts } = await s.surface.listPrompts();
    for (const prompt of prompts) {
      assert.deepEqual(prompt.arguments?.at(-1), {
        name: "cluster",
        description: "The cluster (default: the first configured)",
        required: false,
      });
    }
    const rendered = await s.surface.getPrompt({
      name: "capacity_report",
      arguments: { cluster: "prod" },
    });
    const text = rendered.messages[0]?.content.text ?? "";
    assert.match(text, /Work on cluster "prod"\./);
    const calls = [...text.matchAll(/\b([a-z]+_[a-z_]+)( \{[^}]*\})?/g)]
      .filter((m) => KNOWN.has(m[1] ?? ""));
    assert.ok(calls.length >= 6);
    for (const call of calls) assert.match(call[2] ?? "", /"cluster":"prod"/, call[0]);
    const first = await s.surface.getPrompt({ name: "capacity_report", arguments: {} });
    assert.match(first.messages[0]?.content.text ?? "", /Work on cluster "lab"\./);
  } finally {
    await s.close();
  }
});

Deno.test("prompts/get refuses an unknown prompt, an unknown or missing argument and a malformed value in one sentence", async () => {
  const s = await connect({ tools: allTools, config: EVERYTHING });
  try {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        "no_such_prompt",
        {},
        /^Unknown prompt "no_such_prompt": use one of "guest_wont_start", .*"snapshot_rollback"\.$/,
      ],
      [
        "slow_guest",
        { guest: "100", colour: "red" },
        /^Prompt "slow_guest" has no argument "colour": use "guest", "timeframe"\.$/,
      ],
      [
        "snapshot_rollback",
        { guest: "100" },
        /^Prompt "snapshot_rollback" needs the argument "snapshot": the snapshot to roll back to\.$/,
      ],
      [
        "guest_wont_start",
        { guest: "web 01; rm -rf /" },
        /^Prompt "guest_wont_start": argument "guest" must be a vmid \(100 to 999999999\) or a guest name .*, got "web 01; rm -rf \/"\.$/,
      ],
      [
        "capacity_report",
        { timeframe: "fortnight" },
        /argument "timeframe" must be hour, day, week, month or year, got "fortnight"\.$/,
      ],
      [
        "backup_audit",
        { max_age_hours: "0" },
        /argument "max_age_hours" must be a whole number of hours from 1 to 87600, got "0"\.$/,
      ],
    ];
    for (const [name, args, message] of cases) {
      await assert.rejects(
        () => s.surface.getPrompt({ name, arguments: args }),
        (error: Error & { code?: number }) => {
          assert.equal(error.code, -32602, name);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  } finally {
    await s.close();
  }
});

Deno.test("a prompt none of whose tools the session offers is not listed and cannot be rendered", async () => {
  const s = await connect({
    tools: allTools,
    config: { policy: { allow: ["read"], toolsets: ["api"] } },
  });
  try {
    assert.deepEqual((await s.surface.listPrompts()).prompts, []);
    await assert.rejects(
      () => s.surface.getPrompt({ name: "capacity_report" }),
      /Unknown prompt "capacity_report": this server offers no prompts under its policy\./,
    );
  } finally {
    await s.close();
  }
  const backupOnly = await connect({
    tools: allTools,
    config: { policy: { allow: ["read"], toolsets: ["backup"] } },
  });
  try {
    assert.deepEqual(
      (await backupOnly.surface.listPrompts()).prompts.map((p) => p.name),
      ["node_upgrade_checklist", "backup_audit"],
    );
  } finally {
    await backupOnly.close();
  }
});
