/**
 * Test harness for remote mode: `serveHttp` in this process (on a free loopback port) with the
 * test tools or a simulated cluster, and real MCP clients over HTTP — the v2 client in either
 * era and the v1 SDK client — each with its own bearer token.
 *
 * @module
 */

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1Transport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type Config, configSchema, sha256Hex } from "../../src/config/mod.ts";
import { AuditLog } from "../../src/policy/audit.ts";
import { localProfile, profilesFromConfig } from "../../src/policy/profile.ts";
import { PveClient } from "../../src/pve/mod.ts";
import {
  type HttpServerHandle,
  memoryState,
  oauthSettings,
  serveHttp,
  type SharedState,
} from "../../src/server/http/mod.ts";
import type { AnyTool } from "../../src/tools/types.ts";
import {
  type ElicitAnswer,
  type ListedTool,
  testTools,
  type ToolCallResult,
} from "../server/_harness.ts";

/** Test bearer tokens by profile name (their digests go into the config). */
export const TOKENS = {
  ops: "ops-token-0123456789abcdef",
  viewer: "viewer-token-0123456789abcdef",
} as const;

/** A running server and what a test reads back. */
export interface TestServer {
  url: string;
  handle: HttpServerHandle;
  config: Config;
  auditLines(): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface StartOptions {
  /** Config input merged over one test cluster; `profiles` default to ops and viewer. */
  config?: Record<string, unknown>;
  tools?: readonly AnyTool[];
  /** Clients by cluster name (default: one pointing nowhere). */
  clients?: Map<string, PveClient>;
  shared?: SharedState;
  /** No profiles: the anonymous local caller. */
  anonymous?: boolean;
}

/** Two profiles: ops may change and destroy within VMs 100-199; viewer reads only. */
export async function defaultProfiles(): Promise<Record<string, unknown>> {
  return {
    ops: {
      tokenSha256: [await sha256Hex(TOKENS.ops)],
      policy: { allow: ["read", "change", "destroy"], scope: { vmids: ["100-199"] } },
    },
    viewer: {
      tokenSha256: [await sha256Hex(TOKENS.viewer)],
      policy: { allow: ["read"] },
    },
  };
}

/** Starts `serveHttp` on 127.0.0.1, a free port. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const auditPath = await Deno.makeTempFile({ prefix: "audit-http-", suffix: ".jsonl" });
  const input: Record<string, unknown> = {
    clusters: {
      lab: {
        url: "http://127.0.0.1:9",
        tokenId: "root@pam!mcp",
        tokenSecret: "s3cr3t-token-value",
      },
    },
    ...(options.anonymous ? {} : { profiles: await defaultProfiles() }),
    ...options.config,
  };
  const config = configSchema.parse(input);
  const clients = options.clients ?? new Map(
    Object.entries(config.clusters).map(([name, cluster]) => [
      name,
      new PveClient({ url: cluster.url, tokenId: "root@pam!mcp", tokenSecret: "x", name }),
    ]),
  );
  const audit = AuditLog.open(auditPath);
  const profiles = profilesFromConfig(config);
  const handle = await serveHttp({
    config,
    profiles,
    ...(options.anonymous ? { anonymous: localProfile(config) } : {}),
    clientsFor: () => clients,
    clients,
    audit,
    tools: options.tools ?? testTools,
    address: { hostname: "127.0.0.1", port: 0 },
    shared: options.shared ?? memoryState(),
    ...(config.http.oauth === undefined
      ? {}
      : { oauth: oauthSettings(config.http.oauth, config.http.publicUrl) }),
  });
  return {
    url: handle.url,
    handle,
    config,
    async auditLines() {
      const text = await Deno.readTextFile(auditPath);
      return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
    },
    async close() {
      await handle.shutdown(1000);
      if (options.clients === undefined) { for (const client of clients.values()) client.close(); }
      await Deno.remove(auditPath).catch(() => {});
    },
  };
}

/** How a test client connects. */
export interface HttpClientOptions {
  era?: "legacy" | "modern" | "v1";
  /** The bearer token (none: no Authorization header). */
  token?: string;
  /** Answer to confirmation questions; absent ⇒ the client does not declare elicitation. */
  elicit?: ElicitAnswer;
  /** Modern era: do not answer input_required automatically. */
  manualInputRequired?: boolean;
}

/** A connected client. */
export interface HttpSession {
  call(
    name: string,
    args?: Record<string, unknown>,
    options?: {
      onprogress?: (progress: { progress: number; message?: string | undefined }) => void;
      signal?: AbortSignal;
      params?: Record<string, unknown>;
      allowInputRequired?: boolean;
    },
  ): Promise<ToolCallResult>;
  listTools(): Promise<ListedTool[]>;
  elicitations: Array<Record<string, unknown>>;
  notices: Array<{ level: string; data: unknown }>;
  /** `legacy` or `modern` (v2), `v1`. */
  era: string;
  close(): Promise<void>;
}

/** Connects a real client to `url`. */
export async function connectHttp(
  url: string,
  options: HttpClientOptions = {},
): Promise<HttpSession> {
  const headers: Record<string, string> = options.token === undefined
    ? {}
    : { authorization: `Bearer ${options.token}` };
  const capabilities = options.elicit === undefined ? {} : { elicitation: { form: {} } };
  const elicitations: Array<Record<string, unknown>> = [];
  const answer = options.elicit;
  if (options.era === "v1") {
    const client = new V1Client({ name: "v1-http-test", version: "1.0.0" }, { capabilities });
    if (answer !== undefined) {
      const { ElicitRequestSchema } = await import("@modelcontextprotocol/sdk/types.js");
      client.setRequestHandler(ElicitRequestSchema, (request: { params: unknown }) => {
        elicitations.push(request.params as Record<string, unknown>);
        return answer;
      });
    }
    const transport = new V1Transport(new URL(url), { requestInit: { headers } });
    await client.connect(transport);
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
      era: "v1",
      async close() {
        await transport.terminateSession().catch(() => {});
        await client.close();
      },
    };
  }
  const era = options.era ?? "legacy";
  const client = new Client({ name: `${era}-http-test`, version: "1.0.0" }, {
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
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
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
    era: client.getProtocolEra() ?? era,
    async close() {
      if (era === "legacy") await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

/** A raw POST to the MCP endpoint. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A 2025-era initialize request body. */
export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "raw", version: "1" },
  },
};

/**
 * A POST over a bare TCP connection, for headers `fetch` will not send as given (`Host`);
 * reads until the server closes or the first chunk of an SSE stream.
 */
export async function rawPost(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const text = JSON.stringify(body);
  const lines = [
    `POST ${target.pathname} HTTP/1.1`,
    ...Object.entries({
      host: target.host,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "content-length": String(new TextEncoder().encode(text).length),
      connection: "close",
      ...headers,
    }).map(([name, value]) => `${name}: ${value}`),
    "",
    text,
  ];
  const conn = await Deno.connect({ hostname: target.hostname, port: Number(target.port) });
  try {
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const buffer = new Uint8Array(65536);
    let received = "";
    for (;;) {
      const read = await conn.read(buffer);
      if (read === null) break;
      received += new TextDecoder().decode(buffer.subarray(0, read));
      if (/\r\n\r\n[\s\S]*(?:data: |\}\s*$)/.test(received)) break;
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
    return { status, body: received.slice(received.indexOf("\r\n\r\n") + 4) };
  } finally {
    conn.close();
  }
}
