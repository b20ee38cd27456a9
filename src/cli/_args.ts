/**
 * Shared command-line parsing (`node:util` `parseArgs`): the configuration flags every command
 * takes (turned into `ConfigFlags` for `loadConfig`), the usage error, and the help text of
 * those flags.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

export {
  CONFIG_HELP,
  CONFIG_OPTIONS,
  configFlags,
  type ConfigValues,
  recognizeConfigArgs,
} from "./_config_flags.ts";

import { UsageError } from "./_usage_error.ts";

export { UsageError } from "./_usage_error.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * `parseArgs` in strict mode with the given options; parse failures become a
 * {@link UsageError} (exit code 2).
 */
export function parseCommandArgs<O extends Options>(
  args: readonly string[],
  options: { options: O; allowPositionals?: boolean },
): ReturnType<typeof parseArgs<{ options: O; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({
      args: [...args],
      options: options.options,
      allowPositionals: options.allowPositionals ?? false,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
