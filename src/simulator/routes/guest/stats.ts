/**
 * Live usage figures of a guest (CPU, memory, disks, network), deterministic and plausible.
 *
 * @module
 */

import type { Guest, GuestConfig, SimState } from "../../state.ts";
import { driveSize, isCdrom, isDiskKey } from "./disks.ts";
import { hash32 } from "./hash.ts";
import type { Kind } from "./kind.ts";

const MIB = 1024 ** 2;

/** Memory in bytes of a config (`memory` is `[current=]MiB`). */
export function configMemory(config: GuestConfig): number {
  const raw = config.memory;
  if (raw === undefined) return 512 * MIB;
  const m = /(?:current=)?(\d+)/.exec(String(raw));
  return Number(m?.[1] ?? 512) * MIB;
}

/** Number of vCPUs of a guest. */
export function configCpus(kind: Kind, state: SimState, guest: Guest): number {
  const c = guest.config;
  if (kind.type === "lxc") {
    return Number(c.cores ?? state.nodes.get(guest.node)?.maxcpu ?? 1);
  }
  if (c.vcpus !== undefined) return Number(c.vcpus);
  return Number(c.sockets ?? 1) * Number(c.cores ?? 1);
}

/** Size of the boot disk (QEMU) or rootfs (LXC) in bytes. */
export function bootDiskSize(kind: Kind, config: GuestConfig): number {
  if (kind.type === "lxc") {
    return config.rootfs === undefined ? 0 : driveSize(String(config.rootfs));
  }
  const boot = String(config.boot ?? "");
  const order = /order=([^,]+)/.exec(boot)?.[1]?.split(";") ?? [];
  const legacy = config.bootdisk === undefined ? [] : [String(config.bootdisk)];
  for (const key of [...order, ...legacy, "scsi0", "virtio0", "sata0", "ide0"]) {
    const value = config[key];
    if (value !== undefined && isDiskKey(kind, key) && !isCdrom(String(value))) {
      return driveSize(String(value));
    }
  }
  return 0;
}

/** Live, plausible and deterministic usage figures of a guest. */
export function liveStats(
  kind: Kind,
  state: SimState,
  guest: Guest,
  now: number,
): {
  cpu: number;
  mem: number;
  maxmem: number;
  uptime: number;
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
  disk: number;
  maxdisk: number;
  cpus: number;
  freemem: number;
} {
  const maxmem = configMemory(guest.config);
  const maxdisk = bootDiskSize(kind, guest.config);
  const cpus = configCpus(kind, state, guest);
  const running = guest.status === "running";
  if (!running) {
    return {
      cpu: 0,
      mem: 0,
      maxmem,
      uptime: 0,
      netin: 0,
      netout: 0,
      diskread: 0,
      diskwrite: 0,
      disk: kind.type === "lxc" ? guest.stats.disk : 0,
      maxdisk,
      cpus,
      freemem: 0,
    };
  }
  const uptime = Math.max(0, now - guest.startedAt);
  const h = hash32(`stats/${guest.vmid}`);
  const s = guest.stats;
  const cpu = s.cpu > 0 ? s.cpu : 0.005 + (h % 400) / 10_000;
  const mem = s.mem > 0 ? s.mem : Math.round(maxmem * (0.3 + ((h >>> 8) % 40) / 100));
  const rate = 200 + (h % 1800);
  return {
    cpu,
    mem: Math.min(mem, maxmem),
    maxmem,
    uptime,
    netin: s.netin + uptime * rate,
    netout: s.netout + Math.round(uptime * rate * 0.2),
    diskread: s.diskread + uptime * (rate * 16),
    diskwrite: s.diskwrite + uptime * (rate * 4),
    disk: kind.type === "lxc" ? (s.disk > 0 ? s.disk : Math.round(maxdisk * 0.35)) : 0,
    maxdisk,
    cpus,
    freemem: Math.max(0, maxmem - mem),
  };
}
