import assert from "node:assert/strict";
import { encodeParams } from "./encode.ts";
import { PveValidationError } from "./errors.ts";

Deno.test("parameters are form-encoded with 0/1 booleans and repeated keys for arrays", () => {
  const encoded = encodeParams({
    start: true,
    force: false,
    vmid: 100,
    command: ["ls", "-l"],
    name: "web 01&x",
    skipped: undefined,
    alsoSkipped: null,
  });
  assert.equal(
    encoded.toString(),
    "start=1&force=0&vmid=100&command=ls&command=-l&name=web+01%26x",
  );
  assert.equal(encodeParams(undefined).toString(), "");
});

Deno.test("values PVE cannot take are refused before sending", () => {
  assert.throws(() => encodeParams({ net0: { bridge: "vmbr0" } }), PveValidationError);
  assert.throws(() => encodeParams({ cores: Number.POSITIVE_INFINITY }), PveValidationError);
});
