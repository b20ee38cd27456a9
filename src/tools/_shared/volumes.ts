/**
 * One storage volume as the storage and backup tools report it: the compact fields of a
 * `GET /nodes/{node}/storage/{storage}/content` item, with units in the names and times in
 * ISO 8601.
 *
 * @module
 */

import { z } from "zod";
import { formatBytes, isoTime, num, truthy } from "./format.ts";

/** A volume in tool output. */
export const volumeItemSchema = z.object({
  volid: z.string(),
  content: z.string(),
  format: z.string(),
  size_bytes: z.number(),
  time: z.string().optional(),
  vmid: z.number().optional(),
  notes: z.string().optional(),
  protected: z.boolean().optional(),
  verification: z.string().optional(),
  encrypted: z.boolean().optional(),
});

/** A volume, plus its creation time as a number for sorting (not part of the output). */
export type VolumeItem = z.infer<typeof volumeItemSchema> & { ctime?: number };

/** Notes are free text; a long one is cut so one backup cannot flood a listing. */
const NOTES_MAX = 200;

/** Builds a volume item from a raw content entry. */
export function volumeItem(raw: Record<string, unknown>): VolumeItem {
  const item: VolumeItem = {
    volid: String(raw.volid ?? ""),
    content: String(raw.content ?? ""),
    format: String(raw.format ?? ""),
    size_bytes: num(raw.size) ?? 0,
  };
  const ctime = num(raw.ctime);
  if (ctime !== undefined) {
    item.ctime = ctime;
    const time = isoTime(ctime);
    if (time !== undefined) item.time = time;
  }
  const vmid = num(raw.vmid);
  if (vmid !== undefined) item.vmid = vmid;
  if (typeof raw.notes === "string" && raw.notes.trim() !== "") {
    const notes = raw.notes.trim();
    item.notes = notes.length > NOTES_MAX ? `${notes.slice(0, NOTES_MAX)}…` : notes;
  }
  if (truthy(raw.protected)) item.protected = true;
  const verification = raw.verification as { state?: unknown } | undefined;
  if (typeof verification?.state === "string") item.verification = verification.state;
  if (raw.encrypted !== undefined && raw.encrypted !== 0 && raw.encrypted !== "0") {
    item.encrypted = true;
  }
  return item;
}

/** One text line for a volume. */
export function volumeLine(item: VolumeItem): string {
  const parts = [item.volid, item.format, formatBytes(item.size_bytes)];
  if (item.time !== undefined) parts.push(item.time);
  if (item.protected) parts.push("protected");
  if (item.verification !== undefined) parts.push(`verify ${item.verification}`);
  if (item.notes !== undefined) parts.push(`"${item.notes.split("\n")[0]}"`);
  return parts.join(" ");
}
