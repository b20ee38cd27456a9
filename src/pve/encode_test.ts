import assert from "node:assert/strict";
import { ARRAY_PARAMS, encodeParams, isArrayParam, LIST_PARAMS } from "./encode.ts";
import { PveValidationError } from "./errors.ts";
import { pveSchema } from "../schema/mod.ts";

Deno.test("parameters are form-encoded with 0/1 booleans, omitting undefined and null", () => {
  const encoded = encodeParams({
    start: true,
    force: false,
    vmid: 100,
    name: "web 01&x",
    skipped: undefined,
    alsoSkipped: null,
  });
  assert.equal(encoded.toString(), "start=1&force=0&vmid=100&name=web+01%26x");
  assert.equal(encodeParams(undefined).toString(), "");
});

Deno.test("an array-typed parameter goes as repeated keys (agent exec command)", () => {
  const encoded = encodeParams(
    { command: ["ls", "-l", "/tmp"] },
    { method: "POST", path: "/nodes/pve1/qemu/100/agent/exec" },
  );
  assert.equal(encoded.toString(), "command=ls&command=-l&command=%2Ftmp");
});

Deno.test("a -list parameter's array goes as one comma-separated value", () => {
  assert.equal(
    encodeParams({ vmid: [100, 101], mode: "snapshot" }, {
      method: "POST",
      path: "/nodes/pve1/vzdump",
    }).toString(),
    "vmid=100%2C101&mode=snapshot",
  );
  assert.equal(
    encodeParams({ delete: ["description", "tags"] }, {
      method: "PUT",
      path: "/nodes/pve1/qemu/100/config",
    }).toString(),
    "delete=description%2Ctags",
  );
  // A string stays as the caller wrote it; an empty list sends nothing.
  assert.equal(encodeParams({ delete: "net1,tags", tags: [] }).toString(), "delete=net1%2Ctags");
});

Deno.test("the same name is a list or an array depending on the endpoint", () => {
  assert.equal(
    encodeParams({ delete: ["comment", "mailto"] }, {
      method: "PUT",
      path: "/cluster/notifications/endpoints/smtp/mail1",
    }).toString(),
    "delete=comment&delete=mailto",
  );
  assert.equal(
    encodeParams({ delete: ["comment", "mailto"] }, {
      method: "PUT",
      path: "/nodes/pve1/lxc/200/config",
    }).toString(),
    "delete=comment%2Cmailto",
  );
});

Deno.test("values PVE cannot take are refused before sending", () => {
  assert.throws(() => encodeParams({ net0: { bridge: "vmbr0" } }), PveValidationError);
  assert.throws(() => encodeParams({ cores: Number.POSITIVE_INFINITY }), PveValidationError);
  assert.throws(() => encodeParams({ vmid: [[1]] }), PveValidationError);
  assert.throws(
    () =>
      encodeParams({ description: ["a", "b"] }, {
        method: "PUT",
        path: "/nodes/pve1/qemu/100/config",
      }),
    (error: unknown) => {
      assert.ok(error instanceof PveValidationError);
      assert.match(error.message, /"description" as a list: it takes one value/);
      assert.match(error.message, /comma-separated string/);
      assert.deepEqual(Object.keys(error.errors), ["description"]);
      return true;
    },
  );
});

Deno.test("the array and -list tables match the PVE API schema", () => {
  const listNames = new Set<string>();
  for (const [key, endpoint] of Object.entries(pveSchema)) {
    const [method = "", template = ""] = key.split(" ");
    const path = template.replace(/\{[^}]+\}/g, "x1");
    for (const [name, prop] of Object.entries(endpoint.parameters.properties ?? {})) {
      const isArray = prop.type === "array";
      assert.equal(
        isArrayParam(name, { method, path }),
        isArray,
        `${key} ${name} is ${isArray ? "" : "not "}of type array`,
      );
      if (typeof prop.format === "string" && prop.format.endsWith("-list")) listNames.add(name);
    }
  }
  assert.deepEqual([...LIST_PARAMS].sort(), [...listNames].sort());
  assert.ok(ARRAY_PARAMS.length > 0);
});
