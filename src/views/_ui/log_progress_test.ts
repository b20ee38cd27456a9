import assert from "node:assert/strict";
import { logProgress } from "./log_progress.ts";

Deno.test("a task's progress is the last percentage its log printed", () => {
  assert.equal(
    logProgress([
      "drive-scsi0: transferred 716.8 MiB of 3.5 GiB (20.00%) in 1s",
      "drive-scsi0: transferred 1.4 GiB of 3.5 GiB (40.00%) in 2s",
    ]),
    0.4,
  );
  assert.equal(logProgress(["INFO:  42% (13.4 GiB of 32.0 GiB) in 1m, read: 1 GiB/s"]), 0.42);
  assert.equal(logProgress(["progress 10%, then 15%", "no number here"]), 0.15);
});

Deno.test("a log without a percentage, or with one over 100, gives no progress", () => {
  assert.equal(logProgress([]), undefined);
  assert.equal(logProgress(["starting backup of VM 100"]), undefined);
  assert.equal(logProgress(["load 250% of quota"]), undefined);
});
