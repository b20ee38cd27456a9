/**
 * `completion/complete` for the arguments of prompts and resource templates: guest names and
 * vmids, node names, storage ids, snapshot names of the guest already given, recent task UPIDs,
 * timeframes, hours and cluster names. Cluster values come from the client's cached inventory
 * (`PveClient.inventory()`: at most one `/cluster/resources` read per few seconds, whatever the
 * typing rate, and a fresh one after a write), only within the scope, and only when the policy allows reading at all; a
 * snapshot list or a task list costs one more read. At most 100 values (the protocol's cap),
 * with `total` and `hasMore` saying how many matched.
 *
 * Completions are suggestions: a cluster that cannot be read yields no values rather than an
 * error on every keystroke (the failure is logged).
 *
 * @module
 */

import { ProtocolError, ProtocolErrorCode, type Server } from "@modelcontextprotocol/server";
import { getLog } from "../log.ts";
import { inScope } from "../policy/scope.ts";
import { isUpid, parseUpid, type PveClient, resolveGuestIn } from "../pve/mod.ts";
import { guestPath, scopeOf } from "../tools/_shared/guest.ts";
import { CLUSTER_RESOURCES, RESOURCE_TEMPLATES } from "./catalog.ts";
import {
  type ArgumentKind,
  HOURS_SUGGESTIONS,
  promptArguments,
  type PromptArgumentSpec,
  promptOffered,
  PROMPTS,
  TIMEFRAMES,
} from "./prompts.ts";
import type { SurfaceDeps } from "./resources.ts";

/** The most values one completion answer carries (the protocol's limit). */
export const MAX_COMPLETION_VALUES = 100;

/** A `completion/complete` result's `completion`. */
export interface Completion {
  values: string[];
  total: number;
  hasMore: boolean;
}

/** What a value is completed from; template arguments add `vmid` and `upid`. */
type CompletionKind = ArgumentKind | "vmid" | "upid";

/** One argument to complete, resolved from the request. */
interface Target {
  kind: CompletionKind;
  cluster: string;
  /** Storage arguments: only storages holding this content. */
  content?: string;
  /** Arguments the client has already filled in. */
  filled: Readonly<Record<string, string>>;
}

const log = getLog("server.completions");

/**
 * The candidates matching `value`, in the given order: those starting with it (case-insensitive)
 * first, then the names containing it (numbers match by their start only: typing "1" means
 * "vmids from 1…"); capped at {@link MAX_COMPLETION_VALUES}.
 */
export function complete(candidates: Iterable<string>, value: string): Completion {
  const wanted = value.toLowerCase();
  const starts: string[] = [];
  const contains: string[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    const lower = candidate.toLowerCase();
    if (lower.startsWith(wanted)) starts.push(candidate);
    else if (wanted !== "" && !/^\d+$/.test(candidate) && lower.includes(wanted)) {
      contains.push(candidate);
    }
  }
  const all = [...starts, ...contains];
  return {
    values: all.slice(0, MAX_COMPLETION_VALUES),
    total: all.length,
    hasMore: all.length > MAX_COMPLETION_VALUES,
  };
}

const EMPTY: Completion = { values: [], total: 0, hasMore: false };

function invalid(message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, message);
}

function shown(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}…` : value;
}

/** The cluster a prompt's completion is for: its filled `cluster` argument, else the first. */
function promptCluster(deps: SurfaceDeps, filled: Readonly<Record<string, string>>): string {
  const clusters = deps.settings.clusters;
  const chosen = filled.cluster;
  return chosen !== undefined && clusters.includes(chosen) ? chosen : clusters[0] ?? "default";
}

function promptTarget(
  deps: SurfaceDeps,
  name: string,
  argument: string,
  filled: Readonly<Record<string, string>>,
): Target {
  const spec = PROMPTS.find((p) => p.name === name);
  if (spec === undefined || !promptOffered(spec, deps.offered)) {
    throw invalid(
      `Unknown prompt "${shown(name)}": prompts/list names the prompts of this server.`,
    );
  }
  const args: readonly PromptArgumentSpec[] = promptArguments(spec, deps.settings.clusters);
  const found = args.find((a) => a.name === argument);
  if (found === undefined) {
    throw invalid(
      `Prompt "${name}" has no argument "${shown(argument)}": use ${
        args.map((a) => `"${a.name}"`).join(", ")
      }.`,
    );
  }
  return {
    kind: found.kind,
    cluster: promptCluster(deps, filled),
    ...(found.content === undefined ? {} : { content: found.content }),
    filled,
  };
}

function templateTarget(
  deps: SurfaceDeps,
  uri: string,
  argument: string,
  filled: Readonly<Record<string, string>>,
): Target | undefined {
  if (deps.catalog.resources.some((resource) => resource.uri === uri)) return undefined;
  const listed = new Set(deps.catalog.resourceTemplates.map((t) => t.uriTemplate));
  for (const cluster of deps.settings.clusters) {
    for (const { kind, variable, uriTemplate } of RESOURCE_TEMPLATES) {
      if (uriTemplate(cluster) !== uri || !listed.has(uri)) continue;
      if (argument !== variable) {
        throw invalid(
          `The ${CLUSTER_RESOURCES[kind].title.toLowerCase()} template has no argument "${
            shown(argument)
          }": use "${variable}".`,
        );
      }
      return { kind: variable, cluster, filled };
    }
  }
  throw invalid(
    `No resource template "${
      shown(uri)
    }": resources/templates/list names the templates of this server.`,
  );
}

/** The guest a filled `guest` (vmid or name) or `vmid` argument names, inside the scope. */
async function filledGuest(
  deps: SurfaceDeps,
  client: PveClient,
  target: Target,
  signal: AbortSignal,
) {
  const given = target.filled.guest ?? target.filled.vmid;
  if (given === undefined || given === "") return undefined;
  const inventory = await client.inventory({ signal });
  const ref = /^\d+$/.test(given) ? Number(given) : given;
  let guest;
  try {
    guest = resolveGuestIn(inventory.guests, ref);
  } catch {
    return undefined; // a name several guests share: nothing to suggest until it is a vmid
  }
  if (guest === undefined || !inScope(scopeOf(guest), deps.settings.scope)) return undefined;
  return guest;
}

async function clusterCandidates(
  deps: SurfaceDeps,
  target: Target,
  value: string,
  signal: AbortSignal,
): Promise<string[]> {
  const client = deps.clients.get(target.cluster);
  if (client === undefined) return [];
  const scope = deps.settings.scope;
  const nodeAdmitted = (node: string) =>
    scope.nodes === undefined || scope.nodes.length === 0 || scope.nodes.includes(node);
  switch (target.kind) {
    case "guest":
    case "vmid": {
      const inventory = await client.inventory({ signal });
      const guests = inventory.guests.filter((g) => inScope(scopeOf(g), scope));
      const vmids = guests.map((g) => String(g.vmid));
      if (target.kind === "vmid") return vmids;
      const names = guests.map((g) => g.name).filter((name) => name !== "");
      return /^\d+$/.test(value) ? [...vmids, ...names] : [...names, ...vmids];
    }
    case "node": {
      const inventory = await client.inventory({ signal });
      return inventory.nodes.map((n) => n.node).filter(nodeAdmitted);
    }
    case "storage": {
      const inventory = await client.inventory({ signal });
      const node = target.filled.node;
      return inventory.storage
        .filter((s) => nodeAdmitted(s.node) && (node === undefined || s.node === node))
        .filter((s) => target.content === undefined || s.content.includes(target.content))
        .map((s) => s.storage)
        .sort();
    }
    case "snapshot": {
      const guest = await filledGuest(deps, client, target, signal);
      if (guest === undefined) return [];
      const data = await client.get(`${guestPath(guest)}/snapshot`, undefined, { signal });
      return (Array.isArray(data) ? data : [])
        .map((entry) => (entry as { name?: unknown }).name)
        .filter((name): name is string => typeof name === "string" && name !== "current");
    }
    case "upid": {
      const [tasks, inventory] = await Promise.all([
        client.get("/cluster/tasks", undefined, { signal }),
        client.inventory({ signal }),
      ]);
      const guests = new Map(inventory.guests.map((g) => [g.vmid, g]));
      return (Array.isArray(tasks) ? tasks : [])
        .map((entry) => (entry as { upid?: unknown }).upid)
        .filter((upid): upid is string => isUpid(upid))
        .filter((upid) => {
          const task = parseUpid(upid);
          if (/^\d+$/.test(task.id)) {
            const guest = guests.get(Number(task.id));
            return inScope(
              guest ? scopeOf(guest) : { vmid: Number(task.id), node: task.node },
              scope,
            );
          }
          return inScope({ node: task.node }, scope);
        });
    }
    default:
      return [];
  }
}

/** The values for one argument. */
async function completeTarget(
  deps: SurfaceDeps,
  target: Target,
  value: string,
  signal: AbortSignal,
): Promise<Completion> {
  switch (target.kind) {
    case "timeframe":
      return complete(TIMEFRAMES, value);
    case "hours":
      return complete(HOURS_SUGGESTIONS, value);
    case "cluster":
      return complete(deps.settings.clusters, value);
  }
  // Suggesting guests, nodes or tasks reads the cluster: only where the policy allows reading.
  if (!deps.settings.policy.allow.includes("read")) return EMPTY;
  try {
    return complete(await clusterCandidates(deps, target, value, signal), value);
  } catch (error) {
    if (signal.aborted) throw error;
    log.info("No completions for {kind} from cluster {cluster}: {error}", {
      kind: target.kind,
      cluster: target.cluster,
      error,
    });
    return EMPTY;
  }
}

function filledArguments(context: unknown): Record<string, string> {
  const args = (context as { arguments?: unknown } | undefined)?.arguments;
  if (typeof args !== "object" || args === null) return {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(args)) {
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

/** Serves `completion/complete` (the server must announce the `completions` capability). */
export function registerCompletions(server: Server, deps: SurfaceDeps): void {
  server.setRequestHandler("completion/complete", async (request, ctx) => {
    const { ref, argument } = request.params;
    const filled = filledArguments(request.params.context);
    const target = ref.type === "ref/prompt"
      ? promptTarget(deps, ref.name, argument.name, filled)
      : templateTarget(deps, ref.uri, argument.name, filled);
    if (target === undefined) return { completion: { ...EMPTY } };
    const completion = await completeTarget(deps, target, argument.value, ctx.mcpReq.signal);
    return { completion };
  });
}
