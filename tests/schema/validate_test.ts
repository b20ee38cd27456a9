import assert from "node:assert/strict";
import { addError, checkNamedFormat, perlPattern } from "../../src/schema/mod.ts";

Deno.test("named formats check identifiers and addresses", () => {
  const cases: [string, string, string | undefined][] = [
    ["pve-storage-id", "local-lvm", undefined],
    ["pve-storage-id", "x", "storage ID 'x' cannot be shorter than 2 characters\n"],
    ["pve-storage-id", "a_b!", "storage ID 'a_b!' contains illegal characters\n"],
    ["dns-name", "web01.example.com", undefined],
    ["dns-name", "web_01", "value does not look like a valid DNS name\n"],
    ["pve-poolid", "prod/web/a", undefined],
    ["pve-poolid", "a/b/c/d", "pool name 'a/b/c/d' contains invalid characters\n"],
    ["pve-userid", "root@pam", undefined],
    ["pve-userid", "root", "value 'root' does not look like a valid user name\n"],
    ["pve-userid", "a@", "user name 'a@' is too short\n"],
    ["pve-tokenid", "root@pam!mcp", undefined],
    ["pve-tokenid", "root@pam!1x", "value 'root@pam!1x' does not look like a valid token ID\n"],
    ["pve-vmid-list", "100,101 102", undefined],
    ["pve-vmid-list", "100,99", "value does not look like a valid VM ID\n"],
    ["pve-storage-id-list", "local;nas", undefined],
    ["pve-tag-list", "prod;web", undefined],
    ["pve-tag-list", "prod;w!", "invalid characters in tag\n"],
    ["ipv4", "192.168.1.10", undefined],
    ["ipv4", "192.168.1.256", "value does not look like a valid IPv4 address\n"],
    ["ipv6", "fe80::1", undefined],
    ["ipv6", "2001:db8::1:2:3:4:5:6:7", "value does not look like a valid IPv6 address\n"],
    ["ipv6", "::ffff:10.0.0.1", undefined],
    ["CIDR", "10.0.0.0/24", undefined],
    ["CIDR", "10.0.0.0/4", "value does not look like a valid CIDR network\n"],
    ["mac-addr", "BC:24:11:AA:BB:CC", undefined],
    ["mac-addr", "01:24:11:AA:BB:CC", "value does not look like a valid unicast MAC address\n"],
    ["disk-size", "+10G", "value does not look like a valid disk size: +10G\n"],
    ["disk-size", "32G", undefined],
    ["some-unknown-format", "anything", undefined],
  ];
  for (const [format, value, error] of cases) {
    assert.equal(checkNamedFormat(format, value), error, `${format} ${value}`);
  }
});

Deno.test("several errors for one key are joined with a literal backslash-n", () => {
  const errors: Record<string, string> = {};
  addError(errors, { path: "a", message: "first" });
  addError(errors, { path: "a", message: "second" });
  addError(errors, { path: "", message: "root problem" });
  assert.deepEqual(errors, { a: "first\\nsecond", _root: "root problem" });
});

Deno.test("Perl patterns compile to anchored JavaScript regexes", () => {
  const tags = perlPattern(
    "(?^i:[a-z0-9_][a-z0-9_\\-\\+\\.]*)(?:;(?^i:[a-z0-9_][a-z0-9_\\-\\+\\.]*))*",
  );
  assert.ok(tags?.test("Prod;web"));
  assert.equal(tags?.test("prod web"), false);
  const bounded = perlPattern("[A-Za-z0-9\\-_\\s]{,8}");
  assert.ok(bounded?.test("abc"));
  assert.equal(bounded?.test("abcdefghij"), false);
});
