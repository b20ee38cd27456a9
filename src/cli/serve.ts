/**
 * `proxmox-mcp serve` (the default command): the MCP server over stdio. stdout carries only
 * protocol messages; logs go to stderr. `--demo` serves the in-process simulated `demo` cluster
 * instead of the configured ones, the safe way to try an assistant.
 *
 * An MCP client starts a stdio server for every session, so the first answers must not wait
 * for what they do not need. This module loads only the wire (`server/wire/`), the raw
 * configuration reader and the generated tool manifest: it answers `initialize` and
 * `tools/list` from them, then checks the configuration with the schema (`_serve_runtime.ts`)
 * and loads the full server when the first request arrives that needs it. The modules after
 * the first answer are imported dynamically, by literal specifiers (so `deno compile` embeds
 * them and loading them needs no read permission). With `--unstable-lazy-dynamic-imports` Deno
 * does not walk their graph before the first answer, at the price of read access to them.
 *
 * @module
 */

import { toolListFacts } from "../config/facts.ts";
import { mergeSources } from "../config/merge.ts";
import type { ToolManifest } from "../server/manifest.ts";
import manifest from "../server/tools_manifest.json" with { type: "json" };
import { EarlyResponder } from "../server/wire/early.ts";
import { StartupGate } from "../server/wire/gate.ts";
import { type Report, StdioTransport } from "../server/wire/transport.ts";
import { toolsetIds } from "../tools/toolsets.ts";
import {
  CONFIG_HELP,
  configFlags,
  type ConfigValues,
  recognizeConfigArgs,
} from "./_config_flags.ts";
import { type Output, stdio } from "./_output.ts";
import { onStopSignal } from "./_signals.ts";

/** Usage text of `serve`. */
export const SERVE_USAGE = `Usage: proxmox-mcp serve [--http [HOST:]PORT] [configuration flags]

Serve MCP over stdio (the default command). stdout carries only the protocol; logs go to
stderr. With --demo, serve a simulated cluster named "demo" on 127.0.0.1 (no Proxmox needed;
the audit log is off unless --audit-path is given). With --twin FILE, serve the rehearsal twin
of a captured cluster (twin capture) the same way; every result says it is a twin.

With --http [HOST:]PORT (or http.listen / PROXMOX_MCP_HTTP), serve MCP over Streamable HTTP at
/mcp instead (both protocol eras; callers are the config's "profiles"; host 127.0.0.1 when
omitted; a non-loopback address needs at least one profile). SIGTERM finishes calls in flight.

Least privilege: deno run --allow-net=<pve-host>:8006 --allow-env=<PROXMOX_* names>
  --allow-read=<config file and CA file> [--allow-write=<audit file>] main.ts serve

${CONFIG_HELP}
`;

type PreparedServe = Awaited<ReturnType<typeof import("./_serve_runtime.ts")["prepareServe"]>>;

/**
 * The start-up answers for this command line and raw configuration, when they can be given:
 * the configuration reads plainly, names one cluster and only known tools and toolsets.
 */
async function earlyResponder(values: ConfigValues): Promise<EarlyResponder | undefined> {
  try {
    const merged = await mergeSources({ args: configFlags(values) });
    const facts = toolListFacts(merged.raw);
    if (facts === undefined) return undefined;
    if (values.demo) facts.clusters = ["demo"];
    else if (values.twin !== undefined) facts.clusters = ["twin"];
    const tools = new Set(manifest.tools.map((tool) => String(tool.listed.name)));
    const toolsets = new Set(toolsetIds());
    if (
      facts.clusters.length !== 1 || !facts.exclude.every((name) => tools.has(name)) ||
      !(facts.toolsets ?? []).every((id) => toolsets.has(id))
    ) {
      return undefined;
    }
    return new EarlyResponder(manifest as ToolManifest, facts);
  } catch {
    // The full path reports the problem with the schema's words.
    return undefined;
  }
}

/**
 * Whether this `serve` is the remote mode: `--http` given, or `http.listen` set by
 * `PROXMOX_MCP_HTTP` or the config file (read raw, as for the start-up answers).
 */
async function servesHttp(args: readonly string[]): Promise<boolean> {
  if (args.some((arg) => arg === "--http" || arg.startsWith("--http="))) return true;
  const values = recognizeConfigArgs(args);
  if (values === undefined) return false;
  try {
    const { raw } = await mergeSources({ args: configFlags(values) });
    const http = raw.http;
    return typeof http === "object" && http !== null && "listen" in http &&
      (http as Record<string, unknown>).listen !== undefined;
  } catch {
    // The stdio path reports the configuration's problem with the schema's words.
    return false;
  }
}

/** Runs `serve`; resolves with the exit code once the client disconnects. */
export async function runServeCli(args: string[], out: Output = stdio): Promise<number> {
  if (await servesHttp(args)) {
    // Loaded here so that serving stdio never loads the HTTP stack.
    return await (await import("./_serve_http.ts")).runServeHttpCli(args, out);
  }
  let values = recognizeConfigArgs(args);
  if (values === undefined) {
    const { CONFIG_OPTIONS, parseCommandArgs, UsageError } = await import("./_args.ts");
    try {
      values = parseCommandArgs(args, { options: CONFIG_OPTIONS }).values;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      out.error(`proxmox-mcp serve: ${error.message} (see proxmox-mcp serve --help)`);
      return 2;
    }
    if (values.help) {
      out.line(SERVE_USAGE.trimEnd());
      return 0;
    }
  }
  const flags = configFlags(values);
  const demo = values.demo === true;
  const twin = values.twin;
  const early = await earlyResponder(values);

  // Until logging is configured, problems on the wire go to stderr as plain lines.
  let logged: { report: Report; info(message: string): void } | undefined;
  const report: Report = (level, message) =>
    logged === undefined
      ? out.error(`${level.toUpperCase()} ${message}`)
      : logged.report(level, message);
  const wire = new StdioTransport({ report });
  const { promise: failed, resolve: fail } = Promise.withResolvers<unknown>();
  const { promise: closed, resolve: close } = Promise.withResolvers<string>();
  wire.onclose = () => close("end of stdin");

  let preparing: Promise<PreparedServe> | undefined;
  const prepare = (): Promise<PreparedServe> => {
    preparing ??= (async () => {
      const { prepareServe } = await import("./_serve_runtime.ts");
      const prepared = await prepareServe(flags, { demo, ...(twin === undefined ? {} : { twin }) });
      wire.drainMs = prepared.drainMs;
      if (early !== undefined && !sameFacts(early.facts, prepared.facts)) {
        report(
          "error",
          "The start-up tool list was read from the raw configuration differently than the " +
            "schema reads it (a bug in proxmox-mcp; please report it): " +
            `${JSON.stringify(early.facts)} vs ${JSON.stringify(prepared.facts)}`,
        );
      }
      return prepared;
    })();
    preparing.catch(fail);
    return preparing;
  };

  const gate = new StartupGate({
    wire,
    early,
    load: async () => {
      const full = await (await prepare()).load();
      logged = {
        report: (level, message) => full.log[level](message),
        info: (text) => full.log.info(text),
      };
      return (channel) => full.connect(channel);
    },
    report,
    describeFailure: (error) =>
      `The proxmox-mcp server cannot run: ${
        error instanceof Error ? error.message : String(error)
      }. Fix its configuration, then restart it.`,
  });
  // With start-up answers, the configuration is checked with the first request that needs the
  // full server (an idle session stays small); without them, at once.
  const timer = early === undefined ? setTimeout(prepare, 0) : undefined;
  const signal = onStopSignal();
  // A configuration mistake is said once, at once; the session goes on answering every request
  // with it, and the exit code is 1.
  let reported: Promise<number> | undefined;
  const reportOnce = (error: unknown): Promise<number> =>
    reported ??= import("./_runtime.ts").then(({ reportFailure }) =>
      reportFailure("serve", error, out)
    );
  failed.then(reportOnce);
  try {
    await gate.start();
    const outcome = await Promise.race([
      closed.then((why) => ({ why })),
      signal.stopped.then((why) => ({ why })),
    ]);
    // Even when stdin ends before any request, the configuration is checked and its mistakes
    // reported (scripts and `doctor`-like runs get the one-line error and exit code 1).
    const error = await prepare().then(() => undefined, (failure: unknown) => failure);
    if (error !== undefined) return await reportOnce(error);
    logged?.info(`Stopping (${outcome.why})`);
    return 0;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal.dispose();
    await wire.close();
    if (preparing !== undefined) await preparing.then((p) => p.close(), () => {});
  }
}

function sameFacts(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
