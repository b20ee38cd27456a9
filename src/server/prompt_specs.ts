/**
 * The procedures admins repeat, as prompts: diagnose a guest that will not start, a node's
 * pre-upgrade checklist, a capacity report, a backup audit, a slow guest, a safe snapshot
 * rollback. Each is data — arguments, a goal, steps that name tools only through `use` (so the
 * renderer in `prompts.ts` knows every tool a step needs), and what to report. A step may have
 * alternatives, best first: the drain plan prefers `node_drain` and falls back to
 * `guest_migrate` per guest, both as dry runs.
 *
 * Free of the SDK and zod, like `prompts.ts`.
 *
 * @module
 */

import type { PromptArgumentSpec, PromptSpec } from "./prompts.ts";

const GUEST_ARG: PromptArgumentSpec = {
  name: "guest",
  description: "The guest: vmid or name",
  required: true,
  kind: "guest",
};

/** `{"vmid":101}` or `{"name":"web01"}` for a guest argument. */
function guestRef(guest: string): Record<string, unknown> {
  return /^\d+$/.test(guest) ? { vmid: Number(guest) } : { name: guest };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** How a guest is named in prose. */
function guestWords(guest: string): string {
  return /^\d+$/.test(guest) ? `guest ${guest}` : `guest "${guest}"`;
}

const guestWontStart: PromptSpec = {
  name: "guest_wont_start",
  title: "Diagnose a guest that will not start",
  description:
    "Find why a VM or container fails to start: its state and lock, the failed start's task log, the node's memory and storage, HA; then the fix.",
  arguments: [GUEST_ARG],
  build(args) {
    const guest = args.guest ?? "";
    const ref = guestRef(guest);
    return {
      goal: `${
        capitalize(guestWords(guest))
      } will not start. Find out why, reading only, and tell me the cause and the fix before anything is changed.`,
      steps: [
        {
          label: "The guest's state, lock, pending changes and config",
          options: [
            (use) =>
              `${
                use("guest_get", ref)
              }: status, lock, template flag, pending changes and the config (memory, disks, boot order, hookscript). A lock or a template explains it at once.`,
          ],
        },
        {
          label: "The log of the failed start",
          options: [
            (use) =>
              `${
                use("task_list", { ...ref.vmid === undefined ? {} : ref, errors: true })
              } for the guest's recent failed tasks (by its vmid), then ${
                use("task_get")
              } on the newest failed start: the log tail usually names the cause.`,
            (use) =>
              `${
                use("task_list", { ...ref.vmid === undefined ? {} : ref, errors: true })
              } for the guest's recent failed tasks (by its vmid) and their exit status.`,
          ],
        },
        {
          label: "Its node's memory, services and storages",
          options: [
            (use) =>
              `${
                use("node_get")
              } on the guest's node: online, free memory against the guest's memory, failed services, storages active.`,
          ],
        },
        {
          label: "Space and state of the storages holding its disks",
          options: [
            (use) =>
              `${
                use("storage_list")
              } for that node: every storage holding the guest's disks must be active and not full.`,
          ],
        },
        {
          label: "The HA manager's view (for HA-managed guests)",
          options: [
            (use) =>
              `If the guest is HA-managed: ${
                use("ha_status")
              }; a resource in error or fence state is held by the HA manager, not by the guest.`,
          ],
        },
        {
          label: "Starting the guest once the cause is fixed",
          options: [
            (use) =>
              `Only after I agree to the fix and it is done: ${
                use("guest_start", ref)
              } and report the outcome.`,
          ],
        },
      ],
      report:
        "Report the cause in one sentence, the evidence (a log line, the numbers), and the fix. Change nothing without asking me.",
    };
  },
};

const nodeUpgradeChecklist: PromptSpec = {
  name: "node_upgrade_checklist",
  title: "Pre-upgrade checklist for a node",
  description:
    "Before upgrading and rebooting a node: cluster health and quorum, the node's version and services, backups of its guests, HA, and a dry-run drain plan.",
  arguments: [{
    name: "node",
    description: "The node to upgrade",
    required: true,
    kind: "node",
  }],
  build(args) {
    const node = args.node ?? "";
    return {
      goal:
        `Node "${node}" is about to be upgraded and rebooted. Check that this is safe. Read only, and dry runs only: change nothing.`,
      steps: [
        {
          label: "Cluster health and quorum",
          options: [
            (use) =>
              `${
                use("cluster_health")
              }: quorum, other nodes offline, failed tasks. Another node down means no margin for this one.`,
          ],
        },
        {
          label: "The node's version, subscription, services and root disk",
          options: [
            (use) =>
              `${
                use("node_get", { node })
              }: Proxmox VE and kernel version, subscription, failed services, free space on the root disk (the upgrade needs room).`,
          ],
        },
        {
          label: "Recent backups of the node's guests",
          options: [
            (use) =>
              `${
                use("backup_status", { node })
              }: guests on the node without a recent backup. Each is a risk until backed up.`,
          ],
        },
        {
          label: "HA state of the node and its resources",
          options: [
            (use) =>
              `${
                use("ha_status")
              }: quorum, the node's LRM state, and the HA resources on it (they will be moved or fenced).`,
          ],
        },
        {
          label: "A drain plan (dry run)",
          options: [
            (use) =>
              `${
                use("node_drain", { node, dry_run: true })
              }: where each guest would go, and which are refused and why.`,
            (use) =>
              `${use("guest_list", { node, status: "running" })}, then ${
                use("guest_migrate", { vmid: "<vmid>", target_node: "<node>", dry_run: true })
              } for each running guest, choosing target nodes with enough free memory: which moves work, which are refused and why.`,
          ],
        },
      ],
      report:
        "Answer go or no-go, with a checklist (one line per item, passed or failed) and the blockers to fix first. Run nothing without dry_run.",
    };
  },
};

const capacityReport: PromptSpec = {
  name: "capacity_report",
  title: "Capacity report",
  description:
    "CPU, memory and storage use per node and storage, with peaks over a timeframe, the busiest guests and what runs out first.",
  arguments: [
    {
      name: "node",
      description: "Only this node (default: every node)",
      required: false,
      kind: "node",
    },
    {
      name: "timeframe",
      description: "hour, day, week (default), month or year",
      required: false,
      kind: "timeframe",
    },
  ],
  build(args) {
    const node = args.node;
    const timeframe = args.timeframe ?? "week";
    const where = node === undefined ? "the cluster" : `node "${node}"`;
    return {
      goal: `Write a capacity report for ${where} over the last ${timeframe}.`,
      steps: [
        {
          label: "Nodes online with CPU, memory and root disk",
          options: [(use) => `${use("cluster_status")}: nodes online, CPU, memory, root disk.`],
        },
        {
          label: "Each node's memory, swap and load",
          options: [
            (use) =>
              node === undefined
                ? `${use("node_get")} for each online node: memory, swap, load, storages.`
                : `${use("node_get", { node })}: memory, swap, load, storages.`,
          ],
        },
        {
          label: "Usage history of the nodes",
          options: [
            (use) =>
              node === undefined
                ? `${
                  use("metrics_get", { node: "<node>", timeframe })
                } for each node: average and peak CPU, memory, network and disk I/O.`
                : `${
                  use("metrics_get", { node, timeframe })
                }: average and peak CPU, memory, network and disk I/O.`,
          ],
        },
        {
          label: "Storage usage",
          options: [
            (use) =>
              `${
                use("storage_list", node === undefined ? {} : { node })
              }: used and total per storage, with the ones over 85% flagged.`,
          ],
        },
        {
          label: "The busiest guests",
          options: [
            (use) =>
              `${use("metrics_get", { top: "cpu" })} and ${
                use("metrics_get", { top: "mem" })
              }: the guests using the most right now.`,
          ],
        },
        {
          label: "Guest counts by status and type",
          options: [
            (use) =>
              `${
                use("guest_list", node === undefined ? { limit: 1 } : { node, limit: 1 })
              }: its totals count guests by status and type (stopped guests and templates still hold disk).`,
          ],
        },
      ],
      report:
        "Report per node and per storage: used and total, peak, headroom, and what runs out first; end with concrete recommendations.",
    };
  },
};

const backupAudit: PromptSpec = {
  name: "backup_audit",
  title: "Backup audit",
  description:
    "Which guests lack a recent backup, which no job covers, failed backup runs, backup storage room and verification.",
  arguments: [
    {
      name: "max_age_hours",
      description: "A backup older than this counts as missing (default 48)",
      required: false,
      kind: "hours",
    },
    {
      name: "storage",
      description: "A backup storage to inspect closely (optional)",
      required: false,
      kind: "storage",
      content: "backup",
    },
  ],
  build(args) {
    const hours = args.max_age_hours === undefined ? 48 : Number(args.max_age_hours);
    const storage = args.storage;
    return {
      goal:
        `Audit the backups: which guests are not protected by a backup newer than ${hours} hours, and whether the backup setup is healthy. Read only.`,
      steps: [
        {
          label: "Guests without a recent backup",
          options: [
            (use) =>
              `${
                use("backup_status", { max_age_hours: hours })
              }: guests without a backup newer than ${hours} hours, oldest first.`,
          ],
        },
        {
          label: "Backup jobs and the guests no job covers",
          options: [
            (use) => `${use("backup_jobs")}: schedules, retention, and the guests no job covers.`,
          ],
        },
        {
          label: "Failed backup runs",
          options: [
            (use) =>
              `${use("task_list", { type: "vzdump", errors: true })}: failed backup runs, and why.`,
          ],
        },
        {
          label: "Room on the backup storages",
          options: [
            (use) =>
              `${use("storage_list", { content: "backup" })}: room left on each backup storage.`,
          ],
        },
        {
          label: "The archives themselves: protection and verification",
          options: storage === undefined
            ? [
              (use) =>
                `${
                  use("backup_list", { vmid: "<vmid>" })
                } for the guests with the oldest backups: protected, verified, size.`,
            ]
            : [
              (use) =>
                `${
                  use("storage_content", { storage, content: "backup" })
                }: the newest archives, protected, verification state.`,
            ],
        },
      ],
      report:
        "Report the unprotected guests (oldest first), failed runs, storage headroom, and concrete fixes (a job to add, a retention to change). Create no backup unless I ask.",
    };
  },
};

const slowGuest: PromptSpec = {
  name: "slow_guest",
  title: "Investigate a slow guest",
  description:
    "Find a guest's bottleneck: its CPU, memory, disk and network history, host pressure, noisy neighbours, tasks running against it, full filesystems.",
  arguments: [
    GUEST_ARG,
    {
      name: "timeframe",
      description: "hour, day (default), week, month or year",
      required: false,
      kind: "timeframe",
    },
  ],
  build(args) {
    const guest = args.guest ?? "";
    const ref = guestRef(guest);
    const timeframe = args.timeframe ?? "day";
    return {
      goal: `${
        capitalize(guestWords(guest))
      } is slow. Find the bottleneck (CPU, memory, disk or network; inside the guest or on its host) over the last ${timeframe}.`,
      steps: [
        {
          label: "The guest's resources and current usage",
          options: [
            (use) =>
              `${
                use("guest_get", ref)
              }: cores, memory and balloon, disk options (cache, iothread), CPU type, current usage, lock.`,
          ],
        },
        {
          label: "The guest's usage history",
          options: [
            (use) =>
              `${
                use("metrics_get", { ...ref, timeframe })
              }: CPU, memory, disk read/write and network; compare peaks with averages.`,
          ],
        },
        {
          label: "Pressure on its host",
          options: [
            (use) =>
              `${use("node_get")} on the guest's node: load, memory, swap. Then ${
                use("metrics_get", { node: "<node>", timeframe })
              } for that node.`,
            (use) =>
              `${
                use("metrics_get", { node: "<node>", timeframe })
              } for the guest's node: load, memory and I/O on the host.`,
          ],
        },
        {
          label: "Noisy neighbours",
          options: [
            (use) =>
              `${use("metrics_get", { top: "cpu" })} and ${
                use("metrics_get", { top: "disk_io" })
              }: guests on the same node competing for it.`,
          ],
        },
        {
          label: "Tasks running against the guest",
          options: [
            (use) =>
              `${
                use("task_list", { ...ref.vmid === undefined ? {} : ref, running: true })
              } (by its vmid): a backup, migration or snapshot running against it.`,
          ],
        },
        {
          label: "Filesystems inside the guest (VMs with the guest agent)",
          options: [
            (use) =>
              `For a VM with the guest agent: ${
                use("guest_agent_info", ref)
              }: filesystems near full inside the guest.`,
          ],
        },
      ],
      report:
        "Report the bottleneck with the numbers that show it, and the fix (a config change, a move, or something inside the guest). Propose config changes as dry runs only.",
    };
  },
};

const snapshotRollback: PromptSpec = {
  name: "snapshot_rollback",
  title: "Roll a guest back to a snapshot, safely",
  description:
    "Check the snapshot tree and the guest's state, keep the present state as a snapshot, dry-run the rollback, then roll back only after confirmation.",
  arguments: [
    GUEST_ARG,
    {
      name: "snapshot",
      description: "The snapshot to roll back to",
      required: true,
      kind: "snapshot",
    },
  ],
  build(args) {
    const guest = args.guest ?? "";
    const snapshot = args.snapshot ?? "";
    const ref = guestRef(guest);
    return {
      goal: `Roll ${
        guestWords(guest)
      } back to snapshot "${snapshot}" without losing anything by surprise.`,
      steps: [
        {
          label: "The snapshot tree",
          options: [
            (use) =>
              `${
                use("snapshot_list", ref)
              }: that "${snapshot}" exists, whether it saved RAM, and what the current state derives from.`,
          ],
        },
        {
          label: "The guest's state, lock and pending changes",
          options: [(use) => `${use("guest_get", ref)}: status, lock, pending changes, HA.`],
        },
        {
          label: "Keeping the present state as a snapshot first",
          options: [
            (use) =>
              `Ask me, then keep the present state: ${
                use("snapshot_create", { ...ref, snapshot: "before_rollback" })
              }.`,
          ],
        },
        {
          label: "The rollback itself (dry run first)",
          options: [
            (use) =>
              `${
                use("snapshot_rollback", { ...ref, snapshot, dry_run: true })
              } and show me the plan; only after I confirm, the same call without dry_run.`,
          ],
        },
      ],
      report:
        "Say what the rollback discards (changes since the snapshot), then its outcome and the guest's state afterwards.",
    };
  },
};

/** Every prompt, in the order `prompts/list` gives them. */
export const PROMPTS: readonly PromptSpec[] = [
  guestWontStart,
  nodeUpgradeChecklist,
  capacityReport,
  backupAudit,
  slowGuest,
  snapshotRollback,
];
