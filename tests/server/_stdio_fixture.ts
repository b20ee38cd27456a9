/**
 * A proxmox-mcp server over real stdio with the test-only tools, for `stdio_test.ts`. It logs
 * one line at start-up (to stderr) so the test can check that logs stay off stdout.
 *
 * @module
 */

import { configureLogging, getLog } from "../../src/log.ts";
import { AuditLog } from "../../src/policy/audit.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { createServer, serveStdio } from "../../src/server/mod.ts";
import { testConfig, testTools } from "./_harness.ts";

await configureLogging({ level: "debug" });
getLog("test.stdio").info("Fixture server starting on stdio");
const config = testConfig();
const client = new PveClient({
  url: "http://127.0.0.1:9",
  tokenId: "root@pam!mcp",
  tokenSecret: "x",
});
serveStdio(() =>
  createServer({
    config,
    clients: new Map([["lab", client]]),
    tools: testTools,
    audit: AuditLog.disabled(),
  })
);
