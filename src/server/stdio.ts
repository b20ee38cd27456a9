/**
 * MCP over stdio. stdout carries only protocol messages; logs go to stderr (`src/log.ts`).
 *
 * The SDK's stdio entry decides the protocol era from the client's opening message
 * (`initialize` ⇒ 2025-11-25 era, `server/discover` ⇒ 2026-07-28 era) and pins one server
 * instance from the factory for the connection, so the factory is called per connection
 * (and once more for a discarded discovery probe).
 *
 * @module
 */

import type { McpServer, Transport } from "@modelcontextprotocol/server";
import {
  serveStdio as sdkServeStdio,
  type StdioServerHandle,
} from "@modelcontextprotocol/server/stdio";
import { getLog } from "../log.ts";

/** Builds one server instance for one connection. */
export type ServerFactory = () => McpServer | Promise<McpServer>;

/** Options of {@linkcode serveStdio}. */
export interface ServeStdioOptions {
  /** A transport other than the process's stdin/stdout (tests pass an in-memory one). */
  transport?: Transport;
}

/** A served connection; `close()` ends it. */
export type { StdioServerHandle };

const log = getLog("server.stdio");

/** Serves MCP on stdin/stdout (or the given transport) from a server factory. */
export function serveStdio(
  factory: ServerFactory,
  options: ServeStdioOptions = {},
): StdioServerHandle {
  return sdkServeStdio(() => factory(), {
    ...(options.transport === undefined ? {} : { transport: options.transport }),
    onerror: (error) => log.warning("MCP connection error: {message}", { message: error.message }),
  });
}
