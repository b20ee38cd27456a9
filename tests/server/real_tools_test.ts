import assert from "node:assert/strict";
import { PveClient } from "../../src/pve/mod.ts";
import { startSimulator } from "../../src/simulator/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { connect, textOf } from "./_harness.ts";

for (const era of ["legacy", "modern", "v1"] as const) {
  Deno.test(`${era} client: every real read tool is listed and cluster_status answers`, async () => {
    const sim = await startSimulator({ seed: "demo", speed: "instant", log: () => {} });
    const client = new PveClient({
      url: sim.url,
      tokenId: sim.credentials.tokenId,
      tokenSecret: sim.credentials.tokenSecret,
      name: "lab",
    });
    const session = await connect({
      era,
      tools: allTools,
      clients: new Map([["lab", client]]),
      config: {
        clusters: {
          lab: {
            url: sim.url,
            tokenId: sim.credentials.tokenId,
            tokenSecret: sim.credentials.tokenSecret,
          },
        },
      },
    });
    try {
      const listed = (await session.listTools()).map((tool) => tool.name);
      const reads = allTools.filter((tool) => tool.capability === "read").map((tool) => tool.name);
      assert.deepEqual(listed, reads);
      const result = await session.call("cluster_status");
      assert.equal(result.isError, undefined, textOf(result));
      assert.equal(result.structuredContent?.nodes_total, 3);
      assert.ok(textOf(result).length > 0);
    } finally {
      await session.close();
      client.close();
      await sim.close();
    }
  });
}
