import assert from "node:assert/strict";
import { structuredOf, textOf } from "./_helpers.ts";
import { control, openObserveSession } from "./_observe.ts";

interface AgentInfo {
  vmid: number;
  name?: string;
  os?: { name?: string; version?: string; kernel?: string };
  hostname?: string;
  interfaces?: { name: string; mac?: string; addresses: string[] }[];
  filesystems?: { mountpoint: string; total_bytes?: number; used_bytes?: number }[];
  agent_version?: string;
  missing: string[];
}

const ACCEPT = { action: "accept" as const, content: { confirm: true } };

Deno.test("guest_agent_info returns the demo guest's OS, hostname, IPs without loopback, filesystems and agent version", async () => {
  const s = await openObserveSession();
  try {
    const result = await s.call("guest_agent_info", { name: "web01" });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<AgentInfo>(result);
    assert.equal(out.vmid, 100);
    assert.match(out.os?.name ?? "", /^Debian GNU\/Linux/);
    assert.equal(out.hostname, "web01");
    assert.ok(out.agent_version !== undefined);
    assert.ok(!out.interfaces?.some((i) => i.name === "lo"), "loopback left out");
    const eth0 = out.interfaces?.find((i) => i.addresses.includes("192.168.1.50/24"));
    assert.ok(eth0 !== undefined, JSON.stringify(out.interfaces));
    assert.ok(out.interfaces?.every((i) => i.addresses.every((a) => !a.startsWith("127."))));
    assert.ok((out.filesystems?.length ?? 0) > 0);
    assert.deepEqual(out.missing, []);
    assert.match(textOf(result), /192\.168\.1\.50\/24/);
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("guest_agent_info says in one sentence when the agent is off, not answering, the VM stopped or a container", async () => {
  const s = await openObserveSession();
  try {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { vmid: 101 },
        /^The guest agent in VM 101 \(web02\) is not answering: start qemu-guest-agent inside the guest/,
      ],
      [
        { vmid: 103 },
        /^VM 103 \(win11-desk\) has no guest agent enabled: set agent=1 in its config and install qemu-guest-agent/,
      ],
      [{ vmid: 200 }, /^CT 200 \(pihole\) is a container, and containers have no QEMU guest agent/],
    ];
    for (const [args, expected] of cases) {
      const result = await s.call("guest_agent_info", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.match(textOf(result), expected);
      assert.equal(textOf(result).split(". ").length, 1, "one sentence");
    }
    s.sim.sim.state.guests.get(102)!.status = "stopped";
    const stopped = await s.call("guest_agent_info", { vmid: 102 });
    assert.match(
      textOf(stopped),
      /^VM 102 \(db01\) is not running, so its guest agent cannot answer: start it first/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("guest_agent_info returns what is known when one agent call times out, and says so", async () => {
  const s = await openObserveSession();
  try {
    await control(s, "POST", "/faults", {
      method: "GET",
      path: "/nodes/pve1/qemu/100/agent/get-fsinfo",
      status: 500,
      reason: "VM 100 qmp command 'guest-get-fsinfo' failed - got timeout",
    });
    const result = await s.call("guest_agent_info", { vmid: 100 });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<AgentInfo>(result);
    assert.deepEqual(out.missing, ["get-fsinfo"]);
    assert.equal(out.filesystems, undefined);
    assert.equal(out.hostname, "web01");
    assert.match(
      textOf(result),
      /Not answered: get-fsinfo \(the agent timed out; the rest above is what it did answer\)/,
    );
  } finally {
    await s.close();
  }
});

interface Exec {
  pid: number;
  exited: boolean;
  timed_out: boolean;
  exit_code?: number;
  stdout: string;
  stderr: string;
  stdout_bytes: number;
  stdout_truncated: boolean;
}

Deno.test("guest_exec asks for confirmation, runs argv through the agent and returns the exit code and output", async () => {
  const s = await openObserveSession({ elicit: ACCEPT });
  try {
    const result = await s.call("guest_exec", { vmid: 100, command: ["uname", "-a"] });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(s.elicitations.length, 1, "confirmed through elicitation");
    assert.match(JSON.stringify(s.elicitations[0]), /uname/);
    const out = structuredOf<Exec>(result);
    assert.equal(out.exited, true);
    assert.equal(out.exit_code, 0);
    assert.match(out.stdout, /^Linux web01 /);
    assert.equal(out.stdout_truncated, false);
    const writes = await s.writes();
    assert.deepEqual(writes.map((w) => w.path), ["/nodes/pve1/qemu/100/agent/exec"]);
    assert.deepEqual(writes[0]?.body.command, ["uname", "-a"], "argv as an array, no shell");
    const audit = await s.auditLines();
    assert.equal(audit.at(-1)?.tool, "guest_exec");
    const failing = structuredOf<Exec>(
      await s.call("guest_exec", { vmid: 100, command: ["cat", "/nope"] }),
    );
    assert.equal(failing.exit_code, 1);
    assert.match(failing.stderr, /No such file or directory/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_exec cuts output at max_output_bytes and says so", async () => {
  const s = await openObserveSession({ elicit: ACCEPT });
  try {
    const long = "x".repeat(1000);
    const result = await s.call("guest_exec", {
      vmid: 100,
      command: ["echo", long],
      max_output_bytes: 256,
    });
    const out = structuredOf<Exec>(result);
    assert.equal(out.stdout.length, 256);
    assert.equal(out.stdout_bytes, 1001);
    assert.equal(out.stdout_truncated, true);
    assert.match(textOf(result), /stdout \(first 256 of 1001 bytes; the rest was cut\):/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_exec stops waiting at the timeout and reports the PID still running", async () => {
  const s = await openObserveSession({ elicit: ACCEPT });
  try {
    const result = await s.call("guest_exec", {
      vmid: 100,
      command: ["sleep", "600"],
      timeout_seconds: 1,
    });
    assert.equal(result.isError, undefined, textOf(result));
    const out = structuredOf<Exec>(result);
    assert.equal(out.exited, false);
    assert.equal(out.timed_out, true);
    assert.equal(out.exit_code, undefined);
    assert.match(
      textOf(result),
      new RegExp(`still running after 1s \\(PID ${out.pid}\\); it keeps running in the guest`),
    );
  } finally {
    await s.close();
  }
});

Deno.test("guest_exec refuses containers, a command line in one string, and a declined confirmation, sending nothing", async () => {
  const s = await openObserveSession({ elicit: { action: "decline" } });
  try {
    const ct = await s.call("guest_exec", { vmid: 200, command: ["hostname"] });
    assert.equal(ct.isError, true);
    assert.equal(
      textOf(ct),
      "CT 200 (pihole) is a container, and containers have no QEMU guest agent: read its config " +
        "with guest_get, or run the command on pve1 with pct exec 200 -- <command>.",
    );
    const line = await s.call("guest_exec", { vmid: 100, command: ["ls -la /tmp"] });
    assert.equal(line.isError, true);
    assert.match(
      textOf(line),
      /argv array, not a command line: pass \["ls","-la","\/tmp"\], or \["\/bin\/sh","-c","ls -la \/tmp"\]/,
    );
    const declined = await s.call("guest_exec", { vmid: 100, command: ["hostname"] });
    assert.equal(declined.isError, true);
    assert.deepEqual(await s.writes(), []);
  } finally {
    await s.close();
  }
});

Deno.test("guest_exec never says to try again when the command may have started", async () => {
  const s = await openObserveSession({ elicit: ACCEPT });
  try {
    const exec = "/nodes/pve1/qemu/100/agent/exec";
    await control(s, "POST", "/faults", {
      method: "POST",
      path: exec,
      status: 500,
      reason: "VM 100 qmp command 'guest-exec' failed - got timeout",
      count: 1,
    });
    const slow = await s.call("guest_exec", { vmid: 100, command: ["reboot"] });
    assert.equal(slow.isError, true);
    assert.equal(
      textOf(slow),
      "The guest agent in VM 100 (web01) did not answer in time: the guest may be busy or hung; " +
        "whether the command started is unknown, so check inside the guest before running it again.",
    );
    await control(s, "POST", "/faults", { method: "POST", path: exec, reset: true, count: 1 });
    const dropped = await s.call("guest_exec", { vmid: 100, command: ["reboot"] });
    assert.equal(dropped.isError, true);
    assert.match(
      textOf(dropped),
      /^It is unknown whether the guest agent of VM 100 \(web01\) started the command \(.+\): check inside the guest before running it again\.$/,
    );
    await control(s, "POST", "/faults", {
      method: "GET",
      path: "/nodes/pve1/qemu/100/agent/exec-status",
      status: 500,
      reason: "VM 100 qmp command 'guest-exec-status' failed - got timeout",
    });
    const unread = await s.call("guest_exec", { vmid: 100, command: ["uptime"] });
    assert.equal(unread.isError, true);
    assert.match(
      textOf(unread),
      /^Command PID \d+ started in VM 100 \(web01\), but its status could not be read: .* read the result later with pve_api_get on \/nodes\/pve1\/qemu\/100\/agent\/exec-status\?pid=\d+ instead of running the command again\.$/,
    );
    for (const result of [slow, dropped, unread]) {
      assert.doesNotMatch(textOf(result), /try again|task_list/);
    }
  } finally {
    await s.close();
  }
});

Deno.test("guest_exec dry run states the calls and hides stdin's text", async () => {
  const s = await openObserveSession({ elicit: ACCEPT });
  try {
    const result = await s.call("guest_exec", {
      vmid: 100,
      command: ["cat"],
      stdin: "hunter2-secret",
      dry_run: true,
    });
    const out = structuredOf<{ dry_run: boolean; calls: { params?: Record<string, unknown> }[] }>(
      result,
    );
    assert.equal(out.dry_run, true);
    assert.equal(out.calls[0]?.params?.["input-data"], "[14 bytes]");
    assert.ok(!JSON.stringify(result).includes("hunter2"));
    assert.deepEqual(await s.writes(), []);
    const real = structuredOf<Exec>(
      await s.call("guest_exec", { vmid: 100, command: ["cat"], stdin: "piped text\n" }),
    );
    assert.equal(real.stdout, "piped text\n");
  } finally {
    await s.close();
  }
});
