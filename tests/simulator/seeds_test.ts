import assert from "node:assert/strict";
import { buildSeed } from "../../src/simulator/seeds/mod.ts";
import { type SimState, volumeKey } from "../../src/simulator/state.ts";

const NOW = 1_795_000_000;
const TAG = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
const DISK_KEY = /^(ide\d|sata\d|scsi\d+|virtio\d+|efidisk0|tpmstate0|rootfs|mp\d+)$/;

function demo(): SimState {
  return buildSeed({ seed: "demo", rootPassword: "pw", tokenSecret: "secret", now: NOW });
}

function allVolids(state: SimState): Set<string> {
  const out = new Set<string>();
  for (const list of state.volumes.values()) for (const v of list) out.add(v.volid);
  return out;
}

function serialize(state: SimState): string {
  return JSON.stringify(state, (_key, value) => {
    if (value instanceof Map) return [...value.entries()];
    if (value instanceof Set) return [...value.values()];
    return value;
  });
}

Deno.test("the demo seed is a three-node homelab cluster on PVE 9.1.1", () => {
  const state = demo();
  assert.equal(state.clusterName, "homelab");
  assert.equal(state.version.version, "9.1.1");
  assert.deepEqual([...state.nodes.keys()], ["pve1", "pve2", "pve3"]);
  assert.deepEqual([...state.nodes.values()].map((n) => n.ip), [
    "10.0.0.11",
    "10.0.0.12",
    "10.0.0.13",
  ]);
  assert.ok([...state.nodes.values()].every((n) => n.online && n.mem < n.maxmem));
});

Deno.test("demo guests have unique vmids, both kinds and valid tags", () => {
  const state = demo();
  const guests = [...state.guests.values()];
  assert.equal(new Set(guests.map((g) => g.vmid)).size, guests.length);
  assert.ok(guests.length >= 12);
  assert.ok(guests.filter((g) => g.type === "lxc" && g.vmid >= 200).length >= 4);
  assert.ok(guests.some((g) => g.type === "lxc" && g.status === "running"));
  assert.ok(guests.some((g) => g.type === "lxc" && g.status === "stopped"));
  assert.ok(guests.some((g) => g.type === "qemu" && g.status === "stopped" && !g.config.template));
  for (const guest of guests) {
    assert.ok(state.nodes.has(guest.node));
    const tags = guest.config.tags;
    if (tags === undefined) continue;
    for (const tag of String(tags).split(";")) assert.match(tag, TAG);
  }
});

Deno.test("every demo guest disk has a volume on its storage", () => {
  const state = demo();
  const volids = allVolids(state);
  for (const guest of state.guests.values()) {
    for (const [key, value] of Object.entries(guest.config)) {
      if (!DISK_KEY.test(key) || String(value).includes("media=cdrom")) continue;
      const volid = String(value).split(",")[0] ?? "";
      assert.ok(volids.has(volid), `${guest.vmid} ${key}: ${volid} has no volume`);
    }
  }
});

Deno.test("demo guest configs look the way PVE stores them", () => {
  const state = demo();
  const web01 = state.guests.get(100);
  assert.equal(web01?.config.name, "web01");
  assert.equal(web01?.config.memory, "2048");
  assert.match(
    String(web01?.config.net0),
    /^virtio=BC:24:11(:[0-9A-F]{2}){3},bridge=vmbr0,firewall=1$/,
  );
  assert.equal(web01?.config.scsi0, "local-lvm:vm-100-disk-0,iothread=1,size=32G");
  assert.equal(web01?.agent?.running, true);
  assert.equal(web01?.agent?.files["/etc/hostname"], "web01\n");
  const ips = JSON.stringify(web01?.agent?.interfaces);
  assert.ok(ips.includes("192.168.1.50") && ips.includes('"ipv6"'));
  const ct = state.guests.get(201);
  assert.equal(ct?.config.memory, 1024);
  assert.equal(ct?.config.rootfs, "local-lvm:vm-201-disk-0,size=8G");
  const tmpl = state.guests.get(9000);
  assert.equal(tmpl?.config.template, 1);
  assert.match(String(tmpl?.config.scsi0), /^local-lvm:base-9000-disk-0,/);
});

Deno.test("db01 has a protected config and a snapshot chain whose parents exist", () => {
  const db01 = demo().guests.get(102);
  assert.equal(db01?.config.protection, 1);
  assert.equal(db01?.config.parent, "pre-upgrade2");
  const snaps = db01?.snapshots ?? new Map();
  assert.equal(snaps.get("pre-upgrade2")?.parent, "pre-upgrade");
  for (const snap of snaps.values()) {
    if (snap.parent !== undefined) assert.ok(snaps.has(snap.parent));
  }
  assert.ok(snaps.has(String(db01?.config.parent)));
});

Deno.test("demo backups carry the guest config, notes and subtype", () => {
  const state = demo();
  const nas = state.storages.get("nas");
  assert.ok(nas?.shared);
  const backups = (state.volumes.get(volumeKey(nas, "pve1")) ?? []).filter((v) =>
    v.content === "backup"
  );
  assert.ok(backups.length >= 4);
  for (const b of backups) {
    assert.match(b.volid, /^nas:backup\/vzdump-(qemu|lxc)-\d+-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\./);
    assert.equal(b.subtype, state.guests.get(b.vmid ?? 0)?.type);
    assert.ok(b.backupConfig !== undefined && b.notes !== undefined);
  }
});

Deno.test("demo users, tokens, ACLs, pool, HA and backup job are in place", () => {
  const state = demo();
  assert.equal(state.users.get("root@pam")?.tokens.get("mcp")?.secret, "secret");
  assert.equal(state.users.get("auditor@pve")?.tokens.get("ro")?.privsep, 1);
  assert.equal(state.users.get("operator@pve")?.tokens.get("ops")?.privsep, 1);
  assert.equal(state.users.get("tfa@pve")?.totp, "123456");
  assert.equal(state.users.get("disabled@pve")?.enable, 0);
  assert.ok(state.groups.has("admins"));
  assert.ok(state.acls.some((a) => a.ugid === "auditor@pve!ro" && a.roleid === "PVEAuditor"));
  assert.ok(state.acls.some((a) => a.ugid === "operator@pve" && a.path === "/pool/prod"));
  assert.ok((state.pools.get("prod")?.vms.size ?? 0) >= 3);
  assert.equal(state.ha.get("vm:101")?.state, "started");
  const job = [...state.backupJobs.values()][0];
  assert.equal(job?.schedule, "02:00");
  assert.equal(job?.storage, "nas");
});

Deno.test("the scale seed is deterministic for the same random seed", () => {
  const options = {
    seed: "scale" as const,
    nodes: 5,
    guests: 300,
    random: 42,
    rootPassword: "pw",
    tokenSecret: "s",
    now: NOW,
  };
  assert.equal(serialize(buildSeed(options)), serialize(buildSeed(options)));
  assert.notEqual(serialize(buildSeed(options)), serialize(buildSeed({ ...options, random: 7 })));
});

Deno.test("the scale seed builds 50 nodes and 10,000 guests of both kinds", () => {
  const state = buildSeed({
    seed: "scale",
    nodes: 50,
    guests: 10_000,
    random: 1,
    rootPassword: "pw",
    tokenSecret: "s",
    now: NOW,
  });
  assert.equal(state.nodes.size, 50);
  assert.ok(state.nodes.has("node01") && state.nodes.has("node50"));
  assert.equal(state.guests.size, 10_000);
  const kinds = new Set([...state.guests.values()].map((g) => g.type));
  assert.deepEqual([...kinds].sort(), ["lxc", "qemu"]);
  assert.ok([...state.guests.values()].some((g) => g.config.lock !== undefined));
  assert.ok(state.pools.size > 0);
  assert.ok(state.storages.get("shared-nfs")?.shared);
  assert.ok(state.users.get("root@pam")?.tokens.has("mcp"));
});

Deno.test("the scale seed has backups of most guests at spread ages, and pool backup jobs", () => {
  const state = buildSeed({
    seed: "scale",
    nodes: 5,
    guests: 1000,
    random: 1,
    rootPassword: "pw",
    tokenSecret: "s",
    now: NOW,
  });
  const backups = (state.volumes.get("shared-nfs") ?? []).filter((v) => v.content === "backup");
  const newest = new Map<number, number>();
  for (const b of backups) {
    assert.equal(b.subtype, state.guests.get(b.vmid ?? 0)?.type);
    newest.set(b.vmid ?? 0, Math.max(newest.get(b.vmid ?? 0) ?? 0, b.ctime));
  }
  const recent = [...newest.values()].filter((t) => NOW - t < 2 * 86400).length;
  assert.ok(newest.size > 700 && newest.size < 850, `${newest.size} guests have backups`);
  assert.ok(recent > 500 && recent < 700, `${recent} backed up recently`);
  assert.deepEqual([...state.backupJobs.keys()], ["nightly-pool-01", "nightly-pool-02"]);
});
