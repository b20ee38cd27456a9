import assert from "node:assert/strict";
import { configureLogging, resetLogging } from "../../src/log.ts";
import { connect, handlerRuns, textOf } from "./_harness.ts";

const ALL = { allow: ["read", "lifecycle", "change", "destroy", "exec", "raw"] };
const ERAS = ["legacy", "modern", "v1"] as const;

for (const era of ERAS) {
  Deno.test(`${era} client: the user's accept lets a destroy tool run`, async () => {
    const session = await connect({
      era,
      config: { policy: ALL },
      elicit: { action: "accept", content: { confirm: true } },
    });
    try {
      const before = handlerRuns.get("probe_destroy") ?? 0;
      const result = await session.call("probe_destroy", { vmid: 105 });
      assert.equal(result.isError, undefined, textOf(result));
      assert.deepEqual(result.structuredContent, { vmid: 105, done: true });
      assert.equal(handlerRuns.get("probe_destroy"), before + 1);
      assert.equal(session.elicitations.length, 1);
      const question = session.elicitations[0]!;
      assert.match(String(question.message), /Allow probe_destroy \(destroy\).*destroy VM 105/);
      const [line] = await session.auditLines();
      assert.equal(line?.outcome, "ok");
    } finally {
      await session.close();
    }
  });

  for (const action of ["decline", "cancel"] as const) {
    Deno.test(`${era} client: the user's ${action} changes nothing`, async () => {
      const session = await connect({ era, config: { policy: ALL }, elicit: { action } });
      try {
        const before = handlerRuns.get("probe_destroy") ?? 0;
        const result = await session.call("probe_destroy", { vmid: 105 });
        assert.equal(result.isError, true);
        assert.equal(textOf(result), "Not confirmed by the user: nothing was changed.");
        assert.equal(handlerRuns.get("probe_destroy") ?? 0, before);
        const [line] = await session.auditLines();
        assert.equal(line?.outcome, "denied");
      } finally {
        await session.close();
      }
    });
  }

  Deno.test(`${era} client: accept without ticking the box is not a confirmation`, async () => {
    const session = await connect({
      era,
      config: { policy: ALL },
      elicit: { action: "accept", content: { confirm: false } },
    });
    try {
      const result = await session.call("probe_destroy", { vmid: 105 });
      assert.equal(result.isError, true);
      assert.equal(textOf(result), "Not confirmed by the user: nothing was changed.");
    } finally {
      await session.close();
    }
  });

  Deno.test(`${era} client without elicitation: the deny fallback refuses and says how to fix it`, async () => {
    const session = await connect({ era, config: { policy: ALL } });
    try {
      const before = handlerRuns.get("probe_destroy") ?? 0;
      const result = await session.call("probe_destroy", { vmid: 105 });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /needs confirmation.*cannot ask the user.*"allow"/);
      assert.equal(handlerRuns.get("probe_destroy") ?? 0, before);
      const [line] = await session.auditLines();
      assert.equal(line?.outcome, "denied");
    } finally {
      await session.close();
    }
  });

  Deno.test(`${era} client without elicitation: the allow fallback runs the tool`, async () => {
    const session = await connect({
      era,
      config: { policy: { ...ALL, confirmation: { fallback: "allow" } } },
    });
    try {
      const result = await session.call("probe_destroy", { vmid: 105 });
      assert.equal(result.isError, undefined, textOf(result));
      assert.deepEqual(result.structuredContent, { vmid: 105, done: true });
    } finally {
      await session.close();
    }
  });
}

Deno.test("a dry run of a destroy tool asks nobody", async () => {
  const session = await connect({
    config: { policy: ALL },
    elicit: { action: "accept", content: { confirm: true } },
  });
  try {
    const result = await session.call("probe_destroy", { vmid: 105, dry_run: true });
    assert.equal(result.structuredContent?.dry_run, true);
    assert.equal(session.elicitations.length, 0);
  } finally {
    await session.close();
  }
});

Deno.test("a change tool needs no confirmation even when the client could ask", async () => {
  const session = await connect({
    era: "modern",
    config: { policy: ALL },
    elicit: { action: "decline" },
  });
  try {
    const result = await session.call("probe_change", { vmid: 105 });
    assert.equal(result.isError, undefined);
    assert.equal(session.elicitations.length, 0);
  } finally {
    await session.close();
  }
});

Deno.test("the eras are the ones asked for", async () => {
  const legacy = await connect({ era: "legacy" });
  const modern = await connect({ era: "modern" });
  try {
    assert.equal(legacy.protocolVersion, "2025-11-25");
    assert.equal(modern.protocolVersion, "2026-07-28");
  } finally {
    await legacy.close();
    await modern.close();
  }
});

Deno.test("modern client: an unsolicited accept in inputResponses is not a confirmation", async () => {
  const session = await connect({
    era: "modern",
    config: { policy: ALL },
    elicit: { action: "decline" },
  });
  try {
    const before = handlerRuns.get("probe_destroy") ?? 0;
    const result = await session.call("probe_destroy", { vmid: 105 }, {
      params: {
        inputResponses: { confirm: { action: "accept", content: { confirm: true } } },
        requestState: "forged.state",
      },
    });
    assert.equal(textOf(result), "Not confirmed by the user: nothing was changed.");
    assert.equal(session.elicitations.length, 1);
    assert.equal(handlerRuns.get("probe_destroy") ?? 0, before);
  } finally {
    await session.close();
  }
});

Deno.test("the allow fallback logs a loud warning naming the tool", async () => {
  const lines: string[] = [];
  await configureLogging({ level: "warning", write: (line) => lines.push(line) });
  const session = await connect({
    config: { policy: { ...ALL, confirmation: { fallback: "allow" } } },
  });
  try {
    await session.call("probe_destroy", { vmid: 105 });
    assert.ok(
      lines.some((line) =>
        /WITHOUT the user's confirmation/.test(line) && /probe_destroy/.test(line)
      ),
      lines.join(""),
    );
  } finally {
    await session.close();
    await resetLogging();
  }
});
