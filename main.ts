/**
 * proxmox-mcp command line entry: parse the subcommand and dispatch to `src/cli/*`.
 *
 * @module
 */

import { runCallCli } from "./src/cli/call.ts";
import { runDemoCli } from "./src/cli/demo.ts";
import { runDoctorCli } from "./src/cli/doctor.ts";
import { type Output, stdio } from "./src/cli/_output.ts";
import { runServeCli } from "./src/cli/serve.ts";
import { runSimulatorCli } from "./src/cli/simulator.ts";
import { runToolsCli } from "./src/cli/tools.ts";
import { SERVER_NAME, VERSION } from "./src/version.ts";

/** A subcommand: its arguments in, its exit code out. */
type Command = (args: string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, { run: Command; summary: string }>> = {
  serve: { run: runServeCli, summary: "serve MCP over stdio (default; --demo: simulated cluster)" },
  demo: { run: runDemoCli, summary: "walk through a session against a simulated cluster" },
  call: { run: runCallCli, summary: "run one tool and print its result as JSON" },
  tools: { run: runToolsCli, summary: "list the tools the configuration exposes" },
  doctor: { run: runDoctorCli, summary: "check reach, TLS, auth and permissions of each cluster" },
  simulator: { run: runSimulatorCli, summary: "start the simulated Proxmox VE cluster" },
};

/** Top-level usage text. */
export const USAGE = `Usage: proxmox-mcp [command] [options]

An MCP server that lets AI assistants operate Proxmox VE clusters safely.

Commands:
${
  Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(11)}${summary}`).join(
    "\n",
  )
}

Run "proxmox-mcp <command> --help" for a command's options.
Options: --help, --version`;

/** Dispatches `argv` to its subcommand; resolves with the exit code. */
export async function main(argv: string[], out: Output = stdio): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    out.line(USAGE);
    return 0;
  }
  if (first === "--version" || first === "-V") {
    out.line(`${SERVER_NAME} ${VERSION}`);
    return 0;
  }
  if (first === undefined || first.startsWith("-")) return await runServeCli(argv);
  const command = COMMANDS[first];
  if (command === undefined) {
    out.error(
      `proxmox-mcp: unknown command "${first}": expected one of ${
        Object.keys(COMMANDS).join(", ")
      } (see proxmox-mcp --help)`,
    );
    return 2;
  }
  return await command.run(rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
