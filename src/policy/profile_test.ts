import assert from "node:assert/strict";
import { configSchema, sha256Hex } from "../config/mod.ts";
import {
  constantTimeEqual,
  localProfile,
  profileForClaims,
  profileForToken,
  profilesFromConfig,
  tokenScopes,
} from "./profile.ts";

async function config() {
  return configSchema.parse({
    policy: {
      allow: ["read", "lifecycle"],
      scope: { vmids: ["100-199"] },
      exclude: ["guest_stop"],
    },
    http: { rateLimit: { calls: { perMinute: 10, burst: 5 } } },
    profiles: {
      ops: {
        tokenSha256: [await sha256Hex("ops-one"), await sha256Hex("ops-two")],
        policy: { allow: ["read", "lifecycle", "change"] },
        oauth: { scopes: ["proxmox:ops"], claims: { groups: "admins" } },
      },
      viewer: {
        tokenSha256: [await sha256Hex("viewer")],
        policy: { allow: ["read"], scope: { nodes: ["pve1"] } },
        rateLimit: { calls: { perMinute: 1, burst: 1 } },
        oauth: { scopes: ["proxmox:read"] },
      },
    },
  });
}

Deno.test("a profile's policy keys replace the top-level keys; the others are inherited", async () => {
  const [ops, viewer] = profilesFromConfig(await config());
  assert.deepEqual(ops?.config.policy.allow, ["read", "lifecycle", "change"]);
  assert.deepEqual(ops?.config.policy.scope, { vmids: ["100-199"] });
  assert.deepEqual(ops?.config.policy.exclude, ["guest_stop"]);
  assert.deepEqual(viewer?.config.policy.scope, { nodes: ["pve1"] });
  assert.deepEqual(viewer?.rateLimit.calls, { perMinute: 1, burst: 1 });
  assert.deepEqual(
    ops?.rateLimit.calls,
    { perMinute: 10, burst: 5 },
    "http.rateLimit is the default",
  );
  assert.equal(localProfile(await config()).name, "local");
});

Deno.test("a bearer token finds its profile by digest; an unknown one finds none", async () => {
  const profiles = profilesFromConfig(await config());
  assert.equal((await profileForToken(profiles, "ops-two"))?.name, "ops");
  assert.equal((await profileForToken(profiles, "viewer"))?.name, "viewer");
  assert.equal(await profileForToken(profiles, "viewer "), undefined);
  assert.equal(await profileForToken(profiles, ""), undefined);
});

Deno.test("constant-time comparison is exact", () => {
  const a = new Uint8Array([1, 2, 3]);
  assert.equal(constantTimeEqual(a, new Uint8Array([1, 2, 3])), true);
  assert.equal(constantTimeEqual(a, new Uint8Array([1, 2, 4])), false);
  assert.equal(constantTimeEqual(a, new Uint8Array([1, 2])), false);
  assert.equal(constantTimeEqual(a, new Uint8Array([])), false);
});

Deno.test("OAuth claims map to the first profile whose scopes and claims they satisfy", async () => {
  const profiles = profilesFromConfig(await config());
  assert.deepEqual(tokenScopes({ scope: "a  b", scp: ["c", 1] }), ["a", "b", "c"]);
  assert.equal(
    profileForClaims(profiles, { scope: "proxmox:ops", groups: ["admins", "x"] })?.name,
    "ops",
  );
  assert.equal(
    profileForClaims(profiles, { scope: "proxmox:ops proxmox:read", groups: "users" })?.name,
    "viewer",
  );
  assert.equal(profileForClaims(profiles, { scp: ["proxmox:ops"] }), undefined);
});
