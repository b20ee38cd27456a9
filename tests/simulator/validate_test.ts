import assert from "node:assert/strict";
import { HttpError } from "../../src/simulator/errors.ts";
import { endpointSchema, splitList } from "../../src/schema/mod.ts";
import { route } from "../../src/simulator/router.ts";
import { validateParams } from "../../src/simulator/validate.ts";
import { api, startTestSimulator } from "./_helpers.ts";

function errorsOf(method: string, template: string, raw: Record<string, unknown>) {
  const schema = endpointSchema(method, template);
  assert.ok(schema, `${method} ${template} is in the schema`);
  try {
    validateParams(schema.parameters, raw);
  } catch (error) {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 400);
    assert.equal(error.message, "Parameter verification failed.");
    return error.errors;
  }
  return undefined;
}

const START = "/nodes/{node}/qemu/{vmid}/status/start";
const SNAPSHOT = "/nodes/{node}/qemu/{vmid}/snapshot";
const CONFIG = "/nodes/{node}/qemu/{vmid}/config";

Deno.test("each validation check kind gives PVE's exact message", () => {
  const cases: {
    name: string;
    method: string;
    template: string;
    raw: Record<string, unknown>;
    errors: Record<string, string>;
  }[] = [
    {
      name: "enum",
      method: "GET",
      template: "/cluster/resources",
      raw: { type: "foo" },
      errors: {
        type: "value 'foo' does not have a value in the enumeration 'vm, storage, node, sdn'",
      },
    },
    {
      name: "format before minimum",
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "50" },
      errors: { vmid: "invalid format - value does not look like a valid VM ID\n" },
    },
    {
      name: "integer type",
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "abc" },
      errors: { vmid: "type check ('integer') failed - got 'abc'" },
    },
    {
      name: "boolean type",
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "100", skiplock: "true" },
      errors: { skiplock: "type check ('boolean') failed - got 'true'" },
    },
    {
      name: "unknown parameter",
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "100", "overrule-shutdown": "1" },
      errors: {
        "overrule-shutdown":
          "property is not defined in schema and the schema does not allow additional properties",
      },
    },
    {
      name: "missing required",
      method: "POST",
      template: SNAPSHOT,
      raw: { node: "pve1", vmid: "100" },
      errors: { snapname: "property is missing and it is not optional" },
    },
    {
      name: "maxLength after format",
      method: "POST",
      template: SNAPSHOT,
      raw: { node: "pve1", vmid: "100", snapname: `s${"a".repeat(40)}` },
      errors: { snapname: "value may only be 40 characters long" },
    },
    {
      name: "configid format",
      method: "POST",
      template: SNAPSHOT,
      raw: { node: "pve1", vmid: "100", snapname: "1st" },
      errors: { snapname: "invalid format - invalid configuration ID '1st'\n" },
    },
    {
      name: "minimum",
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "100", timeout: "-1" },
      errors: { timeout: "value must have a minimum value of 0" },
    },
    {
      name: "maximum",
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "1000000000" },
      errors: { vmid: "invalid format - value does not look like a valid VM ID\n" },
    },
    {
      name: "pattern",
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "100", "nets-host-mtu": "eth0=1500" },
      errors: { "nets-host-mtu": "value does not match the regex pattern" },
    },
    {
      name: "node format",
      method: "POST",
      template: START,
      raw: { node: "pve_1", vmid: "100" },
      errors: { node: "invalid format - value does not look like a valid node name\n" },
    },
    {
      name: "requires",
      method: "POST",
      template: "/access/ticket",
      raw: { username: "root@pam", password: "x", path: "/vms" },
      errors: { privs: "missing property - 'path' requires this property" },
    },
    {
      name: "JSON boolean for a string",
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "100", stateuri: true },
      errors: { stateuri: "type check ('string') failed - got JSON::PP::Boolean" },
    },
    {
      name: "array for a scalar",
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "100", timeout: ["1", "2"] },
      errors: { timeout: "type check ('integer') failed - got ARRAY" },
    },
  ];
  for (const c of cases) {
    assert.deepEqual(errorsOf(c.method, c.template, c.raw), c.errors, c.name);
  }
});

Deno.test("property strings are parsed with keys, default key, aliases and per-key checks", () => {
  const ok = [
    "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1",
    "model=virtio,bridge=vmbr0,tag=10",
    "virtio,bridge=vmbr0",
    "e1000=BC:24:11:00:00:02,link_down=yes",
  ];
  for (const net0 of ok) {
    assert.equal(errorsOf("POST", CONFIG, { node: "pve1", vmid: "100", net0 }), undefined, net0);
  }
  const bad: [string, string][] = [
    ["bridge=", "invalid format - missing key in comma-separated list property\n"],
    [
      "model=foo",
      "invalid format - format error\nnet0.model: value 'foo' does not have a value in the enumeration " +
      "'e1000, e1000-82540em, e1000-82544gc, e1000-82545em, e1000e, i82551, i82557b, i82559er, " +
      "ne2k_isa, ne2k_pci, pcnet, rtl8139, virtio, vmxnet3'\n",
    ],
    [
      "virtio,tag=0",
      "invalid format - format error\nnet0.tag: value must have a minimum value of 1\n",
    ],
    ["virtio,speed=10", "invalid format - invalid key in comma-separated list property: speed\n"],
    [
      "virtio,bridge=a,bridge=b",
      "invalid format - duplicate key in comma-separated list property: bridge\n",
    ],
    [
      "bridge=vmbr0",
      "invalid format - format error\nnet0.model: property is missing and it is not optional\n",
    ],
    [
      "virtio=01:00:00:00:00:00",
      "invalid format - format error\nnet0.macaddr: invalid format - value does not look like a valid unicast MAC address\n\n",
    ],
  ];
  for (const [net0, message] of bad) {
    assert.deepEqual(
      errorsOf("POST", CONFIG, { node: "pve1", vmid: "100", net0 }),
      { net0: message },
      net0,
    );
  }
});

Deno.test("indexed parameters exist only within their range", () => {
  assert.equal(
    errorsOf("POST", CONFIG, { node: "pve1", vmid: "100", net31: "virtio,bridge=vmbr0" }),
    undefined,
  );
  assert.deepEqual(errorsOf("POST", CONFIG, { node: "pve1", vmid: "100", net32: "virtio" }), {
    net32: "property is not defined in schema and the schema does not allow additional properties",
  });
  assert.deepEqual(errorsOf("POST", CONFIG, { node: "pve1", vmid: "100", net01: "virtio" }), {
    net01: "property is not defined in schema and the schema does not allow additional properties",
  });
});

Deno.test("-list formats take comma, space or semicolon lists and JSON arrays", () => {
  const schema = endpointSchema("POST", CONFIG);
  assert.ok(schema);
  const params = validateParams(schema.parameters, {
    node: "pve1",
    vmid: 100,
    delete: ["net1", "ide2"],
  });
  assert.equal(params["delete"], "net1,ide2");
  assert.equal(params["vmid"], 100);
  assert.equal(
    errorsOf("POST", CONFIG, { node: "pve1", vmid: "100", delete: "net1; ide2 sata0" }),
    undefined,
  );
  assert.deepEqual(errorsOf("POST", CONFIG, { node: "pve1", vmid: "100", delete: "net1,2x" }), {
    delete: "invalid format - invalid configuration ID '2x'\n",
  });
  assert.deepEqual(errorsOf("POST", CONFIG, { node: "pve1", vmid: "100", tags: "prod;we b!" }), {
    tags: "invalid format - invalid characters in tag\n",
  });
  const vzdump = endpointSchema("POST", "/nodes/{node}/vzdump");
  assert.ok(vzdump);
  assert.equal(
    validateParams(vzdump.parameters, { node: "pve1", vmid: [100, 101] })["vmid"],
    "100,101",
  );
  assert.deepEqual(splitList(" a,b;c  d "), ["a", "b", "c", "d"]);
});

Deno.test("validation errors reach the wire as 400 with errors and message", async () => {
  const sim = await startTestSimulator({
    routes: [route("POST", START, () => "UPID"), route("GET", "/cluster/resources", () => [])],
  });
  try {
    const bad = await api(sim, "POST", "/nodes/pve1/qemu/50/status/start", { token: true });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      data: null,
      message: "Parameter verification failed.\n",
      errors: { vmid: "invalid format - value does not look like a valid VM ID\n" },
    });
    const json = await api(sim, "POST", "/nodes/pve1/qemu/100/status/start", {
      token: true,
      json: { skiplock: "yes" },
    });
    assert.deepEqual(json.body.errors, { skiplock: "type check ('boolean') failed - got 'yes'" });
    const resources = await api(sim, "GET", "/cluster/resources", {
      token: true,
      params: { type: "foo" },
    });
    assert.equal(resources.status, 400);
    assert.match(resources.body.errors.type, /^value 'foo' does not have a value/);
  } finally {
    await sim.close();
  }
});

Deno.test("identifier rules of FACTS §7 give PVE's messages for bad and pass for good values", () => {
  const STATUS = "/nodes/{node}/storage/{storage}/status";
  const rows: {
    method: string;
    template: string;
    raw: Record<string, unknown>;
    errors?: Record<string, string>;
  }[] = [
    { method: "POST", template: START, raw: { node: "pve1", vmid: "999999999" } },
    {
      method: "POST",
      template: START,
      raw: { node: "pve1", vmid: "1000000000" },
      errors: { vmid: "invalid format - value does not look like a valid VM ID\n" },
    },
    {
      method: "POST",
      template: START,
      raw: { node: "pve1.example", vmid: "100" },
      errors: { node: "invalid format - value does not look like a valid node name\n" },
    },
    { method: "GET", template: STATUS, raw: { node: "pve1", storage: "local-lvm.2_x" } },
    {
      method: "GET",
      template: STATUS,
      raw: { node: "pve1", storage: "a" },
      errors: { storage: "invalid format - storage ID 'a' cannot be shorter than 2 characters\n" },
    },
    {
      method: "GET",
      template: STATUS,
      raw: { node: "pve1", storage: "1local" },
      errors: { storage: "invalid format - storage ID '1local' contains illegal characters\n" },
    },
    {
      method: "POST",
      template: "/nodes/{node}/qemu",
      raw: { node: "pve1", vmid: "100", name: "web-01.lab", tags: "prod;web+1" },
    },
    {
      method: "POST",
      template: "/nodes/{node}/qemu",
      raw: { node: "pve1", vmid: "100", name: "web_01" },
      errors: { name: "invalid format - value does not look like a valid DNS name\n" },
    },
    {
      method: "POST",
      template: "/nodes/{node}/qemu",
      raw: { node: "pve1", vmid: "100", tags: "-prod" },
      errors: { tags: "invalid format - invalid characters in tag\n" },
    },
    {
      method: "POST",
      template: SNAPSHOT,
      raw: { node: "pve1", vmid: "100", snapname: "a".repeat(40) },
    },
    {
      method: "POST",
      template: SNAPSHOT,
      raw: { node: "pve1", vmid: "100", snapname: "a".repeat(41) },
      errors: { snapname: "value may only be 40 characters long" },
    },
    { method: "POST", template: "/pools", raw: { poolid: "a/b/c" } },
    { method: "GET", template: "/access/permissions", raw: { userid: "root@pam!mcp" } },
    {
      method: "GET",
      template: "/access/permissions",
      raw: { userid: "root@pam!1x" },
      errors: { userid: "value does not match the regex pattern" },
    },
  ];
  for (const row of rows) {
    const got = errorsOf(row.method, row.template, row.raw);
    assert.deepEqual(got, row.errors, `${row.template} ${JSON.stringify(row.raw)}`);
  }
});
