/**
 * One inventory question, side by side: what does answering "which guests exist?" cost on top
 * of the bare HTTP call to Proxmox VE, for a 50-node × 10,000-guest cluster?
 *
 * - baseline: `fetch` + `JSON.parse` of `/cluster/resources?type=vm` (what any client pays);
 * - the unfiltered `/cluster/resources` (guests, nodes and storage), raw;
 * - `PveClient.resources("vm")`: our client (auth, envelope, coercion, normalization);
 * - `PveClient.resources()`: the unfiltered read `guest_list` makes (node entries flag offline
 *   nodes);
 * - `guest_list` through a real MCP v2 client (in memory), default arguments and with filters:
 *   the whole tool path (validation, policy, scope, filter, sort, page, text + structured).
 *
 * Two groups run the same rows against two backends:
 * - `replay`: the simulator's answers recorded once and served from memory, as Proxmox VE
 *   serves them; the ratios show our overhead over the bare HTTP call;
 * - `simulator`: the live simulated cluster in this process, which rebuilds the JSON on every
 *   request (end to end; the simulator's own cost dilutes the ratios).
 *
 * Run: `deno task bench bench/inventory_bench.ts`
 *
 * @module
 */

import {
  clientFor,
  connectScale,
  startReplay,
  startScaleCluster,
  type Target,
  tokenHeader,
} from "./_scale.ts";

const sim = await startScaleCluster();
const replay = startReplay(sim);
const closers: Array<() => unknown> = [() => sim.close(), () => replay.close()];

// Close everything once the last benchmark has run (deno bench has no teardown hook).
globalThis.addEventListener("unload", () => {
  for (const close of closers.reverse()) void close();
});

async function defineGroup(group: string, target: Target): Promise<void> {
  const pve = clientFor(target);
  const session = await connectScale(target);
  closers.push(() => pve.close(), () => session.close());
  const authorization = tokenHeader(target);

  async function raw(query: string): Promise<unknown> {
    const response = await fetch(`${target.api}/cluster/resources${query}`, {
      headers: { Authorization: authorization },
    });
    if (!response.ok) throw new Error(`Raw read failed: HTTP ${response.status}`);
    return JSON.parse(await response.text());
  }

  async function guestList(args: Record<string, unknown>): Promise<void> {
    const result = await session.client.callTool({ name: "guest_list", arguments: args });
    if (result.isError) throw new Error(`guest_list failed: ${JSON.stringify(result.content)}`);
  }

  const rows: Array<[string, () => Promise<unknown>]> = [
    ["raw fetch + JSON.parse /cluster/resources (all types)", () => raw("")],
    ['PveClient.resources("vm")', () => pve.resources("vm")],
    ["PveClient.resources() (all types)", () => pve.resources()],
    ["guest_list via MCP (defaults: first 50)", () => guestList({})],
    [
      "guest_list via MCP (tag=db, status=running, limit=500)",
      () => guestList({ tag: "db", status: "running", limit: 500 }),
    ],
    [
      "guest_list via MCP (sort=mem desc, limit=10)",
      () => guestList({ sort: "mem", order: "desc", limit: 10 }),
    ],
  ];

  // Warm the replay's recording so no timed run pays for the simulator.
  await raw("?type=vm");
  await raw("");

  Deno.bench({
    name: `[${group}] raw fetch + JSON.parse /cluster/resources?type=vm`,
    group,
    baseline: true,
    async fn() {
      await raw("?type=vm");
    },
  });
  for (const [name, run] of rows) {
    Deno.bench({
      name: `[${group}] ${name}`,
      group,
      async fn() {
        await run();
      },
    });
  }
}

await defineGroup("replay", replay);
await defineGroup("simulator", sim);
