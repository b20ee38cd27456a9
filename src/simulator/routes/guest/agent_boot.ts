/**
 * The QEMU guest agent across a VM's boot. A VM with the agent enabled answers only once its OS
 * has booted: after every start the agent stays silent ("QEMU guest agent is not running") for
 * {@linkcode AGENT_BOOT_SECONDS} of task time (at once in `instant` tests, visibly in demos).
 *
 * A VM with a cloud-init drive runs a cloud image, which ships the agent: its first start gives
 * it one (Debian 12), with the hostname from `name` and, on `eth0` (the MAC of `net0`), the
 * address of `ipconfig0` — a static `ip=` or, for `ip=dhcp`, a lease from the simulated LAN
 * (`192.168.1.100`–`249`, by vmid) — plus the IPv6 link-local address; every later start reads
 * the config again. Other VMs keep what their seed gave them: an agent, or none (the agent is
 * configured but not installed).
 *
 * @module
 */

import type { Sim } from "../../router.ts";
import type { AgentState, Guest } from "../../state.ts";
import { agentEnabled } from "./config.ts";
import { cloudinitVolumes, driveSize } from "./disks.ts";

/** Simulated seconds from a VM's start until its guest agent answers. */
export const AGENT_BOOT_SECONDS = 15;

/** Booting VMs: the pid of the run whose agent is not up yet. */
const booting = new WeakMap<Guest, number>();

/** VMs whose agent comes from their cloud image (rebuilt from the config at each start). */
const cloudImages = new WeakSet<Guest>();

/** Whether the VM's agent is still waiting for the OS to boot. */
export function agentBooting(guest: Guest): boolean {
  return booting.get(guest) === guest.pid && guest.pid !== 0;
}

/** Called when a VM starts: the agent (if the VM has one) answers after the boot. */
export function bootAgent(sim: Sim, guest: Guest): void {
  if (guest.type !== "qemu" || !agentEnabled(guest.config)) return;
  if (guest.agent === undefined && cloudinitVolumes(guest.config).length > 0) {
    cloudImages.add(guest);
  }
  if (cloudImages.has(guest)) guest.agent = cloudImageAgent(guest);
  if (guest.agent === undefined) return;
  const pid = guest.pid;
  booting.set(guest, pid);
  void sim.clock.sleep(AGENT_BOOT_SECONDS).then(() => {
    if (booting.get(guest) === pid) booting.delete(guest);
  });
}

/** The DHCP lease a cloud-image VM gets on the simulated LAN. */
export function dhcpLease(vmid: number): string {
  return `192.168.1.${100 + (vmid % 150)}`;
}

function ipv6LinkLocal(mac: string): string {
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0] = mac.split(":").map((x) =>
    parseInt(x, 16)
  );
  const h = (x: number, y: number) => ((x << 8) | y).toString(16);
  return `fe80::${h(b0 ^ 2, b1)}:${h(b2, 0xff)}:${h(0xfe, b3)}:${h(b4, b5)}`;
}

function eth0Addresses(guest: Guest, mac: string): Record<string, unknown>[] {
  const ipconfig = String(guest.config.ipconfig0 ?? "ip=dhcp");
  const ip = /(?:^|,)ip=([^,]+)/.exec(ipconfig)?.[1] ?? "dhcp";
  const v4 = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(ip);
  const out: Record<string, unknown>[] = [];
  if (v4 !== null) {
    out.push({ "ip-address": v4[1], "ip-address-type": "ipv4", prefix: Number(v4[2]) });
  } else if (ip === "dhcp") {
    out.push({ "ip-address": dhcpLease(guest.vmid), "ip-address-type": "ipv4", prefix: 24 });
  }
  out.push({ "ip-address": ipv6LinkLocal(mac), "ip-address-type": "ipv6", prefix: 64 });
  return out;
}

function cloudImageAgent(guest: Guest): AgentState {
  const mac = (/(?:^|,)(?:virtio|e1000|vmxnet3|rtl8139)=([0-9A-Fa-f:]{17})/.exec(
    String(guest.config.net0 ?? ""),
  )?.[1] ?? "bc:24:11:00:00:00").toLowerCase();
  const hostname = String(guest.config.name ?? `VM${guest.vmid}`).split(".")[0] ?? "debian";
  const boot = Object.entries(guest.config).find(([key]) => /^(scsi|virtio|sata)0$/.test(key));
  const total = boot === undefined ? 3 * 1024 ** 3 : driveSize(String(boot[1]));
  const interfaces: Record<string, unknown>[] = [{
    name: "lo",
    "hardware-address": "00:00:00:00:00:00",
    "ip-addresses": [
      { "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 },
      { "ip-address": "::1", "ip-address-type": "ipv6", prefix: 128 },
    ],
  }];
  if (guest.config.net0 !== undefined) {
    interfaces.push({
      name: "eth0",
      "hardware-address": mac,
      "ip-addresses": eth0Addresses(guest, mac),
    });
  }
  return {
    running: true,
    osinfo: {
      id: "debian",
      name: "Debian GNU/Linux",
      "pretty-name": "Debian GNU/Linux 12 (bookworm)",
      version: "12 (bookworm)",
      "version-id": "12",
      "kernel-release": "6.1.0-25-cloud-amd64",
      "kernel-version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.106-3 (2024-08-26)",
      machine: "x86_64",
    },
    interfaces,
    fsinfo: [{
      name: "sda1",
      mountpoint: "/",
      type: "ext4",
      "used-bytes": Math.min(1_288_490_188, Math.round(total * 0.4)),
      "total-bytes": Math.max(0, total - 134_217_728),
      disk: [{ "bus-type": "scsi", bus: 0, target: 0, unit: 0, dev: "/dev/sda1" }],
    }],
    hostname,
    files: {
      "/etc/hostname": `${hostname}\n`,
      "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n' +
        'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
    },
  };
}
