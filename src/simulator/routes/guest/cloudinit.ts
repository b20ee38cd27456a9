/**
 * Cloud-init of QEMU VMs, after qemu-server's `PVE/QemuServer/Cloudinit.pm` and the
 * `cloudinit` endpoints of `PVE/API2/Qemu.pm`: the cloud-init drive (`<storage>:cloudinit`
 * allocates `vm-<vmid>-cloudinit`, 4 MiB, as a CD-ROM), the `[special:cloudinit]` section that
 * records values changed on a running VM since the drive was generated, regeneration on start
 * and on `PUT …/cloudinit`, and the generated user, network and meta data (`nocloud`, or
 * `configdrive2` for Windows) that `GET …/cloudinit/dump` shows.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dieError } from "../../errors.ts";
import type { RouteContext, Sim, TaskRunner } from "../../router.ts";
import type { Guest, GuestConfig } from "../../state.ts";
import { cloudinitVolumes, parseDrive, printDrive } from "./disks.ts";
import { QEMU } from "./kind.ts";
import { assertUnlockedSync } from "./locks.ts";
import { findGuest } from "./lookup.ts";
import { pstr } from "./params.ts";
import { allocateVolume, createdLine, requireStorage } from "./volumes.ts";

/** `CLOUDINIT_DISK_SIZE`: every cloud-init drive is 4 MiB. */
export const CLOUDINIT_DISK_SIZE = 4 * 1024 * 1024;

/** The host's `/etc/resolv.conf` the simulated nodes share (used when a VM sets no DNS). */
export const HOST_RESOLV = { search: ["home.arpa"], nameservers: ["10.0.0.1"] };

/** `$cloudinitoptions` of `PVE/API2/Qemu.pm`: the keys `GET …/cloudinit` lists by value. */
const CLOUDINIT_OPTIONS = [
  "cicustom",
  "cipassword",
  "citype",
  "ciuser",
  "ciupgrade",
  "nameserver",
  "searchdomain",
  "sshkeys",
];

/** `cloudinit_pending_properties`: the keys whose change makes the generated drive stale. */
export function isCloudinitProperty(key: string): boolean {
  return CLOUDINIT_OPTIONS.includes(key) || key === "name" || /^(ipconfig|net)\d+$/.test(key);
}

/** Whether a drive value asks for a new cloud-init drive (`<storage>:cloudinit`). */
export function isNewCloudinitDrive(value: string): boolean {
  return /^[a-z][a-z0-9\-_.]*[a-z0-9]:cloudinit$/i.test(parseDrive(value).volid);
}

/** The key of the config's cloud-init drive, if it has one. */
export function cloudinitDriveKey(config: GuestConfig): string | undefined {
  return cloudinitVolumes(config)[0]?.[0];
}

/**
 * Allocates the cloud-init drive `<storage>:cloudinit` asks for (as `create_disks` does):
 * 500 `<key> - cloud-init drive is already attached at '<other>'` when the VM has one.
 */
export function allocateCloudinitDrive(
  sim: Sim,
  task: TaskRunner | undefined,
  options: { guest: Guest; key: string; value: string; others?: GuestConfig },
): string {
  const { guest, key, value } = options;
  for (const config of [guest.config, guest.pending, options.others ?? {}]) {
    const existing = cloudinitDriveKey(config);
    if (existing !== undefined && existing !== key) {
      throw dieError(`${key} - cloud-init drive is already attached at '${existing}'`);
    }
  }
  const { volid, opts } = parseDrive(value);
  const storage = requireStorage(sim.state, volid.slice(0, volid.indexOf(":")));
  const volidNew = allocateVolume(sim, {
    storage,
    node: guest.node,
    vmid: guest.vmid,
    size: CLOUDINIT_DISK_SIZE,
    content: "images",
    name: `vm-${guest.vmid}-cloudinit`,
  });
  const stored = printDrive(volidNew, [
    ...opts.filter(([k]) => k !== "media" && k !== "format"),
    ["media", "cdrom"],
  ]);
  if (task !== undefined) task.log(createdLine(volidNew, storage));
  task?.log(`${key}: successfully created disk '${stored}'`);
  return stored;
}

/**
 * `cloudinit_record_changed` of `vmconfig_hotplug_pending`: remembers the value a running VM's
 * cloud-init drive was generated with, or that the key was added since.
 */
export function recordCloudinitChange(
  guest: Guest,
  key: string,
  before: string | undefined,
  after: string | undefined,
): void {
  if (!isCloudinitProperty(key)) return;
  const ci = guest.cloudinit ?? {};
  const recorded = ci[key];
  const added = new Set((ci.added ?? "").split(",").filter((k) => k !== ""));
  delete ci.added;
  if (after !== undefined) {
    if (recorded !== undefined) {
      if (after === recorded) {
        delete ci[key];
        added.delete(key);
      }
    } else if (!added.has(key)) {
      if (before !== undefined) ci[key] = before;
      else added.add(key);
    }
  } else if (before !== undefined && recorded === undefined) {
    if (added.has(key)) added.delete(key);
    else ci[key] = before;
  }
  if (added.size > 0) ci.added = [...added].sort().join(",");
  if (Object.keys(ci).length > 0) guest.cloudinit = ci;
  else delete guest.cloudinit;
}

/**
 * `apply_cloudinit_config`: regenerates the drive from the current config (on start and on
 * `PUT …/cloudinit`), which drops the recorded changes. Logs PVE's line when a task runs it.
 */
export function regenerateCloudinit(guest: Guest, task?: TaskRunner): void {
  if (cloudinitDriveKey(guest.config) === undefined) return;
  task?.log("generating cloud-init ISO");
  delete guest.cloudinit;
}

/** A deterministic SHA-512 crypt-shaped hash, as `encrypt_pw` stores `cipassword` on update. */
export function encryptPassword(password: string): string {
  const salt = createHash("sha256").update(`salt/${password}`).digest("base64")
    .replace(/[^A-Za-z0-9]/g, "").slice(0, 16);
  const hash = createHash("sha512").update(`${salt}$${password}`).digest("base64")
    .replace(/\+/g, ".").replace(/=+$/, "").slice(0, 86);
  return `$6$${salt}$${hash}`;
}

/** Whether a `cipassword` value is already a crypt hash (`$1$`, `$5$`, `$6$`, `$2a$`, `$2y$`). */
export function isPasswordHash(value: string): boolean {
  return /^\$(?:[156]|2[ay])(\$.+){2}/.test(value);
}

// ---------------------------------------------------------------------------------------
// Generated data

function hostnameFqdn(config: GuestConfig, vmid: number): [string, string] {
  let hostname = String(config.name ?? `VM${vmid}`);
  let fqdn: string;
  if (hostname.includes(".")) {
    fqdn = hostname;
    hostname = hostname.replace(/\..*$/, "");
  } else if (config.searchdomain !== undefined && config.searchdomain !== "") {
    fqdn = `${hostname}.${config.searchdomain}`;
  } else {
    fqdn = hostname;
  }
  return [hostname, fqdn];
}

function dnsConf(config: GuestConfig): [string[], string[]] {
  const search = config.searchdomain === undefined
    ? HOST_RESOLV.search
    : String(config.searchdomain).split(/\s+/).filter((s) => s !== "");
  const nameservers = config.nameserver === undefined
    ? HOST_RESOLV.nameservers
    : String(config.nameserver).split(/\s+/).filter((s) => s !== "");
  return [search, nameservers];
}

/** `cloudinit_userdata`. */
export function cloudinitUserData(config: GuestConfig, vmid: number, mask: boolean): string {
  const [hostname, fqdn] = hostnameFqdn(config, vmid);
  let out = `#cloud-config\nhostname: ${hostname}\nmanage_etc_hosts: true\nfqdn: ${fqdn}\n`;
  const user = config.ciuser === undefined ? undefined : String(config.ciuser);
  if (user !== undefined) out += `user: ${user}\n`;
  if (user === "root") out += "disable_root: False\n";
  if (config.cipassword !== undefined) {
    out += `password: ${mask ? "**********" : String(config.cipassword)}\n`;
  }
  if (config.sshkeys !== undefined) {
    const keys = decodeURIComponent(String(config.sshkeys)).split("\n").map((k) => k.trimEnd())
      .filter((k) => /\S/.test(k));
    out += "ssh_authorized_keys:\n";
    for (const key of keys) out += `  - ${key}\n`;
  }
  out += "chpasswd:\n  expire: False\n";
  if (user !== "root") out += "users:\n  - default\n";
  if (config.ciupgrade === undefined || Number(config.ciupgrade) === 1) {
    out += "package_upgrade: true\n";
  }
  return out;
}

function ipconfigOf(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function netmaskOf(bits: number): string {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (mask >>> shift) & 0xff).join(".");
}

function macOf(net: string): string {
  const first = net.split(",")[0] ?? "";
  const mac = first.includes("=") ? first.split("=")[1] : undefined;
  const fromKey = /(?:^|,)macaddr=([0-9A-Fa-f:]+)/.exec(net)?.[1];
  return (mac ?? fromKey ?? "").toLowerCase();
}

function nicIds(config: GuestConfig): string[] {
  return Object.keys(config).filter((k) => /^net\d+$/.test(k)).map((k) => k.slice(3))
    .filter((id) => config[`ipconfig${id}`] !== undefined).sort();
}

/** `nocloud_network`. */
export function nocloudNetwork(config: GuestConfig): string {
  let out = "version: 1\nconfig:\n";
  for (const id of nicIds(config)) {
    const i = "    ";
    const ip = ipconfigOf(String(config[`ipconfig${id}`]));
    const mac = macOf(String(config[`net${id}`]));
    if (mac === "") throw new Error(`network interface 'net${id}' has no mac address`);
    out += `${i}- type: physical\n${i}  name: eth${id}\n${i}  mac_address: '${mac}'\n` +
      `${i}  subnets:\n`;
    const j = `${i}  `;
    if (ip.ip !== undefined) {
      if (ip.ip === "dhcp") out += `${j}- type: dhcp4\n`;
      else {
        const [addr, bits] = ip.ip.split("/");
        out += `${j}- type: static\n${j}  address: '${addr}'\n${j}  netmask: '${
          netmaskOf(Number(bits))
        }'\n`;
        if (ip.gw !== undefined) out += `${j}  gateway: '${ip.gw}'\n`;
      }
    }
    if (ip.ip6 !== undefined) {
      if (ip.ip6 === "dhcp") out += `${j}- type: dhcp6\n`;
      else if (ip.ip6 === "auto") out += `${j}- type: ipv6_slaac\n`;
      else {
        out += `${j}- type: static6\n${j}  address: '${ip.ip6}'\n`;
        if (ip.gw6 !== undefined) out += `${j}  gateway: '${ip.gw6}'\n`;
      }
    }
  }
  const [search, nameservers] = dnsConf(config);
  const i = "    ";
  out += `${i}- type: nameserver\n`;
  if (nameservers.length > 0) {
    out += `${i}  address:\n`;
    for (const ns of nameservers) out += `${i}  - '${ns}'\n`;
  }
  if (search.length > 0) {
    out += `${i}  search:\n`;
    for (const s of search) out += `${i}  - '${s}'\n`;
  }
  return out;
}

/** `configdrive2_network` (Windows guests, `citype: configdrive2`). */
export function configdrive2Network(config: GuestConfig): string {
  let out = "auto lo\niface lo inet loopback\n\n";
  const [search, nameservers] = dnsConf(config);
  if (nameservers.length > 0) out += `        dns_nameservers ${nameservers.join(" ")}\n`;
  if (search.length > 0) out += `        dns_search ${search.join(" ")}\n`;
  for (const id of nicIds(config)) {
    const ip = ipconfigOf(String(config[`ipconfig${id}`]));
    const dev = `eth${id}`;
    out += `auto ${dev}\n`;
    if (ip.ip !== undefined) {
      if (ip.ip === "dhcp") out += `iface ${dev} inet dhcp\n`;
      else {
        const [addr, bits] = ip.ip.split("/");
        out += `iface ${dev} inet static\n        address ${addr}\n        netmask ${
          netmaskOf(Number(bits))
        }\n`;
        if (ip.gw !== undefined) out += `        gateway ${ip.gw}\n`;
      }
    }
    if (ip.ip6 !== undefined) {
      if (ip.ip6 === "auto" || ip.ip6 === "dhcp") out += `iface ${dev} inet6 ${ip.ip6}\n`;
      else {
        const [addr, mask] = ip.ip6.split("/");
        out += `iface ${dev} inet6 static\n        address ${addr}\n        netmask ${mask}\n`;
        if (ip.gw6 !== undefined) out += `        gateway ${ip.gw6}\n`;
      }
    }
  }
  return out;
}

/** `get_cloudinit_format`: `citype`, else `configdrive2` for Windows, else `nocloud`. */
function cloudinitFormat(config: GuestConfig): string {
  if (config.citype !== undefined) return String(config.citype);
  return /^(w|win)/.test(String(config.ostype ?? "")) ? "configdrive2" : "nocloud";
}

/** `dump_cloudinit_config`. */
export function dumpCloudinit(
  config: GuestConfig,
  vmid: number,
  type: "user" | "network" | "meta",
  mask: boolean,
): string {
  const nocloud = cloudinitFormat(config) === "nocloud";
  if (type === "user") return cloudinitUserData(config, vmid, mask);
  const network = nocloud ? nocloudNetwork(config) : configdrive2Network(config);
  if (type === "network") return network;
  const uuid = createHash("sha1").update(cloudinitUserData(config, vmid, false) + network)
    .digest("hex");
  return nocloud
    ? `instance-id: ${uuid}\n`
    : `{\n     "uuid": "${uuid}",\n     "network_config": { "content_path": "/content/0000" }\n}\n`;
}

// ---------------------------------------------------------------------------------------
// Endpoints

/** `GET /nodes/{node}/qemu/{vmid}/cloudinit`: current values and changes not yet generated. */
export function getCloudinit(ctx: RouteContext): Record<string, unknown>[] {
  const guest = findGuest(ctx, QEMU);
  const conf: GuestConfig = { ...guest.config };
  const ci: Record<string, string> = { ...guest.cloudinit };
  if (conf.cipassword !== undefined) conf.cipassword = "**********";
  if (ci.cipassword !== undefined) ci.cipassword = "**********";
  const out: Record<string, unknown>[] = [];
  const added = ci.added ?? "";
  delete ci.added;
  for (const key of added.split(",").filter((k) => k !== "")) {
    const item: Record<string, unknown> = { key };
    if (conf[key] !== undefined) item.pending = String(conf[key]);
    out.push(item);
  }
  for (const key of CLOUDINIT_OPTIONS) {
    const value = conf[key];
    if (value === undefined || value === "" || value === 0 || value === "0") continue;
    if (added.includes(key)) continue;
    const recorded = ci[key];
    out.push(
      recorded !== undefined && recorded !== ""
        ? { key, value: recorded, pending: String(value) }
        : { key, value: String(value) },
    );
  }
  for (const key of Object.keys(ci)) {
    const value = conf[key];
    if (value !== undefined && value !== "" && value !== 0 && value !== "0") continue;
    out.push({ key, delete: 1 });
  }
  return out;
}

/** `PUT /nodes/{node}/qemu/{vmid}/cloudinit`: regenerate the drive (checks the lock). */
export function putCloudinit(ctx: RouteContext): null {
  const guest = findGuest(ctx, QEMU);
  assertUnlockedSync(QEMU, guest);
  regenerateCloudinit(guest);
  return null;
}

/** `GET /nodes/{node}/qemu/{vmid}/cloudinit/dump`: the generated user, network or meta data. */
export function getCloudinitDump(ctx: RouteContext): string {
  const guest = findGuest(ctx, QEMU);
  const type = (pstr(ctx.params, "type") ?? "user") as "user" | "network" | "meta";
  const mask = !ctx.sim.can(ctx.auth, `/vms/${guest.vmid}`, "VM.Config.Cloudinit");
  try {
    return dumpCloudinit(guest.config, guest.vmid, type, mask);
  } catch (error) {
    throw dieError(error instanceof Error ? error.message : String(error));
  }
}
