/**
 * How an MCP client starts this server, and the client configuration snippets `init` prints:
 * Claude Desktop, Cursor and Gemini CLI (`mcpServers`), VS Code (`servers`), Claude Code
 * (`claude mcp add`). The launch is the compiled binary itself, or `deno run` with exactly the
 * permissions the configuration needs. Secrets never appear: the server reads them from the
 * config file (or the secret files it names).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { ENV_NAMES } from "../config/mod.ts";
import { LAZY_IMPORTS, programDir, V8_FLAGS } from "./_run_flags.ts";

/** A program and its arguments. */
export interface Launch {
  command: string;
  args: string[];
}

/** How this process runs: a compiled binary, or Deno running `main.ts`. */
export interface RuntimeKind {
  /** Whether this is a `deno compile` binary. */
  standalone: boolean;
  /** The running executable (the binary, or `deno`). */
  execPath: string;
  /** `main.ts` as a path (or a URL when it is not a local file). */
  main: string;
}

/** The running process, as {@link RuntimeKind}. */
export function currentRuntime(): RuntimeKind {
  const mainUrl = new URL("../../main.ts", import.meta.url);
  return {
    standalone: Deno.build.standalone,
    execPath: Deno.execPath(),
    main: mainUrl.protocol === "file:" ? fileURLToPath(mainUrl) : mainUrl.href,
  };
}

/** What the server started by the client needs to reach. */
export interface ServeNeeds {
  /** The config file (absolute). */
  config: string;
  /** The cluster's `host:port`. */
  host: string;
  /** Files the server reads besides the config: CA file, secret files (absolute). */
  reads: readonly string[];
  /** The audit log it appends to (absolute), if auditing is on. */
  audit?: string;
}

/**
 * The command that runs `subcommand` (`serve` or `doctor`) with the config file: the binary and
 * its arguments, or `deno run` with `--allow-net=<host:port> --allow-env=<names>
 * --allow-read=<program directory, config, CA, secret files> --allow-write=<audit>` (no write
 * for `doctor`) and the run flags of `_run_flags.ts` (lazy imports for a local `main.ts` only).
 */
export function launchFor(
  subcommand: "serve" | "doctor",
  needs: ServeNeeds,
  runtime: RuntimeKind = currentRuntime(),
): Launch {
  const tail = [subcommand, "--config", needs.config];
  if (runtime.standalone) return { command: runtime.execPath, args: tail };
  const program = programDir(runtime.main);
  const reads = [...(program === undefined ? [] : [program]), needs.config, ...needs.reads];
  const permissions = [
    `--allow-net=${needs.host}`,
    `--allow-env=${ENV_NAMES.join(",")}`,
    `--allow-read=${reads.join(",")}`,
  ];
  if (subcommand === "serve" && needs.audit !== undefined) {
    permissions.push(`--allow-write=${needs.audit}`);
  }
  return {
    command: runtime.execPath,
    args: [
      "run",
      ...(program === undefined ? [] : [LAZY_IMPORTS]),
      V8_FLAGS,
      ...permissions,
      runtime.main,
      ...tail,
    ],
  };
}

/** `value` quoted for a POSIX shell when it needs quoting. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/** A launch as one shell command line. */
export function commandLine(launch: Launch): string {
  return [launch.command, ...launch.args].map(shellQuote).join(" ");
}

/**
 * The client configuration lines for a server named `name` started by `launch`: one
 * `mcpServers` snippet (Claude Desktop, Cursor, Gemini CLI), one `servers` snippet (VS Code),
 * and the `claude mcp add` command (Claude Code).
 */
export function clientSnippets(launch: Launch, name = "proxmox"): string[] {
  const entry = { command: launch.command, args: launch.args };
  const json = (value: unknown) => JSON.stringify(value, null, 2).split("\n");
  return [
    "Claude Desktop (claude_desktop_config.json: Settings > Developer > Edit Config), Cursor",
    "(~/.cursor/mcp.json) and Gemini CLI (~/.gemini/settings.json) take, under mcpServers:",
    ...json({ mcpServers: { [name]: entry } }),
    "",
    "VS Code (.vscode/mcp.json, or the command MCP: Open User Configuration):",
    ...json({ servers: { [name]: { type: "stdio", ...entry } } }),
    "",
    "Claude Code:",
    `claude mcp add --scope user ${name} -- ${commandLine(launch)}`,
  ];
}
