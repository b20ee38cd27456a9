import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/client";
import {
  EXTENSION_ID,
  getUiCapability,
  registerAppTool,
  RESOURCE_MIME_TYPE,
  RESOURCE_URI_META_KEY,
} from "@modelcontextprotocol/ext-apps/server";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { AuditLog } from "../../src/policy/audit.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { createServer, serveStdio } from "../../src/server/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { LEGACY_VIEW_META_KEY, VIEW_MIME_TYPE, VIEWS } from "../../src/views/mod.ts";
import { testConfig } from "../server/_harness.ts";
import { UI_EXTENSION } from "./_session.ts";

const TOOL_NAMES = new Set(allTools.map((tool) => tool.name));

/** A server (pointing at no cluster: these tests read no Proxmox data) and a connected client. */
async function connect(
  options: { config?: Record<string, unknown>; era?: "legacy" | "modern" } = {},
) {
  const auditPath = await Deno.makeTempFile({ prefix: "audit-", suffix: ".jsonl" });
  const pve = new PveClient({
    url: "http://127.0.0.1:9",
    tokenId: "root@pam!mcp",
    tokenSecret: "x",
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const handle = serveStdio(
    () =>
      createServer({
        config: testConfig(options.config),
        clients: new Map([["lab", pve]]),
        tools: allTools,
        audit: AuditLog.open(auditPath),
      }),
    { transport: serverSide },
  );
  const client = new Client({ name: "views-test", version: "1.0.0" }, {
    capabilities: { extensions: UI_EXTENSION },
    ...(options.era === "modern" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {}),
  });
  await client.connect(clientSide);
  return {
    client,
    async close() {
      await client.close();
      await handle.close();
      pve.close();
      await Deno.remove(auditPath);
    },
  };
}

Deno.test("our view constants are the extension's own: MIME type, legacy key, and the client capability a host declares", () => {
  assert.equal(VIEW_MIME_TYPE, RESOURCE_MIME_TYPE);
  assert.equal(LEGACY_VIEW_META_KEY, RESOURCE_URI_META_KEY);
  assert.deepEqual(getUiCapability({ extensions: UI_EXTENSION }), {
    mimeTypes: [RESOURCE_MIME_TYPE],
  });
  assert.equal(Object.keys(UI_EXTENSION)[0], EXTENSION_ID);
});

Deno.test("every view has a ui:// URI, and every tool it names exists and links to it in tools/list as the extension's registerAppTool writes it", async () => {
  const s = await connect({
    config: { policy: { allow: ["read"], toolsets: ["inventory", "tasks", "observe"] } },
  });
  try {
    const listed = (await s.client.listTools()).tools;
    let linked = 0;
    for (const view of VIEWS) {
      assert.match(view.uri, /^ui:\/\/proxmox-mcp\/[a-z]+\.html$/);
      for (const name of view.tools) {
        assert.ok(TOOL_NAMES.has(name), `${view.id} names the tool ${name}`);
        const tool = listed.find((t) => t.name === name);
        assert.ok(tool !== undefined, `${name} is listed`);
        const reference = new McpServer({ name: "reference", version: "1" });
        const registered = registerAppTool(
          reference,
          name,
          {
            description: "reference",
            inputSchema: z.object({}),
            _meta: { ui: { resourceUri: view.uri } },
          },
          () => ({ content: [] }),
        );
        assert.deepEqual(tool._meta, registered._meta, `${name}'s _meta`);
        linked++;
      }
    }
    assert.equal(linked, 4, "cluster_status, cluster_health, metrics_get and task_get");
    const withoutView = listed.filter((t) => !VIEWS.some((v) => v.tools.includes(t.name)));
    assert.ok(withoutView.length > 0);
    for (const tool of withoutView) assert.equal(tool._meta, undefined, `${tool.name} has no view`);
  } finally {
    await s.close();
  }
});

for (const era of ["legacy", "modern"] as const) {
  Deno.test(`(${era} era) the server announces resources, lists the view of each offered tool, and reads each as one self-contained page`, async () => {
    const s = await connect({ era });
    try {
      assert.deepEqual(s.client.getServerCapabilities()?.resources, { listChanged: false });
      const listed = (await s.client.listResources()).resources;
      // The views follow the server's own resources (tests/server/resources_test.ts).
      const resources = listed.filter((r) => r.uri.startsWith("ui://"));
      assert.deepEqual(resources.map((r) => r.uri), VIEWS.map((view) => view.uri));
      assert.deepEqual(listed.slice(-resources.length), resources);
      for (const resource of resources) {
        assert.equal(resource.mimeType, VIEW_MIME_TYPE);
        assert.ok((resource.description ?? "").length > 20);
        const read = await s.client.readResource({ uri: resource.uri });
        assert.equal(read.contents.length, 1);
        const content = read.contents[0] as { uri: string; mimeType?: string; text?: string };
        assert.equal(content.uri, resource.uri);
        assert.equal(content.mimeType, VIEW_MIME_TYPE);
        const html = content.text ?? "";
        assert.match(html, /^<!doctype html>\n<html lang="en">/);
        assert.match(html, /<script type="module">/);
        // Outside the inline script and style: no element that loads anything.
        const markup = html.replace(/<script[^>]*>[\s\S]*?<\/script>/g, "")
          .replace(/<style>[\s\S]*?<\/style>/g, "");
        assert.doesNotMatch(markup, /\s(src|href)=|<link|<img|<iframe/i);
        const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]).join("");
        assert.doesNotMatch(styles, /url\(|@import/i, "styles load nothing");
        assert.equal((html.match(/<\/script>/g) ?? []).length, 1, "one script, closed once");
      }
    } finally {
      await s.close();
    }
  });
}

Deno.test("a view none of whose tools is offered is neither listed nor read, and reading an unknown ui:// URI is an error naming resources/list", async () => {
  const s = await connect({ config: { policy: { toolsets: ["inventory"] } } });
  try {
    const { resources } = await s.client.listResources();
    assert.deepEqual(
      resources.map((r) => r.uri).filter((uri) => uri.startsWith("ui://")),
      ["ui://proxmox-mcp/cluster.html"],
    );
    await assert.rejects(
      () => s.client.readResource({ uri: "ui://proxmox-mcp/metrics.html" }),
      /No resource "ui:\/\/proxmox-mcp\/metrics\.html": resources\/list/,
      "a view that is not listed cannot be read either",
    );
    await assert.rejects(
      () => s.client.readResource({ uri: "ui://proxmox-mcp/nope.html" }),
      (error: Error & { code?: number; data?: unknown }) => {
        // Resource not found: -32602 carrying only the uri (2026-07-28 spec, either era).
        assert.equal(error.code, -32602);
        assert.deepEqual(error.data, { uri: "ui://proxmox-mcp/nope.html" });
        assert.match(
          error.message,
          /No resource "ui:\/\/proxmox-mcp\/nope\.html": resources\/list/,
        );
        return true;
      },
    );
  } finally {
    await s.close();
  }
});
