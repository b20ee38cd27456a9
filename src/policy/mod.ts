/**
 * What may run: capability classes, tool visibility and confirmation, scope, and the audit log.
 *
 * @module
 */

export * from "./capability.ts";
export * from "./policy.ts";
export * from "./scope.ts";
export * from "./audit.ts";
