/**
 * From the configuration to the settings the server reads, and the start-up check that the
 * configuration names only tools and toolsets that exist.
 *
 * @module
 */

import { assertKnownNames, type Config } from "../config/mod.ts";
import { defaultToolsetIds, toolsetIds } from "../tools/toolsets.ts";
import type { AnyTool } from "../tools/types.ts";
import type { CallSettings } from "./call.ts";

/** The settings of the call path, from the parsed configuration. */
export function settingsFromConfig(config: Config, tools: readonly AnyTool[]): CallSettings {
  const policy = config.policy;
  return {
    policy: {
      allow: policy.allow,
      // Unset means the toolsets marked default (`tools/toolsets.ts`), not every toolset.
      toolsets: policy.toolsets ?? defaultToolsetIds(tools),
      exclude: policy.exclude,
    },
    scope: policy.scope,
    confirmation: { fallback: policy.confirmation.fallback },
    wait: { defaultSeconds: policy.wait.defaultSeconds, maxSeconds: policy.wait.maxSeconds },
    clusters: Object.keys(config.clusters),
  };
}

/**
 * Fails when `policy.toolsets` or `policy.exclude` names a toolset or tool that does not
 * exist, listing the valid names (a typo must not silently widen or narrow what is offered).
 *
 * @throws {ConfigError}
 */
export function checkToolConfig(tools: readonly AnyTool[], config: Config): void {
  assertKnownNames(config, {
    tools: tools.map((tool) => tool.name).sort(),
    toolsets: toolsetIds(tools).sort(),
  });
}
