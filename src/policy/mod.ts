/**
 * What may run: capability classes, tool visibility and confirmation, scope, the audit log, and
 * (remote mode) caller profiles and rate limits.
 *
 * @module
 */

export * from "./capability.ts";
export * from "./policy.ts";
export * from "./scope.ts";
export * from "./audit.ts";
export * from "./profile.ts";
export * from "./rate_limit.ts";
