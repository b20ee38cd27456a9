/**
 * `blockstat` of a running VM's `status/current`: QMP `query-blockstats` per drive, keyed by
 * the drive name (`scsi0`, `ide2`, `efidisk0`), as `qemu-server` `vmstatus` copies each
 * device's `stats` object. `diskread`/`diskwrite` are the sums of `rd_bytes`/`wr_bytes`, so
 * the boot disk gets the traffic and other drives a small share. Booleans stay JSON booleans
 * (they come from QMP, not Perl).
 *
 * @module
 */

import type { Guest } from "../../state.ts";
import { hash32 } from "./hash.ts";

const DRIVE = /^(ide|sata|scsi|virtio)\d+$|^efidisk0$/;

function stats(read: number, written: number, seed: number): Record<string, unknown> {
  const rdOps = Math.round(read / 16_384);
  const wrOps = Math.round(written / 8_192);
  return {
    rd_bytes: read,
    wr_bytes: written,
    rd_operations: rdOps,
    wr_operations: wrOps,
    flush_operations: Math.round(wrOps / 8),
    rd_total_time_ns: rdOps * 180_000,
    wr_total_time_ns: wrOps * 420_000,
    flush_total_time_ns: Math.round(wrOps / 8) * 900_000,
    rd_merged: 0,
    wr_merged: 0,
    wr_highest_offset: written > 0 ? 1_073_741_824 + (seed % 1_000_000) * 4096 : 0,
    idle_time_ns: 1_000_000 + (seed % 9_000_000),
    failed_rd_operations: 0,
    failed_wr_operations: 0,
    failed_flush_operations: 0,
    failed_unmap_operations: 0,
    invalid_rd_operations: 0,
    invalid_wr_operations: 0,
    invalid_flush_operations: 0,
    invalid_unmap_operations: 0,
    unmap_bytes: 0,
    unmap_operations: 0,
    unmap_total_time_ns: 0,
    unmap_merged: 0,
    account_invalid: true,
    account_failed: true,
    timed_stats: [],
  };
}

/** Per-drive block statistics whose `rd_bytes`/`wr_bytes` add up to `read`/`written`. */
export function blockstat(
  guest: Guest,
  read: number,
  written: number,
): Record<string, Record<string, unknown>> {
  const drives = Object.keys(guest.config).filter((key) => DRIVE.test(key)).sort();
  const boot = /order=([^;,]+)/.exec(String(guest.config.boot ?? ""))?.[1];
  const main = drives.includes(boot ?? "") ? boot : drives.find((d) => !d.startsWith("ide"));
  const out: Record<string, Record<string, unknown>> = {};
  let restRead = read;
  let restWritten = written;
  for (const drive of drives) {
    if (drive === main) continue;
    const cdrom = /media=cdrom|^none|^cdrom/.test(String(guest.config[drive]));
    const r = cdrom ? 0 : Math.floor(read * 0.02);
    const w = cdrom ? 0 : Math.floor(written * 0.02);
    restRead -= r;
    restWritten -= w;
    out[drive] = stats(r, w, hash32(`${guest.vmid}/${drive}`));
  }
  if (main !== undefined) {
    out[main] = stats(restRead, restWritten, hash32(`${guest.vmid}/${main}`));
  }
  return out;
}
