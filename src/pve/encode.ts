/**
 * Parameter encoding as PVE's HTTP server expects it (FACTS §3.1): GET/DELETE parameters
 * in the query string, POST/PUT as `application/x-www-form-urlencoded`, booleans as `1`/`0`,
 * `undefined`/`null` omitted.
 *
 * Arrays depend on the parameter's schema type, which differs per endpoint:
 * - a parameter of type `array` (agent `exec` `command`, notification `mailto`, bulk-action
 *   `vms`, …, see {@linkcode ARRAY_PARAMS}) goes as repeated keys, which PVE turns into an array;
 * - a `*-list` string (vzdump `vmid`, config `delete`, `tags`, …, see {@linkcode LIST_PARAMS})
 *   goes as one comma-separated value, the form PVE documents for every `-list` format
 *   (repeated keys would reach a plain string parameter as several values);
 * - any other parameter takes one value, so an array is refused before sending.
 *
 * @module
 */

import { PveValidationError } from "./errors.ts";

/** Parameters of one request. */
export type PveParams = Record<string, unknown>;

/** The request a set of parameters belongs to (decides how arrays are sent). */
export interface PveParamTarget {
  /** HTTP method. */
  method: string;
  /** Request path below `/api2/json` (concrete, e.g. `/nodes/pve1/qemu/100/agent/exec`). */
  path: string;
}

/**
 * Parameters of schema type `array`, per endpoint (PVE 9.1 schema): method, path pattern,
 * parameter names. A test checks this table against `src/schema/pve_schema.json`.
 */
export const ARRAY_PARAMS: ReadonlyArray<
  readonly [methods: readonly string[], path: RegExp, names: readonly string[]]
> = [
  [["POST"], /^\/nodes\/[^/]+\/qemu\/[^/]+\/agent\/exec$/, ["command"]],
  [["POST"], /^\/nodes\/[^/]+\/vzdump$/, ["exclude-path"]],
  [["POST"], /^\/cluster\/backup$/, ["exclude-path"]],
  [["PUT"], /^\/cluster\/backup\/[^/]+$/, ["exclude-path"]],
  [["POST"], /^\/cluster\/bulk-action\/guest\/(?:migrate|shutdown|start|suspend)$/, ["vms"]],
  [["POST"], /^\/cluster\/mapping\/(?:dir|pci|usb)$/, ["map"]],
  [["PUT"], /^\/cluster\/mapping\/(?:dir|pci|usb)\/[^/]+$/, ["map"]],
  [["POST"], /^\/cluster\/notifications\/endpoints\/(?:sendmail|smtp)$/, [
    "mailto",
    "mailto-user",
  ]],
  [["PUT"], /^\/cluster\/notifications\/endpoints\/(?:sendmail|smtp)\/[^/]+$/, [
    "mailto",
    "mailto-user",
    "delete",
  ]],
  [["POST"], /^\/cluster\/notifications\/endpoints\/webhook$/, ["header", "secret"]],
  [["PUT"], /^\/cluster\/notifications\/endpoints\/webhook\/[^/]+$/, [
    "header",
    "secret",
    "delete",
  ]],
  [["PUT"], /^\/cluster\/notifications\/endpoints\/gotify\/[^/]+$/, ["delete"]],
  [["POST"], /^\/cluster\/notifications\/matchers$/, [
    "match-calendar",
    "match-field",
    "match-severity",
    "target",
  ]],
  [["PUT"], /^\/cluster\/notifications\/matchers\/[^/]+$/, [
    "match-calendar",
    "match-field",
    "match-severity",
    "target",
    "delete",
  ]],
  [["PUT"], /^\/cluster\/sdn\/fabrics\/fabric\/[^/]+$/, ["delete"]],
  [["POST"], /^\/cluster\/sdn\/fabrics\/node\/[^/]+$/, ["interfaces"]],
  [["PUT"], /^\/cluster\/sdn\/fabrics\/node\/[^/]+\/[^/]+$/, ["interfaces", "delete"]],
  [["POST"], /^\/cluster\/sdn\/vnets\/[^/]+\/subnets$/, ["dhcp-range"]],
  [["PUT"], /^\/cluster\/sdn\/vnets\/[^/]+\/subnets\/[^/]+$/, ["dhcp-range"]],
];

/**
 * Names of parameters with a `*-list` format somewhere in the API (PVE 9.1 schema). An array
 * given for one of them is sent joined with `,`. A test checks this set against the schema.
 */
export const LIST_PARAMS: ReadonlySet<string> = new Set([
  "bridge_ports",
  "bridge_vids",
  "bridges",
  "contact",
  "content",
  "content-dirs",
  "delete",
  "devices",
  "dow",
  "ds",
  "exclude",
  "exitnodes",
  "group_classes",
  "groups",
  "idlist",
  "isis-ifaces",
  "mailto",
  "mon-address",
  "monhost",
  "nameserver",
  "nodes",
  "ovs_bonds",
  "ovs_ports",
  "pci-class-blacklist",
  "peers",
  "privs",
  "resources",
  "revert",
  "roles",
  "rt-import",
  "searchdomain",
  "slaves",
  "statusfilter",
  "storage",
  "storages",
  "tags",
  "target-bridge",
  "target-storage",
  "targetstorage",
  "tokens",
  "user_classes",
  "users",
  "vmid",
  "vms",
]);

/** Whether `name` is of schema type `array` for `target` (sent as repeated keys). */
export function isArrayParam(name: string, target: PveParamTarget | undefined): boolean {
  if (target === undefined) return false;
  const method = target.method.toUpperCase();
  return ARRAY_PARAMS.some(([methods, path, names]) =>
    methods.includes(method) && names.includes(name) && path.test(target.path)
  );
}

/**
 * Encodes parameters to `URLSearchParams` (used for both the query string and the form body);
 * `target` decides how arrays go (see the module documentation).
 *
 * @throws {PveValidationError} for values PVE cannot receive (objects, non-finite numbers,
 * an array for a parameter that takes one value).
 */
export function encodeParams(
  params: PveParams | undefined,
  target?: PveParamTarget,
): URLSearchParams {
  const out = new URLSearchParams();
  if (params === undefined) return out;
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) {
      out.append(key, encodeValue(key, value));
    } else if (isArrayParam(key, target)) {
      for (const item of value) out.append(key, encodeValue(key, item));
    } else if (LIST_PARAMS.has(key)) {
      if (value.length > 0) out.append(key, value.map((item) => encodeValue(key, item)).join(","));
    } else {
      throw new PveValidationError(
        `Cannot send parameter "${key}" as a list: it takes one value` +
          (target === undefined ? "" : ` in ${target.method} ${target.path}`) +
          ". Pass a single value (for a list PVE accepts, a comma-separated string)",
        { errors: { [key]: "takes one value, not an array" } },
      );
    }
  }
  return out;
}

function encodeValue(key: string, value: unknown): string {
  switch (typeof value) {
    case "boolean":
      return value ? "1" : "0";
    case "number":
      if (!Number.isFinite(value)) {
        throw new PveValidationError(
          `Cannot send parameter "${key}": ${value} is not a finite number`,
          { errors: { [key]: "not a finite number" } },
        );
      }
      return String(value);
    case "bigint":
      return value.toString();
    case "string":
      return value;
    default:
      throw new PveValidationError(
        `Cannot send parameter "${key}": PVE takes strings, numbers, booleans or arrays of ` +
          `them, got ${
            value === null ? "null" : Array.isArray(value) ? "a nested array" : typeof value
          }`,
        { errors: { [key]: "unsupported value type" } },
      );
  }
}
