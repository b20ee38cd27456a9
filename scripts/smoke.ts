/**
 * Smoke test of a built proxmox-mcp: `--version`, `demo --fast`, and `serve --demo` answering
 * `initialize` and `tools/list` over stdio. The release workflow runs it on each binary it can
 * execute; tests run it on `deno run main.ts`, so the checks themselves are tested.
 *
 * Run: `deno run --allow-run --allow-read scripts/smoke.ts dist/proxmox-mcp-linux-x64`, or with
 * a command prefix: `scripts/smoke.ts deno run --allow-net=127.0.0.1 --allow-read main.ts`.
 * Exits 0 when every check passes, 1 with one line naming the failed check otherwise.
 *
 * @module
 */

import { type Output, stdio } from "../src/cli/_output.ts";
import { SERVER_NAME, VERSION } from "../src/version.ts";

/** A command to run: the program and the arguments that come before the smoke test's own. */
export interface Launch {
  command: string;
  args: readonly string[];
}

/** A failed smoke check: its message is the one line printed. */
export class SmokeError extends Error {
  /** A failed check, described in one sentence. */
  constructor(message: string) {
    super(message);
    this.name = "SmokeError";
  }
}

const TIMEOUT_MS = 120_000;
const decoder = new TextDecoder();

/** The first line of `text`, shortened for a message. */
function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** Runs `launch` with `args` to completion (killed after the timeout). */
async function run(
  launch: Launch,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(launch.command, {
    args: [...launch.args, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  try {
    const output = await child.output();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks that `launch --version` answers `proxmox-mcp <VERSION>`. A copy of the Deno CLI (what
 * `deno compile` builds when `DENORT_BIN` points at `deno`) answers `deno <version>` instead.
 *
 * @throws {SmokeError}
 */
export async function checkVersion(launch: Launch): Promise<string> {
  const expected = `${SERVER_NAME} ${VERSION}`;
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run(launch, ["--version"]);
  } catch (error) {
    throw new SmokeError(
      `Cannot run "${launch.command}": ${error instanceof Error ? error.message : String(error)}.`,
    );
  }
  const answer = result.stdout.trim();
  if (result.code === 0 && answer === expected) return answer;
  if (/^deno \d/.test(answer)) {
    throw new SmokeError(
      `"${launch.command}" is a copy of the Deno CLI (it answered "${
        firstLine(answer)
      }" to --version), not ${SERVER_NAME}: build it with the denort runtime, not with DENORT_BIN pointing at the deno executable.`,
    );
  }
  throw new SmokeError(
    `"${launch.command} --version" answered "${
      firstLine(answer || result.stderr)
    }" (exit ${result.code}) instead of "${expected}".`,
  );
}

/** Checks that `demo --fast` runs every step and exits 0. */
async function checkDemo(launch: Launch): Promise<string> {
  const result = await run(launch, ["demo", "--fast"]);
  const steps = [...result.stdout.matchAll(/^== Step (\d+)\/(\d+):/gm)];
  const last = steps.at(-1);
  if (result.code !== 0 || last === undefined || last[1] !== last[2]) {
    throw new SmokeError(
      `"demo --fast" failed (exit ${result.code}, ${steps.length} steps): ${
        firstLine(result.stderr || result.stdout)
      }.`,
    );
  }
  return `${steps.length} steps`;
}

/** Sends `initialize` and `tools/list` to `serve --demo` over stdio; returns the tool names. */
async function checkServe(launch: Launch): Promise<string> {
  const child = new Deno.Command(launch.command, {
    args: [...launch.args, "serve", "--demo"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderrText = "";
  const drained = (async () => {
    for (;;) {
      const { value, done } = await stderr.read();
      if (done) return;
      stderrText += value;
    }
  })();
  const writer = child.stdin.getWriter();
  const send = (message: unknown) =>
    writer.write(new TextEncoder().encode(`${JSON.stringify(message)}\n`));
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  /** The next JSON-RPC answer with `id`. */
  async function answer(id: number): Promise<Record<string, unknown>> {
    for (;;) {
      const newline = buffered.indexOf("\n");
      if (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const message = JSON.parse(line) as Record<string, unknown>;
        if (message.id === id) return message;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) {
        throw new SmokeError(
          `"serve --demo" closed stdout before answering request ${id}: ${firstLine(stderrText)}.`,
        );
      }
      buffered += value;
    }
  }
  try {
    await send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "smoke", version: VERSION },
      },
    });
    const init = await answer(1);
    const info = (init.result as { serverInfo?: { name?: string } } | undefined)?.serverInfo;
    if (info?.name !== SERVER_NAME) {
      throw new SmokeError(`"serve --demo" answered initialize with ${JSON.stringify(init)}.`);
    }
    await send({ jsonrpc: "2.0", method: "notifications/initialized" });
    await send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    const list = await answer(2);
    const tools = (list.result as { tools?: { name: string }[] } | undefined)?.tools ?? [];
    if (!tools.some((tool) => tool.name === "guest_list")) {
      throw new SmokeError(`"serve --demo" listed no guest_list tool: ${JSON.stringify(list)}.`);
    }
    return `${tools.length} tools`;
  } finally {
    // End of stdin stops the server; the timer still kills one that does not stop.
    await writer.close().catch(() => {});
    await reader.cancel().catch(() => {});
    await child.status;
    await drained;
    clearTimeout(timer);
  }
}

/**
 * Runs every smoke check on `launch`, printing one line per check.
 *
 * @throws {SmokeError} at the first failed check.
 */
export async function smoke(launch: Launch, out: Output = stdio): Promise<void> {
  const checks: [string, (launch: Launch) => Promise<string>][] = [
    ["--version", checkVersion],
    ["demo --fast", checkDemo],
    ["serve --demo: initialize, tools/list", checkServe],
  ];
  for (const [name, check] of checks) {
    const detail = await check(launch);
    out.line(`ok  ${name} (${detail})`);
  }
}

if (import.meta.main) {
  const [command, ...args] = Deno.args;
  if (command === undefined || command === "--help") {
    stdio.error("Usage: scripts/smoke.ts <binary> [arguments before the command...]");
    Deno.exit(2);
  }
  try {
    await smoke({ command, args });
  } catch (error) {
    if (!(error instanceof SmokeError)) throw error;
    stdio.error(`Smoke test failed: ${error.message}`);
    Deno.exit(1);
  }
}
