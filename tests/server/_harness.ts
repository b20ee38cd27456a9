/**
 * Test harness: a real MCP client (v2 in either era, or the v1 SDK client) connected to
 * `createServer` through the SDK's stdio entry over an in-memory transport pair, plus small
 * test-only tools.
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport } from "@modelcontextprotocol/server";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport as V1InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { z } from "zod";
import { type Config, configSchema } from "../../src/config/mod.ts";
import { annotationsFor } from "../../src/policy/capability.ts";
import { AuditLog } from "../../src/policy/audit.ts";
import type { Capability } from "../../src/policy/capability.ts";
import type { GuestRef } from "../../src/pve/mod.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { bindConfirmation, processStore } from "../../src/server/confirm.ts";
import { createServer, serveStdio } from "../../src/server/mod.ts";
import { type AnyTool, defineTool } from "../../src/tools/types.ts";

/** An elicitation answer, or a function computing one. */
export type ElicitAnswer = {
  action: "accept" | "decline" | "cancel";
  content?: Record<string, string | number | boolean | string[]>;
};

/** How the test client connects. */
export interface ConnectOptions {
  /** `legacy`: 2025-11-25 initialize; `modern`: 2026-07-28 server/discover; `v1`: the v1 SDK client. */
  era?: "legacy" | "modern" | "v1";
  /** Config input (merged over a single test cluster). */
  config?: Record<string, unknown>;
  tools?: readonly AnyTool[];
  /** Answer to confirmation questions; absent ⇒ the client does not declare elicitation. */
  elicit?: ElicitAnswer;
  /** Clients by cluster name (default: one client per configured cluster, pointing nowhere). */
  clients?: Map<string, PveClient>;
  /**
   * Modern era only: do not answer `input_required` results automatically, so a test can
   * see the raw result (pass `allowInputRequired` per call) and retry by hand.
   */
  manualInputRequired?: boolean;
  /** Audit log file (default: a fresh temporary file, removed on close). */
  auditPath?: string;
  /** The clock 2026-era confirmation states expire by (epoch ms). */
  now?: () => number;
}

/** A connected session. */
export interface Session {
  /** Calls a tool; returns the raw result. */
  call(
    name: string,
    args?: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<ToolCallResult>;
  listTools(): Promise<ListedTool[]>;
  /** Elicitation requests the client received. */
  elicitations: Array<Record<string, unknown>>;
  /** Log notifications (`notifications/message`) the client received (v2 clients). */
  notices: Array<{ level: string; data: unknown }>;
  /** Audit lines written so far. */
  auditLines(): Promise<Array<Record<string, unknown>>>;
  /** The protocol version the client negotiated. */
  protocolVersion: string | undefined;
  /** Prompts, resources and completions, through the same client. */
  surface: SurfaceClient;
  close(): Promise<void>;
}

/** A reference to complete an argument of: a prompt by name or a resource template by URI. */
export type CompletionRef = { type: "ref/prompt"; name: string } | {
  type: "ref/resource";
  uri: string;
};

/** The client's requests for prompts, resources and completions (both SDKs name them alike). */
export interface SurfaceClient {
  listPrompts(): Promise<{
    prompts: Array<{
      name: string;
      title?: string;
      description?: string;
      arguments?: Array<{ name: string; description?: string; required?: boolean }>;
    }>;
  }>;
  getPrompt(params: { name: string; arguments?: Record<string, string> }): Promise<{
    description?: string;
    messages: Array<{ role: string; content: { type: string; text?: string } }>;
  }>;
  listResources(): Promise<{
    resources: Array<
      { uri: string; name: string; title?: string; description?: string; mimeType?: string }
    >;
  }>;
  listResourceTemplates(): Promise<{
    resourceTemplates: Array<
      { uriTemplate: string; name: string; title?: string; description?: string; mimeType?: string }
    >;
  }>;
  readResource(params: { uri: string }): Promise<{
    contents: Array<{ uri: string; mimeType?: string; text?: string }>;
  }>;
  complete(params: {
    ref: CompletionRef;
    argument: { name: string; value: string };
    context?: { arguments?: Record<string, string> };
  }): Promise<{ completion: { values: string[]; total?: number; hasMore?: boolean } }>;
}

/** Per-call options. */
export interface CallOptions {
  onprogress?: (
    progress: { progress: number; total?: number | undefined; message?: string | undefined },
  ) => void;
  signal?: AbortSignal;
  /** Extra `tools/call` params (e.g. a forged `inputResponses`). */
  params?: Record<string, unknown>;
  /** With `manualInputRequired`: return an `input_required` result instead of failing. */
  allowInputRequired?: boolean;
}

/** A `tools/call` result as the client sees it. */
export interface ToolCallResult {
  content: Array<{ type: string; text?: string }>;
  /** `input_required` on a 2026-era answer that asks the client for input. */
  resultType?: string;
  inputRequests?: Record<string, Record<string, unknown>>;
  requestState?: string;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** A `tools/list` entry. */
export interface ListedTool {
  name: string;
  inputSchema: { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

/** The text of a result. */
export function textOf(result: ToolCallResult): string {
  return result.content.map((block) => block.text ?? "").join("\n");
}

/** A parsed config with one test cluster (or the clusters given). */
export function testConfig(input: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    clusters: {
      lab: {
        url: "http://127.0.0.1:9",
        tokenId: "root@pam!mcp",
        tokenSecret: "s3cr3t-token-value",
      },
    },
    ...input,
  });
}

/** Connects a client of the given era to a fresh server. */
export async function connect(options: ConnectOptions = {}): Promise<Session> {
  const config = testConfig(options.config);
  const auditPath = options.auditPath ??
    await Deno.makeTempFile({ prefix: "audit-", suffix: ".jsonl" });
  const removeAudit = () =>
    options.auditPath === undefined ? Deno.remove(auditPath) : Promise.resolve();
  const audit = AuditLog.open(auditPath);
  const clients = options.clients ?? new Map(
    Object.entries(config.clusters).map(([name, cluster]) => [
      name,
      new PveClient({ url: cluster.url, tokenId: "root@pam!mcp", tokenSecret: "x", name }),
    ]),
  );
  const tools = options.tools ?? testTools;
  const elicitations: Array<Record<string, unknown>> = [];
  const capabilities = options.elicit === undefined ? {} : { elicitation: { form: {} } };
  const answer = options.elicit;
  const era = options.era ?? "legacy";

  if (era === "v1") {
    const [clientSide, serverSide] = V1InMemoryTransport.createLinkedPair();
    const handle = serveStdio(() => createServer({ config, clients, tools, audit }), {
      transport: serverSide as unknown as InMemoryTransport,
    });
    const client = new V1Client({ name: "v1-test", version: "1.0.0" }, { capabilities });
    const { ElicitRequestSchema } = await import("@modelcontextprotocol/sdk/types.js");
    if (answer !== undefined) {
      client.setRequestHandler(ElicitRequestSchema, (request: { params: unknown }) => {
        elicitations.push(request.params as Record<string, unknown>);
        return answer;
      });
    }
    await client.connect(clientSide);
    return {
      async call(name, args = {}, callOptions = {}) {
        return await client.callTool({ name, arguments: args }, undefined, {
          ...(callOptions.onprogress === undefined ? {} : { onprogress: callOptions.onprogress }),
          ...(callOptions.signal === undefined ? {} : { signal: callOptions.signal }),
        }) as ToolCallResult;
      },
      async listTools() {
        return (await client.listTools()).tools as unknown as ListedTool[];
      },
      elicitations,
      notices: [],
      auditLines: () => readAudit(auditPath),
      protocolVersion: client.getServerVersion() === undefined ? undefined : "v1",
      surface: client as unknown as SurfaceClient,
      async close() {
        await client.close();
        await handle.close();
        closeClients(clients, options.clients);
        await removeAudit();
      },
    };
  }

  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const handle = serveStdio(() => {
    const server = createServer({ config, clients, tools, audit });
    if (options.now !== undefined) {
      bindConfirmation(server.server, { store: processStore, now: options.now });
    }
    return server;
  }, { transport: serverSide });
  const client = new Client({ name: `${era}-test`, version: "1.0.0" }, {
    capabilities,
    ...(era === "modern" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {}),
    ...(options.manualInputRequired === true ? { inputRequired: { autoFulfill: false } } : {}),
  });
  if (answer !== undefined) {
    client.setRequestHandler("elicitation/create", (request) => {
      elicitations.push(request.params as Record<string, unknown>);
      return answer;
    });
  }
  const notices: Array<{ level: string; data: unknown }> = [];
  client.setNotificationHandler("notifications/message", (notification) => {
    notices.push({ level: notification.params.level, data: notification.params.data });
  });
  await client.connect(clientSide);
  return {
    async call(name, args = {}, callOptions = {}) {
      return await client.callTool({ ...callOptions.params, name, arguments: args }, {
        ...(callOptions.onprogress === undefined ? {} : { onprogress: callOptions.onprogress }),
        ...(callOptions.signal === undefined ? {} : { signal: callOptions.signal }),
        ...(callOptions.allowInputRequired === true ? { allowInputRequired: true } : {}),
      }) as ToolCallResult;
    },
    async listTools() {
      return (await client.listTools()).tools as unknown as ListedTool[];
    },
    elicitations,
    notices,
    auditLines: () => readAudit(auditPath),
    protocolVersion: client.getNegotiatedProtocolVersion(),
    surface: client as unknown as SurfaceClient,
    async close() {
      await client.close();
      await handle.close();
      closeClients(clients, options.clients);
      await removeAudit();
    },
  };
}

function closeClients(clients: Map<string, PveClient>, given: Map<string, PveClient> | undefined) {
  if (given !== undefined) return;
  for (const client of clients.values()) client.close();
}

async function readAudit(path: string): Promise<Array<Record<string, unknown>>> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

// ---- test-only tools ------------------------------------------------------------------

/** How often each test tool's handler ran. */
export const handlerRuns = new Map<string, number>();

function ran(name: string): void {
  handlerRuns.set(name, (handlerRuns.get(name) ?? 0) + 1);
}

/** A guest reference for plans (vmid decides the scope check). */
export function guest(vmid: number): GuestRef {
  return {
    vmid,
    node: "pve1",
    type: "qemu",
    name: `vm${vmid}`,
    status: "running",
    tags: [],
    template: false,
    nodeOnline: true,
  } as GuestRef;
}

function writeTool(name: string, capability: Capability, idempotent: boolean): AnyTool {
  return defineTool({
    name,
    title: `Test ${capability}`,
    description: `Test-only ${capability} tool.`,
    toolset: "testing",
    capability,
    inputSchema: z.object({
      vmid: z.number().int().min(100),
      note: z.string().optional(),
      into: z.number().int().min(100).optional(),
    }),
    outputSchema: z.object({ vmid: z.number(), done: z.boolean() }),
    annotations: { ...annotationsFor(capability), idempotentHint: idempotent },
    plan(args) {
      return Promise.resolve({
        target: guest(args.vmid),
        // `into`: a second guest the call makes (a clone's new vmid), checked like the target.
        ...(args.into === undefined ? {} : { scopeTargets: [{ vmid: args.into, node: "pve1" }] }),
        summary: `${capability} VM ${args.vmid}`,
        calls: [{
          method: "POST",
          path: `/nodes/pve1/qemu/${args.vmid}/status/${capability}`,
          params: { note: args.note ?? "none" },
        }],
        diff: [{ key: "note", before: "old", after: args.note ?? "none" }],
      });
    },
    handler(args, ctx) {
      ran(name);
      return Promise.resolve({
        text: `Did ${capability} on VM ${args.vmid} in cluster ${ctx.cluster}.`,
        structured: { vmid: args.vmid, done: true },
      });
    },
  });
}

/** A read tool that checks the scope of the vmid it is given. */
export const probeRead = defineTool({
  name: "probe_read",
  title: "Test read",
  description: "Test-only read tool.",
  toolset: "testing",
  capability: "read",
  inputSchema: z.object({ vmid: z.number().int().optional() }),
  outputSchema: z.object({ ok: z.boolean(), cluster: z.string() }),
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  handler(args, ctx) {
    ran("probe_read");
    if (args.vmid !== undefined) ctx.assertInScope({ vmid: args.vmid });
    return Promise.resolve({
      text: `Read from ${ctx.cluster}.`,
      structured: { ok: true, cluster: ctx.cluster },
    });
  },
});

/** A read tool with a bug. */
export const probeBug = defineTool({
  name: "probe_bug",
  title: "Test bug",
  description: "Test-only tool that throws.",
  toolset: "other",
  capability: "read",
  inputSchema: z.object({}),
  outputSchema: z.object({ ok: z.boolean() }),
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  handler() {
    throw new TypeError("Cannot read properties of undefined (reading 'x')");
  },
});

export const probeChange = writeTool("probe_change", "change", true);
export const probeDestroy = writeTool("probe_destroy", "destroy", false);

/** The test-only tools. */
export const testTools: readonly AnyTool[] = [probeRead, probeBug, probeChange, probeDestroy];
