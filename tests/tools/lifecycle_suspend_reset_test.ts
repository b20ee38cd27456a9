import assert from "node:assert/strict";
import { guestReset } from "../../src/tools/lifecycle/guest_reset.ts";
import { guestResume } from "../../src/tools/lifecycle/guest_resume.ts";
import { guestSuspend } from "../../src/tools/lifecycle/guest_suspend.ts";
import { guestList } from "../../src/tools/inventory/guest_list.ts";
import { control } from "../pve/_sim.ts";
import { openSession, type SimSession, structuredOf, textOf } from "./_helpers.ts";

const tools = [guestSuspend, guestResume, guestReset, guestList];

async function refused(
  s: SimSession,
  tool: string,
  args: Record<string, unknown>,
  message: RegExp,
): Promise<void> {
  const since = await s.mark();
  const result = await s.call(tool, args);
  assert.equal(result.isError, true, `${tool} ${JSON.stringify(args)}: ${textOf(result)}`);
  assert.match(textOf(result), message);
  assert.deepEqual(await s.writes(since), [], `${tool} wrote despite refusing`);
}

Deno.test("guest_suspend pauses a VM, a second call finds it paused, and guest_resume runs it again", async () => {
  const s = await openSession({ tools });
  try {
    const paused = await s.call("guest_suspend", { name: "web01" });
    assert.equal(paused.isError, undefined, textOf(paused));
    assert.match(String(structuredOf(paused).upid), /:qmpause:100:/);
    assert.equal(s.sim.sim.state.guests.get(100)?.qmpstatus, "paused");
    const again = await s.call("guest_suspend", { vmid: 100 });
    assert.equal(structuredOf(again).result, "already");
    assert.match(textOf(again), /already paused: nothing to do/);
    const resumed = await s.call("guest_resume", { vmid: 100 });
    assert.equal(resumed.isError, undefined, textOf(resumed));
    assert.equal(structuredOf(resumed).state_before, "paused");
    assert.equal(s.sim.sim.state.guests.get(100)?.qmpstatus, "running");
    assert.equal((await s.writes()).length, 2);
  } finally {
    await s.close();
  }
});

Deno.test("guest_suspend with to_disk hibernates a VM and guest_resume brings it back from disk", async () => {
  const s = await openSession({ tools });
  try {
    const hibernated = await s.call("guest_suspend", { vmid: 104, to_disk: true });
    assert.equal(hibernated.isError, undefined, textOf(hibernated));
    assert.match(String(structuredOf(hibernated).upid), /:qmsuspend:104:/);
    assert.equal(s.sim.sim.state.guests.get(104)?.config.lock, "suspended");
    const resumed = await s.call("guest_resume", { vmid: 104 });
    assert.equal(resumed.isError, undefined, textOf(resumed));
    assert.equal(structuredOf(resumed).state_before, "hibernated");
    assert.equal(s.sim.sim.state.guests.get(104)?.status, "running");
  } finally {
    await s.close();
  }
});

Deno.test("guest_suspend, guest_resume and guest_reset refuse what does not apply, saying what to use", async () => {
  const s = await openSession({ tools });
  try {
    await refused(
      s,
      "guest_suspend",
      { vmid: 103 },
      /VM 103 \(win11-desk\) is not running, so there is nothing to suspend: start it with guest_start/,
    );
    await refused(s, "guest_suspend", { vmid: 200, to_disk: true }, /to_disk is for VMs/);
    await refused(
      s,
      "guest_resume",
      { vmid: 103 },
      /is stopped, not paused or hibernated: start it with guest_start/,
    );
    await refused(s, "guest_reset", { vmid: 200 }, /containers have no reset: use guest_reboot/);
    await refused(
      s,
      "guest_reset",
      { vmid: 103 },
      /is not running \(stopped\): start it with guest_start/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("guest_reset asks for confirmation, then resets the running VM", async () => {
  const s = await openSession({
    tools,
    config: { policy: { confirmation: { fallback: "deny" } } },
    elicit: { action: "accept", content: { confirm: true } },
  });
  try {
    const result = await s.call("guest_reset", { vmid: 105 });
    assert.equal(result.isError, undefined, textOf(result));
    assert.match(String(structuredOf(result).upid), /:qmreset:105:/);
    assert.equal(s.elicitations.length, 1);
    assert.match(String(s.elicitations[0]?.message), /Hard-reset VM 105 \(k8s-node2\) on pve3/);
  } finally {
    await s.close();
  }
});

Deno.test("guest_resume judges hibernation by the fresh status, not a lock the cached inventory still shows", async () => {
  const s = await openSession({ tools });
  try {
    await control(s.sim, "POST", "/_sim/guests/103/lock", { lock: "suspended" });
    // The inventory (cached for seconds) now says "suspended"; then the lock goes away.
    const listed = structuredOf<{ guests: { vmid: number; lock?: string }[] }>(
      await s.call("guest_list", { fields: ["vmid", "lock"] }),
    );
    assert.equal(listed.guests.find((g) => g.vmid === 103)?.lock, "suspended");
    await control(s.sim, "DELETE", "/_sim/guests/103/lock");
    await refused(
      s,
      "guest_resume",
      { vmid: 103 },
      /is stopped, not paused or hibernated: start it with guest_start/,
    );
  } finally {
    await s.close();
  }
});
