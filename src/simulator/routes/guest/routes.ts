/**
 * The endpoints QEMU and LXC share, below `/nodes/{node}/<type>/{vmid}`.
 *
 * @module
 */

import { type Route, route, type RouteContext } from "../../router.ts";
import { cloneGuest } from "./clone.ts";
import { getConfig, getPending } from "./config.ts";
import { destroyGuest } from "./destroy.ts";
import type { Kind } from "./kind.ts";
import { migrateGuest, migratePrecondition } from "./migrate.ts";
import { resizeDisk } from "./resize.ts";
import { rrdData } from "./rrd.ts";
import {
  deleteSnapshot,
  listSnapshots,
  postSnapshot,
  rollbackSnapshot,
  snapshotConfig,
  snapshotIndex,
} from "./snapshots.ts";
import { makeTemplate } from "./template.ts";

/** The endpoints both guest types implement with the same handler, below `…/<type>/{vmid}`. */
export function guestRoutes(kind: Kind): Route[] {
  const base = `/nodes/{node}/${kind.type}/{vmid}`;
  const of = <T>(fn: (ctx: RouteContext, kind: Kind) => T) => (ctx: RouteContext): T =>
    fn(ctx, kind);
  return [
    route("DELETE", base, of(destroyGuest)),
    route("GET", `${base}/config`, of(getConfig)),
    route("GET", `${base}/pending`, of(getPending)),
    route("GET", `${base}/snapshot`, of(listSnapshots)),
    route("POST", `${base}/snapshot`, of(postSnapshot)),
    route("GET", `${base}/snapshot/{snapname}`, of(snapshotIndex)),
    route("DELETE", `${base}/snapshot/{snapname}`, of(deleteSnapshot)),
    route("GET", `${base}/snapshot/{snapname}/config`, of(snapshotConfig)),
    route("PUT", `${base}/snapshot/{snapname}/config`, of(snapshotConfig)),
    route("POST", `${base}/snapshot/{snapname}/rollback`, of(rollbackSnapshot)),
    route("POST", `${base}/clone`, of(cloneGuest)),
    route("PUT", `${base}/resize`, of(resizeDisk)),
    route("GET", `${base}/migrate`, of(migratePrecondition)),
    route("POST", `${base}/migrate`, of(migrateGuest)),
    route("POST", `${base}/template`, of(makeTemplate)),
    route("GET", `${base}/rrddata`, of(rrdData)),
  ];
}
