/**
 * proxmox-mcp command line entry: parse the subcommand and dispatch to `src/cli/*`.
 *
 * @module
 */

import { type Output, stdio } from "./src/cli/_output.ts";
import { runServeCli } from "./src/cli/serve.ts";
import { SERVER_NAME, VERSION } from "./src/version.ts";

/** A subcommand: its arguments in, its exit code out. */
type Command = (args: string[]) => Promise<number>;

// `serve`, the command every MCP client starts, is the only one loaded up front, and it loads
// little (see src/cli/serve.ts). The others load on first use. Their specifiers are literal, so
// `deno compile` embeds them and loading them needs no read permission. With
// `--unstable-lazy-dynamic-imports` (the tasks use it) Deno does not walk their module graphs
// before `serve` answers, at the price of read access to these files.
const COMMANDS: Readonly<Record<string, { load: () => Promise<Command>; summary: string }>> = {
  serve: {
    load: () => Promise.resolve(runServeCli),
    summary: "serve MCP over stdio or --http (default; --demo: simulated cluster)",
  },
  demo: {
    load: async () => (await import("./src/cli/demo.ts")).runDemoCli,
    summary: "walk through a session against a simulated cluster",
  },
  call: {
    load: async () => (await import("./src/cli/call.ts")).runCallCli,
    summary: "run one tool and print its result as JSON",
  },
  tools: {
    load: async () => (await import("./src/cli/tools.ts")).runToolsCli,
    summary: "list the tools the configuration exposes",
  },
  doctor: {
    load: async () => (await import("./src/cli/doctor.ts")).runDoctorCli,
    summary: "check reach, TLS, auth and permissions of each cluster",
  },
  init: {
    load: async () => (await import("./src/cli/init.ts")).runInitCli,
    summary: "connect a cluster: ask, check live, write the config, print client setup",
  },
  simulator: {
    load: async () => (await import("./src/cli/simulator.ts")).runSimulatorCli,
    summary: "start the simulated Proxmox VE cluster",
  },
  twin: {
    load: async () => (await import("./src/cli/twin.ts")).runTwinCli,
    summary: "capture a cluster's rehearsal twin (read-only, no secrets), or diff two twins",
  },
  healthcheck: {
    load: async () => (await import("./src/cli/healthcheck.ts")).runHealthcheckCli,
    summary: "exit 0 when a serve --http answers /healthz (containers)",
  },
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
  if (first === undefined || first.startsWith("-")) {
    return await (await COMMANDS.serve!.load())(argv);
  }
  const command = COMMANDS[first];
  if (command === undefined) {
    out.error(
      `proxmox-mcp: unknown command "${first}": expected one of ${
        Object.keys(COMMANDS).join(", ")
      } (see proxmox-mcp --help)`,
    );
    return 2;
  }
  return await (await command.load())(rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
