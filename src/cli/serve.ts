/**
 * `proxmox-mcp serve` (the default command): the MCP server over stdio. stdout carries only
 * protocol messages; logs go to stderr. `--demo` serves the in-process simulated `demo` cluster
 * instead of the configured ones, the safe way to try an assistant.
 *
 * @module
 */

import process from "node:process";
import { configureLogging, getLog, isLogLevel, type LogLevelName } from "../log.ts";
import { createServer, serveStdio } from "../server/mod.ts";
import { CONFIG_HELP, CONFIG_OPTIONS, configFlags, parseCommandArgs } from "./_args.ts";
import { type Output, stdio } from "./_output.ts";
import { openRuntime, reportFailure } from "./_runtime.ts";

/** Usage text of `serve`. */
export const SERVE_USAGE = `Usage: proxmox-mcp serve [--http [HOST:]PORT] [configuration flags]

Serve MCP over stdio (the default command). stdout carries only the protocol; logs go to
stderr. With --demo, serve a simulated cluster named "demo" on 127.0.0.1 (no Proxmox needed;
the audit log is off unless --audit-path is given).

With --http [HOST:]PORT (or http.listen / PROXMOX_MCP_HTTP), serve MCP over Streamable HTTP at
/mcp instead (both protocol eras; callers are the config's "profiles"; host 127.0.0.1 when
omitted; a non-loopback address needs at least one profile). SIGTERM finishes calls in flight.

Least privilege: deno run --allow-net=<pve-host>:8006 --allow-env=<PROXMOX_* names>
  --allow-read=<config file and CA file> [--allow-write=<audit file>] main.ts serve

${CONFIG_HELP}
`;

const log = getLog("cli.serve");

/** Resolves when stdin ends or the process is asked to stop (SIGINT/SIGTERM). */
function untilStopped(): Promise<string> {
  const { promise, resolve } = Promise.withResolvers<string>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => resolve(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  const onEnd = () => resolve("end of stdin");
  process.stdin.once("end", onEnd);
  process.stdin.once("close", onEnd);
  return promise.finally(() => {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    process.stdin.off("end", onEnd);
    process.stdin.off("close", onEnd);
  });
}

/** Runs `serve`; resolves with the exit code once the client disconnects. */
export async function runServeCli(args: string[], out: Output = stdio): Promise<number> {
  try {
    const { values } = parseCommandArgs(args, {
      options: { ...CONFIG_OPTIONS, http: { type: "string" } },
    });
    if (values.help) {
      out.line(SERVE_USAGE.trimEnd());
      return 0;
    }
    const flags = configFlags(values);
    if (values.http !== undefined) flags.http = values.http;
    const runtime = await openRuntime(flags, {
      demo: values.demo === true,
      audit: true,
    });
    try {
      const level = runtime.config.logging.level;
      await configureLogging({ level: isLogLevel(level) ? level : "info" as LogLevelName });
      for (const warning of runtime.warnings) log.warning(warning);
      const { config, clients, audit } = runtime;
      if (config.http.listen !== undefined) {
        // Loaded here so that serving stdio never loads the HTTP stack.
        return await (await import("./_serve_http.ts")).serveHttpCli(runtime);
      }
      // Build one server up front so configuration mistakes fail before the first client.
      await createServer({ config, clients, audit }).close();
      const handle = serveStdio(() => createServer({ config, clients, audit }));
      log.info("Serving MCP on stdio for {clusters} (allowed classes: {allow}; audit: {audit})", {
        clusters: Object.keys(config.clusters).join(", "),
        allow: config.policy.allow.join(", "),
        audit: audit.path ?? "off",
      });
      const why = await untilStopped();
      log.info("Stopping ({why})", { why });
      await handle.close();
      return 0;
    } finally {
      await runtime.close();
    }
  } catch (error) {
    return reportFailure("serve", error, out);
  }
}
