import assert from "node:assert/strict";
import {
  annotationsFor,
  CAPABILITIES,
  type Capability,
  isCapability,
  needsConfirmation,
} from "./capability.ts";

Deno.test("capability classes run from harmless to dangerous", () => {
  assert.deepEqual([...CAPABILITIES], ["read", "lifecycle", "change", "destroy", "exec", "raw"]);
});

Deno.test("annotationsFor gives each class its truthful MCP annotations", () => {
  const table: [Capability, boolean, boolean][] = [
    ["read", true, false],
    ["lifecycle", false, false],
    ["change", false, false],
    ["destroy", false, true],
    ["exec", false, true],
    ["raw", false, true],
  ];
  for (const [capability, readOnlyHint, destructiveHint] of table) {
    assert.deepEqual(
      annotationsFor(capability),
      { readOnlyHint, destructiveHint, openWorldHint: true },
      capability,
    );
  }
});

Deno.test("annotationsFor returns a fresh object each time", () => {
  const first = annotationsFor("read");
  first.readOnlyHint = false;
  assert.equal(annotationsFor("read").readOnlyHint, true);
});

Deno.test("destroy, exec and raw need confirmation and the others do not", () => {
  assert.deepEqual(
    CAPABILITIES.filter((capability) => needsConfirmation(capability)),
    ["destroy", "exec", "raw"],
  );
});

Deno.test("a tool's confirm flag adds confirmation to a class that has none, and never removes it", () => {
  assert.equal(needsConfirmation({ capability: "change", confirm: true }), true);
  assert.equal(needsConfirmation({ capability: "lifecycle", confirm: true }), true);
  assert.equal(needsConfirmation({ capability: "change" }), false);
  assert.equal(needsConfirmation({ capability: "change", confirm: false }), false);
  assert.equal(needsConfirmation({ capability: "destroy", confirm: false }), true);
});

Deno.test("isCapability recognises class names only", () => {
  assert.equal(isCapability("destroy"), true);
  assert.equal(isCapability("delete"), false);
});
