/**
 * The parts of `serve` that come after its first answers: loading and checking the
 * configuration with the schema (right after the first answer is written; nothing else is
 * loaded then, so an idle session stays small), and loading the full server — logging, SDK,
 * tools, clients, the demo cluster — when the first request arrives that the start-up answers do
 * not cover. The configuration's warnings are logged then, once logging is configured.
 *
 * @module
 */

import type { Transport } from "@modelcontextprotocol/server";
import { assertKnownNames, type ConfigFlags } from "../config/mod.ts";
import { factsOfConfig, type ToolListFacts } from "../config/facts.ts";
import type { Logger } from "../log.ts";
import manifest from "../server/tools_manifest.json" with { type: "json" };
import { toolsetIds } from "../tools/toolsets.ts";
import { DEMO_CLUSTER, prepareRuntime, TWIN_CLUSTER } from "./_runtime.ts";

/** The loaded full server. */
export interface FullServer {
  /** Connects the server to the transport the client's messages come through. */
  connect(channel: Transport): Promise<void>;
  /** The logger for problems on the wire. */
  log: Logger;
}

/** A checked configuration, ready to load the full server. */
export interface PreparedServe {
  /** The tool-list facts of the validated configuration. */
  facts: ToolListFacts;
  /** How long requests in flight may finish once stdin ends (the longest task wait, plus 5 s). */
  drainMs: number;
  /** Loads the full server: the result connects it to a transport and logs for the wire. */
  load(): Promise<FullServer>;
  /** Closes the full server, its clients and the demo cluster. */
  close(): Promise<void>;
}

/**
 * Loads and checks the configuration (the schema, known tool and toolset names, permissions,
 * the audit log); its warnings are logged when the full server loads.
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
      const { configureLogging, getLog, isLogLevel } = await import("../log.ts");
      const level = config.logging.level;
      await configureLogging({ level: isLogLevel(level) ? level : "info" });
      const log = getLog("cli.serve");
      for (const warning of prepared.warnings) log.warning(warning);
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
      return {
        connect(channel: Transport) {
          const handle = serveStdio(build, { transport: channel });
          closeServer = () => handle.close();
          return Promise.resolve();
        },
        log: getLog("server.wire"),
      };
    },
    async close() {
      await closeServer?.();
      await closeRuntime?.();
    },
  };
}
