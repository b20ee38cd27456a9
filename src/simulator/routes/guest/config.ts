/**
 * Guest config storage: Perl-style value shaping, the config file text and its `digest`,
 * pending changes, `GET …/config` and `GET …/pending`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dieError, paramError } from "../../errors.ts";
import type { RouteContext } from "../../router.ts";
import type { ConfigValue, Guest, GuestConfig, Snapshot } from "../../state.ts";
import type { Kind } from "./kind.ts";
import { findGuest } from "./lookup.ts";
import { pbool, pstr } from "./params.ts";

const NUMERIC_KEYS: Record<"qemu" | "lxc", Set<string>> = {
  qemu: new Set([
    "balloon",
    "cores",
    "cpuunits",
    "migrate_speed",
    "shares",
    "smp",
    "sockets",
    "vcpus",
    "acpi",
    "allow-ksm",
    "autostart",
    "ciupgrade",
    "freeze",
    "keephugepages",
    "kvm",
    "localtime",
    "numa",
    "onboot",
    "protection",
    "reboot",
    "tablet",
    "tdf",
    "template",
    "snaptime",
  ]),
  lxc: new Set([
    "cores",
    "cpuunits",
    "memory",
    "swap",
    "tty",
    "console",
    "debug",
    "onboot",
    "protection",
    "template",
    "unprivileged",
    "snaptime",
  ]),
};

/** A config value as Perl's JSON encoder emits it: integer/boolean keys as numbers, the rest as strings. */
export function shapeValue(kind: Kind, key: string, value: ConfigValue): ConfigValue {
  if (NUMERIC_KEYS[kind.type].has(key)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : String(value);
  }
  return String(value);
}

/** A config shaped for `GET …/config` (without digest). */
export function shapeConfig(kind: Kind, config: GuestConfig): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  for (const key of Object.keys(config).sort()) {
    const value = config[key];
    if (value === undefined) continue;
    out[key] = key === "cipassword" ? "**********" : shapeValue(kind, key, value);
  }
  return out;
}

function configLines(config: GuestConfig): string[] {
  const lines: string[] = [];
  const description = config.description;
  if (description !== undefined) {
    for (const line of String(description).split("\n")) lines.push(`#${line}`);
  }
  for (const key of Object.keys(config).sort()) {
    if (key === "description") continue;
    lines.push(`${key}: ${config[key]}`);
  }
  return lines;
}

/** The guest's config file text, as `write_vm_config` would lay it out. */
export function configText(guest: Guest): string {
  const lines = configLines(guest.config);
  if (Object.keys(guest.pending).length > 0 || guest.pendingDelete.length > 0) {
    lines.push("", "[PENDING]", ...configLines(guest.pending));
    if (guest.pendingDelete.length > 0) lines.push(`delete: ${guest.pendingDelete.join(",")}`);
  }
  if (guest.cloudinit !== undefined && Object.keys(guest.cloudinit).length > 0) {
    lines.push("", "[special:cloudinit]", ...configLines(guest.cloudinit));
  }
  for (const snap of [...guest.snapshots.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push("", `[${snap.name}]`);
    const snapConf: GuestConfig = { ...snap.config, snaptime: snap.snaptime };
    if (snap.description !== "") snapConf.description = snap.description;
    if (snap.parent !== undefined) snapConf.parent = snap.parent;
    if (snap.vmstate === 1) snapConf.vmstate = 1;
    lines.push(...configLines(snapConf));
  }
  return lines.join("\n") + "\n";
}

/** SHA1 hex of the config file text (the `digest`). */
export function configDigest(guest: Guest): string {
  return createHash("sha1").update(configText(guest)).digest("hex");
}

/** The config with pending changes applied (what `GET config` shows without `current`). */
export function effectiveConfig(guest: Guest): GuestConfig {
  const conf: GuestConfig = { ...guest.config, ...guest.pending };
  for (const key of guest.pendingDelete) delete conf[key];
  return conf;
}

/** The config frozen in a snapshot, as `GET …/snapshot/{snap}/config` shows it. */
export function snapshotConfigView(snap: Snapshot): GuestConfig {
  const conf: GuestConfig = { ...snap.config, snaptime: snap.snaptime };
  if (snap.description !== "") conf.description = snap.description;
  if (snap.parent !== undefined) conf.parent = snap.parent;
  if (snap.vmstate === 1) conf.vmstate = 1;
  return conf;
}

/** `GET …/config` (`current`, `snapshot`). */
export function getConfig(ctx: RouteContext, kind: Kind): Record<string, ConfigValue> {
  const guest = findGuest(ctx, kind);
  const snapname = pstr(ctx.params, "snapshot");
  const current = pbool(ctx.params, "current");
  if (snapname !== undefined && current) {
    const msg = "cannot use 'snapshot' parameter with 'current'";
    throw paramError({ snapshot: msg, current: msg });
  }
  let conf: GuestConfig;
  if (snapname !== undefined) {
    const snap = guest.snapshots.get(snapname);
    if (snap === undefined) throw dieError(`snapshot '${snapname}' does not exist`);
    conf = snapshotConfigView(snap);
  } else {
    conf = current ? { ...guest.config } : effectiveConfig(guest);
  }
  return { ...shapeConfig(kind, conf), digest: configDigest(guest) };
}

/** `GET …/pending`. */
export function getPending(ctx: RouteContext, kind: Kind): Record<string, unknown>[] {
  const guest = findGuest(ctx, kind);
  const keys = new Set([
    ...Object.keys(guest.config),
    ...Object.keys(guest.pending),
    ...guest.pendingDelete,
  ]);
  const out: Record<string, unknown>[] = [];
  for (const key of [...keys].sort()) {
    const item: Record<string, unknown> = { key };
    const value = guest.config[key];
    if (value !== undefined) {
      item.value = key === "cipassword" ? "**********" : shapeValue(kind, key, value);
    }
    const pending = guest.pending[key];
    if (pending !== undefined) item.pending = shapeValue(kind, key, pending);
    if (guest.pendingDelete.includes(key)) item.delete = 1;
    out.push(item);
  }
  return out;
}

/** Whether the QEMU guest agent is enabled in a config (`agent: 1` or `enabled=1,…`). */
export function agentEnabled(config: GuestConfig): boolean {
  const raw = config.agent;
  if (raw === undefined) return false;
  for (const part of String(raw).split(",")) {
    if (part === "1") return true;
    if (part === "0") return false;
    if (part.startsWith("enabled=")) return part.slice(8) === "1";
  }
  return false;
}
