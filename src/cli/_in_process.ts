/**
 * An MCP client connected to a server in the same process, through the same stdio entry `serve`
 * uses (the `demo` and `call` commands).
 *
 * @module
 */

import type { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, type McpServer } from "@modelcontextprotocol/server";
import { serveStdio } from "../server/mod.ts";
import { VERSION } from "../version.ts";

/** A confirmation question from the server and how the client answers it. */
export type ElicitHandler = (message: string) => boolean;

/** An MCP client connected to a server in this process. */
export interface InProcessSession {
  client: Client;
  close(): Promise<void>;
}

/**
 * Connects a real MCP v2 client to a server built by `factory`, over an in-memory transport
 * through the same stdio entry `serve` uses. With `onElicit`, the client declares form
 * elicitation and answers confirmation questions with the handler's choice.
 */
export async function connectInProcess(
  factory: () => McpServer,
  options: { onElicit?: ElicitHandler } = {},
): Promise<InProcessSession> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const handle = serveStdio(factory, { transport: serverSide });
  const onElicit = options.onElicit;
  // Loaded here so that `serve` never loads the client SDK.
  const { Client } = await import("@modelcontextprotocol/client");
  const client = new Client({ name: "proxmox-mcp-cli", version: VERSION }, {
    capabilities: onElicit === undefined ? {} : { elicitation: { form: {} } },
  });
  if (onElicit !== undefined) {
    client.setRequestHandler("elicitation/create", (request) => {
      const message = String((request.params as { message?: unknown }).message ?? "");
      return onElicit(message)
        ? { action: "accept", content: { confirm: true } }
        : { action: "decline" };
    });
  }
  try {
    await client.connect(clientSide);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return {
    client,
    async close() {
      await client.close();
      await handle.close();
    },
  };
}
