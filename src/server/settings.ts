/**
 * From the configuration to the settings the server reads, and the start-up check that the
 * configuration names only tools and toolsets that exist.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import { ConfigError, quoteList } from "../config/errors.ts";
import { toolsetNames } from "../tools/registry.ts";
import type { AnyTool } from "../tools/types.ts";
import type { CallSettings } from "./call.ts";

/** The settings of the call path, from the parsed configuration. */
export function settingsFromConfig(config: Config): CallSettings {
  const policy = config.policy;
  return {
    policy: {
      allow: policy.allow,
      toolsets: policy.toolsets,
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
  const toolsets = toolsetNames(tools);
  const unknownSets = (config.policy.toolsets ?? []).filter((name) => !toolsets.includes(name));
  if (unknownSets.length > 0) {
    throw ConfigError.invalid("policy.toolsets", `unknown toolset ${quoteList(unknownSets)}`, {
      fix: `valid toolsets are ${quoteList(toolsets)}`,
    });
  }
  const names = tools.map((tool) => tool.name).sort();
  const unknownTools = config.policy.exclude.filter((name) => !names.includes(name));
  if (unknownTools.length > 0) {
    throw ConfigError.invalid("policy.exclude", `unknown tool ${quoteList(unknownTools)}`, {
      fix: `valid tool names are ${quoteList(names)}`,
    });
  }
}
