/**
 * The official MCP conformance suite against `serve --demo --http` (a loopback server without
 * profiles, so the suite's own client needs no token).
 *
 * Scenarios run (both eras), because they test what this server offers — initialize and
 * sessions, ping, logging, tools/list, prompts/list, resources/list, an unknown resource's
 * error, SSE streams, DNS-rebinding protection, the stateless 2026-07-28 transport, its
 * Mcp-Method/Mcp-Name headers and the caching hints of the lists and of a resource read.
 *
 * Scenarios not run, and why:
 * - tools-call-*, elicitation-sep*, json-schema-2020-12, input-required-result-*,
 *   http-custom-header-server-validation: they call the suite's own test tools
 *   (`test_simple_text`, `test_input_required_result_*`, …) of its reference "everything"
 *   server; our tools are Proxmox operations (their behaviour is tested by our own real-client
 *   tests, confirmation over input_required included).
 * - resources-read-*, resources-templates-read, resources-subscribe/unsubscribe, prompts-get-*,
 *   completion-complete: they read, render or complete the suite's own fixtures
 *   (`test://static-text`, `test_simple_prompt`, `test_prompt_with_arguments`, …); our prompts,
 *   resources and completions are tested by our own real-client tests (tests/server/), and an
 *   unknown prompt is an invalid-params error, as the protocol asks.
 * - tasks-*, sep-2640-skills-*: protocol extensions the server does not implement.
 *
 * Checks the suite itself marks "not testable" without one of its diagnostic tools are listed in
 * {@link NOT_APPLICABLE}; every other check must pass.
 */

import assert from "node:assert/strict";
import { DEV_CONFIG } from "../_dev_config.ts";
import { startServeProcess } from "./_process.ts";

const CLI = new URL("./_conformance_cli.ts", import.meta.url).pathname;

/** Scenario and the spec version to run it under (default: the suite's choice, 2025-11-25). */
const SCENARIOS: Array<[string, string | undefined]> = [
  ["server-initialize", undefined],
  ["server-session-lifecycle", undefined],
  ["ping", undefined],
  ["logging-set-level", undefined],
  ["tools-list", undefined],
  ["prompts-list", undefined],
  ["resources-list", undefined],
  ["sep-2164-resource-not-found", undefined],
  ["server-sse-multiple-streams", undefined],
  ["server-sse-polling", undefined],
  ["dns-rebinding-protection", undefined],
  ["server-stateless", "2026-07-28"],
  ["http-header-validation", "2026-07-28"],
  ["caching", "2026-07-28"],
  ["tools-list", "2026-07-28"],
  ["prompts-list", "2026-07-28"],
  ["resources-list", "2026-07-28"],
  ["sep-2164-resource-not-found", "2026-07-28"],
  ["server-sse-multiple-streams", "2026-07-28"],
  ["dns-rebinding-protection", "2026-07-28"],
];

/** Checks that cannot apply to this server, with the reason. */
const NOT_APPLICABLE: Record<string, string> = {
  "sep-2575-server-rejects-undeclared-capability": "needs the suite's test_missing_capability tool",
  "sep-2575-missing-capability-http-400": "needs the suite's test_missing_capability tool",
  "sep-2575-http-server-no-independent-requests-on-stream":
    "needs the suite's test_streaming_elicitation tool",
  "sep-2575-server-no-log-without-loglevel": "needs the suite's test_logging_tool tool",
};

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

async function runScenario(
  url: string,
  scenario: string,
  version: string | undefined,
): Promise<Check[]> {
  const out = await Deno.makeTempDir({ prefix: "conformance-" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...DEV_CONFIG,
        "--quiet",
        "-A",
        CLI,
        "server",
        "--url",
        url,
        "--scenario",
        scenario,
        ...(version === undefined ? [] : ["--spec-version", version]),
        "-o",
        out,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const checks: Check[] = [];
    for await (const entry of Deno.readDir(out)) {
      if (!entry.isDirectory) continue;
      const text = await Deno.readTextFile(`${out}/${entry.name}/checks.json`);
      checks.push(...JSON.parse(text) as Check[]);
    }
    assert.ok(
      checks.length > 0 || output.success,
      `${scenario}: the suite wrote no results:\n${new TextDecoder().decode(output.stderr)}`,
    );
    return checks;
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

Deno.test("the official MCP conformance suite passes the scenarios that apply, in both eras", async () => {
  const server = await startServeProcess(["--demo", "--http", "127.0.0.1:0"]);
  const failures: string[] = [];
  let passed = 0;
  try {
    for (const [scenario, version] of SCENARIOS) {
      const checks = await runScenario(server.url, scenario, version);
      for (const check of checks) {
        if (check.status === "SUCCESS") passed++;
        if (check.status !== "FAILURE") continue;
        if (NOT_APPLICABLE[check.id] !== undefined) continue;
        failures.push(
          `${scenario}${version === undefined ? "" : ` (${version})`}: ${check.id}: ${
            check.errorMessage ?? ""
          }`,
        );
      }
    }
  } finally {
    await server.stop();
  }
  assert.deepEqual(failures, []);
  assert.ok(passed >= 60, `only ${passed} checks passed`);
});
