/**
 * Every route the simulator implements, from all route modules.
 *
 * @module
 */

import type { Route } from "../router.ts";
import { routes as access } from "./access.ts";
import { routes as agent } from "./agent.ts";
import { routes as backup } from "./backup.ts";
import { routes as cluster } from "./cluster.ts";
import { routes as firewall } from "./firewall.ts";
import { routes as ha } from "./ha.ts";
import { routes as lxc } from "./lxc.ts";
import { routes as network } from "./network.ts";
import { routes as nodes } from "./nodes.ts";
import { routes as pools } from "./pools.ts";
import { routes as prune } from "./prune.ts";
import { routes as qemu } from "./qemu.ts";
import { routes as replication } from "./replication.ts";
import { routes as rrd } from "./rrd.ts";
import { routes as storage } from "./storage.ts";
import { routes as tasks } from "./tasks.ts";

/** All implemented routes. */
export const allRoutes: readonly Route[] = [
  ...access,
  ...agent,
  ...backup,
  ...cluster,
  ...firewall,
  ...ha,
  ...lxc,
  ...network,
  ...nodes,
  ...pools,
  ...prune,
  ...qemu,
  ...replication,
  ...rrd,
  ...storage,
  ...tasks,
];
