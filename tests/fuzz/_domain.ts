/**
 * The names that exist on the simulated cluster (guests, nodes, storages, pools, tags,
 * snapshots, volumes, tasks, API paths), read over its API, so generated "valid" inputs reach
 * the handlers and Proxmox VE instead of stopping at a not-found. Values are chosen by argument
 * name (`vmid`, `node`, `storage`, …), never by tool: a new tool's arguments of the same names
 * get them too, and any other argument gets values from its schema alone.
 *
 * @module
 */

import type { SimulatorHandle } from "../../src/simulator/mod.ts";

/** What the cluster holds, for argument values. */
export interface Domain {
  vmids: number[];
  /** VMIDs no guest has (for new guests). */
  freeVmids: number[];
  names: string[];
  nodes: string[];
  storages: string[];
  pools: string[];
  tags: string[];
  snapshots: string[];
  volids: string[];
  upids: string[];
  /** Readable API paths below `/api2/json`. */
  getPaths: string[];
  /** Writable API paths below `/api2/json`. */
  writePaths: string[];
}

interface Resource {
  type: string;
  vmid?: number;
  name?: string;
  node?: string;
  pool?: string;
  tags?: string;
  storage?: string;
}

/**
 * Reads the domain of a freshly started simulator. It runs one start and one stop of a stopped
 * guest first (leaving it as it was), so the task tools have real UPIDs to look up.
 */
export async function readDomain(sim: SimulatorHandle): Promise<Domain> {
  const headers = {
    Authorization: `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`,
  };
  async function call(method: string, path: string): Promise<unknown> {
    const response = await fetch(`${sim.api}${path}`, { method, headers });
    const body = await response.json() as { data: unknown };
    return body.data;
  }
  const resources = await call("GET", "/cluster/resources") as Resource[];
  const guests = resources.filter((r) => r.type === "qemu" || r.type === "lxc");
  const nodes = resources.filter((r) => r.type === "node").map((r) => r.node as string);
  const storages = unique(resources.filter((r) => r.type === "storage").map((r) => r.storage));
  const stopped = resources.find((r) =>
    r.type === "qemu" && (r as { status?: string }).status === "stopped" &&
    (r as { template?: number }).template !== 1
  );
  const upids: string[] = [];
  if (stopped !== undefined) {
    const base = `/nodes/${stopped.node}/qemu/${stopped.vmid}/status`;
    upids.push(await call("POST", `${base}/start`) as string);
    upids.push(await call("POST", `${base}/stop`) as string);
  }
  const snapshots = new Set<string>();
  const volids = new Set<string>();
  for (const guest of guests) {
    const list = await call(
      "GET",
      `/nodes/${guest.node}/${guest.type}/${guest.vmid}/snapshot`,
    ) as Array<{ name: string }>;
    for (const snapshot of list) if (snapshot.name !== "current") snapshots.add(snapshot.name);
  }
  const firstNode = nodes[0] ?? "pve1";
  for (const storage of storages) {
    const content = await call("GET", `/nodes/${firstNode}/storage/${storage}/content`);
    if (!Array.isArray(content)) continue;
    for (const volume of content.slice(0, 6) as Array<{ volid: string }>) volids.add(volume.volid);
  }
  const vmids = guests.map((g) => g.vmid as number);
  const taken = new Set(vmids);
  const freeVmids: number[] = [];
  for (let id = 300; freeVmids.length < 8; id++) if (!taken.has(id)) freeVmids.push(id);
  const sample = guests[0];
  const guestPath = sample === undefined
    ? "/nodes"
    : `/nodes/${sample.node}/${sample.type}/${sample.vmid}`;
  return {
    vmids,
    freeVmids,
    names: unique(guests.map((g) => g.name)),
    nodes,
    storages,
    pools: unique(guests.map((g) => g.pool)),
    tags: unique(guests.flatMap((g) => (g.tags ?? "").split(/[;, ]/))),
    snapshots: [...snapshots],
    volids: [...volids],
    upids,
    getPaths: [
      "/version",
      "/nodes",
      "/cluster/resources",
      "/cluster/status",
      "/cluster/tasks",
      "/pools",
      "/storage",
      `/nodes/${firstNode}/status`,
      `/nodes/${firstNode}/tasks`,
      `/nodes/${firstNode}/qemu`,
      `${guestPath}/config`,
      `${guestPath}/status/current`,
      `${guestPath}/snapshot`,
    ],
    writePaths: [
      `${guestPath}/snapshot`,
      `${guestPath}/config`,
      `${guestPath}/status/start`,
      `${guestPath}/status/stop`,
      `/nodes/${firstNode}/qemu`,
      "/pools",
    ],
  };
}

function unique(values: ReadonlyArray<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined && v !== ""))];
}
