/**
 * Configuration: one zod schema, loading with precedence file < environment < flags, secrets
 * from files, and errors that name the key and the fix.
 *
 * @module
 */

export * from "./errors.ts";
export * from "./schema.ts";
export { configErrorFromIssues } from "./issues.ts";
export {
  type ConfigFlags,
  denoEnv,
  ENV_NAMES,
  type EnvGetter,
  parseBoolean,
  splitList,
  tolerantEnv,
} from "./env.ts";
export * from "./load.ts";
