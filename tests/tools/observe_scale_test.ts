/**
 * Every observe, network and agent tool answers within its token budget on the scale seed
 * (50 nodes, 10,000 guests) with problems planted. The answers are computed once, before the
 * tests are registered, so each test's name prints the measured figure.
 *
 * @module
 */

import assert from "node:assert/strict";
import { textOf } from "./_helpers.ts";
import { control, openObserveSession, tokenEstimate } from "./_observe.ts";

/** Tokens each answer may take (text plus structured content, ~4 bytes a token). */
const BUDGETS: Record<string, number> = {
  cluster_health: 2000,
  node_get: 1200,
  "metrics_get guest": 800,
  "metrics_get node": 800,
  "metrics_get top": 1500,
  network_list: 1000,
  "firewall_get cluster": 1000,
  "firewall_get guest": 1000,
  ha_status: 3000,
  access_check: 1500,
  guest_agent_info: 800,
};

const calls: [string, string, Record<string, unknown>][] = [
  ["cluster_health", "cluster_health", {}],
  ["node_get", "node_get", { node: "node07" }],
  ["metrics_get guest", "metrics_get", { vmid: 5000, timeframe: "week" }],
  ["metrics_get node", "metrics_get", { node: "node07", timeframe: "month" }],
  ["metrics_get top", "metrics_get", { top: "cpu", limit: 20 }],
  ["network_list", "network_list", { node: "node07" }],
  ["firewall_get cluster", "firewall_get", {}],
  ["firewall_get guest", "firewall_get", { vmid: 5000 }],
  ["ha_status", "ha_status", {}],
  ["access_check", "access_check", {}],
  ["guest_agent_info", "guest_agent_info", { vmid: 5000 }],
];

const measured = new Map<string, { tokens: number; error: boolean; text: string }>();
{
  const s = await openObserveSession({
    sim: { seed: "scale", nodes: 50, guests: 10_000, speed: "instant" },
  });
  try {
    const state = s.sim.sim.state;
    // A guest with a working agent, to measure guest_agent_info.
    const vm = [...state.guests.values()].find((g) =>
      g.type === "qemu" && g.status === "running" && g.config.agent === "1" && g.vmid >= 5000
    );
    assert.ok(vm !== undefined);
    calls.forEach((call) => {
      if (call[2].vmid === 5000) call[2].vmid = vm.vmid;
    });
    vm.agent = {
      running: true,
      hostname: `vm-${vm.vmid}`,
      osinfo: {
        "pretty-name": "Debian GNU/Linux 12 (bookworm)",
        "kernel-release": "6.1.0-25-amd64",
      },
      interfaces: [
        {
          name: "lo",
          "ip-addresses": [{ "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 }],
        },
        {
          name: "eth0",
          "hardware-address": "bc:24:11:00:00:01",
          "ip-addresses": [{ "ip-address": "10.1.5.20", "ip-address-type": "ipv4", prefix: 16 }],
        },
      ],
      fsinfo: [{
        name: "sda1",
        mountpoint: "/",
        type: "ext4",
        "total-bytes": 33_000_000_000,
        "used-bytes": 9_000_000_000,
      }],
      files: {},
    };
    // Problems to find: a node down, a full storage, failed tasks on many nodes.
    await control(s, "POST", "/nodes/node13/offline");
    await control(s, "POST", "/storage/shared-nfs/usage", { node: "node02", used_fraction: 0.93 });
    for (let i = 0; i < 40; i++) {
      await control(s, "POST", "/tasks", {
        node: `node${String(i < 12 ? i + 1 : i + 2).padStart(2, "0")}`, // not node13: it is down
        type: "vzdump",
        id: String(100 + i),
        status: "job errors",
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const [label, tool, args] of calls) {
      const result = await s.call(tool, args);
      measured.set(label, {
        tokens: tokenEstimate(result),
        error: result.isError === true,
        text: textOf(result),
      });
    }
  } finally {
    await s.close();
  }
}

for (const [label] of calls) {
  const m = measured.get(label);
  const budget = BUDGETS[label] ?? 0;
  Deno.test(`${label} answers on 50 nodes × 10,000 guests in ${m?.tokens} tokens (budget ${budget})`, () => {
    assert.ok(m !== undefined);
    assert.equal(m.error, false, m.text);
    assert.ok(m.tokens <= budget, `${m.tokens} tokens`);
  });
}

Deno.test("cluster_health on the scale seed finds the planted problems and counts instead of listing", () => {
  const text = measured.get("cluster_health")?.text ?? "";
  assert.match(text, /Node node13 is offline; \d+ guest\(s\) on it cannot be managed/);
  assert.match(text, /Storage shared-nfs is nearly full: 93\.0% /);
  assert.match(text, /40 task\(s\) failed in the last 24h on 40 node\(s\)/);
  assert.match(text, /guest\(s\) locked with no running task holding the lock/);
});
