/**
 * The IPv4 setting of a new guest's first NIC, as the create tools take it (`ip`: `dhcp` or a
 * CIDR address, `gateway` with a static address) and as PVE writes it: `ip=dhcp` or
 * `ip=192.168.1.50/24,gw=192.168.1.1` — a container's `net0` and cloud-init's `ipconfig0` use
 * the same form. Checked before anything is sent.
 *
 * @module
 */

import { PveValidationError } from "../../pve/errors.ts";
import { isIpv4 } from "../../schema/formats.ts";

/**
 * `ip=…[,gw=…]` for an `ip` (default `dhcp`) and `gateway`. `names.prefix` is how the
 * arguments are named in messages (`cloud_init.` for `cloud_init.ip`), `names.key` the PVE
 * parameter the setting goes to.
 *
 * @throws {PveValidationError} for an address that is not IPv4 CIDR, a gateway with `dhcp`, or
 *   a gateway that is not IPv4, each with an example of what to give.
 */
export function ipv4Config(
  value: { ip?: string | undefined; gateway?: string | undefined },
  names: { prefix: string; key: string },
): string {
  const { prefix, key } = names;
  const ip = value.ip ?? "dhcp";
  if (ip === "dhcp") {
    if (value.gateway === undefined) return "ip=dhcp";
    throw new PveValidationError(
      `${prefix}gateway goes with a static ip: drop the gateway for dhcp, or give ip as a CIDR like 192.168.1.50/24.`,
      { errors: { [key]: "gateway without a static address" } },
    );
  }
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(ip);
  if (m === null || !isIpv4(m[1] ?? "") || Number(m[2]) < 1 || Number(m[2]) > 32) {
    throw new PveValidationError(
      `${prefix}ip "${ip}" is neither dhcp nor an IPv4 address in CIDR form: use e.g. 192.168.1.50/24.`,
      { errors: { [key]: "invalid format - invalid IPv4 CIDR" } },
    );
  }
  if (value.gateway === undefined) return `ip=${ip}`;
  if (!isIpv4(value.gateway)) {
    throw new PveValidationError(
      `${prefix}gateway "${value.gateway}" is not an IPv4 address: use e.g. 192.168.1.1.`,
      { errors: { [key]: "invalid gateway" } },
    );
  }
  return `ip=${ip},gw=${value.gateway}`;
}
