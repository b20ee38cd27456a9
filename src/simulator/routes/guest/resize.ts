/**
 * `PUT …/resize`: growing a disk, with QEMU's checks in the task and LXC's before it. The
 * storage's own rule applies in the task: thick LVM's `lvextend` needs free extents in the
 * volume group (`Insufficient free space: …`), an LVM-thin volume may outgrow its pool (LVM only
 * warns), a file on a directory or NFS storage grows sparsely. Both need
 * `Datastore.AllocateSpace` on the disk's storage.
 *
 * @module
 */

import { dieError, permError } from "../../errors.ts";
import type { RouteContext } from "../../router.ts";
import type { Guest } from "../../state.ts";
import { configDigest } from "./config.ts";
import { driveSize, isCdrom, isDiskKey, parseDrive, printDrive } from "./disks.ts";
import type { Kind } from "./kind.ts";
import { assertUnlockedSync, assertUnlockedTask } from "./locks.ts";
import { findGuest, guestInTask } from "./lookup.ts";
import { checkSkiplock, pstr } from "./params.ts";
import { storageUsage } from "../storage.ts";
import { formatSize, parseSize, renderBytes } from "./sizes.ts";
import { findVolume, storageOf } from "./volumes.ts";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** `PUT …/resize`. */
export function resizeDisk(ctx: RouteContext, kind: Kind): string {
  const guest = findGuest(ctx, kind);
  const skiplock = kind.type === "qemu" ? checkSkiplock(ctx) : false;
  const { sim } = ctx;
  const node = guest.node;
  const vmid = guest.vmid;
  const disk = String(ctx.params.disk);
  const sizeText = String(ctx.params.size);
  const digest = pstr(ctx.params, "digest");
  /** The checks of both resize handlers; `fail` makes a sync (LXC) or task (QEMU) error. */
  const plan = (g: Guest, fail: (message: string) => Error) => {
    if (kind.type === "qemu") {
      if (digest !== undefined && digest !== configDigest(g)) {
        throw fail("checksum mismatch (file change by other user?)");
      }
      assertUnlockedTask(kind, g, skiplock);
    } else {
      assertUnlockedSync(kind, g);
      if (digest !== undefined && digest !== configDigest(g)) {
        throw fail("detected modified configuration - file changed by other user? Try again.");
      }
    }
    const value = g.config[disk];
    if (value === undefined || !isDiskKey(kind, disk)) throw fail(`disk '${disk}' does not exist`);
    if (kind.type === "qemu" && isCdrom(String(value))) throw fail("you can't resize a cdrom");
    const { volid, opts } = parseDrive(String(value));
    const storeid = volid.slice(0, volid.indexOf(":"));
    if (!sim.can(ctx.auth, `/storage/${storeid}`, "Datastore.AllocateSpace")) {
      // `$rpcenv->check` raises a permission exception: a 403 before pve-container forks, the
      // task's error inside qemu-server's worker.
      const denied = permError(`/storage/${storeid}`, "Datastore.AllocateSpace");
      throw kind.type === "lxc" ? denied : fail(denied.message);
    }
    const current = findVolume(sim.state, volid, node)?.volume.size ?? driveSize(String(value));
    const grow = sizeText.startsWith("+");
    const amount = parseSize(grow ? sizeText.slice(1) : sizeText) ?? 0;
    let newSize = grow ? current + amount : amount;
    newSize = Math.ceil(newSize / 1024) * 1024;
    if (kind.type === "qemu") {
      if (newSize < current) throw fail("shrinking disks is not supported");
    } else {
      if (newSize < current) throw fail("unable to shrink disk size");
      if (newSize === current) throw fail("disk is already at specified size");
    }
    return { volid, opts, current, newSize };
  };
  // pve-container checks all of this before forking (sync 500s); qemu-server in the worker.
  const early = kind.type === "lxc" ? plan(guest, dieError) : undefined;
  return sim.startTask(
    ctx.auth,
    { node, type: "resize", id: String(vmid) },
    async (task) => {
      const g = guestInTask(sim.state, kind, node, vmid);
      const { volid, opts, current, newSize } = early ?? plan(g, (m) => new Error(m));
      const storage = storageOf(sim.state, volid);
      if (storage?.type === "lvmthin" || storage?.type === "lvm") {
        const vg = storage.vgname ?? "pve";
        const vol = volid.slice(volid.indexOf(":") + 1).split("/").pop();
        const extents = (b: number) => Math.round(b / (4 * MIB));
        const { total, used, avail } = storageUsage(sim.state, storage, node);
        const growth = newSize - current;
        if (storage.type === "lvm" && growth > avail) {
          // `lvextend` of a thick volume needs free extents in the volume group.
          throw new Error(
            `error resizing volume '/dev/${vg}/${vol}': Insufficient free space: ${
              Math.ceil(growth / (4 * MIB))
            } extents needed, but only ${Math.floor(avail / (4 * MIB))} available`,
          );
        }
        if (storage.type === "lvmthin" && used + growth > total) {
          // A thin volume may outgrow its pool: LVM only warns (the pool fills when written).
          task.log(
            `  WARNING: Sum of all thin volume sizes (${
              renderBytes(used + growth)
            }) exceeds the size of thin pool ${vg}/${storage.thinpool ?? "data"} (${
              renderBytes(total)
            }).`,
          );
        }
        task.log(
          `  Size of logical volume ${vg}/${vol} changed from ${(current / GIB).toFixed(2)} GiB (${
            extents(current)
          } extents) to ${(newSize / GIB).toFixed(2)} GiB (${extents(newSize)} extents).`,
        );
        task.log(`  Logical volume ${vg}/${vol} successfully resized.`);
      } else {
        task.log(`Image resized.`);
      }
      await task.sleep(1);
      const found = findVolume(sim.state, volid, node);
      if (found !== undefined) found.volume.size = newSize;
      g.config[disk] = printDrive(volid, [
        ...opts.filter(([k]) => k !== "size"),
        ["size", formatSize(newSize)],
      ]);
    },
  );
}
