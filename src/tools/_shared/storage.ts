/**
 * Shared by the storage and backup tools: checking storage ids, node names, volume ids and
 * URLs as PVE would (so a malformed one is refused before anything is sent, with the fix),
 * reading what storage exists on which node (`/cluster/resources`), and choosing the node
 * through which a storage is addressed.
 *
 * @module
 */

import { PveError, PveNotFoundError, PveValidationError } from "../../pve/errors.ts";
import type { ClusterResources } from "../../pve/mod.ts";
import type { ToolContext } from "../types.ts";
import { num } from "./format.ts";

/** PVE's storage id rule (FACTS §7): a letter, then letters, digits, `-`, `_`, `.`; ≥ 2 chars. */
const STORAGE_ID_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
/** PVE's node name rule: one DNS label. */
const NODE_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

/** Refuses a storage id PVE would refuse, naming the rule. */
export function checkStorageId(id: string, arg = "storage"): void {
  if (STORAGE_ID_RE.test(id)) return;
  throw new PveValidationError(
    `Storage id "${id}" is not valid: use at least 2 characters, a letter first, then letters, digits, '-', '_' or '.' (like "local" or "nas-backup"); storage_list shows the storages.`,
    { errors: { [arg]: `storage ID '${id}' contains illegal characters` } },
  );
}

/** Refuses a node name PVE would refuse. */
export function checkNodeName(node: string, arg = "node"): void {
  if (NODE_RE.test(node)) return;
  throw new PveValidationError(
    `Node name "${node}" is not valid: a node name is one DNS label (letters, digits and '-'), like "pve1"; cluster_status lists the nodes.`,
    { errors: { [arg]: "value does not look like a valid node name" } },
  );
}

/** What a backup volume's name says about it. */
export interface BackupName {
  /** Guest type of the archive (`qemu` or `lxc`), when the name tells. */
  type?: "qemu" | "lxc";
  /** The guest the backup is of. */
  vmid?: number;
  /** Backup time from the name (epoch seconds). */
  time?: number;
  /** Whether it is a Proxmox Backup Server snapshot. */
  pbs: boolean;
}

/** A parsed volume id. */
export interface VolumeId {
  volid: string;
  storage: string;
  /** The part after `storage:`. */
  volname: string;
  /** Content kind, from the volume name. */
  kind: "iso" | "vztmpl" | "backup" | "images" | "snippets" | "import";
  /** Owning guest (disk images, backups). */
  vmid?: number;
  /** Backup facts (kind `backup`). */
  backup?: BackupName;
}

const VOLID_RE = /^([a-z][a-z0-9\-_.]*[a-z0-9]):([^\s\0]+)$/i;
const FILE_BACKUP_RE =
  /^backup\/vzdump-(qemu|lxc|openvz)-([1-9][0-9]{2,8})-(\d{4})_(\d\d)_(\d\d)-(\d\d)_(\d\d)_(\d\d)\.(?:vma|tar|tgz)/;
const PBS_BACKUP_RE = /^backup\/(vm|ct)\/([1-9][0-9]{2,8})\/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/;
const IMAGE_RE = /(?:^|\/)(?:vm|base|subvol|basevol)-([1-9][0-9]{2,8})-(?:disk|state|cloudinit)/g;

function malformedVolid(volid: string, arg: string, why: string): PveValidationError {
  return new PveValidationError(
    `Volume id "${volid}" is not valid: ${why}; a volume id is storage:path, like "local:iso/debian-13.1.0-amd64-netinst.iso" or "pbs:backup/vm/105/2026-01-31T02:00:00Z" (storage_content lists them).`,
    { errors: { [arg]: `unable to parse volume ID '${volid}'` } },
  );
}

/** Parses a backup volume name (`backup/vzdump-qemu-105-….vma.zst`, `backup/vm/105/<time>`). */
export function parseBackupName(volname: string): BackupName {
  const pbs = PBS_BACKUP_RE.exec(volname);
  if (pbs !== null) {
    return {
      pbs: true,
      type: pbs[1] === "vm" ? "qemu" : "lxc",
      vmid: Number(pbs[2]),
      time: Date.parse(pbs[3] ?? "") / 1000,
    };
  }
  const file = FILE_BACKUP_RE.exec(volname);
  if (file !== null) {
    const [, type, vmid, y, mo, d, h, mi, s] = file;
    const out: BackupName = {
      pbs: false,
      vmid: Number(vmid),
      time: Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000,
    };
    if (type === "qemu" || type === "lxc") out.type = type;
    return out;
  }
  return { pbs: false };
}

/**
 * Parses and checks a volume id the way PVE's `parse_volume_id` would accept it.
 *
 * @throws {PveValidationError} naming the expected shape.
 */
export function parseVolid(volid: string, arg = "volid"): VolumeId {
  const match = VOLID_RE.exec(volid);
  if (match === null) {
    const colon = volid.indexOf(":");
    throw malformedVolid(
      volid,
      arg,
      colon < 0
        ? "it has no storage part"
        : STORAGE_ID_RE.test(volid.slice(0, colon))
        ? "the path is empty or contains spaces"
        : `"${volid.slice(0, colon)}" is not a storage id`,
    );
  }
  const storage = match[1] ?? "";
  const volname = match[2] ?? "";
  if (volname.split("/").some((part) => part === ".." || part === ".")) {
    throw malformedVolid(volid, arg, "it contains '.' or '..' path parts");
  }
  const out: VolumeId = { volid, storage, volname, kind: "images" };
  if (volname.startsWith("iso/")) out.kind = "iso";
  else if (volname.startsWith("vztmpl/")) out.kind = "vztmpl";
  else if (volname.startsWith("snippets/")) out.kind = "snippets";
  else if (volname.startsWith("import/")) out.kind = "import";
  else if (volname.startsWith("backup/")) {
    out.kind = "backup";
    out.backup = parseBackupName(volname);
    if (out.backup.vmid !== undefined) out.vmid = out.backup.vmid;
  } else {
    const owners = [...volname.matchAll(IMAGE_RE)].map((m) => Number(m[1]));
    const owner = owners.at(-1);
    if (owner !== undefined) out.vmid = owner;
  }
  return out;
}

/** A URL the node may fetch, checked before sending. */
export interface CheckedUrl {
  url: string;
  /** Host (and port, when given), shown in plans and results since the node connects to it. */
  host: string;
  /** The last path segment, decoded (a default file name). */
  file: string;
}

/**
 * Checks a download URL as PVE's `https?://.*` pattern would, and refuses one with
 * credentials (they would land in task logs and audit lines).
 *
 * @throws {PveValidationError}
 */
export function checkUrl(text: string, arg = "url"): CheckedUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PveValidationError(
      `URL "${text}" is not valid: give a full http:// or https:// address, like "https://cdimage.debian.org/…/debian-13.1.0-amd64-netinst.iso".`,
      { errors: { [arg]: "value does not match the regex pattern" } },
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PveValidationError(
      `URL scheme "${
        url.protocol.replace(/:$/, "")
      }" is not supported: Proxmox VE downloads only over http:// or https://, so give the file's http:// or https:// address (a local file must be uploaded to the storage instead).`,
      { errors: { [arg]: "value does not match the regex pattern" } },
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new PveValidationError(
      "The URL carries a user name or password: Proxmox VE would write it into the task log, so give a URL without credentials.",
      { errors: { [arg]: "credentials in URL" } },
    );
  }
  if (url.hostname === "") {
    throw new PveValidationError(`URL "${text}" has no host: give the server to download from.`, {
      errors: { [arg]: "value does not match the regex pattern" },
    });
  }
  const segment = url.pathname.split("/").filter((part) => part !== "").at(-1) ?? "";
  let file = segment;
  try {
    file = decodeURIComponent(segment);
  } catch {
    // keep the raw segment
  }
  return { url: text, host: url.host, file };
}

/** One storage on one node, from `/cluster/resources`. */
export interface StorageOnNode {
  node: string;
  /** Whether the node is online. */
  nodeOnline: boolean;
  /** Whether the storage answers on that node (`status: available`). */
  available: boolean;
  usedBytes?: number;
  totalBytes?: number;
}

/** A storage across the nodes that have it. */
export interface StorageInfo {
  storage: string;
  type: string;
  content: string[];
  shared: boolean;
  /** One entry per node that has it (sorted by node). */
  nodes: StorageOnNode[];
}

/** Raw `/cluster/resources` storage entries and the nodes' online state, grouped per storage. */
function groupStorages(
  entries: readonly Record<string, unknown>[],
  online: ReadonlyMap<string, boolean>,
): StorageInfo[] {
  const byId = new Map<string, StorageInfo>();
  for (const entry of entries) {
    if (typeof entry.storage !== "string") continue;
    const node = String(entry.node ?? "");
    let info = byId.get(entry.storage);
    if (info === undefined) {
      const content = Array.isArray(entry.content)
        ? entry.content.map(String)
        : String(entry.content ?? "").split(",");
      info = {
        storage: entry.storage,
        type: String(entry.plugintype ?? "unknown"),
        content: content.filter((c) => c !== "").sort(),
        shared: entry.shared === 1 || entry.shared === "1" || entry.shared === true,
        nodes: [],
      };
      byId.set(entry.storage, info);
    }
    const onNode: StorageOnNode = {
      node,
      nodeOnline: online.get(node) ?? true,
      available: entry.status === "available",
    };
    const used = num(entry.disk);
    const total = num(entry.maxdisk);
    if (used !== undefined) onNode.usedBytes = used;
    if (total !== undefined) onNode.totalBytes = total;
    info.nodes.push(onNode);
  }
  const out = [...byId.values()].sort((a, b) => a.storage.localeCompare(b.storage));
  for (const info of out) info.nodes.sort((a, b) => a.node.localeCompare(b.node));
  return out;
}

/**
 * Every storage of the cluster with its nodes, from `/cluster/resources?type=storage` plus
 * `?type=node` (the storage entries of an offline node only say `unknown`; the node entries
 * tell an offline node from an unreachable storage). Both answers are small.
 */
export async function readStorages(ctx: ToolContext): Promise<StorageInfo[]> {
  const [storage, nodes] = await Promise.all([
    ctx.client.get("/cluster/resources", { type: "storage" }, { signal: ctx.signal }),
    ctx.client.get("/cluster/resources", { type: "node" }, { signal: ctx.signal }),
  ]) as [Record<string, unknown>[], Record<string, unknown>[]];
  const online = new Map<string, boolean>();
  for (const entry of Array.isArray(nodes) ? nodes : []) {
    if (entry.type === "node" && typeof entry.node === "string") {
      online.set(entry.node, entry.status === "online");
    }
  }
  const entries = (Array.isArray(storage) ? storage : []).filter((e) => e.type === "storage");
  return groupStorages(entries, online);
}

/** The storages of an inventory already read (an unfiltered `/cluster/resources`). */
export function storagesOf(inventory: ClusterResources): StorageInfo[] {
  const online = new Map(inventory.nodes.map((n) => [n.node, n.status === "online"]));
  for (const node of inventory.offlineNodes) online.set(node, false);
  return groupStorages(
    inventory.storage.map((s) => ({ ...s } as unknown as Record<string, unknown>)),
    online,
  );
}

/** Finds a storage by id, or says which exist. */
export function findStorage(storages: readonly StorageInfo[], id: string): StorageInfo {
  const found = storages.find((s) => s.storage === id);
  if (found !== undefined) return found;
  throw new PveNotFoundError(
    `Storage "${id}" does not exist in this cluster: known storages are ${
      storages.map((s) => s.storage).join(", ") || "none"
    }.`,
  );
}

/**
 * The node to address a storage through: the given one (checked), else for a shared storage
 * the first online node where it is available, else the only node that has it.
 *
 * @throws {PveNotFoundError | PveValidationError | PveError} with the next step.
 */
export function storageNode(info: StorageInfo, node: string | undefined): StorageOnNode {
  const names = info.nodes.map((n) => n.node);
  if (node !== undefined) {
    const found = info.nodes.find((n) => n.node === node);
    if (found === undefined) {
      throw new PveNotFoundError(
        `Storage "${info.storage}" is not available on node "${node}": it is on ${
          names.join(", ") || "no node"
        }.`,
      );
    }
    if (!found.nodeOnline) {
      throw new PveError(
        `Node "${node}" is offline, so storage "${info.storage}" cannot be reached through it: ${
          info.shared ? "omit node to use another node, or " : ""
        }wait until the node is back (cluster_status shows the nodes).`,
        { node },
      );
    }
    return found;
  }
  if (info.shared) {
    const usable = info.nodes.find((n) => n.nodeOnline && n.available) ??
      info.nodes.find((n) => n.nodeOnline);
    if (usable === undefined) {
      throw new PveError(
        `Storage "${info.storage}" is on no online node: wait until one of ${
          names.join(", ")
        } is back (cluster_status shows the nodes).`,
      );
    }
    return usable;
  }
  if (info.nodes.length === 1 && info.nodes[0] !== undefined) {
    return storageNode(info, info.nodes[0].node);
  }
  throw new PveValidationError(
    `Storage "${info.storage}" is local to each node (${
      names.join(", ")
    }): pass node to say which one.`,
    { errors: { node: "property is missing and it is not optional" } },
  );
}

/** `/nodes/{node}/storage/{storage}` (segments encoded). */
export function storagePath(node: string, storage: string): string {
  return `/nodes/${encodeURIComponent(node)}/storage/${encodeURIComponent(storage)}`;
}

/**
 * `/nodes/{node}/storage/{storage}/content/{volid}`. PVE matches everything after `content/`
 * as the volume (the content API's `fragmentDelimiter`), so a volid's `/` stays a `/` and each
 * part is encoded on its own (the client refuses encoded slashes).
 */
export function contentPath(node: string, storage: string, volid: string): string {
  return `${storagePath(node, storage)}/content/${
    volid.split("/").map(encodeURIComponent).join("/")
  }`;
}

/** Whether a PVE error says the storage could not be reached (offline, disabled, node down). */
export function isStorageUnavailable(error: unknown): boolean {
  if (!(error instanceof PveError)) return false;
  const text = `${error.pveMessage ?? ""} ${error.message}`;
  return /is not online|is disabled|not available on node|Connection refused|No route to host|timed? ?out/i
    .test(text) || (error.status !== undefined && error.status >= 595);
}

/** The reason an unavailable storage gives, short. */
export function unavailableReason(error: unknown): string {
  if (error instanceof PveError) {
    return (error.pveMessage ?? error.message).trim().split("\n")[0] ?? "unreachable";
  }
  return "unreachable";
}
