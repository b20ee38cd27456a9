import assert from "node:assert/strict";
import { AUDITOR_TOKEN_SECRET } from "../../src/simulator/seeds/mod.ts";
import { PveClient } from "../../src/pve/mod.ts";
import { allTools } from "../../src/tools/mod.ts";
import { connect } from "../server/_harness.ts";
import { structuredOf, textOf } from "./_helpers.ts";
import { control, openObserveSession, TOOLSETS } from "./_observe.ts";

type Row = Record<string, unknown>;

Deno.test("network_list shows bonds, a VLAN-aware bridge and a VLAN with their settings", async () => {
  const s = await openObserveSession();
  try {
    const result = await s.call("network_list", { node: "pve1" });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<{ total: number; interfaces: Row[]; pending_changes?: string }>(
      result,
    );
    assert.equal(out.total, 5);
    assert.deepEqual(out.interfaces.map((i) => i.iface), [
      "vmbr0",
      "bond0",
      "vlan50",
      "eno1",
      "eno2",
    ]);
    const [bridge, bond, vlan] = out.interfaces;
    assert.deepEqual(bridge, {
      iface: "vmbr0",
      type: "bridge",
      active: true,
      autostart: true,
      cidr: "10.0.0.11/24",
      gateway: "10.0.0.1",
      ports: ["bond0"],
      vlan_aware: true,
      vids: "2-4094",
    });
    assert.deepEqual(bond?.slaves, ["eno1", "eno2"]);
    assert.equal(bond?.bond_mode, "802.3ad");
    assert.equal(vlan?.vlan_id, 50);
    assert.equal(vlan?.vlan_raw_device, "vmbr0");
    assert.equal(vlan?.comment, "storage network (NAS)");
    assert.equal(out.pending_changes, undefined);
    assert.match(textOf(result), /\nNo pending changes\.$/);
    const bonds = structuredOf<{ interfaces: Row[] }>(
      await s.call("network_list", { node: "pve1", type: "bond" }),
    );
    assert.deepEqual(bonds.interfaces.map((i) => i.iface), ["bond0"]);
  } finally {
    await s.close();
  }
});

Deno.test("network_list shows pending changes that are not applied yet", async () => {
  const s = await openObserveSession();
  try {
    const result = await s.call("network_list", { node: "pve2" });
    const out = structuredOf<{ interfaces: Row[]; pending_changes?: string }>(result);
    const staged = out.interfaces.find((i) => i.iface === "vmbr1");
    assert.equal(staged?.active, false);
    assert.match(out.pending_changes ?? "", /\n\+auto vmbr1\n\+iface vmbr1 inet manual\n/);
    assert.match(
      textOf(result),
      /Pending changes \(in \/etc\/network\/interfaces\.new, not applied/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("network_list refuses an unknown node and an unknown type before asking it", async () => {
  const s = await openObserveSession();
  try {
    const since = await s.mark();
    const unknown = await s.call("network_list", { node: "nope" });
    assert.equal(unknown.isError, true);
    assert.match(
      textOf(unknown),
      /^Node "nope" is not in the cluster: use one of "pve1", "pve2", "pve3"\.$/,
    );
    const type = await s.call("network_list", { node: "pve1", type: "wifi" });
    assert.equal(type.isError, true);
    const paths = (await s.requests(since)).map((r) => r.path);
    assert.ok(paths.every((p) => p === "/nodes"), paths.join(", "));
  } finally {
    await s.close();
  }
});

interface Firewall {
  level: string;
  target: string;
  enabled: boolean;
  cluster_enabled: boolean;
  nics_with_firewall?: string[];
  policy_in: string;
  policy_out: string;
  rules: Row[];
  aliases: Row[];
  ipsets: { name: string; scope: string; entries: string[] }[];
}

Deno.test("firewall_get of a guest expands security groups in place and resolves its aliases and IP sets", async () => {
  const s = await openObserveSession();
  try {
    const result = await s.call("firewall_get", { name: "web01" });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Firewall>(result);
    assert.equal(out.level, "guest");
    assert.equal(out.target, "VM 100 (web01)");
    assert.equal(out.enabled, true);
    assert.deepEqual(out.nics_with_firewall, ["net0"]);
    assert.equal(out.policy_in, "DROP");
    assert.equal(out.policy_out, "ACCEPT", "PVE's default when the guest sets none");
    assert.deepEqual(
      out.rules.map((r) => [r.pos, r.group ?? "", r.type, r.action, r.macro ?? r.dport ?? ""]),
      [
        [0, "", "group", "webserver", ""],
        [0, "webserver", "in", "ACCEPT", "HTTP"],
        [0, "webserver", "in", "ACCEPT", "HTTPS"],
        [1, "", "group", "monitoring", ""],
        [1, "monitoring", "in", "ACCEPT", "9100"],
        [2, "", "in", "ACCEPT", "SSH"],
        [3, "", "in", "ACCEPT", "8080"],
      ],
    );
    assert.equal(out.rules[6]?.enabled, false);
    assert.deepEqual(out.aliases, [{ name: "monitoring", cidr: "10.0.0.20", scope: "dc" }]);
    assert.deepEqual(out.ipsets, [
      { name: "management", scope: "dc", entries: ["10.0.0.0/24", "192.168.1.10"] },
      { name: "web01-clients", scope: "guest", entries: ["10.0.0.0/24"] },
    ]);
    assert.match(
      textOf(result),
      /^Firewall of VM 100 \(web01\): ON; policy in DROP, out ACCEPT; NICs net0\./,
    );
  } finally {
    await s.close();
  }
});

Deno.test("firewall_get says why a firewall is off: the guest's own switch, or the datacenter's", async () => {
  const s = await openObserveSession();
  try {
    const db = structuredOf<Firewall>(await s.call("firewall_get", { vmid: 102 }));
    assert.equal(db.enabled, false);
    const text = textOf(await s.call("firewall_get", { vmid: 102 }));
    assert.match(text, /OFF \(this guest's firewall option is off\)/);
    s.sim.sim.state.firewall.cluster.options = {};
    const dc = await s.call("firewall_get", { vmid: 100 });
    assert.equal(structuredOf<Firewall>(dc).cluster_enabled, false);
    assert.match(textOf(dc), /OFF \(the datacenter firewall is off, so no rule applies\)/);
  } finally {
    await s.close();
  }
});

Deno.test("firewall_get of the cluster and of a node", async () => {
  const s = await openObserveSession();
  try {
    const cluster = structuredOf<Firewall>(await s.call("firewall_get", {}));
    assert.equal(cluster.level, "cluster");
    assert.equal(cluster.enabled, true);
    assert.equal(cluster.rules.length, 4);
    assert.deepEqual(cluster.ipsets.map((i) => i.name), ["blocklist", "management"]);
    const node = structuredOf<Firewall>(await s.call("firewall_get", { node: "pve1" }));
    assert.equal(node.level, "node");
    assert.equal(node.enabled, true);
    assert.deepEqual(node.aliases, [{ name: "mgmt-net", cidr: "10.0.0.0/24", scope: "dc" }]);
    const both = await s.call("firewall_get", { vmid: 100, node: "pve1" });
    assert.equal(both.isError, true);
    assert.match(textOf(both), /^Give a guest \(vmid or name\) or a node, not both/);
  } finally {
    await s.close();
  }
});

interface Ha {
  quorate: boolean;
  master?: string;
  lrm: { node: string; state: string }[];
  resources_total: number;
  by_state: Record<string, number>;
  resources: Row[];
  rules: Row[];
}

Deno.test("ha_status shows quorum, master, LRMs, resources and PVE 9 rules", async () => {
  const s = await openObserveSession();
  try {
    const result = await s.call("ha_status");
    const out = structuredOf<Ha>(result);
    assert.equal(out.quorate, true);
    assert.equal(out.master, "pve1");
    assert.deepEqual(out.lrm, [
      { node: "pve1", state: "idle" },
      { node: "pve2", state: "active" },
      { node: "pve3", state: "idle" },
    ]);
    assert.deepEqual(out.resources, [{
      sid: "vm:101",
      node: "pve2",
      state: "started",
      request_state: "started",
      crm_state: "started",
      comment: "Second web frontend",
    }]);
    assert.deepEqual(out.rules, [{
      rule: "web02-prefers-pve2",
      type: "node-affinity",
      resources: ["vm:101"],
      nodes: ["pve2:2", "pve3:1"],
      strict: false,
      comment: "Keep web02 off pve1, where web01 runs",
    }]);
    await control(s, "POST", "/nodes/pve2/offline");
    const fenced = await s.call("ha_status");
    assert.deepEqual(structuredOf<Ha>(fenced).by_state, { fence: 1 });
    assert.match(
      textOf(fenced),
      /vm:101 on pve2: fence \(requested started\) — its node is being fenced/,
    );
    assert.match(textOf(fenced), /pve2 old timestamp - dead\?/);
  } finally {
    await s.close();
  }
});

Deno.test("ha_status hides HA resources outside the configured scope", async () => {
  const s = await openObserveSession({ config: { policy: { scope: { vmids: ["100-100"] } } } });
  try {
    const out = structuredOf<Ha>(await s.call("ha_status"));
    assert.equal(out.resources_total, 0);
    assert.deepEqual(out.resources, []);
  } finally {
    await s.close();
  }
});

interface Access {
  principal: string;
  kind: string;
  privileges: Record<string, string[]>;
  tools_ok: string[];
  missing: { need: string; role: string; tools: string[]; fix: string }[];
}

Deno.test("access_check names the missing privilege, the role and the pveum command for a PVEAuditor token", async () => {
  const sim = await (await import("../../src/simulator/mod.ts")).startSimulator({
    seed: "demo",
    speed: "instant",
  });
  const pve = new PveClient({
    url: sim.url,
    tokenId: "auditor@pve!ro",
    tokenSecret: AUDITOR_TOKEN_SECRET,
    name: "lab",
  });
  const session = await connect({
    tools: allTools,
    clients: new Map([["lab", pve]]),
    config: {
      policy: {
        allow: ["read", "lifecycle", "change", "exec"],
        toolsets: TOOLSETS.concat(["lifecycle", "snapshots"]),
      },
    },
  });
  try {
    const result = await session.call("access_check");
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Access>(result);
    assert.equal(out.principal, "auditor@pve!ro");
    assert.equal(out.kind, "token");
    assert.ok(out.privileges["/"]?.includes("Sys.Audit"));
    assert.ok(out.privileges["/"]?.includes("VM.Audit"));
    assert.ok(out.tools_ok.includes("cluster_health"));
    const power = out.missing.find((m) => m.need === "VM.PowerMgmt on /vms");
    assert.equal(power?.role, "PVEVMUser");
    assert.ok(power?.tools.includes("guest_start"));
    assert.equal(
      power?.fix,
      "pveum acl modify /vms --tokens 'auditor@pve!ro' --roles PVEVMUser; the user auditor@pve lacks it too: pveum acl modify /vms --users 'auditor@pve' --roles PVEVMUser",
    );
    const exec = out.missing.find((m) => m.need === "VM.GuestAgent.Unrestricted on /vms");
    assert.deepEqual(exec?.tools, ["guest_exec"]);
    assert.equal(exec?.role, "PVEVMAdmin");
    assert.match(textOf(result), /would fail with 403:\n- missing VM\.PowerMgmt on \/vms/);
    // Only the tools this server offers are checked: destroy is not allowed, so no guest_delete.
    const named = out.missing.flatMap((m) => m.tools).concat(out.tools_ok);
    assert.ok(!named.includes("guest_delete"), named.join(", "));
  } finally {
    await session.close();
    pve.close();
    await sim.close();
  }
});

Deno.test("access_check with the root token finds nothing missing", async () => {
  const s = await openObserveSession();
  try {
    const result = await s.call("access_check");
    const out = structuredOf<Access>(result);
    assert.deepEqual(out.missing, []);
    assert.match(textOf(result), /have what they need/);
  } finally {
    await s.close();
  }
});
