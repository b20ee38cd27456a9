/**
 * The parts of `serve` that come after its first answers: loading and checking the
 * configuration with the schema (right after the first answer is written), and loading the full
 * server — SDK, tools, clients, the demo cluster — when the first request arrives that the
 * start-up answers do not cover.
 *
 * @module
 */

import type { Transport } from "@modelcontextprotocol/server";
import { assertKnownNames, type ConfigFlags } from "../config/mod.ts";
import { factsOfConfig, type ToolListFacts } from "../config/facts.ts";
import { configureLogging, getLog, isLogLevel, type LogLevelName } from "../log.ts";
import manifest from "../server/tools_manifest.json" with { type: "json" };
import { toolsetIds } from "../tools/toolsets.ts";
import { DEMO_CLUSTER, prepareRuntime, TWIN_CLUSTER } from "./_runtime.ts";

const log = getLog("cli.serve");

/** A checked configuration, ready to load the full server. */
export interface PreparedServe {
  /** The tool-list facts of the validated configuration. */
  facts: ToolListFacts;
  /** How long requests in flight may finish once stdin ends (the longest task wait, plus 5 s). */
  drainMs: number;
  /** Loads the full server; the result connects it to a transport. */
  load(): Promise<(channel: Transport) => Promise<void>>;
  /** Closes the full server, its clients and the demo cluster. */
  close(): Promise<void>;
}

/**
 * Loads and checks the configuration, configures logging and prints its warnings.
 *
 * @throws {ConfigError | MissingPermissionError | AuditError}
 */
export async function prepareServe(
  flags: ConfigFlags,
  options: { demo: boolean; twin?: string },
): Promise<PreparedServe> {
  const prepared = await prepareRuntime(flags, {
    demo: options.demo,
    audit: true,
    ...(options.twin === undefined ? {} : { twin: options.twin }),
  });
  const { config } = prepared;
  const level = config.logging.level;
  await configureLogging({ level: isLogLevel(level) ? level : "info" as LogLevelName });
  for (const warning of prepared.warnings) log.warning(warning);
  assertKnownNames(config, {
    tools: manifest.tools.map((tool) => String(tool.listed.name)).sort(),
    toolsets: toolsetIds().sort(),
  });
  const facts = factsOfConfig(config);
  if (options.demo) facts.clusters = [DEMO_CLUSTER];
  if (options.twin !== undefined) facts.clusters = [TWIN_CLUSTER];

  let closeServer: (() => Promise<void>) | undefined;
  let closeRuntime: (() => Promise<void>) | undefined;
  return {
    facts,
    drainMs: (config.policy.wait.maxSeconds + 5) * 1000,
    async load() {
      const runtime = await prepared.open();
      closeRuntime = () => runtime.close();
      const { createServer, serveStdio } = await import("../server/mod.ts");
      const { clients, audit } = runtime;
      const notice = runtime.notice;
      const build = () =>
        createServer({ config: runtime.config, clients, audit, ...(notice ? { notice } : {}) });
      // Build one server up front so configuration mistakes fail before the first reply.
      await build().close();
      log.info("Serving MCP on stdio for {clusters} (allowed classes: {allow}; audit: {audit})", {
        clusters: Object.keys(runtime.config.clusters).join(", "),
        allow: config.policy.allow.join(", "),
        audit: audit.path ?? "off",
      });
      if (runtime.twin !== undefined && options.twin !== undefined) {
        log.info(
          "{notice} The twin answers at {url}; save its state with: proxmox-mcp twin capture " +
            "--twin {file} --url {url} --out FILE (while this server runs)",
          { notice: runtime.notice, url: runtime.twin.url, file: options.twin },
        );
      }
      return (channel: Transport) => {
        const handle = serveStdio(build, { transport: channel });
        closeServer = () => handle.close();
        return Promise.resolve();
      };
    },
    async close() {
      await closeServer?.();
      await closeRuntime?.();
    },
  };
}
