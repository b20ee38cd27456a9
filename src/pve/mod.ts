/**
 * The Proxmox VE API client: authentication (API tokens, or tickets with CSRF and
 * renewal), TLS (CA file or an explicit insecure switch), parameter encoding, the `{data}`
 * envelope, typed errors, GET-only retries, task waiting with progress, the cluster
 * inventory and version differences. It knows nothing of MCP.
 *
 * @example
 * ```ts
 * import { PveClient, pvePath } from "./src/pve/mod.ts";
 *
 * const pve = new PveClient({ url: "https://pve1:8006", token: "root@pam!mcp=…" });
 * const guest = await pve.resolveGuest("web01");
 * const upid = await pve.post<string>(
 *   pvePath`/nodes/${guest.node}/${guest.type}/${guest.vmid}/status/start`,
 * );
 * const outcome = await pve.waitForTask(upid);
 * pve.close();
 * ```
 *
 * @module
 */

export {
  PveClient,
  type PveClientOptions,
  type PveEnvelope,
  type PveMethod,
  type PveRequestOptions,
  type PveShorthandOptions,
} from "./client.ts";
export {
  type ConnectionFailure,
  describeGuestLock,
  errorFromResponse,
  guestLockOf,
  nodeFromPath,
  PveAuthError,
  PveConnectionError,
  PveError,
  type PveErrorDetails,
  PveLockedError,
  PveNotFoundError,
  PveOutcomeUnknownError,
  PvePermissionError,
  PveTaskError,
  PveTimeoutError,
  PveTlsError,
  PveUnknownTaskError,
  PveValidationError,
  redactSecrets,
} from "./errors.ts";
export { apiBaseUrl, checkPvePath, pvePath, PvePathError } from "./path.ts";
export { formatUpid, isUpid, parseUpid, splitTaskUser, type Upid } from "./upid.ts";
export {
  assertTaskSucceeded,
  isTaskSuccess,
  parseProgressPercent,
  type TaskOutcome,
  type TaskProgress,
  type WaitForTaskOptions,
} from "./tasks.ts";
export {
  type ClusterNode,
  type ClusterResources,
  type ClusterStorage,
  type Guest,
  type GuestRef,
  normalizeResources,
  resolveGuestIn,
} from "./inventory.ts";
export { featuresOf, isPve9, parseVersion, type PveFeatures, type PveVersion } from "./version.ts";
export {
  pveBool,
  pveInt,
  pveNumber,
  pveString,
  pveTags,
  qemuMemoryMiB,
  type ResourceEntry,
  type TaskLogLine,
  type TaskStatus,
  toBool,
  toNumber,
  toTags,
} from "./coerce.ts";
export { encodeParams, isArrayParam, type PveParams, type PveParamTarget } from "./encode.ts";
export { splitToken } from "./auth.ts";
