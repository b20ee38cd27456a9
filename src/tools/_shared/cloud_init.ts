/**
 * Cloud-init settings of a VM, as the create and clone tools take them: one shared input shape,
 * checked before anything is sent (IP configuration, gateway, DNS servers, SSH public keys), and
 * turned into PVE's config keys (`ciuser`, `cipassword`, `sshkeys` URL-encoded, `ipconfig0`,
 * `nameserver`). The password is returned apart, for the plan's secrets.
 *
 * @module
 */

import { z } from "zod";
import { PveValidationError } from "../../pve/errors.ts";
import { isIpv4, isIpv6 } from "../../schema/formats.ts";
import { ipv4Config } from "./ip_config.ts";
import { passwordParam, sshKeysParam } from "./params.ts";

/** The `cloud_init` argument. */
export const cloudInitParam = z.object({
  user: z.string().min(1).max(64).regex(/^[a-z_][a-z0-9_.-]*$/i).optional().describe(
    "User cloud-init creates",
  ),
  ssh_keys: sshKeysParam("SSH public keys for that user").optional(),
  password: passwordParam("That user's password (prefer ssh_keys)").optional(),
  ip: z.string().min(4).max(64).optional().describe("dhcp (default) or IPv4 CIDR 10.0.0.5/24"),
  gateway: z.string().min(7).max(64).optional().describe("IPv4 gateway, with a CIDR ip"),
  nameserver: z.string().min(2).max(200).optional().describe("DNS server IPs, space-separated"),
});

/** The value of the `cloud_init` argument. */
export type CloudInit = z.infer<typeof cloudInitParam>;

/** PVE config keys of cloud-init settings (the password apart). */
export interface CloudInitKeys {
  params: Record<string, string>;
  password?: string;
}

const SSH_KEY_RE =
  /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n]*)?$/;

/**
 * Checks cloud-init settings and turns them into PVE config keys for NIC `net<nic>`.
 *
 * @throws {PveValidationError} naming the setting and the fix.
 */
export function cloudInitKeys(ci: CloudInit, nic = 0): CloudInitKeys {
  const params: Record<string, string> = {};
  if (ci.user !== undefined) params.ciuser = ci.user;
  if (ci.ssh_keys !== undefined) {
    const keys = ci.ssh_keys.map((key) => key.trim());
    const bad = keys.findIndex((key) => !SSH_KEY_RE.test(key));
    if (bad >= 0) {
      throw new PveValidationError(
        `cloud_init.ssh_keys item ${
          bad + 1
        } is not an OpenSSH public key: give one key per item, like "ssh-ed25519 AAAAC3… user@host".`,
        { errors: { sshkeys: "invalid public key" } },
      );
    }
    params.sshkeys = encodeURIComponent(keys.join("\n"));
  }
  params[`ipconfig${nic}`] = ipv4Config(ci, { prefix: "cloud_init.", key: `ipconfig${nic}` });
  if (ci.nameserver !== undefined) {
    const servers = ci.nameserver.split(/[\s,;]+/).filter((s) => s !== "");
    const bad = servers.find((s) => !isIpv4(s) && !isIpv6(s));
    if (bad !== undefined || servers.length === 0) {
      throw new PveValidationError(
        `cloud_init.nameserver "${ci.nameserver}" must be IP addresses separated by spaces: use e.g. "1.1.1.1 9.9.9.9".`,
        { errors: { nameserver: "invalid address list" } },
      );
    }
    params.nameserver = servers.join(" ");
  }
  return ci.password === undefined ? { params } : { params, password: ci.password };
}
