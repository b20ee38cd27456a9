/**
 * Simulated PVE endpoints: access (`pve-access-control src/PVE/API2/AccessControl.pm`,
 * `User.pm`, `Domains.pm`, `ACL.pm`, `Role.pm`, `Group.pm`): login with tickets (renewal,
 * two-step TFA), the caller's effective permissions, and the read side of users, API tokens,
 * groups, roles, ACLs and realms.
 *
 * @module
 */

import { ticketAuthorityOf, userActive } from "../auth.ts";
import { HttpError } from "../errors.ts";
import { canAny } from "../permissions.ts";
import { hashOrder } from "../order.ts";
import {
  authSubject,
  BUILTIN_ROLES,
  effectivePermissions,
  normalizePath,
  privilegesAt,
} from "../roles.ts";
import { type AuthInfo, type Params, type Route, route, type Sim } from "../router.ts";
import type { SimState, User } from "../state.ts";

const REALMS: Readonly<Record<string, { type: string; comment: string }>> = {
  pam: { type: "pam", comment: "Linux PAM standard authentication" },
  pve: { type: "pve", comment: "Proxmox VE authentication server" },
};

function authFailure(): HttpError {
  return new HttpError(401, "authentication failure");
}

function realmOf(userid: string): string {
  return userid.slice(userid.lastIndexOf("@") + 1);
}

/** `compute_api_permission`: the `cap` object of a login answer. */
function capabilities(state: SimState, userid: string): Record<string, Record<string, number>> {
  const groups: Record<string, RegExp> = {
    vms: /^(VM\.|Permissions\.Modify)/,
    access: /^((User|Group)\.|Permissions\.Modify)/,
    storage: /^(Datastore\.|Permissions\.Modify)/,
    nodes: /^(Sys\.|Permissions\.Modify)/,
    sdn: /^(SDN\.|Permissions\.Modify)/,
    dc: /^(Sys\.Audit|Sys\.Modify|SDN\.)/,
    mapping: /^(Mapping\.|Permissions\.Modify)/,
  };
  const result: Record<string, Record<string, number>> = {};
  for (const group of Object.keys(groups)) result[group] = {};
  const paths = new Set(["/", "/nodes", "/access/groups", "/vms", "/storage", "/sdn", "/mapping"]);
  for (const entry of state.acls) paths.add(normalizePath(entry.path));
  for (const path of paths) {
    const top = /^\/(\w+)/.exec(path)?.[1] ?? "dc";
    for (const priv of privilegesAt(state, { subject: userid, path }).keys()) {
      if (top === "pool") {
        if (groups["vms"]?.test(priv)) result["vms"]![priv] = 1;
        if (groups["storage"]?.test(priv)) result["storage"]![priv] = 1;
      } else if (groups[top]?.test(priv)) {
        result[top]![priv] = 1;
      }
    }
  }
  return result;
}

function loginResponse(sim: Sim, userid: string): Record<string, unknown> {
  const tickets = ticketAuthorityOf(sim);
  const response: Record<string, unknown> = {
    username: userid,
    ticket: tickets.issue(userid),
    CSRFPreventionToken: tickets.csrfToken(userid),
    cap: capabilities(sim.state, userid),
  };
  if (
    sim.state.clusterName !== null &&
    privilegesAt(sim.state, { subject: userid, path: "/" }).has("Sys.Audit")
  ) {
    response["clustername"] = sim.state.clusterName;
  }
  return response;
}

function totpMatches(user: User, response: string): boolean {
  const code = response.startsWith("totp:") ? response.slice(5) : response;
  return user.totp !== undefined && code === user.totp;
}

/** `POST /access/ticket`: login, renewal (password = a valid ticket), and TFA. */
function createTicket(sim: Sim, params: Params): Record<string, unknown> {
  const tickets = ticketAuthorityOf(sim);
  const now = sim.clock.now();
  let username = String(params["username"]);
  const password = String(params["password"]);
  const realm = params["realm"];
  // `$username .= "\@$param->{realm}" if $param->{realm}`: appended even to `user@realm`, so
  // sending both makes `root@pam@pam`, which no user is.
  if (realm !== undefined && realm !== "") username = `${username}@${realm}`;
  const challenge = params["tfa-challenge"];
  const otp = params["otp"];
  const user = sim.state.users.get(username);
  if (!userActive(user, now)) throw authFailure();

  if (params["path"] !== undefined && params["privs"] !== undefined) {
    const ticketUser = tickets.verify(password)?.data;
    if (ticketUser !== username && user.password !== password) throw authFailure();
    const have = privilegesAt(sim.state, { subject: username, path: String(params["path"]) });
    const privs = String(params["privs"]).split(/[,;\s]+/).filter((p) => p !== "");
    if (!privs.every((priv) => have.has(priv))) throw authFailure();
    return { username };
  }

  if (challenge !== undefined) {
    if (otp !== undefined) throw authFailure();
    const half = tickets.verify(String(challenge), username);
    if (half === undefined || !half.data.startsWith("!tfa!")) throw authFailure();
    if (!totpMatches(user, password)) throw authFailure();
    return loginResponse(sim, username);
  }

  const ticketUser = tickets.verify(password)?.data;
  if (ticketUser !== undefined && (ticketUser === username || ticketUser === "root@pam")) {
    return loginResponse(sim, username);
  }
  if (user.password === undefined || user.password !== password) throw authFailure();
  if (user.totp !== undefined) {
    if (otp !== undefined) {
      if (!totpMatches(user, String(otp))) throw authFailure();
      return loginResponse(sim, username);
    }
    const data = `!tfa!${JSON.stringify({ totp: true, recovery: [] })}`;
    return {
      username,
      ticket: tickets.issue(data, username),
      CSRFPreventionToken: tickets.csrfToken(username),
      NeedTFA: 1,
    };
  }
  return loginResponse(sim, username);
}

/** `GET /access/permissions`. */
function permissions(sim: Sim, auth: AuthInfo, params: Params): unknown {
  const caller = authSubject(auth);
  const userid = params["userid"] === undefined ? caller : String(params["userid"]);
  const ownToken = userid.includes("!") && userid.slice(0, userid.indexOf("!")) === caller;
  if (userid !== caller && !ownToken) sim.require(auth, "/access", "Sys.Audit");
  if (params["path"] !== undefined) {
    const path = normalizePath(String(params["path"]));
    return { [path]: Object.fromEntries(privilegesAt(sim.state, { subject: userid, path })) };
  }
  return effectivePermissions(sim.state, userid);
}

/** `GET /access/users`: the users the caller may see (always including itself). */
function listUsers(sim: Sim, auth: AuthInfo, params: Params): unknown[] {
  const privs = ["User.Modify", "Sys.Audit"];
  const all = canAny(sim.state, { auth, path: "/access/groups", privs });
  const result: unknown[] = [];
  for (
    const user of [...sim.state.users.values()].sort((a, b) => a.userid.localeCompare(b.userid))
  ) {
    const visible = all || user.userid === auth.userid ||
      user.groups.some((group) =>
        canAny(sim.state, { auth, path: `/access/groups/${group}`, privs })
      );
    if (!visible) continue;
    if (params["enabled"] !== undefined && user.enable !== params["enabled"]) continue;
    const entry: Record<string, unknown> = {
      userid: user.userid,
      enable: user.enable,
      expire: user.expire,
      "realm-type": REALMS[realmOf(user.userid)]?.type ?? realmOf(user.userid),
    };
    for (const key of ["firstname", "lastname", "email", "comment"] as const) {
      if (user[key] !== undefined) entry[key] = user[key];
    }
    if (user.groups.length > 0) entry["groups"] = user.groups.join(",");
    if (params["full"] === 1) {
      entry["tokens"] = [...user.tokens.values()].map((token) => ({
        tokenid: token.name,
        expire: token.expire,
        privsep: token.privsep,
        comment: token.comment,
      }));
    }
    result.push(entry);
  }
  return result;
}

function noSuchUser(userid: string): HttpError {
  return new HttpError(500, `no such user ('${userid}')`);
}

/** `GET /access/users/{userid}`. */
function readUser(sim: Sim, userid: string): Record<string, unknown> {
  const user = sim.state.users.get(userid);
  if (user === undefined) throw noSuchUser(userid);
  const entry: Record<string, unknown> = { enable: user.enable, expire: user.expire };
  for (const key of ["firstname", "lastname", "email", "comment"] as const) {
    if (user[key] !== undefined) entry[key] = user[key];
  }
  entry["groups"] = [...user.groups];
  const tokens: Record<string, unknown> = {};
  for (const token of user.tokens.values()) {
    tokens[token.name] = { privsep: token.privsep, expire: token.expire, comment: token.comment };
  }
  entry["tokens"] = tokens;
  return entry;
}

function tokenEntry(user: User, name: string): Record<string, unknown> {
  const token = user.tokens.get(name);
  if (token === undefined) {
    throw new HttpError(500, `no such token '${name}' for user '${user.userid}'`);
  }
  return { privsep: token.privsep, expire: token.expire, comment: token.comment };
}

/** `GET /access/acl`: the entries on paths where the caller may modify permissions. */
function listAcl(sim: Sim, auth: AuthInfo): unknown[] {
  const entries = sim.state.acls.filter((entry) =>
    sim.can(auth, normalizePath(entry.path), "Permissions.Modify")
  );
  return hashOrder(entries, (e) => `${e.path}|${e.type}|${e.ugid}|${e.roleid}`).map((e) => ({
    path: normalizePath(e.path),
    type: e.type,
    ugid: e.ugid.replace(/^@/, ""),
    roleid: e.roleid,
    propagate: e.propagate,
  }));
}

/** `GET /access/roles`: every role with its privileges, `special` for the built-in ones. */
function listRoles(): unknown[] {
  return hashOrder(BUILTIN_ROLES.keys(), (role) => role).map((roleid) => ({
    roleid,
    privs: [...(BUILTIN_ROLES.get(roleid) ?? [])].sort().join(","),
    special: 1,
  }));
}

function readRole(roleid: string): unknown {
  const privileges = BUILTIN_ROLES.get(roleid);
  if (privileges === undefined) throw new HttpError(500, `role '${roleid}' does not exist`);
  return Object.fromEntries([...privileges].sort().map((priv) => [priv, 1]));
}

/** `GET /access/groups`: groups the caller may audit, with their members. */
function listGroups(sim: Sim, auth: AuthInfo): unknown[] {
  const privs = ["User.Modify", "Sys.Audit", "Group.Allocate"];
  const out: unknown[] = [];
  for (const group of hashOrder(sim.state.groups.values(), (g) => g.groupid)) {
    if (!canAny(sim.state, { auth, path: `/access/groups/${group.groupid}`, privs })) continue;
    const members = [...sim.state.users.values()]
      .filter((user) => user.groups.includes(group.groupid)).map((user) => user.userid).sort();
    const entry: Record<string, unknown> = { groupid: group.groupid, users: members.join(",") };
    if (group.comment !== "") entry["comment"] = group.comment;
    out.push(entry);
  }
  return out;
}

function readGroup(sim: Sim, groupid: string): unknown {
  const group = sim.state.groups.get(groupid);
  if (group === undefined) throw new HttpError(500, `group '${groupid}' does not exist`);
  const members = [...sim.state.users.values()]
    .filter((user) => user.groups.includes(groupid)).map((user) => user.userid).sort();
  const entry: Record<string, unknown> = { members };
  if (group.comment !== "") entry["comment"] = group.comment;
  return entry;
}

/** The access endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", "/access/ticket", () => null),
  route("POST", "/access/ticket", ({ sim, params }) => createTicket(sim, params)),
  route("GET", "/access/domains", () =>
    Object.entries(REALMS).map(([realm, info]) => ({
      realm,
      type: info.type,
      comment: info.comment,
    }))),
  route("GET", "/access/permissions", ({ sim, auth, params }) => permissions(sim, auth, params)),
  route("GET", "/access/users", ({ sim, auth, params }) => listUsers(sim, auth, params)),
  route(
    "GET",
    "/access/users/{userid}",
    ({ sim, params }) => readUser(sim, String(params["userid"])),
  ),
  route("GET", "/access/users/{userid}/token", ({ sim, params }) => {
    const userid = String(params["userid"]);
    const user = sim.state.users.get(userid);
    if (user === undefined) throw noSuchUser(userid);
    return hashOrder(user.tokens.keys(), (name) => name).map((name) => ({
      tokenid: name,
      ...tokenEntry(user, name),
    }));
  }),
  route("GET", "/access/users/{userid}/token/{tokenid}", ({ sim, params }) => {
    const userid = String(params["userid"]);
    const user = sim.state.users.get(userid);
    if (user === undefined) throw noSuchUser(userid);
    return tokenEntry(user, String(params["tokenid"]));
  }),
  route("GET", "/access/acl", ({ sim, auth }) => listAcl(sim, auth)),
  route("GET", "/access/roles", () => listRoles()),
  route("GET", "/access/roles/{roleid}", ({ params }) => readRole(String(params["roleid"]))),
  route("GET", "/access/groups", ({ sim, auth }) => listGroups(sim, auth)),
  route("GET", "/access/groups/{groupid}", ({ sim, params }) => {
    return readGroup(sim, String(params["groupid"]));
  }),
];
