/**
 * PVE's named parameter formats (`pve-common JSONSchema.pm`, `pve-access-control`), with
 * their exact error texts, plus property-string parsing (`parse_property_string`).
 *
 * A verifier returns `undefined` when the value is fine, or the error text PVE dies with
 * (without the trailing newline).
 *
 * @module
 */

import type { ParamSchema } from "./facts.ts";
import { compileLinear } from "./linear_regex.ts";

/** Checks one value against a named format; returns PVE's error text or `undefined`. */
export type FormatVerifier = (value: string) => string | undefined;

const IPV4_OCTET = "(?:25[0-5]|(?:[1-9]|1[0-9]|2[0-4])?[0-9])";
const IPV4_RE = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const CONFIGID_RE = /^[a-z][a-z0-9_-]+$/i;
const NODE_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const DNS_LABEL = "[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?";
// Patterns that repeat a group run on the linear-time matcher: JavaScript's engine keeps a
// backtracking entry per repetition, which grows faster than the input on megabyte values.
const DNS_RE = compileLinear(`(${DNS_LABEL}\\.)*${DNS_LABEL}`);
const TAG_RE = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
const USER_PART = "[^\\s:/]+";
const REALM_PART = "[A-Za-z][A-Za-z0-9\\.\\-_]+";
const USERID_RE = new RegExp(`^(${USER_PART})@(${REALM_PART})$`);
const TOKENID_RE = new RegExp(`^(${USER_PART})@(${REALM_PART})!(${REALM_PART})$`);
const POOLID_RE = /^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/;
const ID_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
const MAC_RE = /^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i;
const EMAIL_RE = compileLinear("[\\w+\\-~]+(\\.[\\w+\\-~]+)*@[a-zA-Z0-9\\-]+(\\.[a-zA-Z0-9\\-]+)*");
const EMAIL_USER_RE = compileLinear("[\\w+\\-~]+(\\.[\\w+\\-~]+)*");
const PRIV_RE = compileLinear("(?:[A-Z][A-Za-z]*\\.)+[A-Z][A-Za-z]*");

/** Whether a string is an IPv4 address (PVE's `$IPV4RE`). */
export function isIpv4(value: string): boolean {
  return IPV4_RE.test(value);
}

/** Whether a string is an IPv6 address (full, compressed, or with an embedded IPv4 tail). */
export function isIpv6(value: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(value) || value.length < 2) return false;
  let body = value;
  let groupsFromV4 = 0;
  const lastColon = body.lastIndexOf(":");
  const tail = body.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!isIpv4(tail)) return false;
    body = body.slice(0, lastColon + 1) + "0:0";
    groupsFromV4 = 0;
  }
  const doubles = body.split("::").length - 1;
  if (doubles > 1) return false;
  const group = /^[0-9a-fA-F]{1,4}$/;
  if (doubles === 1) {
    const [left = "", right = ""] = body.split("::");
    const leftGroups = left === "" ? [] : left.split(":");
    const rightGroups = right === "" ? [] : right.split(":");
    if (![...leftGroups, ...rightGroups].every((g) => group.test(g))) return false;
    return leftGroups.length + rightGroups.length + groupsFromV4 <= 7;
  }
  const groups = body.split(":");
  return groups.length === 8 && groups.every((g) => group.test(g));
}

function cidr(value: string, isIp: (ip: string) => boolean, maxBits: number): boolean {
  const match = /^(.+)\/(\d+)$/.exec(value);
  if (!match) return false;
  const bits = Number(match[2]);
  return isIp(match[1] ?? "") && bits > 7 && bits <= maxBits;
}

const NETMASKS = new Set(
  Array.from({ length: 33 }, (_, bits) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return [24, 16, 8, 0].map((shift) => (mask >>> shift) & 0xff).join(".");
  }),
);

/** PVE's `parse_size` (`disk-size`): a number with an optional K/M/G/T unit. */
export function parseSize(value: string): number | undefined {
  const match = /^(\d+(\.\d+)?)([KMGT])?$/.exec(value);
  if (!match) return undefined;
  const units: Record<string, number> = { K: 1, M: 2, G: 3, T: 4 };
  return Math.floor(Number(match[1]) * 1024 ** (units[match[3] ?? ""] ?? 0));
}

function userid(value: string): string | undefined {
  if (value.length < 3) return `user name '${value}' is too short`;
  if (value.length > 64) return `user name '${value}' is too long (${value.length} > 64)`;
  if (!USERID_RE.test(value)) return `value '${value}' does not look like a valid user name`;
  return undefined;
}

function startupOrder(value: string): boolean {
  if (value === "") return false;
  return value.split(",").every((part) =>
    /^\s*$/.test(part) || /^(order=)?\d+$/.test(part) || /^(up|down)=\d+$/.test(part)
  );
}

function idPair(value: string, check: FormatVerifier): string | undefined {
  for (const entry of splitList(value)) {
    if (entry === "1") continue;
    const pair = /^([^:]+):([^:]+)$/.exec(entry);
    const ids = pair ? [pair[1] ?? "", pair[2] ?? ""] : [entry];
    for (const id of ids) {
      const error = check(id);
      if (error !== undefined) return `entry '${entry}' contains invalid ID - ${error}\n`;
    }
  }
  return undefined;
}

const storageId: FormatVerifier = (value) => {
  if (value.length < 2) return `storage ID '${value}' cannot be shorter than 2 characters`;
  return ID_RE.test(value) ? undefined : `storage ID '${value}' contains illegal characters`;
};

const bridgeId: FormatVerifier = (value) =>
  /^[-_.\w\d]+$/.test(value) ? undefined : `invalid bridge ID '${value}'`;

const STORAGE_CONTENT = new Set([
  "images",
  "rootdir",
  "vztmpl",
  "iso",
  "backup",
  "snippets",
  "import",
  "none",
]);

/** Named formats with a validator, keyed by name (the `-list`/`-opt` suffix is handled apart). */
export const formatVerifiers: Readonly<Record<string, FormatVerifier>> = {
  "string": () => undefined,
  "urlencoded": (v) =>
    /^[-%a-zA-Z0-9_.!~*'()]*$/.test(v) ? undefined : `invalid urlencoded string: ${v}`,
  "pve-configid": (v) => CONFIGID_RE.test(v) ? undefined : `invalid configuration ID '${v}'`,
  "pve-storage-id": storageId,
  "pve-bridge-id": bridgeId,
  "pve-vmid": (v) =>
    /^[1-9][0-9]{2,8}$/.test(v) ? undefined : "value does not look like a valid VM ID",
  "pve-node": (v) => NODE_RE.test(v) ? undefined : "value does not look like a valid node name",
  "mac-addr": (v) =>
    MAC_RE.test(v) ? undefined : "value does not look like a valid unicast MAC address",
  "ipv4": (v) => isIpv4(v) ? undefined : "value does not look like a valid IPv4 address",
  "ipv6": (v) => isIpv6(v) ? undefined : "value does not look like a valid IPv6 address",
  "ip": (v) => isIpv4(v) || isIpv6(v) ? undefined : "value does not look like a valid IP address",
  "ipv4mask": (v) => NETMASKS.has(v) ? undefined : "value does not look like a valid IP netmask",
  "CIDRv4": (v) =>
    cidr(v, isIpv4, 32) ? undefined : "value does not look like a valid IPv4 CIDR network",
  "CIDRv6": (v) =>
    cidr(v, isIpv6, 128) ? undefined : "value does not look like a valid IPv6 CIDR network",
  "CIDR": (v) =>
    cidr(v, isIpv4, 32) || cidr(v, isIpv6, 128)
      ? undefined
      : "value does not look like a valid CIDR network",
  "IPorCIDR": (v) =>
    isIpv4(v) || isIpv6(v) || cidr(v, isIpv4, 32) || cidr(v, isIpv6, 128)
      ? undefined
      : "value does not look like a valid IP address or CIDR network",
  "pve-ipv4-config": (v) =>
    /^(?:dhcp|manual)$/.test(v) || cidr(v, isIpv4, 32)
      ? undefined
      : "value does not look like a valid ipv4 network configuration",
  "pve-ipv6-config": (v) =>
    /^(?:auto|dhcp|manual)$/.test(v) || cidr(v, isIpv6, 128)
      ? undefined
      : "value does not look like a valid ipv6 network configuration",
  "email": (v) => EMAIL_RE.test(v) ? undefined : "value does not look like a valid email address",
  "email-or-username": (v) =>
    EMAIL_RE.test(v) || EMAIL_USER_RE.test(v)
      ? undefined
      : "value does not look like a valid email address or user name",
  "dns-name": (v) => DNS_RE.test(v) ? undefined : "value does not look like a valid DNS name",
  "address": (v) =>
    isIpv4(v) || isIpv6(v) || DNS_RE.test(v)
      ? undefined
      : `value does not look like a valid address: ${v}`,
  "disk-size": (v) =>
    parseSize(v) === undefined ? `value does not look like a valid disk size: ${v}` : undefined,
  "pve-iface": (v) =>
    /^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i.test(v)
      ? undefined
      : `invalid network interface name '${v}'`,
  "pve-vlan-id-or-range": (v) => {
    const match = /^(\d+)(?:-(\d+))?$/.exec(v);
    if (!match) return `invalid VLAN configuration '${v}'`;
    for (const tag of [match[1], match[2]]) {
      if (tag !== undefined && (Number(tag) < 2 || Number(tag) > 4094)) {
        return `invalid VLAN tag '${tag}'`;
      }
    }
    if (match[2] !== undefined && Number(match[1]) >= Number(match[2])) {
      return `VLAN range must go from lower to higher tag '${v}'`;
    }
    return undefined;
  },
  "pve-startup-order": (v) => startupOrder(v) ? undefined : "unable to parse startup options",
  "pve-tag": (v) => TAG_RE.test(v) ? undefined : "invalid characters in tag",
  "pve-task-status-type": (v) =>
    /^(ok|error|warning|unknown)$/i.test(v) ? undefined : `invalid status '${v}'`,
  "pve-userid": userid,
  "pve-tokenid": (v) =>
    TOKENID_RE.test(v) ? undefined : `value '${v}' does not look like a valid token ID`,
  "pve-realm": (v) =>
    new RegExp(`^${REALM_PART}$`).test(v) && v.length <= 32
      ? undefined
      : `value '${v}' does not look like a valid realm`,
  "pve-poolid": (v) =>
    POOLID_RE.test(v) ? undefined : `pool name '${v}' contains invalid characters`,
  "pve-groupid": (v) =>
    /^[A-Za-z0-9.\-_]+$/.test(v) ? undefined : `group name '${v}' contains invalid characters`,
  "pve-roleid": (v) =>
    /^[A-Za-z0-9.\-_]+$/.test(v) ? undefined : `role name '${v}' contains invalid characters`,
  "pve-priv": (v) => PRIV_RE.test(v) ? undefined : `invalid privilege '${v}'`,
  "pve-storage-content": (v) => STORAGE_CONTENT.has(v) ? undefined : `invalid content type '${v}'`,
  "pve-volume-id": (v) =>
    /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.test(v) ? undefined : `unable to parse volume ID '${v}'`,
  "storage-pair": (v) => idPair(v, storageId),
  "bridge-pair": (v) => idPair(v, bridgeId),
};

/**
 * PVE's `split_list`: NUL-separated if the text contains NUL, else split on commas,
 * semicolons and whitespace.
 */
export function splitList(text: string): string[] {
  if (text.includes("\0")) return text.split("\0");
  return text.replace(/[,;]/g, " ").trim().split(/\s+/).filter((item) => item !== "");
}

/**
 * Checks a value against a named format (`check_format`): `<name>-list` checks every
 * item of the list, `<name>-opt` only a non-empty value. Unknown names pass (the schema
 * names many formats whose sub-schemas are not in the facts).
 * Returns the error text (with PVE's trailing newline) or `undefined`.
 */
export function checkNamedFormat(format: string, value: string): string | undefined {
  const direct = formatVerifiers[format];
  if (direct !== undefined) return terminate(direct(value));
  const match = /^(.*?)-(list|opt)$/.exec(format);
  if (!match) return undefined;
  const verifier = formatVerifiers[match[1] ?? ""];
  if (verifier === undefined) return undefined;
  if (match[2] === "opt") return value === "" ? undefined : terminate(verifier(value));
  for (const item of splitList(value)) {
    const error = verifier(item);
    if (error !== undefined) return terminate(error);
  }
  return undefined;
}

function terminate(error: string | undefined): string | undefined {
  if (error === undefined) return undefined;
  return error.endsWith("\n") ? error : `${error}\n`;
}

/** PVE's `parse_boolean`. */
export function parseBoolean(value: string): 0 | 1 | undefined {
  if (/^(1|on|yes|true)$/i.test(value)) return 1;
  if (/^(0|off|no|false)$/i.test(value)) return 0;
  return undefined;
}

/** A property string that failed to parse: the die text, or per-key errors. */
export class PropertyStringError extends Error {
  /** Per-key errors (`net0.model` → message), when the keys parsed but did not check. */
  readonly errors: Record<string, string> | undefined;

  constructor(message: string, errors?: Record<string, string>) {
    super(message);
    this.name = "PropertyStringError";
    this.errors = errors;
  }

  /** The text PVE's exception stringifies to (`format error\n<key>: <msg>\n…`). */
  override toString(): string {
    let text = this.message;
    for (const [key, error] of Object.entries(this.errors ?? {})) text += `${key}: ${error}\n`;
    return text;
  }
}

/**
 * Parses a property string such as `virtio=BC:24:11:00:00:01,bridge=vmbr0` against its
 * sub-schema, exactly as `parse_property_string` does. `options.checkObject` validates the
 * parsed keys (it is `validate.ts`'s object check, passed in to keep the modules acyclic).
 */
export function parsePropertyString(
  format: Record<string, ParamSchema>,
  data: string,
  options: {
    /** The parameter name (error keys become `<path>.<key>`). */
    path: string;
    /** Validates the parsed keys, adding errors keyed by path. */
    checkObject: (
      path: string,
      schema: Record<string, ParamSchema>,
      value: Record<string, string>,
      errors: Record<string, string>,
    ) => void;
  },
): Record<string, string> {
  const { path, checkObject } = options;
  const result: Record<string, string> = {};
  let defaultKey: string | undefined;
  for (const part of data.split(",")) {
    if (/^\s*$/.test(part)) continue;
    const pair = /^([^=]+)=(.+)$/s.exec(part);
    if (pair) {
      let key = pair[1] ?? "";
      let value = pair[2] ?? "";
      if (result[key] !== undefined) {
        throw new PropertyStringError(`duplicate key in comma-separated list property: ${key}\n`);
      }
      let schema = Object.hasOwn(format, key) ? format[key] : undefined;
      if (schema?.alias !== undefined) {
        if (schema.keyAlias !== undefined) {
          if (result[schema.keyAlias] !== undefined) {
            throw new PropertyStringError(`key alias '${schema.keyAlias}' is already defined\n`);
          }
          result[schema.keyAlias] = key;
        }
        key = schema.alias;
        schema = Object.hasOwn(format, key) ? format[key] : undefined;
      }
      if (schema === undefined) {
        throw new PropertyStringError(`invalid key in comma-separated list property: ${key}\n`);
      }
      if (schema.type === "boolean") {
        const parsed = parseBoolean(value);
        if (parsed !== undefined) value = String(parsed);
      }
      result[key] = value;
    } else if (!part.includes("=")) {
      if (defaultKey !== undefined) {
        throw new PropertyStringError(
          `duplicate key in comma-separated list property: ${defaultKey}\n`,
        );
      }
      for (const [key, schema] of Object.entries(format)) {
        if (schema.default_key) {
          defaultKey = key;
          if (!result[key]) {
            result[key] = part;
            break;
          }
          throw new PropertyStringError(
            `duplicate key in comma-separated list property: ${defaultKey}\n`,
          );
        }
      }
      if (defaultKey === undefined) {
        throw new PropertyStringError(
          "value without key, but schema does not define a default key\n",
        );
      }
    } else {
      throw new PropertyStringError("missing key in comma-separated list property\n");
    }
  }
  const errors: Record<string, string> = {};
  checkObject(path, format, result, errors);
  if (Object.keys(errors).length > 0) throw new PropertyStringError("format error\n", errors);
  return result;
}
