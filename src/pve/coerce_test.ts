import assert from "node:assert/strict";
import {
  pveBool,
  pveInt,
  pveNumber,
  pveString,
  pveTags,
  qemuMemoryMiB,
  resourceEntrySchema,
  taskStatusSchema,
  toBool,
  toNumber,
  versionSchema,
} from "./coerce.ts";

Deno.test("numbers are accepted as numbers or numeric strings", () => {
  assert.equal(pveInt.parse("101"), 101);
  assert.equal(pveInt.parse(101), 101);
  assert.equal(pveNumber.parse("1.5"), 1.5);
  assert.equal(pveNumber.parse(" 0.05 "), 0.05);
  assert.equal(toNumber("abc"), undefined);
  assert.equal(toNumber(""), undefined);
  assert.equal(pveInt.safeParse("1.5").success, false);
  assert.equal(pveNumber.safeParse("12abc").success, false);
  assert.equal(pveNumber.safeParse(null).success, false);
});

Deno.test('booleans are accepted as 0/1, "0"/"1" and true/false', () => {
  for (const v of [1, "1", true]) assert.equal(pveBool.parse(v), true);
  for (const v of [0, "0", false]) assert.equal(pveBool.parse(v), false);
  assert.equal(pveBool.safeParse("yes").success, false);
  assert.equal(toBool(2), undefined);
});

Deno.test("strings accept numbers, tags split on semicolons", () => {
  assert.equal(pveString.parse(2048), "2048");
  assert.deepEqual(pveTags.parse("prod;web"), ["prod", "web"]);
  assert.deepEqual(pveTags.parse("a,b c"), ["a", "b", "c"]);
  assert.deepEqual(pveTags.parse(undefined), []);
});

Deno.test("QEMU memory is read from numbers, strings and property strings", () => {
  assert.equal(qemuMemoryMiB(2048), 2048);
  assert.equal(qemuMemoryMiB("2048"), 2048);
  assert.equal(qemuMemoryMiB("current=4096"), 4096);
  assert.equal(qemuMemoryMiB("current=4096,foo=1"), 4096);
  assert.equal(qemuMemoryMiB("garbage"), undefined);
  assert.equal(qemuMemoryMiB(undefined), undefined);
});

Deno.test("resource entries coerce Perl quirks and keep unknown fields", () => {
  const entry = resourceEntrySchema.parse({
    id: "qemu/100",
    type: "qemu",
    vmid: "100",
    template: "0",
    maxmem: "2147483648",
    memhost: 1102524416,
    tags: "prod;web",
    "new-9x-field": { nested: true },
  });
  assert.equal(entry.vmid, 100);
  assert.equal(entry.template, false);
  assert.equal(entry.maxmem, 2147483648);
  assert.deepEqual((entry as Record<string, unknown>)["new-9x-field"], { nested: true });
});

Deno.test("version and task status schemas tolerate 8.4 and 9.x shapes", () => {
  assert.equal(
    versionSchema.parse({ version: "8.4.1", release: "8.4", repoid: "abc" }).version,
    "8.4.1",
  );
  assert.equal(
    versionSchema.parse({ version: "9.1.1", release: "9.1", repoid: "x", console: "xtermjs" })
      .release,
    "9.1",
  );
  const status = taskStatusSchema.parse({
    upid: "UPID:pve:0003A1F2:01B2C3D4:66B0E3C2:qmstart:100:root@pam:",
    status: "stopped",
    exitstatus: "OK",
    pid: "238066",
    id: 100,
    tokenid: "mcp",
  });
  assert.equal(status.pid, 238066);
  assert.equal(status.id, "100");
});
