/**
 * A rehearsal twin marks every tool result: the server's `notice` is the first line of each
 * result's text — successes, dry runs, validation errors, refusals and Proxmox VE failures —
 * while the structured content stays what the tool returned.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connectInProcess } from "../../src/cli/_in_process.ts";
import { AuditLog } from "../../src/policy/audit.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { createServer } from "../../src/server/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { toolsetIds } from "../../src/tools/toolsets.ts";
import { testConfig } from "../server/_harness.ts";
import { startTestSimulator } from "../simulator/_helpers.ts";

const NOTICE = '[twin] Rehearsal twin of cluster "homelab" captured 2026-01-02T03:04:05Z, ' +
  "not production: nothing done here touches the real cluster.";

type Result = {
  content: { type: string; text?: string }[];
  structuredContent?: unknown;
  isError?: boolean;
};

Deno.test("every tool result of a server with a notice starts with it; structured content is untouched", async () => {
  const sim = await startTestSimulator();
  const pve = new PveClient({
    url: sim.url,
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
    name: "twin",
  });
  const config = testConfig({
    clusters: { twin: { url: sim.url, tokenId: "root@pam!mcp", tokenSecret: "x" } },
    policy: {
      allow: ["read", "change"],
      toolsets: toolsetIds(allTools),
      confirmation: { fallback: "deny" },
    },
  });
  const clients = new Map([["twin", pve]]);
  const build = (notice?: string) =>
    connectInProcess(() =>
      createServer({
        config,
        clients,
        audit: AuditLog.disabled(),
        ...(notice === undefined ? {} : { notice }),
      })
    );
  const [marked, plain] = await Promise.all([build(NOTICE), build()]);
  try {
    const call = async (name: string, args: Record<string, unknown>) => {
      const [a, b] = await Promise.all(
        [marked, plain].map((s) => s.client.callTool({ name, arguments: args }) as Promise<Result>),
      );
      return { marked: a!, plain: b! };
    };
    const cases: [string, Record<string, unknown>, boolean][] = [
      ["guest_list", { limit: 3 }, false],
      [
        "guest_migrate",
        { vmid: 104, target_node: "pve3", with_local_disks: true, dry_run: true },
        false,
      ],
      ["guest_get", { vmid: "abc" }, true],
      ["guest_get", { vmid: 4242 }, true],
      ["guest_delete", { vmid: 100 }, true],
    ];
    for (const [name, args, error] of cases) {
      const { marked: a, plain: b } = await call(name, args);
      const what = `${name} ${JSON.stringify(args)}`;
      assert.equal(a.isError === true, error, `${what}: ${a.content[0]?.text}`);
      assert.equal(a.content[0]?.type, "text", what);
      assert.equal(a.content[0]?.text, `${NOTICE}\n${b.content[0]?.text}`, what);
      assert.deepEqual(a.structuredContent, b.structuredContent, what);
    }
  } finally {
    await marked.close();
    await plain.close();
    pve.close();
    await sim.close();
  }
});
