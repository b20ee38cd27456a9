/**
 * Smoke test of a built program (the release workflow runs it on each compiled binary it can
 * execute): `--version` prints the name and version, `demo --fast` walks through the simulated
 * cluster, and `serve --demo` answers a real MCP client's `tools/list` over stdio.
 *
 * Run: `deno run --allow-run --allow-read --allow-env scripts/smoke.ts dist/proxmox-mcp-linux-x64`
 * (or any command line, e.g. `deno run -A main.ts`).
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { SERVER_NAME, VERSION } from "../src/version.ts";

/** One step's outcome. */
export interface SmokeStep {
  step: string;
  ok: boolean;
  detail: string;
}

async function run(
  command: readonly string[],
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [program, ...rest] = command;
  const output = await new Deno.Command(program!, {
    args: [...rest, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs the three smoke steps against `command`. */
export async function smoke(command: readonly string[]): Promise<SmokeStep[]> {
  const steps: SmokeStep[] = [];
  const version = await run(command, ["--version"]);
  steps.push({
    step: "--version",
    ok: version.code === 0 && version.stdout.trim() === `${SERVER_NAME} ${VERSION}`,
    detail: version.stdout.trim() || version.stderr.trim(),
  });
  const demo = await run(command, ["demo", "--fast"]);
  steps.push({
    step: "demo --fast",
    ok: demo.code === 0 && demo.stdout.includes("cluster_status"),
    detail: demo.code === 0 ? `${demo.stdout.split("\n").length} lines` : demo.stderr.trim(),
  });
  const [program, ...rest] = command;
  const client = new Client({ name: "smoke", version: VERSION });
  const transport = new StdioClientTransport({
    command: program!,
    args: [...rest, "serve", "--demo"],
    stderr: "ignore",
  });
  try {
    await client.connect(transport);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    steps.push({
      step: "serve --demo tools/list",
      ok: names.includes("cluster_status"),
      detail: `${names.length} tools`,
    });
  } catch (error) {
    steps.push({
      step: "serve --demo tools/list",
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
    });
  } finally {
    await client.close();
  }
  return steps;
}

if (import.meta.main) {
  if (Deno.args.length === 0) {
    Deno.stderr.writeSync(
      new TextEncoder().encode("Usage: scripts/smoke.ts <command> [args...]\n"),
    );
    Deno.exit(2);
  }
  const steps = await smoke(Deno.args);
  for (const { step, ok, detail } of steps) {
    Deno.stdout.writeSync(new TextEncoder().encode(`${ok ? "ok  " : "FAIL"} ${step}: ${detail}\n`));
  }
  Deno.exit(steps.every((step) => step.ok) ? 0 : 1);
}
