import assert from "node:assert/strict";
import { assertLinear, repeated } from "../../tests/_linear.ts";
import { compileLinear, UnsupportedPattern } from "./linear_regex.ts";
import { pveSchema } from "./facts.ts";
import { checkParams } from "./validate.ts";

/** Every `pattern` in the schema. */
function schemaPatterns(): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key === "pattern" && typeof item === "string") found.add(item);
        else walk(item);
      }
    }
  };
  walk(pveSchema);
  return [...found].sort();
}

/** The same pattern for JavaScript's engine (the reference on short strings). */
function reference(pattern: string): RegExp {
  const source = pattern.replaceAll("(?^:", "(?:").replaceAll("(?^i:", "(?i:")
    .replace(/\{,(\d+)\}/g, "{0,$1}");
  return new RegExp(`^(?:${source})$`);
}

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ALPHABET = "aZ09_-.:;,/@!= \t\n\u0000xAfF+()<>#\"'ünet";

Deno.test("every pattern of the PVE schema compiles to the linear-time matcher", () => {
  const patterns = schemaPatterns();
  assert.ok(patterns.length > 40, `only ${patterns.length} patterns found`);
  for (const pattern of patterns) compileLinear(pattern);
});

Deno.test("the linear-time matcher agrees with JavaScript's engine on the schema's patterns", () => {
  const next = random(14);
  for (const pattern of schemaPatterns()) {
    const linear = compileLinear(pattern);
    const js = reference(pattern);
    const samples = ["", "a", "abc", "net0=1", "pve1", "00:11:22:33:44:55", "a;b", "1.5G"];
    for (let i = 0; i < 300; i++) {
      const length = Math.floor(next() * 12);
      let text = "";
      for (let j = 0; j < length; j++) text += ALPHABET[Math.floor(next() * ALPHABET.length)];
      samples.push(text);
    }
    for (const text of samples) {
      assert.equal(linear.test(text), js.test(text), `${pattern} on ${JSON.stringify(text)}`);
    }
  }
});

Deno.test("the matcher handles anchors, case-folding groups, counted and literal braces", () => {
  const cases: [string, string, boolean][] = [
    ["(?^i:[a-z]+)x", "AbCx", true],
    ["(?^i:[a-z]+)x", "AbCX", false],
    ["[A-Za-z0-9\\-_\\s]{,8}", "abc", true],
    ["[A-Za-z0-9\\-_\\s]{,8}", "abcdefghij", false],
    ["a{2}b{1,}c{0,2}", "aabbbcc", true],
    ["a{2}b{1,}c{0,2}", "aabccc", false],
    ["a{x}", "a{x}", true],
    ["(?^:^(0x)[0-9a-fA-F]{16})", "0x0123456789abcdef", true],
    ["^https?://.*", "https://x", true],
    ["^https?://.*", "ftp://x", false],
    ["[\\(\\)-_.\\w\\d\\s]{0,4}", "A)_.", true],
    ["(:?a)b", ":ab", true],
    ["", "", true],
    ["a|", "", true],
  ];
  for (const [pattern, text, expected] of cases) {
    assert.equal(compileLinear(pattern).test(text), expected, `${pattern} on ${text}`);
  }
  for (const unsupported of ["(?=a)", "a++", "\\1", "[[:alpha:]]", "(?<x>a)", "\\p{L}"]) {
    assert.throws(() => compileLinear(unsupported), UnsupportedPattern, unsupported);
  }
});

Deno.test("the OCI reference pattern takes linear time where a backtracking engine explodes", () => {
  const oci = schemaPatterns().find((p) => p.includes("__|[-]*"));
  assert.ok(oci !== undefined);
  const matcher = compileLinear(oci);
  assert.equal(matcher.test("a".repeat(64) + "!"), false);
  assert.equal(matcher.test("docker.io/library/debian"), true);
  assertLinear("the OCI pattern", (text) => matcher.test(text), [
    repeated("a", "!"),
    repeated("a-", "!"),
    repeated("a.a", "/"),
    repeated("a__", "!"),
  ]);
});

Deno.test("checkParams takes linear time on 1 MB values for every patterned parameter", () => {
  const parameters = {
    properties: {
      reference: { type: "string", pattern: schemaPatterns().find((p) => p.includes("__|[-]*")) },
      tags: { type: "string", format: "pve-tag-list" },
      name: { type: "string", format: "dns-name" },
      cidr: { type: "string", format: "CIDR" },
      email: { type: "string", format: "email" },
      user: { type: "string", format: "pve-userid" },
      token: { type: "string", format: "pve-tokenid" },
      net: { type: "string", format: { model: { type: "string", default_key: 1 } } },
    },
  } as never;
  for (const key of ["reference", "tags", "name", "cidr", "email", "user", "token", "net"]) {
    assertLinear(`checkParams ${key}`, (text) => checkParams(parameters, { [key]: text }), [
      repeated("a", "!"),
      repeated("a-", "!"),
      repeated("a.", "!"),
      repeated("1", "/x"),
      repeated("a@", "!"),
      repeated("a=", ","),
      repeated(",", "x"),
    ]);
  }
});
