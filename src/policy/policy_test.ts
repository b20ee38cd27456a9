import assert from "node:assert/strict";
import {
  assertToolAllowed,
  confirmationError,
  confirmationMode,
  explainToolHidden,
  PolicyError,
  type PolicyRules,
  type PolicyTool,
  toolVisible,
} from "./policy.ts";

const guestStop: PolicyTool = { name: "guest_stop", toolset: "lifecycle", capability: "destroy" };
const guestList: PolicyTool = { name: "guest_list", toolset: "inventory", capability: "read" };

Deno.test("the default policy shows read tools and hides everything else", () => {
  const policy: PolicyRules = { allow: ["read"] };
  assert.equal(toolVisible(guestList, policy), true);
  assert.equal(toolVisible(guestStop, policy), false);
});

Deno.test("a class that is not allowed is refused with the fix", () => {
  const error = explainToolHidden(guestStop, { allow: ["read", "lifecycle"] });
  assert.ok(error instanceof PolicyError);
  assert.equal(error.reason, "class");
  assert.equal(
    error.message,
    'Tool "guest_stop" needs capability "destroy", which this server does not allow: add ' +
      '"destroy" to policy.allow (or PROXMOX_MCP_ALLOW) if you want to permit it',
  );
});

Deno.test("a disabled toolset is refused with the fix", () => {
  const error = explainToolHidden(guestStop, { allow: ["destroy"], toolsets: ["inventory"] });
  assert.equal(error?.reason, "toolset");
  assert.equal(
    error?.message,
    'Tool "guest_stop" belongs to toolset "lifecycle", which is not enabled: add "lifecycle" ' +
      "to policy.toolsets (or PROXMOX_MCP_TOOLSETS) to enable it",
  );
});

Deno.test("an excluded tool is refused with the fix", () => {
  const error = explainToolHidden(guestStop, { allow: ["destroy"], exclude: ["guest_stop"] });
  assert.equal(error?.reason, "excluded");
  assert.match(error?.message ?? "", /^Tool "guest_stop" is excluded by policy.exclude/);
});

Deno.test("refusals follow the order class, then toolset, then exclusion", () => {
  const all: PolicyRules = { allow: ["read"], toolsets: ["inventory"], exclude: ["guest_stop"] };
  assert.equal(explainToolHidden(guestStop, all)?.reason, "class");
  assert.equal(explainToolHidden(guestStop, { ...all, allow: ["destroy"] })?.reason, "toolset");
  assert.equal(
    explainToolHidden(guestStop, { ...all, allow: ["destroy"], toolsets: ["lifecycle"] })?.reason,
    "excluded",
  );
  assert.equal(
    explainToolHidden(guestStop, { allow: ["destroy"], toolsets: ["lifecycle"], exclude: [] }),
    undefined,
  );
});

Deno.test("unset toolsets enable every toolset and an empty list enables none", () => {
  assert.equal(toolVisible(guestList, { allow: ["read"] }), true);
  assert.equal(toolVisible(guestList, { allow: ["read"], toolsets: [] }), false);
});

Deno.test("assertToolAllowed throws the same refusal", () => {
  assert.throws(() => assertToolAllowed(guestStop, { allow: ["read"] }), {
    name: "PolicyError",
    reason: "class",
  });
  assert.doesNotThrow(() => assertToolAllowed(guestList, { allow: ["read"] }));
});

Deno.test("confirmationMode asks when it can and otherwise follows the fallback", () => {
  const deny = { fallback: "deny" } as const;
  const allow = { fallback: "allow" } as const;
  assert.equal(confirmationMode("read", { canElicit: false, rules: deny }), "none");
  assert.equal(confirmationMode("change", { canElicit: true, rules: deny }), "none");
  assert.equal(confirmationMode("destroy", { canElicit: true, rules: deny }), "elicit");
  assert.equal(confirmationMode("exec", { canElicit: false, rules: deny }), "deny");
  assert.equal(confirmationMode("raw", { canElicit: false, rules: allow }), "allow");
  const drain = { capability: "change" as const, confirm: true };
  assert.equal(confirmationMode(drain, { canElicit: true, rules: deny }), "elicit");
  assert.equal(confirmationMode(drain, { canElicit: false, rules: deny }), "deny");
});

Deno.test("confirmation refusals say what happened and what to do", () => {
  const declined = confirmationError("guest_delete", "declined");
  assert.equal(declined.reason, "confirmation");
  assert.match(declined.message, /^The user did not confirm "guest_delete": nothing was changed/);
  const unavailable = confirmationError("guest_delete", "unavailable");
  assert.equal(unavailable.reason, "confirmation");
  assert.match(unavailable.message, /PROXMOX_MCP_CONFIRM_FALLBACK=allow/);
});
