/**
 * A widely used third-party PVE client (`proxmox-api` from npm, test-only dependency) works
 * against the simulator unchanged: tokens, tickets with CSRF on writes, HTTPS.
 */
import assert from "node:assert/strict";
import proxmoxApi from "proxmox-api";
import { startSimulator } from "../../src/simulator/mod.ts";

const TLS = new URL("../fixtures/tls/", import.meta.url);

Deno.test("the proxmox-api npm client reads and writes against the simulator unchanged", async () => {
  const sim = await startSimulator({
    speed: "instant",
    cert: await Deno.readTextFile(new URL("server.pem", TLS)),
    key: await Deno.readTextFile(new URL("server.key", TLS)),
    log: () => {},
  });
  // The library has no CA option; it verifies through Node's TLS defaults.
  const previous = Deno.env.get("NODE_TLS_REJECT_UNAUTHORIZED");
  Deno.env.set("NODE_TLS_REJECT_UNAUTHORIZED", "0");
  try {
    const { hostname, port } = new URL(sim.url);
    const withToken = proxmoxApi({
      host: hostname,
      port: Number(port),
      tokenID: sim.credentials.tokenId,
      tokenSecret: sim.credentials.tokenSecret,
    });
    const nodes = await withToken.nodes.$get();
    assert.deepEqual(nodes.map((n) => n.node).sort(), ["pve1", "pve2", "pve3"]);
    const vms = await withToken.nodes.$("pve1").qemu.$get({ full: true });
    assert.ok(vms.some((vm) => vm.vmid === 100));
    const started = await withToken.nodes.$("pve1").qemu.$(100).status.current.$get();
    assert.equal(started.status, "running");

    const withTicket = proxmoxApi({
      host: hostname,
      port: Number(port),
      username: sim.credentials.user,
      password: sim.credentials.password,
    });
    const resources = await withTicket.cluster.resources.$get({ type: "vm" });
    assert.ok(resources.length >= 10);
    const upid = await withTicket.nodes.$("pve1").qemu.$(100).snapshot.$post({
      snapname: "third-party",
      description: "taken by proxmox-api",
    });
    assert.match(
      String(upid),
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmsnapshot:100:root@pam:$/,
    );
  } finally {
    if (previous === undefined) Deno.env.delete("NODE_TLS_REJECT_UNAUTHORIZED");
    else Deno.env.set("NODE_TLS_REJECT_UNAUTHORIZED", previous);
    await sim.close();
  }
});
