/**
 * The one list of all tools. The registry (`registry.ts`) filters it by policy and builds the
 * server from it; nothing else registers tools. Add a tool by importing it here and appending
 * it to `allTools`.
 *
 * @module
 */

import { guestAgentInfo } from "./agent/guest_agent_info.ts";
import { guestExec } from "./agent/guest_exec.ts";
import { pveApiCall } from "./api/pve_api_call.ts";
import { pveApiGet } from "./api/pve_api_get.ts";
import { clusterStatus } from "./inventory/cluster_status.ts";
import { guestGet } from "./inventory/guest_get.ts";
import { guestList } from "./inventory/guest_list.ts";
import { guestReboot } from "./lifecycle/guest_reboot.ts";
import { guestShutdown } from "./lifecycle/guest_shutdown.ts";
import { guestStart } from "./lifecycle/guest_start.ts";
import { guestStop } from "./lifecycle/guest_stop.ts";
import { accessCheck } from "./network/access_check.ts";
import { firewallGet } from "./network/firewall_get.ts";
import { haStatus } from "./network/ha_status.ts";
import { networkList } from "./network/network_list.ts";
import { clusterHealth } from "./observe/cluster_health.ts";
import { metricsGet } from "./observe/metrics_get.ts";
import { nodeGet } from "./observe/node_get.ts";
import { snapshotCreate } from "./snapshots/snapshot_create.ts";
import { snapshotDelete } from "./snapshots/snapshot_delete.ts";
import { snapshotList } from "./snapshots/snapshot_list.ts";
import { snapshotRollback } from "./snapshots/snapshot_rollback.ts";
import { taskGet } from "./tasks/task_get.ts";
import { taskList } from "./tasks/task_list.ts";
import { taskWait } from "./tasks/task_wait.ts";
import type { AnyTool } from "./types.ts";

/** Every tool, in the order `tools/list` shows them. */
export const allTools: readonly AnyTool[] = [
  clusterStatus,
  guestList,
  guestGet,
  guestStart,
  guestShutdown,
  guestReboot,
  guestStop,
  snapshotList,
  snapshotCreate,
  snapshotRollback,
  snapshotDelete,
  taskList,
  taskGet,
  taskWait,
  pveApiGet,
  pveApiCall,
  clusterHealth,
  nodeGet,
  metricsGet,
  networkList,
  firewallGet,
  haStatus,
  accessCheck,
  guestAgentInfo,
  guestExec,
];
