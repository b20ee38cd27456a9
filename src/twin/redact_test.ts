import assert from "node:assert/strict";
import { assertLinear, repeated } from "../../tests/_linear.ts";
import { TWIN_REDACTED } from "./format.ts";
import { isTwinSecretKey, Redactor, scrubText } from "./redact.ts";

Deno.test("secret names include PVE's own: cloud-init and storage secrets, not config key names", () => {
  for (const key of ["cipassword", "password", "tokenSecret", "encryption-key", "keyring", "otp"]) {
    assert.ok(isTwinSecretKey(key), key);
  }
  for (const key of ["key", "sshkeys", "description", "name", "fingerprint", "master-pubkey"]) {
    assert.ok(!isTwinSecretKey(key), key);
  }
});

Deno.test("free text loses private key blocks, whole or cut off, and values after secret words", () => {
  const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
  assert.equal(scrubText(`key:\n${pem}\nend`), `key:\n${TWIN_REDACTED}\nend`);
  assert.equal(
    scrubText("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn"),
    TWIN_REDACTED,
  );
  assert.equal(
    scrubText("db root password: hunter2 (ask Bob)"),
    "db root password: [redacted] (ask Bob)",
  );
  assert.equal(scrubText("wifi secret=abc;x"), "wifi secret=[redacted];x");
  assert.equal(scrubText("Debian 12 cloud image"), "Debian 12 cloud image");
  assert.equal(scrubText("ssh-ed25519 AAAAC3Nza user@host"), "ssh-ed25519 AAAAC3Nza user@host");
});

Deno.test("the redactor replaces secrets by name and in text, and counts where", () => {
  const r = new Redactor();
  const out = r.object("storages/pbs/config", {
    storage: "pbs",
    password: "s3cret",
    "encryption-key": '{"kdf":null}',
    comment: "token: abc123",
    empty: "",
  });
  assert.deepEqual(out, {
    storage: "pbs",
    password: TWIN_REDACTED,
    "encryption-key": TWIN_REDACTED,
    comment: `token: ${TWIN_REDACTED}`,
    empty: "",
  });
  assert.equal(r.count, 3);
  assert.deepEqual(r.where, [
    "storages/pbs/config/password",
    "storages/pbs/config/encryption-key",
    "storages/pbs/config/comment",
  ]);
});

Deno.test("a URL-encoded private key (cloud-init sshkeys) is replaced whole", () => {
  const r = new Redactor();
  const encoded = encodeURIComponent(
    "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
  );
  assert.equal(r.value("guests/9000/config/sshkeys", "sshkeys", encoded), TWIN_REDACTED);
  const publicKey = encodeURIComponent("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 admin@laptop");
  assert.equal(r.value("guests/9000/config/sshkeys", "sshkeys", publicKey), publicKey);
  assert.equal(r.count, 1);
});

Deno.test("scrubText takes linear time on 1 MB of the shapes its own patterns look for", () => {
  const shapes = [
    "password",
    "password:",
    "password: ",
    "secret=",
    "token ",
    "a-",
    "-----BEGIN ",
    "-----BEGIN A PRIVATE KEY-----",
    "-----BEGIN A PRIVATE KEY-----\n-----END B PRIVATE KEY-----",
    "PRIVATE KEY-----",
  ].map((unit) => repeated(unit, "\u0001"));
  assertLinear("scrubText", scrubText, shapes);
});
