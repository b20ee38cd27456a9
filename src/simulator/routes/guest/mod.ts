/**
 * The guest helpers and endpoints QEMU and LXC share, one concept per file. Private to
 * `routes/`: the route modules `qemu.ts`, `lxc.ts` and `agent.ts` import from here.
 *
 * @module
 */

export * from "./kind.ts";
export * from "./params.ts";
export * from "./lookup.ts";
export * from "./locks.ts";
export * from "./config.ts";
export * from "./config_update.ts";
export * from "./cloudinit.ts";
export * from "./sizes.ts";
export * from "./disks.ts";
export * from "./volumes.ts";
export * from "./network.ts";
export * from "./hash.ts";
export * from "./snapshots.ts";
export * from "./clone.ts";
export * from "./migrate.ts";
export * from "./template.ts";
export * from "./destroy.ts";
export * from "./resize.ts";
export * from "./stats.ts";
export * from "./rrd.ts";
export * from "./ha.ts";
export * from "./power.ts";
export * from "./agent_boot.ts";
export * from "./pools.ts";
export * from "./routes.ts";
