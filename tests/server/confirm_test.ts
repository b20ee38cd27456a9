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

/** A modern session answering nothing by itself: the test plays the client's retries. */
async function manualModern() {
  return await connect({
    era: "modern",
    config: { policy: ALL },
    elicit: { action: "decline" },
    manualInputRequired: true,
  });
}

const ACCEPT = { confirm: { action: "accept", content: { confirm: true } } };

Deno.test("modern client: one confirmation runs the call once; replaying the answer asks again", async () => {
  const session = await manualModern();
  try {
    const before = handlerRuns.get("probe_destroy") ?? 0;
    const asked = await session.call("probe_destroy", { vmid: 105 }, { allowInputRequired: true });
    assert.equal(asked.resultType, "input_required");
    const state = asked.requestState;
    assert.equal(typeof state, "string");
    const retry = { inputResponses: ACCEPT, requestState: state };
    const first = await session.call("probe_destroy", { vmid: 105 }, {
      params: retry,
      allowInputRequired: true,
    });
    assert.equal(first.isError, undefined, textOf(first));
    assert.equal(handlerRuns.get("probe_destroy"), before + 1);
    const replayed = await session.call("probe_destroy", { vmid: 105 }, {
      params: retry,
      allowInputRequired: true,
    });
    assert.equal(replayed.resultType, "input_required", "a used answer must not confirm again");
    assert.notEqual(replayed.requestState, state);
    assert.equal(handlerRuns.get("probe_destroy"), before + 1);
    const outcomes = (await session.auditLines()).map((line) => line.outcome);
    assert.deepEqual(outcomes, ["ok"]);
  } finally {
    await session.close();
  }
});

Deno.test("modern client: an answer for one call does not confirm another target or tool", async () => {
  const session = await manualModern();
  try {
    const before = handlerRuns.get("probe_destroy") ?? 0;
    const asked = await session.call("probe_destroy", { vmid: 105 }, { allowInputRequired: true });
    const retry = { inputResponses: ACCEPT, requestState: asked.requestState };
    const other = await session.call("probe_destroy", { vmid: 106 }, {
      params: retry,
      allowInputRequired: true,
    });
    assert.equal(other.resultType, "input_required");
    const changedNote = await session.call("probe_destroy", { vmid: 105, note: "x" }, {
      params: retry,
      allowInputRequired: true,
    });
    assert.equal(changedNote.resultType, "input_required");
    assert.equal(handlerRuns.get("probe_destroy") ?? 0, before);
    assert.deepEqual(await session.auditLines(), []);
  } finally {
    await session.close();
  }
});

Deno.test("modern client: a tampered request state is not a confirmation", async () => {
  const session = await manualModern();
  try {
    const before = handlerRuns.get("probe_destroy") ?? 0;
    const asked = await session.call("probe_destroy", { vmid: 105 }, { allowInputRequired: true });
    const [payload, mac] = String(asked.requestState).split(".");
    const decoded = JSON.parse(atob(payload!.replaceAll("-", "+").replaceAll("_", "/")));
    decoded.exp += 3_600_000;
    const forged = btoa(JSON.stringify(decoded)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    for (const state of [`${forged}.${mac}`, `${payload}.${mac}x`, `${payload}`, ""]) {
      const result = await session.call("probe_destroy", { vmid: 105 }, {
        params: { inputResponses: ACCEPT, requestState: state },
        allowInputRequired: true,
      });
      assert.equal(result.resultType, "input_required", state);
    }
    assert.equal(handlerRuns.get("probe_destroy") ?? 0, before);
  } finally {
    await session.close();
  }
});

Deno.test("modern client: a confirmation state expires after ten minutes on the server's clock", async () => {
  let now = Date.parse("2026-12-01T10:00:00Z");
  const session = await connect({
    era: "modern",
    config: { policy: ALL },
    elicit: { action: "decline" },
    manualInputRequired: true,
    now: () => now,
  });
  try {
    const before = handlerRuns.get("probe_destroy") ?? 0;
    const asked = await session.call("probe_destroy", { vmid: 105 }, { allowInputRequired: true });
    const retry = { inputResponses: ACCEPT, requestState: asked.requestState };
    now += 10 * 60 * 1000 + 1;
    const late = await session.call("probe_destroy", { vmid: 105 }, {
      params: retry,
      allowInputRequired: true,
    });
    assert.equal(late.resultType, "input_required", "an expired answer must not confirm");
    assert.equal(handlerRuns.get("probe_destroy") ?? 0, before);
    // A fresh state, answered in time, confirms.
    const fresh = { inputResponses: ACCEPT, requestState: late.requestState };
    now += 9 * 60 * 1000;
    const inTime = await session.call("probe_destroy", { vmid: 105 }, {
      params: fresh,
      allowInputRequired: true,
    });
    assert.equal(inTime.isError, undefined, textOf(inTime));
    assert.equal(handlerRuns.get("probe_destroy"), before + 1);
  } finally {
    await session.close();
  }
});
