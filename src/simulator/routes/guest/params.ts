/**
 * Reading route parameters as PVE handlers do (strings, numbers, 0/1 booleans, `-list`
 * values), and `skiplock`.
 *
 * @module
 */

import { paramError } from "../../errors.ts";
import type { Params, RouteContext } from "../../router.ts";

/** A parameter as a string, if given. */
export function pstr(params: Params, key: string): string | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(",") : String(v);
}

/** A parameter as a number, if given. */
export function pnum(params: Params, key: string): number | undefined {
  const v = params[key];
  if (v === undefined || Array.isArray(v)) return undefined;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Whether a boolean parameter is set to 1. */
export function pbool(params: Params, key: string): boolean {
  const v = params[key];
  return v === 1 || v === "1";
}

/** Splits a `*-list` parameter (comma, space or semicolon separated). */
export function plist(params: Params, key: string): string[] {
  const v = params[key];
  if (v === undefined) return [];
  const raw = Array.isArray(v) ? v.join(",") : String(v);
  return raw.split(/[,;\s]+/).filter((s) => s !== "");
}

/** `skiplock` is for root@pam only (400 otherwise); returns whether it is set. */
export function checkSkiplock(ctx: RouteContext): boolean {
  if (!pbool(ctx.params, "skiplock")) return false;
  if (ctx.auth.userid !== "root@pam" || ctx.auth.kind === "token") {
    throw paramError({ skiplock: "Only root may use this option." });
  }
  return true;
}
