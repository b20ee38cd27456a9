/**
 * Evaluates the `permissions` object of an endpoint's schema, as
 * `PVE::RPCEnvironment::check_api2_permissions` and `exec_perm_check` do:
 * `user: "world"|"all"`, and `check` expressions `["perm", path, privs, "any", 1,
 * "require_param", p]`, `["and", …]`, `["or", …]`, `["userid-param", "self" |
 * "Realm.AllocateUser"]`, `["userid-group", privs, …]`, `["perm-modify", path]`.
 * An endpoint without permissions is for `root@pam` only.
 *
 * @module
 */

import { HttpError, permError } from "./errors.ts";
import type { AuthInfo, Params } from "./router.ts";
import { authSubject, normalizePath, privilegesAt } from "./roles.ts";
import type { PermissionSchema } from "../schema/mod.ts";
import type { SimState } from "./state.ts";

function denied(detail?: string): HttpError {
  return new HttpError(403, `Permission check failed${detail === undefined ? "" : ` (${detail})`}`);
}

/** PVE's `template_replace`: `{name}` → the parameter's value. */
export function templateReplace(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

function options(list: readonly unknown[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) result[String(list[i])] = list[i + 1];
  return result;
}

class Checker {
  readonly #state: SimState;
  readonly #subject: string;
  readonly #params: Params;

  constructor(state: SimState, subject: string, params: Params) {
    this.#state = state;
    this.#subject = subject;
    this.#params = params;
  }

  check(path: string, privs: readonly string[], noerr: boolean): boolean {
    const have = privilegesAt(this.#state, { subject: this.#subject, path });
    for (const priv of privs) {
      if (!have.has(priv)) {
        if (noerr) return false;
        throw permError(path, priv);
      }
    }
    return true;
  }

  checkAny(path: string, privs: readonly string[], noerr: boolean): boolean {
    const have = privilegesAt(this.#state, { subject: this.#subject, path });
    if (privs.some((priv) => have.has(priv))) return true;
    if (noerr) return false;
    throw permError(path, privs.join("|"));
  }

  exec(check: readonly unknown[], noerr: boolean): boolean {
    const [kind, ...rest] = check;
    switch (kind) {
      case "and":
        for (const sub of rest) {
          if (!this.exec(sub as unknown[], noerr)) return false;
        }
        return true;
      case "or":
        for (const sub of rest) {
          if (this.exec(sub as unknown[], true)) return true;
        }
        if (noerr) return false;
        throw denied();
      case "perm": {
        const [template, privs, ...opts] = rest as [string, string[], ...unknown[]];
        const option = options(opts);
        const required = option["require_param"];
        if (typeof required === "string" && this.#params[required] === undefined) return false;
        const path = normalizePath(templateReplace(template, this.#params));
        return option["any"] ? this.checkAny(path, privs, noerr) : this.check(path, privs, noerr);
      }
      case "userid-param":
        return this.#useridParam(String(rest[0]), noerr);
      case "userid-group": {
        const [privs, ...opts] = rest as [string[], ...unknown[]];
        return this.#useridGroup(privs, options(opts), noerr);
      }
      case "perm-modify": {
        const path = normalizePath(templateReplace(String(rest[0]), this.#params));
        if (this.check(path, ["Permissions.Modify"], true)) return true;
        if (noerr) return false;
        throw permError(path, "Permissions.Modify");
      }
      default:
        if (noerr) return false;
        throw denied();
    }
  }

  #useridParam(subtype: string, noerr: boolean): boolean {
    const userid = String(this.#params["userid"] ?? "");
    if (subtype === "self") {
      if (userid === this.#subject) return true;
      if (noerr) return false;
      throw denied();
    }
    const realm = userid.slice(userid.lastIndexOf("@") + 1);
    return this.check(`/access/realm/${realm}`, [subtype], noerr);
  }

  #useridGroup(privs: string[], opts: Record<string, unknown>, noerr: boolean): boolean {
    if (this.checkAny("/access/groups", privs, true)) return true;
    const userid = String(this.#params[String(opts["userid_param"] ?? "userid")] ?? "");
    const member = this.#state.users.get(userid);
    const allowed = member?.groups.some((group) =>
      this.checkAny(`/access/groups/${group}`, privs, true)
    );
    if (allowed) return true;
    if (noerr) return false;
    throw denied();
  }
}

/**
 * Throws 403 unless the caller passes the endpoint's permission object. Endpoints open to
 * the world pass without auth; `root@pam` passes everything that has a permission object.
 */
export function checkPermissions(
  state: SimState,
  request: { auth: AuthInfo; permissions: PermissionSchema | undefined; params: Params },
): void {
  const { auth, permissions, params } = request;
  if (permissions?.user === "world") return;
  if (auth.kind === "none") throw denied("user != null");
  const subject = authSubject(auth);
  if (subject === "root@pam") return;
  if (permissions === undefined || permissions.user === "root@pam") {
    throw denied("user != root@pam");
  }
  if (permissions.user === "all") return;
  if (permissions.check !== undefined) {
    new Checker(state, subject, params).exec(permissions.check, false);
    return;
  }
  throw denied();
}

/** Whether the caller has at least one of `privs` on `path`. */
export function canAny(
  state: SimState,
  query: { auth: AuthInfo; path: string; privs: readonly string[] },
): boolean {
  return new Checker(state, authSubject(query.auth), {}).checkAny(
    normalizePath(query.path),
    query.privs,
    true,
  );
}
