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
import { backupCreate } from "./backup/backup_create.ts";
import { backupJobs } from "./backup/backup_jobs.ts";
import { backupList } from "./backup/backup_list.ts";
import { backupRestore } from "./backup/backup_restore.ts";
import { backupRestoreOverwrite } from "./backup/backup_restore_overwrite.ts";
import { backupStatus } from "./backup/backup_status.ts";
import { clusterStatus } from "./inventory/cluster_status.ts";
import { guestGet } from "./inventory/guest_get.ts";
import { guestList } from "./inventory/guest_list.ts";
import { guestReboot } from "./lifecycle/guest_reboot.ts";
import { guestShutdown } from "./lifecycle/guest_shutdown.ts";
import { guestStart } from "./lifecycle/guest_start.ts";
import { guestReset } from "./lifecycle/guest_reset.ts";
import { guestResume } from "./lifecycle/guest_resume.ts";
import { guestStop } from "./lifecycle/guest_stop.ts";
import { guestSuspend } from "./lifecycle/guest_suspend.ts";
import { ctCreate } from "./provisioning/ct_create.ts";
import { guestClone } from "./provisioning/guest_clone.ts";
import { guestConfigUpdate } from "./provisioning/guest_config_update.ts";
import { guestDelete } from "./provisioning/guest_delete.ts";
import { guestDiskResize } from "./provisioning/guest_disk_resize.ts";
import { guestMigrate } from "./provisioning/guest_migrate.ts";
import { guestTemplate } from "./provisioning/guest_template.ts";
import { vmCreate } from "./provisioning/vm_create.ts";
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
import { storageContent } from "./storage/storage_content.ts";
import { storageDownload } from "./storage/storage_download.ts";
import { storageList } from "./storage/storage_list.ts";
import { volumeDelete } from "./storage/volume_delete.ts";
import { taskGet } from "./tasks/task_get.ts";
import { taskList } from "./tasks/task_list.ts";
import { taskWait } from "./tasks/task_wait.ts";
import type { AnyTool } from "./types.ts";
import { guestProvision } from "./workflows/guest_provision.ts";
import { guestsRollingRestart } from "./workflows/guests_rolling_restart.ts";
import { nodeDrain } from "./workflows/node_drain.ts";

/** Every tool, in the order `tools/list` shows them. */
export const allTools: readonly AnyTool[] = [
  clusterStatus,
  clusterHealth,
  guestList,
  guestGet,
  nodeGet,
  metricsGet,
  guestStart,
  guestShutdown,
  guestReboot,
  guestStop,
  guestSuspend,
  guestResume,
  guestReset,
  vmCreate,
  ctCreate,
  guestClone,
  guestConfigUpdate,
  guestDiskResize,
  guestMigrate,
  guestTemplate,
  guestDelete,
  snapshotList,
  snapshotCreate,
  snapshotRollback,
  snapshotDelete,
  storageList,
  storageContent,
  storageDownload,
  volumeDelete,
  backupStatus,
  backupList,
  backupJobs,
  backupCreate,
  backupRestore,
  backupRestoreOverwrite,
  taskList,
  taskGet,
  taskWait,
  networkList,
  firewallGet,
  haStatus,
  accessCheck,
  guestAgentInfo,
  guestExec,
  guestProvision,
  nodeDrain,
  guestsRollingRestart,
  pveApiGet,
  pveApiCall,
];
