import assert from "node:assert/strict";
import { addGuest, call, data, startGuestSimulator, testAgent } from "./_guest_helpers.ts";

const A = "/nodes/pve1/qemu/950/agent";

Deno.test("agent commands answer a result object from the guest agent", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 950, running: true, config: { agent: "1" }, agent: testAgent("web") });
    assert.deepEqual(await data(call(handle, "POST", `${A}/ping`)), { result: {} });
    const os = await data(call(handle, "GET", `${A}/get-osinfo`)) as {
      result: Record<string, string>;
    };
    assert.equal(os.result["pretty-name"], "Debian GNU/Linux 12 (bookworm)");
    const ifaces = await data(call(handle, "GET", `${A}/network-get-interfaces`)) as {
      result: Record<string, unknown>[];
    };
    assert.equal(ifaces.result[1]?.name, "eth0");
    assert.deepEqual(await data(call(handle, "GET", `${A}/get-host-name`)), {
      result: { "host-name": "web" },
    });
    const fs = await data(call(handle, "GET", `${A}/get-fsinfo`)) as { result: unknown[] };
    assert.equal(fs.result.length, 1);
    const info = await data(call(handle, "GET", `${A}/info`)) as {
      result: { supported_commands: { name: string }[] };
    };
    assert.ok(info.result.supported_commands.some((c) => c.name === "guest-exec"));
    const generic = await data(call(handle, "POST", A, { command: "get-host-name" }));
    assert.deepEqual(generic, { result: { "host-name": "web" } });
    const status = await data(call(handle, "GET", "/nodes/pve1/qemu/950/status/current")) as Record<
      string,
      unknown
    >;
    assert.equal(status.agent, 1);
  } finally {
    await handle.close();
  }
});

Deno.test("agent errors are synchronous 500s in PVE's order", async () => {
  const handle = await startGuestSimulator();
  try {
    const cases: [() => void, string][] = [
      [
        () => addGuest(handle, { vmid: 950, running: true, agent: testAgent("web") }),
        "No QEMU guest agent configured",
      ],
      [
        () =>
          addGuest(handle, {
            vmid: 950,
            running: true,
            config: { agent: "enabled=0" },
            agent: testAgent("web"),
          }),
        "No QEMU guest agent configured",
      ],
      [
        () =>
          addGuest(handle, {
            vmid: 950,
            running: false,
            config: { agent: "enabled=1,fstrim_cloned_disks=1" },
            agent: testAgent("web"),
          }),
        "VM 950 is not running",
      ],
      [
        () => {
          const agent = testAgent("web");
          agent.running = false;
          addGuest(handle, { vmid: 950, running: true, config: { agent: "1" }, agent });
        },
        "QEMU guest agent is not running",
      ],
    ];
    for (const [setup, message] of cases) {
      setup();
      const r = await call(handle, "POST", `${A}/ping`);
      assert.equal(r.status, 500, r.text);
      assert.equal(r.body.message, `${message}\n`);
    }
  } finally {
    await handle.close();
  }
});

Deno.test("exec returns a pid and exec-status reports deterministic output", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 950, running: true, config: { agent: "1" }, agent: testAgent("web") });
    const exec = async (command: string[], extra: Record<string, string> = {}) => {
      const started = await data(call(handle, "POST", `${A}/exec`, { command, ...extra })) as {
        pid: number;
      };
      assert.equal(typeof started.pid, "number");
      return await data(call(handle, "GET", `${A}/exec-status`, { pid: started.pid })) as Record<
        string,
        unknown
      >;
    };
    assert.deepEqual(await exec(["hostname"]), { exited: 1, exitcode: 0, "out-data": "web\n" });
    const os = await exec(["cat", "/etc/os-release"]);
    assert.equal(os["out-data"], 'ID=debian\nVERSION_ID="12"\n');
    const missing = await exec(["cat", "/nope"]);
    assert.equal(missing.exitcode, 1);
    assert.equal(missing["err-data"], "cat: /nope: No such file or directory\n");
    const df = await exec(["df", "-h"]);
    assert.match(
      String(df["out-data"]),
      /^Filesystem\s+Size\s+Used\s+Avail\s+Use%\s+Mounted on\n\/dev\/sda1/,
    );
    const ip = await exec(["ip", "addr"]);
    assert.match(String(ip["out-data"]), /inet 192\.168\.1\.50\/24/);
    const up = await exec(["uptime"]);
    assert.match(String(up["out-data"]), / up +1:0\d, {2}0 users, {2}load average: /);
    const unknown = await exec(["frobnicate", "--now"]);
    assert.equal(unknown.exitcode, 127);
    assert.match(String(unknown["err-data"]), /frobnicate: command not found\n$/);
    const input = await exec(["cat"], { "input-data": "from stdin" });
    assert.equal(input["out-data"], "from stdin");

    // A finished process is forgotten once its status has been read.
    const gone = await call(handle, "GET", `${A}/exec-status`, { pid: 999_999 });
    assert.equal(gone.status, 500);

    const sleeper = await data(call(handle, "POST", `${A}/exec`, { command: ["sleep", "30"] })) as {
      pid: number;
    };
    const busy = await data(call(handle, "GET", `${A}/exec-status`, { pid: sleeper.pid }));
    assert.deepEqual(busy, { exited: 0 });
    handle.sim.clock.advance(31);
    const done = await data(call(handle, "GET", `${A}/exec-status`, { pid: sleeper.pid }));
    assert.deepEqual(done, { exited: 1, exitcode: 0 });
  } finally {
    await handle.close();
  }
});

Deno.test("file-read returns content and a QGA-style error for missing files", async () => {
  const handle = await startGuestSimulator();
  try {
    addGuest(handle, { vmid: 950, running: true, config: { agent: "1" }, agent: testAgent("web") });
    const r = await data(call(handle, "GET", `${A}/file-read`, { file: "/etc/hostname" }));
    assert.deepEqual(r, { content: "web\n" });
    const partial = await data(
      call(handle, "GET", `${A}/file-read`, { file: "/etc/hostname", count: 2 }),
    );
    assert.deepEqual(partial, { content: "we", truncated: 1 });
    const missing = await call(handle, "GET", `${A}/file-read`, { file: "/etc/shadow-nope" });
    assert.equal(missing.status, 500);
    assert.equal(
      missing.body.message,
      "VM 950 qmp command 'guest-file-open' failed - Failed to open file '/etc/shadow-nope': No such file or directory\n",
    );
    const write = await call(handle, "POST", `${A}/file-write`, {
      file: "/tmp/x",
      content: "hello",
    });
    assert.equal(write.status, 200, write.text);
    assert.deepEqual(await data(call(handle, "GET", `${A}/file-read`, { file: "/tmp/x" })), {
      content: "hello",
    });
  } finally {
    await handle.close();
  }
});
