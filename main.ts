/**
 * proxmox-mcp command line entry: parse the subcommand and dispatch to `src/cli/*`.
 *
 * @module
 */

import { runSimulatorCli } from "./src/cli/simulator.ts";

const COMMANDS: Readonly<Record<string, (args: string[]) => Promise<number>>> = {
  simulator: runSimulatorCli,
};

/** Dispatches `argv` to its subcommand; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const run = command === undefined ? undefined : COMMANDS[command];
  if (run === undefined) {
    const known = Object.keys(COMMANDS).join(", ");
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        `proxmox-mcp: unknown command "${command ?? ""}": expected one of ${known}\n`,
      ),
    );
    return 2;
  }
  return await run(rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
