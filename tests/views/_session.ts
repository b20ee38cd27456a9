/**
 * A server over the simulated demo cluster with a v2 MCP client that declares MCP Apps support
 * (the `io.modelcontextprotocol/ui` extension), as a host with views would.
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport } from "@modelcontextprotocol/server";
import { AuditLog } from "../../src/policy/audit.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { createServer, serveStdio } from "../../src/server/mod.ts";
import {
  type SimulatorHandle,
  type SimulatorOptions,
  startSimulator,
} from "../../src/simulator/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { VIEW_MIME_TYPE } from "../../src/views/mod.ts";
import { testConfig } from "../server/_harness.ts";

/** The client capability a host with MCP Apps support declares. */
export const UI_EXTENSION = { "io.modelcontextprotocol/ui": { mimeTypes: [VIEW_MIME_TYPE] } };

/** A connected session. */
export interface ViewSession {
  sim: SimulatorHandle;
  pve: PveClient;
  client: Client;
  close(): Promise<void>;
}

/** Starts a simulator and a server with every tool, and connects an Apps-capable client. */
export async function openViewSession(
  options: { sim?: SimulatorOptions; config?: Record<string, unknown> } = {},
): Promise<ViewSession> {
  const sim = await startSimulator({ seed: "demo", speed: "instant", ...options.sim });
  const pve = new PveClient({
    url: sim.url,
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
    name: "lab",
  });
  const config = testConfig(options.config);
  const auditPath = await Deno.makeTempFile({ prefix: "audit-", suffix: ".jsonl" });
  const audit = AuditLog.open(auditPath);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const handle = serveStdio(
    () => createServer({ config, clients: new Map([["lab", pve]]), tools: allTools, audit }),
    { transport: serverSide },
  );
  const client = new Client({ name: "views-test", version: "1.0.0" }, {
    capabilities: { extensions: UI_EXTENSION },
  });
  await client.connect(clientSide);
  return {
    sim,
    pve,
    client,
    async close() {
      await client.close();
      await handle.close();
      pve.close();
      await sim.close();
      await Deno.remove(auditPath);
    },
  };
}
