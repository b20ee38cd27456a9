/**
 * Shared parameter shapes, defined once and reused by every tool (guest, node, storage, volume,
 * paging, …). Every string has a maximum length that fits its meaning and every array a maximum
 * number of items, so no argument can make the server inspect megabytes (a test walks every
 * tool's input schema and fails on an unbounded string, array or number).
 *
 * Descriptions are short on purpose: the tool list is paid for on every turn.
 *
 * @module
 */

import { z } from "zod";

/** A VMID as PVE accepts it. */
export function vmidParam(description = "Guest id"): z.ZodNumber {
  return z.number().int().min(100).max(999_999_999).describe(description);
}

/** A node name (one DNS label). */
export function nodeParam(description = "Node name"): z.ZodString {
  return z.string().min(1).max(63).describe(description);
}

/** A storage id (`local`, `local-lvm`, `pbs-backup`). */
export function storageParam(description = "Storage id"): z.ZodString {
  return z.string().min(2).max(64).describe(description);
}

/** A volume id (`storage:iso/file.iso`, `local:backup/vzdump-….vma.zst`, `pbs:backup/vm/…`). */
export function volidParam(description = "Volume id, storage:path"): z.ZodString {
  return z.string().min(3).max(512).describe(description);
}

/** A guest name or CT hostname (`dns-name`). */
export function guestNameParam(description = "Guest name"): z.ZodString {
  return z.string().min(1).max(128).describe(description);
}

/** A pool id. */
export function poolParam(description = "Pool id"): z.ZodString {
  return z.string().min(1).max(128).describe(description);
}

/** One tag. */
export function tagParam(description = "Tag"): z.ZodString {
  return z.string().min(1).max(64).describe(description);
}

/** A list of tags. */
export function tagsParam(description = "Tags"): z.ZodArray<z.ZodString> {
  return z.array(z.string().min(1).max(64)).max(32).describe(description);
}

/** A UPID (task id). */
export function upidParam(description = "Task id (UPID)"): z.ZodString {
  return z.string().min(1).max(256).describe(description);
}

/** A task type (`qmstart`, `vzdump`, `qmsnapshot`, …). */
export function taskTypeParam(description = "Task type, e.g. qmstart, vzdump"): z.ZodString {
  return z.string().min(1).max(64).describe(description);
}

/**
 * A snapshot name (`pve-configid`, at most 40 characters in PVE). A tool that explains a bad
 * new name itself (with a suggestion) passes a larger `max`, so names a little too long reach
 * its explanation.
 */
export function snapshotNameParam(description = "Snapshot name", max = 40): z.ZodString {
  return z.string().min(1).max(max).describe(description);
}

/** A free-text description or note (PVE keeps at most 8 KiB in a config). */
export function descriptionParam(description = "Description"): z.ZodString {
  return z.string().max(8192).describe(description);
}

/** SSH public keys, one per item. */
export function sshKeysParam(description = "SSH public keys"): z.ZodArray<z.ZodString> {
  return z.array(z.string().min(1).max(16384)).min(1).max(32).describe(description);
}

/** A password (never echoed anywhere). */
export function passwordParam(description = "Password"): z.ZodString {
  return z.string().min(5).max(256).describe(description);
}

/** An opaque paging cursor. */
export function cursorParam(description = "next_cursor of the previous page"): z.ZodString {
  return z.string().min(1).max(200).describe(description);
}

/** A page size between 1 and `max`. */
export function limitParam(defaultLimit: number, max: number): z.ZodNumber {
  return z.number().int().min(1).max(max).describe(`Default ${defaultLimit}`);
}

/** The `limit`/`cursor` pair of a paged list. */
export function pagingParams(defaultLimit: number, max: number): {
  limit: z.ZodOptional<z.ZodNumber>;
  cursor: z.ZodOptional<z.ZodString>;
} {
  return { limit: limitParam(defaultLimit, max).optional(), cursor: cursorParam().optional() };
}

/**
 * A record (an object of named values) of at most `max` entries: the count is checked and
 * announced as `maxProperties`, like every other bound.
 */
export function boundedRecord<K extends z.ZodString, V extends z.ZodType>(
  key: K,
  value: V,
  max: number,
): z.ZodType<Record<z.infer<K>, z.infer<V>>> {
  return z.record(key, value).refine((record) => Object.keys(record).length <= max, {
    message: `must have at most ${max} entries`,
  }).meta({ maxProperties: max }) as unknown as z.ZodType<Record<z.infer<K>, z.infer<V>>>;
}
