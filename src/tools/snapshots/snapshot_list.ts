/**
 * `snapshot_list`: a guest's snapshots as a tree (parent links), with the one the current
 * state derives from marked, RAM state, time and description.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { defineTool } from "../types.ts";
import {
  guestIdentity,
  guestSelector,
  guestTitle,
  identityOf,
  resolveGuestArg,
  scopeOf,
} from "../_shared/guest.ts";
import { listSnapshots, type SnapshotInfo, snapshotSchema } from "../_shared/snapshots.ts";

const outputSchema = z.object({
  ...guestIdentity,
  snapshots: z.array(snapshotSchema),
  current_parent: z.string().optional(),
  count: z.number(),
});

/** Renders snapshots as an indented tree, oldest root first. */
function tree(snapshots: readonly SnapshotInfo[]): string[] {
  const names = new Set(snapshots.map((s) => s.name));
  const children = new Map<string | undefined, SnapshotInfo[]>();
  for (const s of snapshots) {
    const parent = s.parent !== undefined && names.has(s.parent) ? s.parent : undefined;
    const list = children.get(parent) ?? [];
    list.push(s);
    children.set(parent, list);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      const marks = [s.time ?? "", s.vmstate ? "with RAM" : "", s.current ? "<- current state" : ""]
        .filter((m) => m !== "").join(", ");
      lines.push(
        `${"  ".repeat(depth)}- ${s.name}${marks ? ` (${marks})` : ""}${
          s.description ? `: ${s.description}` : ""
        }`,
      );
      walk(s.name, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines;
}

/** Lists a guest's snapshots. */
export const snapshotList = defineTool({
  name: "snapshot_list",
  title: "List snapshots",
  description:
    "Snapshots of a VM or container (by vmid or name) as a tree: parent, time, RAM state, description, and which one the current state derives from.",
  toolset: "snapshots",
  capability: "read",
  inputSchema: z.object(guestSelector),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(args, ctx) {
    const guest = await resolveGuestArg(args, ctx);
    ctx.assertInScope(scopeOf(guest));
    const list = await listSnapshots(guest, ctx);
    const structured: z.infer<typeof outputSchema> = {
      ...identityOf(guest),
      snapshots: list.snapshots,
      count: list.snapshots.length,
    };
    if (list.currentParent !== undefined) structured.current_parent = list.currentParent;
    const title = guestTitle(guest);
    const text = list.snapshots.length === 0
      ? `${title} has no snapshots.`
      : [`${title} has ${list.snapshots.length} snapshot(s):`, ...tree(list.snapshots)].join("\n");
    return { text, structured };
  },
});
