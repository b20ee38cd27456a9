import assert from "node:assert/strict";
import { PolicyError } from "./errors.ts";
import { assertInScope, inScope, parseVmidRanges, type Scope, type ScopeTarget } from "./scope.ts";

Deno.test("parseVmidRanges reads single VMIDs and inclusive ranges", () => {
  assert.deepEqual(parseVmidRanges(["100-199", "250", " 300 - 301 "]), [
    { from: 100, to: 199 },
    { from: 250, to: 250 },
    { from: 300, to: 301 },
  ]);
  assert.deepEqual(parseVmidRanges([]), []);
});

Deno.test("parseVmidRanges rejects bad input with a message naming the value", () => {
  const cases: [string, string][] = [
    ["abc", 'Invalid vmid range "abc": expected "100" or "100-199"'],
    ["100-", 'Invalid vmid range "100-": expected "100" or "100-199"'],
    ["-5", 'Invalid vmid range "-5": expected "100" or "100-199"'],
    ["1.5", 'Invalid vmid range "1.5": expected "100" or "100-199"'],
    ["", 'Invalid vmid range "": expected "100" or "100-199"'],
    ["99", 'Invalid vmid range "99": expected VM IDs between 100 and 999999999'],
    [
      "100-1000000000",
      'Invalid vmid range "100-1000000000": expected VM IDs between 100 and 999999999',
    ],
    [
      "200-100",
      'Invalid vmid range "200-100": expected the start (200) to be at most the end (100)',
    ],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseVmidRanges([input]), { name: "RangeError", message });
  }
});

const guest: ScopeTarget = { vmid: 150, node: "pve1", pool: "lab", tags: ["web", "Prod"] };

Deno.test("scope semantics: every configured dimension must match, unset means unrestricted", () => {
  const table: [string, Scope, ScopeTarget, boolean][] = [
    ["empty scope allows everything", {}, guest, true],
    ["empty scope allows a bare target", {}, {}, true],
    ["empty lists restrict nothing", { nodes: [], vmids: [], pools: [], tags: [] }, guest, true],
    ["node listed", { nodes: ["pve1", "pve2"] }, guest, true],
    ["node not listed", { nodes: ["pve2"] }, guest, false],
    ["vmid inside a range", { vmids: ["100-199"] }, guest, true],
    ["vmid equals a single id", { vmids: ["150"] }, guest, true],
    ["vmid on a range edge", { vmids: ["120-150"] }, guest, true],
    ["vmid outside every range", { vmids: ["200-299", "105"] }, guest, false],
    ["pool listed", { pools: ["lab"] }, guest, true],
    ["pool not listed", { pools: ["prod"] }, guest, false],
    ["guest without a pool under a pool rule", { pools: ["lab"] }, { vmid: 150 }, false],
    ["any one tag matches", { tags: ["db", "web"] }, guest, true],
    ["tags match case-insensitively", { tags: ["prod"] }, guest, true],
    ["no tag matches", { tags: ["db"] }, guest, false],
    ["guest without tags under a tag rule", { tags: ["web"] }, { vmid: 150 }, false],
    ["node-level target under a vmid rule", { vmids: ["100-199"] }, { node: "pve1" }, false],
    ["node-level target under a node rule", { nodes: ["pve1"] }, { node: "pve1" }, true],
    [
      "all dimensions match",
      { nodes: ["pve1"], vmids: ["100-199"], pools: ["lab"], tags: ["web"] },
      guest,
      true,
    ],
    [
      "one dimension fails the whole scope",
      { nodes: ["pve1"], vmids: ["100-199"], pools: ["lab"], tags: ["db"] },
      guest,
      false,
    ],
  ];
  for (const [label, scope, target, expected] of table) {
    assert.equal(inScope(target, scope), expected, label);
  }
});

Deno.test("assertInScope refuses without saying which rule refused", () => {
  assert.doesNotThrow(() => assertInScope(guest, { vmids: ["100-199"] }));
  assert.throws(
    () => assertInScope(guest, { nodes: ["secret-node"], vmids: ["900-999"] }),
    (thrown: unknown) => {
      assert.ok(thrown instanceof PolicyError);
      assert.equal(thrown.name, "PolicyError");
      assert.equal(thrown.reason, "scope");
      assert.equal(
        thrown.message,
        "Guest 150 is outside the scope this server may act on: choose a target inside the " +
          "configured scope, or ask the administrator to widen policy.scope",
      );
      assert.equal(thrown.message.includes("secret-node"), false);
      assert.equal(thrown.message.includes("900"), false);
      return true;
    },
  );
  assert.throws(() => assertInScope({ node: "pve9" }, { nodes: ["pve1"] }), {
    message: /^Node "pve9" is outside the scope/,
  });
});
