import assert from "node:assert/strict";
import { CONFIG_OPTIONS, parseCommandArgs } from "../../src/cli/_args.ts";
import { configFlags, recognizeConfigArgs } from "../../src/cli/_config_flags.ts";

const COMMAND_LINES: string[][] = [
  [],
  ["--demo"],
  ["--config", "/etc/proxmox-mcp.json"],
  ["--config=/etc/proxmox-mcp.json", "--demo"],
  ["--allow", "read,lifecycle", "--allow", "change"],
  ["--allow=read", "--toolsets", "inventory", "--exclude=guest_stop,guest_reset"],
  ["--url", "https://pve:8006", "--insecure", "--ca-file", "ca.pem"],
  ["--log-level", "debug", "--audit-path", "off", "--wait-seconds", "30"],
  ["--confirm-fallback=allow", "--config="],
  ["--twin", "prod.twin.json"],
  ["--twin=prod.twin.json", "--url", "http://127.0.0.1:8007"],
  // Forms left to parseArgs: help, short flags, positionals, repeats, odd values.
  ["--help"],
  ["-h"],
  ["serve"],
  ["--config", "a.json", "--config", "b.json"],
  ["--config", "--demo"],
  ["--demo=true"],
  ["--demo", "--demo"],
  ["--twin", "a.json", "--twin", "b.json"],
  ["--twin"],
  ["--nope"],
  ["--"],
  ["--config"],
];

Deno.test("the plain-form recognizer agrees with parseArgs wherever it answers, and declines the rest", () => {
  let recognized = 0;
  for (const args of COMMAND_LINES) {
    const fast = recognizeConfigArgs(args);
    let parsed: ReturnType<typeof parseCommandArgs<typeof CONFIG_OPTIONS>>["values"] | undefined;
    try {
      parsed = parseCommandArgs(args, { options: CONFIG_OPTIONS }).values;
    } catch {
      parsed = undefined;
    }
    if (fast === undefined) continue;
    recognized++;
    assert.notEqual(parsed, undefined, `parseArgs refuses ${JSON.stringify(args)}`);
    assert.deepEqual(configFlags(fast), configFlags(parsed!), JSON.stringify(args));
    assert.equal(fast.demo === true, parsed!.demo === true, JSON.stringify(args));
    assert.equal(fast.twin, parsed!.twin, JSON.stringify(args));
    assert.equal(parsed!.help, undefined);
  }
  assert.equal(recognized, 11, "the plain forms are recognized");
});
