/**
 * `POST …/template`: converting a stopped guest into a template (base volumes).
 *
 * @module
 */

import { dieError } from "../../errors.ts";
import type { RouteContext } from "../../router.ts";
import { guestDisks, parseDrive, printDrive } from "./disks.ts";
import type { Kind } from "./kind.ts";
import { assertUnlockedSync } from "./locks.ts";
import { findGuest, guestInTask } from "./lookup.ts";
import { pstr } from "./params.ts";
import { findVolume, storageOf } from "./volumes.ts";

/**
 * `POST …/template` (QEMU returns the UPID, LXC `null`). The sync checks run in PVE's order
 * (qemu-server and pve-container `template`): lock, snapshots, already a template (QEMU: unless
 * one `disk` is converted), running. QEMU writes `template: 1` before forking, LXC in the worker.
 */
export function makeTemplate(ctx: RouteContext, kind: Kind): string | null {
  const guest = findGuest(ctx, kind);
  const { sim } = ctx;
  const onlyDisk = pstr(ctx.params, "disk");
  assertUnlockedSync(kind, guest);
  if (guest.snapshots.size > 0) {
    throw dieError(`unable to create template, because ${kind.label} contains snapshots`);
  }
  if (Number(guest.config.template ?? 0) === 1 && onlyDisk === undefined) {
    throw dieError("you can't convert a template to a template");
  }
  if (guest.status === "running") {
    throw dieError(
      kind.type === "qemu"
        ? "you can't convert a VM to template if VM is running"
        : "you can't convert a CT to template if the CT is running",
    );
  }
  if (kind.type === "qemu") guest.config.template = 1;
  const node = guest.node;
  const vmid = guest.vmid;
  const upid = sim.startTask(
    ctx.auth,
    { node, type: `${kind.prefix}template`, id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      for (const [key, volid, value] of guestDisks(kind, g.config)) {
        if (/^unused\d+$/.test(key)) continue;
        if (onlyDisk !== undefined && key !== onlyDisk) continue;
        const baseVolid = volid.replace(/vm-(\d+)-disk-/, "base-$1-disk-").replace(
          /subvol-(\d+)-disk-/,
          "basevol-$1-disk-",
        );
        if (baseVolid === volid) continue;
        const storage = storageOf(sim.state, volid);
        if (storage?.type === "lvmthin") {
          const from = volid.slice(volid.indexOf(":") + 1);
          const to = baseVolid.slice(baseVolid.indexOf(":") + 1);
          task.log(`  Renamed "${from}" to "${to}" in volume group "${storage.vgname ?? "pve"}"`);
          task.log(`  Logical volume pve/${to} changed.`);
        }
        const found = findVolume(sim.state, volid, node);
        if (found !== undefined) found.volume.volid = baseVolid;
        g.config[key] = printDrive(baseVolid, parseDrive(value).opts);
        await task.sleep(0.5);
      }
      g.config.template = 1;
    },
  );
  return kind.type === "qemu" ? upid : null;
}
