/**
 * Simulated PVE endpoints: HA resources, groups (always empty: PVE 9 migrated them to rules),
 * PVE 9 HA rules (`pve-ha-manager PVE/API2/HA/Rules.pm`) and the HA manager status
 * (`PVE/API2/HA/Status.pm`): quorum, master, one LRM per node and each service with its CRM
 * state. A started resource whose node is offline is `fence`; the control API can plant
 * other CRM states (`error`, `recovery`…).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dieError, paramError } from "../errors.ts";
import { type Params, type Route, route, type Sim } from "../router.ts";
import type { HaResource, HaRule, SimState } from "../state.ts";
import { queueHaMotion } from "./guest/mod.ts";

/** Resolves a service id: `vm:100`, `ct:200`, or a bare vmid (looked up in the guest list). */
export function parseSid(
  state: SimState,
  sid: string,
): { sid: string; type: "vm" | "ct"; vmid: number } {
  const bare = /^(\d+)$/.exec(sid);
  if (bare !== null) {
    const vmid = Number(bare[1]);
    const guest = state.guests.get(vmid);
    if (guest === undefined) {
      throw dieError(`unable do detect SID from VMID - VM/CT ${vmid} does not exist`);
    }
    const type = guest.type === "qemu" ? "vm" : "ct";
    return { sid: `${type}:${vmid}`, type, vmid };
  }
  const typed = /^(vm|ct):(\d+)$/.exec(sid);
  if (typed === null) throw dieError(`unable to parse service id '${sid}'`);
  return { sid, type: typed[1] === "vm" ? "vm" : "ct", vmid: Number(typed[2]) };
}

function haDigest(state: SimState): string {
  return createHash("sha1").update(JSON.stringify([...state.ha.values()])).digest("hex");
}

function resourceEntry(res: HaResource, digest: string): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    sid: res.sid,
    type: res.type,
    state: res.state,
    max_restart: res.max_restart,
    max_relocate: res.max_relocate,
    failback: 1,
    digest,
  };
  if (res.group !== undefined) entry.group = res.group;
  if (res.comment !== undefined) entry.comment = res.comment;
  return entry;
}

function intParam(params: Params, key: string): number | undefined {
  return typeof params[key] === "number" ? params[key] : undefined;
}

const STATES = new Set(["started", "stopped", "enabled", "disabled", "ignored"]);

function createResource(sim: Sim, params: Params): null {
  const state = sim.state;
  const { sid, type, vmid } = parseSid(state, String(params.sid));
  if (typeof params.type === "string" && params.type !== type) {
    throw paramError({ type: `type mismatch (sid type '${type}', given '${params.type}')` });
  }
  if (state.ha.has(sid)) throw dieError(`resource ID '${sid}' already defined`);
  const guest = state.guests.get(vmid);
  if (guest === undefined || (guest.type === "qemu" ? "vm" : "ct") !== type) {
    throw dieError(`${type === "vm" ? "VM" : "CT"} ${vmid} does not exist`);
  }
  const wanted = typeof params.state === "string" && STATES.has(params.state)
    ? params.state as HaResource["state"]
    : "started";
  const res: HaResource = {
    sid,
    type,
    state: wanted,
    max_restart: intParam(params, "max_restart") ?? 1,
    max_relocate: intParam(params, "max_relocate") ?? 1,
  };
  if (typeof params.group === "string") res.group = params.group;
  if (typeof params.comment === "string") res.comment = params.comment;
  state.ha.set(sid, res);
  return null;
}

function updateResource(sim: Sim, params: Params): null {
  const state = sim.state;
  const { sid } = parseSid(state, String(params.sid));
  const res = state.ha.get(sid);
  if (res === undefined) throw dieError(`no such resource '${sid}'`);
  if (typeof params.digest === "string" && params.digest !== haDigest(state)) {
    throw dieError("detected modified configuration - file changed by other user? Try again.");
  }
  for (const key of String(params.delete ?? "").split(/[,;\s]+/).filter((k) => k !== "")) {
    if (key === "comment") delete res.comment;
    else if (key === "group") delete res.group;
    else if (key === "max_restart") res.max_restart = 1;
    else if (key === "max_relocate") res.max_relocate = 1;
    else if (key === "state") res.state = "started";
  }
  if (typeof params.state === "string" && STATES.has(params.state)) {
    res.state = params.state as HaResource["state"];
  }
  const restart = intParam(params, "max_restart");
  if (restart !== undefined) res.max_restart = restart;
  const relocate = intParam(params, "max_relocate");
  if (relocate !== undefined) res.max_relocate = relocate;
  if (typeof params.group === "string") res.group = params.group;
  if (typeof params.comment === "string") res.comment = params.comment;
  return null;
}

function perlTime(epoch: number): string {
  const d = new Date(epoch * 1000);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
  ];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** What the CRM reports for a resource: planted state, `fence` on a dead node, else the request. */
function crmState(state: SimState, res: HaResource, node: string): string | undefined {
  if (res.state === "ignored") return undefined;
  if (res.crmState !== undefined) return res.crmState;
  if (res.motion !== undefined) return res.motion.state;
  const wanted = res.state === "started" || res.state === "enabled" ? "started" : "stopped";
  if (wanted === "started" && state.nodes.get(node)?.online === false) return "fence";
  return wanted;
}

/** `PVE::HA::Tools::get_verbose_service_state`. */
function verboseState(res: HaResource, crm: string | undefined): string {
  if (res.state === "ignored") return "ignored";
  if (crm === undefined) return "not found";
  if (res.state === "disabled" && crm === "stopped") return "disabled";
  return crm;
}

function haStatus(sim: Sim): unknown[] {
  const state = sim.state;
  const nodes = [...state.nodes.values()];
  const online = nodes.filter((n) => n.online);
  const master = online[0] ?? nodes[0];
  const now = sim.clock.now();
  const quorate = online.length * 2 > nodes.length;
  const here = master?.name ?? "";
  const out: unknown[] = [{
    id: "quorum",
    type: "quorum",
    node: here,
    status: quorate ? "OK" : `No quorum on node '${here}'!`,
    quorate: quorate ? 1 : 0,
  }];
  if (state.ha.size === 0 || master === undefined) return out;
  out.push({
    id: "master",
    type: "master",
    node: master.name,
    status: `${master.name} (active, ${perlTime(now)})`,
    timestamp: now,
  });
  const serviceNodes = new Set<string>();
  for (const res of state.ha.values()) {
    const guest = state.guests.get(Number(res.sid.split(":")[1]));
    if (guest !== undefined) serviceNodes.add(guest.node);
  }
  // Status.pm walks `sort keys`: LRMs by node name, services by sid.
  for (const node of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    const mode = serviceNodes.has(node.name) ? "active" : "idle";
    out.push({
      id: `lrm:${node.name}`,
      type: "lrm",
      node: node.name,
      status: node.online
        ? `${node.name} (${mode}, ${perlTime(now)})`
        : `${node.name} (old timestamp - dead?, ${perlTime(now - 3600)})`,
      timestamp: node.online ? now : now - 3600,
    });
  }
  for (const res of [...state.ha.values()].sort((a, b) => a.sid.localeCompare(b.sid))) {
    const guest = state.guests.get(Number(res.sid.split(":")[1]));
    const node = guest?.node ?? master.name;
    const crm = crmState(state, res, node);
    const verbose = verboseState(res, crm);
    const entry: Record<string, unknown> = {
      id: `service:${res.sid}`,
      type: "service",
      sid: res.sid,
      node,
      state: verbose,
      status: `${res.sid} (${node}, ${verbose})`,
      request_state: res.state,
      max_restart: res.max_restart,
      max_relocate: res.max_relocate,
      failback: 1,
    };
    if (crm !== undefined) entry.crm_state = crm;
    if (res.group !== undefined) entry.group = res.group;
    if (res.comment !== undefined) entry.comment = res.comment;
    out.push(entry);
  }
  return out;
}

function rulesDigest(state: SimState): string {
  return createHash("sha1").update(JSON.stringify([...state.haRules.values()])).digest("hex");
}

/** A rule as `GET /cluster/ha/rules` shows it (`$get_api_ha_rule`, defaults set). */
function ruleEntry(rule: HaRule, order: number, digest: string): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    rule: rule.rule,
    type: rule.type,
    resources: rule.resources.join(","),
    digest,
    order,
  };
  if (rule.type === "node-affinity") {
    entry.nodes = (rule.nodes ?? []).join(",");
    entry.strict = rule.strict ?? 0;
  } else {
    entry.affinity = rule.affinity ?? "positive";
  }
  if (rule.disable !== undefined) entry.disable = rule.disable;
  if (rule.comment !== undefined) entry.comment = rule.comment;
  return entry;
}

function listRules(sim: Sim, params: Params): unknown[] {
  const digest = rulesDigest(sim.state);
  const type = typeof params.type === "string" ? params.type : undefined;
  const resource = typeof params.resource === "string" ? params.resource : undefined;
  const out: unknown[] = [];
  [...sim.state.haRules.values()].forEach((rule, index) => {
    if (type !== undefined && rule.type !== type) return;
    if (resource !== undefined && !rule.resources.includes(resource)) return;
    out.push(ruleEntry(rule, index + 1, digest));
  });
  return out;
}

function readRule(sim: Sim, id: string): unknown {
  const rules = [...sim.state.haRules.values()];
  const index = rules.findIndex((rule) => rule.rule === id);
  const rule = rules[index];
  if (rule === undefined) throw dieError(`no such ha rule '${id}'`);
  return ruleEntry(rule, index + 1, rulesDigest(sim.state));
}

/**
 * `POST /cluster/ha/resources/{sid}/migrate|relocate`: checks that the service is HA-managed
 * and not in the `error` state, queues the CRM command and answers at once (`sid`,
 * `requested-node`); the HA manager moves the guest shortly after (`queueHaMotion`). Like PVE,
 * the node is not checked here: the CRM drops a command for a node that is not online.
 */
function requestMotion(sim: Sim, params: Params, command: "migrate" | "relocate"): unknown {
  const { sid } = parseSid(sim.state, String(params.sid));
  const res = sim.state.ha.get(sid);
  if (res === undefined) throw dieError(`resource '${sid}' is not HA managed`);
  const guest = sim.state.guests.get(Number(sid.split(":")[1]));
  if (crmState(sim.state, res, guest?.node ?? "") === "error") {
    throw dieError(`service '${sid}' in error state, must be disabled and fixed first`);
  }
  const node = String(params.node);
  queueHaMotion(sim, res, command, node);
  return { sid, "requested-node": node };
}

/** The ha endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/cluster/ha/resources", ({ sim, params }) => {
    const type = typeof params.type === "string" ? params.type : undefined;
    const digest = haDigest(sim.state);
    const out: unknown[] = [];
    for (const res of sim.state.ha.values()) {
      if (type !== undefined && res.type !== type) continue;
      out.push(resourceEntry(res, digest));
    }
    return out;
  }),
  route("GET", "/cluster/ha/resources/{sid}", ({ sim, params }) => {
    const { sid } = parseSid(sim.state, String(params.sid));
    const res = sim.state.ha.get(sid);
    if (res === undefined) throw dieError(`no such resource '${sid}'`);
    return resourceEntry(res, haDigest(sim.state));
  }),
  route("POST", "/cluster/ha/resources", ({ sim, params }) => createResource(sim, params)),
  route("PUT", "/cluster/ha/resources/{sid}", ({ sim, params }) => updateResource(sim, params)),
  route(
    "POST",
    "/cluster/ha/resources/{sid}/migrate",
    ({ sim, params }) => requestMotion(sim, params, "migrate"),
  ),
  route(
    "POST",
    "/cluster/ha/resources/{sid}/relocate",
    ({ sim, params }) => requestMotion(sim, params, "relocate"),
  ),
  route("DELETE", "/cluster/ha/resources/{sid}", ({ sim, params }) => {
    const { sid } = parseSid(sim.state, String(params.sid));
    if (!sim.state.ha.delete(sid)) {
      throw dieError(`cannot delete service '${sid}', not HA managed!`);
    }
    return null;
  }),
  route("GET", "/cluster/ha/groups", () => []),
  route("GET", "/cluster/ha/rules", ({ sim, params }) => listRules(sim, params)),
  route("GET", "/cluster/ha/rules/{rule}", ({ sim, params }) => readRule(sim, String(params.rule))),
  route("GET", "/cluster/ha/status/current", ({ sim }) => haStatus(sim)),
];
