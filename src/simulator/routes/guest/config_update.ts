/**
 * Config updates (`PUT`/`POST …/config`): the sync checks (delete/revert, lock, digest),
 * applying values, hot-plug versus pending, deleting keys and disks.
 *
 * @module
 */

import { checkParams, endpointSchema } from "../../../schema/mod.ts";
import { dieError, paramError } from "../../errors.ts";
import type { Params, RouteContext, Sim, TaskRunner } from "../../router.ts";
import type { ConfigValue, Guest, GuestConfig } from "../../state.ts";
import { configDigest } from "./config.ts";
import {
  allocateCloudinitDrive,
  encryptPassword,
  isNewCloudinitDrive,
  isPasswordHash,
  recordCloudinitChange,
} from "./cloudinit.ts";
import { isCdrom, isCloudinitDrive, isDiskKey, parseDrive } from "./disks.ts";
import type { Kind } from "./kind.ts";
import { assertUnlockedSync } from "./locks.ts";
import { completeNic } from "./network.ts";
import { checkSkiplock, pbool, plist, pstr } from "./params.ts";
import { materializeDisk, removedLine, removeVolume, storageOf } from "./volumes.ts";

const QEMU_COLD_KEYS = new Set([
  "cores",
  "sockets",
  "numa",
  "cpu",
  "machine",
  "bios",
  "ostype",
  "scsihw",
  "vga",
  "args",
  "kvm",
  "acpi",
  "agent",
  "smbios1",
  "hugepages",
  "affinity",
  "tpmstate0",
  "efidisk0",
  "arch",
  "audio0",
  "rng0",
  "watchdog",
  "keyboard",
  "localtime",
  "tablet",
  "vmgenid",
  "startdate",
  "tdf",
  "freeze",
]);

const LXC_COLD_KEYS = new Set([
  "features",
  "unprivileged",
  "ostype",
  "arch",
  "cmode",
  "console",
  "tty",
  "entrypoint",
  "env",
  "timezone",
  "hookscript",
  "rootfs",
]);

/** Whether changing `key` on a running guest must wait in pending (not hot-pluggable). */
export function isColdKey(kind: Kind, guest: Guest, key: string): boolean {
  if (guest.status !== "running") return false;
  if (kind.type === "lxc") return LXC_COLD_KEYS.has(key) || /^(mp|dev)\d+$/.test(key);
  const hotplug = String(guest.config.hotplug ?? "network,disk,usb");
  const features = hotplug === "1"
    ? ["network", "disk", "usb"]
    : hotplug === "0"
    ? []
    : hotplug.split(",");
  if (key === "memory") return !features.includes("memory");
  if (key === "vcpus") return !features.includes("cpu");
  if (/^net\d+$/.test(key)) return !features.includes("network");
  if (isDiskKey(kind, key)) return !features.includes("disk");
  if (/^usb\d+$/.test(key)) return !features.includes("usb");
  if (/^(hostpci|serial|parallel|ide|virtiofs)\d*$/.test(key)) return true;
  return QEMU_COLD_KEYS.has(key);
}

const UPDATE_META_KEYS = new Set([
  "node",
  "vmid",
  "digest",
  "delete",
  "revert",
  "force",
  "skiplock",
  "background_delay",
]);

/** `option_exists`: a config key of this guest type (an indexed key within its range). */
function optionExists(kind: Kind, key: string): boolean {
  if (UPDATE_META_KEYS.has(key)) return false;
  const schema = endpointSchema("PUT", `/nodes/{node}/${kind.type}/{vmid}/config`);
  if (schema === undefined) return false;
  return Object.hasOwn(checkParams(schema.parameters, { [key]: "" }).schema, key);
}

/** The keys of `delete`, QEMU's `cdrom` alias resolved to `ide2`. */
function deleteKeys(kind: Kind, params: Params): string[] {
  const keys = plist(params, "delete");
  return kind.type === "qemu" ? keys.map((k) => k === "cdrom" ? "ide2" : k) : keys;
}

/**
 * The `revert`/`delete` checks of `update_vm_api` (qemu-server) and `update_vm`
 * (pve-container), each in its own order and wording — including QEMU reporting a
 * set-and-revert conflict under `delete`, and both dropping a quote before `-delete`.
 */
function checkDeleteRevert(kind: Kind, params: Params): void {
  const revert = plist(params, "revert");
  const given = (key: string) => params[key] !== undefined && !UPDATE_META_KEYS.has(key);
  for (const key of revert) {
    if (!optionExists(kind, key)) throw paramError({ revert: `unknown option '${key}'` });
    if (given(key)) {
      throw kind.type === "qemu"
        ? paramError({ delete: `you can't use '-${key}' and -revert ${key}' at the same time` })
        : paramError({ revert: `you can't use '-${key}' and '-revert ${key}' at the same time` });
    }
  }
  for (const key of deleteKeys(kind, params)) {
    const unknown = paramError({ delete: `unknown option '${key}'` });
    if (kind.type === "lxc" && !optionExists(kind, key)) throw unknown;
    if (given(key)) {
      throw paramError({ delete: `you can't use '-${key}' and -delete ${key}' at the same time` });
    }
    if (revert.includes(key)) {
      throw kind.type === "qemu"
        ? paramError({
          revert: `you can't use '-delete ${key}' and -revert ${key}' at the same time`,
        })
        : paramError({
          delete: `you can't use '-delete ${key}' and '-revert ${key}' at the same time`,
        });
    }
    if (!optionExists(kind, key)) throw unknown;
  }
}

/**
 * Sync checks of a config update: skiplock, `no options specified`, then for QEMU the
 * `delete`/`revert` checks, lock and digest (`checksum mismatch …`); for LXC lock, digest
 * (`PVE::Tools::assert_if_modified`'s wording) and then the `delete`/`revert` checks.
 */
export function checkConfigUpdate(
  ctx: RouteContext,
  kind: Kind,
  guest: Guest,
): { skiplock: boolean } {
  const skiplock = checkSkiplock(ctx);
  const params = ctx.params;
  const changes = Object.keys(params).filter((k) => !UPDATE_META_KEYS.has(k));
  if (
    changes.length === 0 && plist(params, "delete").length === 0 &&
    plist(params, "revert").length === 0
  ) {
    throw dieError("no options specified");
  }
  if (kind.type === "qemu") checkDeleteRevert(kind, params);
  assertUnlockedSync(kind, guest, skiplock);
  const digest = pstr(params, "digest");
  if (digest !== undefined && digest !== configDigest(guest)) {
    throw dieError(
      kind.type === "qemu"
        ? "checksum mismatch (file change by other user?)"
        : "detected modified configuration - file changed by other user? Try again.",
    );
  }
  if (kind.type === "lxc") checkDeleteRevert(kind, params);
  return { skiplock };
}

/** Applies a config update (`delete`, `revert`, new values); cold keys of running guests go to pending. */
export function applyConfigUpdate(
  ctx: RouteContext,
  kind: Kind,
  guest: Guest,
  task?: TaskRunner,
): void {
  const { params, sim } = ctx;
  const force = pbool(params, "force");
  for (const key of plist(params, "revert")) {
    delete guest.pending[key];
    guest.pendingDelete = guest.pendingDelete.filter((k) => k !== key);
  }
  for (const key of deleteKeys(kind, params)) {
    if (guest.pending[key] !== undefined) delete guest.pending[key];
    if (guest.config[key] === undefined) continue;
    if (isColdKey(kind, guest, key)) {
      if (!guest.pendingDelete.includes(key)) guest.pendingDelete.push(key);
      continue;
    }
    const before = guest.config[key];
    deleteConfigKey(sim, kind, guest, key, force, task);
    if (kind.type === "qemu" && guest.status === "running") {
      recordCloudinitChange(guest, key, String(before), undefined);
    }
  }
  for (const [key, raw] of Object.entries(params)) {
    if (UPDATE_META_KEYS.has(key)) continue;
    let value: ConfigValue = Array.isArray(raw) ? raw.join(",") : raw;
    if (/^net\d+$/.test(key)) {
      value = completeNic(kind, sim.state, `${guest.vmid}/${key}/${String(value)}`, String(value));
    } else if (kind.type === "qemu" && key === "cipassword" && !isPasswordHash(String(value))) {
      value = encryptPassword(String(value));
    } else if (kind.type === "qemu" && isDiskKey(kind, key) && isNewCloudinitDrive(String(value))) {
      value = allocateCloudinitDrive(sim, task, { guest, key, value: String(value) });
    } else if (isDiskKey(kind, key)) {
      value = materializeDisk(sim, task, {
        kind,
        node: guest.node,
        vmid: guest.vmid,
        key,
        value: String(value),
      });
    }
    guest.pendingDelete = guest.pendingDelete.filter((k) => k !== key);
    if (isColdKey(kind, guest, key)) {
      guest.pending[key] = value;
      continue;
    }
    const old = guest.config[key];
    if (old !== undefined && isDiskKey(kind, key) && String(old) !== String(value)) {
      const oldVol = parseDrive(String(old)).volid;
      if (!isCdrom(String(old)) && oldVol !== parseDrive(String(value)).volid) {
        guest.config[nextUnusedKey(guest.config)] = oldVol;
      }
    }
    guest.config[key] = value;
    if (kind.type === "qemu" && guest.status === "running") {
      recordCloudinitChange(guest, key, old === undefined ? undefined : String(old), String(value));
    }
  }
}

/** Deletes one key: disks become `unusedN` unless `force`; `unusedN` deletion destroys the volume. */
export function deleteConfigKey(
  sim: Sim,
  kind: Kind,
  guest: Guest,
  key: string,
  force: boolean,
  task?: TaskRunner,
): void {
  const old = guest.config[key];
  if (old === undefined) return;
  delete guest.config[key];
  if (kind.type === "qemu" && isDiskKey(kind, key) && isCloudinitDrive(String(old))) {
    // `vmconfig_register_unused_drive`: a cloud-init drive is freed, never kept as unusedN.
    const volid = parseDrive(String(old)).volid;
    removeVolume(sim.state, volid, guest.node);
    task?.log(removedLine(volid, storageOf(sim.state, volid)));
    delete guest.cloudinit;
    return;
  }
  const isUnused = /^unused\d+$/.test(key);
  if (!isUnused && !(isDiskKey(kind, key) && !isCdrom(String(old)))) return;
  const volid = parseDrive(String(old)).volid;
  if (!volid.includes(":")) return;
  if (isUnused || force) {
    removeVolume(sim.state, volid, guest.node);
    task?.log(removedLine(volid, storageOf(sim.state, volid)));
  } else {
    guest.config[nextUnusedKey(guest.config)] = volid;
  }
}

/** Applies pending changes (on start and reboot). */
export function applyPending(sim: Sim, kind: Kind, guest: Guest): void {
  for (const key of guest.pendingDelete) deleteConfigKey(sim, kind, guest, key, false);
  guest.pendingDelete = [];
  for (const [key, value] of Object.entries(guest.pending)) guest.config[key] = value;
  guest.pending = {};
}

/** Next free `unusedN` key. */
export function nextUnusedKey(config: GuestConfig): string {
  for (let i = 0;; i++) if (config[`unused${i}`] === undefined) return `unused${i}`;
}
