/**
 * What differs between QEMU VMs and LXC containers in messages, task names and HA ids.
 *
 * @module
 */

/** What differs between QEMU VMs and LXC containers in messages and task names. */
export interface Kind {
  type: "qemu" | "lxc";
  /** Directory of the config below `nodes/<node>/`. */
  confDir: "qemu-server" | "lxc";
  /** `VM` or `CT`, as PVE's messages name the guest. */
  label: "VM" | "CT";
  /** Task type prefix: `qm` or `vz`. */
  prefix: "qm" | "vz";
  /** HA resource type: `vm` or `ct`. */
  haType: "vm" | "ct";
}

/** QEMU VMs. */
export const QEMU: Kind = {
  type: "qemu",
  confDir: "qemu-server",
  label: "VM",
  prefix: "qm",
  haType: "vm",
};

/** LXC containers. */
export const LXC: Kind = { type: "lxc", confDir: "lxc", label: "CT", prefix: "vz", haType: "ct" };
