/**
 * The tool names offered per mode, the committed picture of what each configuration exposes
 * (`src/tools/__toolsnaps__/_sets.json`): the default configuration (read only, default
 * toolsets), every class with the default toolsets, every class with every toolset, and each
 * toolset with every class.
 *
 * @module
 */

import { CAPABILITIES, DEFAULT_ALLOWED } from "../policy/capability.ts";
import { toolVisible } from "../policy/policy.ts";
import { defaultToolsetIds, TOOLSETS } from "./toolsets.ts";
import type { AnyTool } from "./types.ts";

/** Tool names per mode. */
export interface ToolSets {
  /** The default configuration: `read` only, the default toolsets. */
  default: string[];
  /** Every class allowed, the default toolsets. */
  all_classes: string[];
  /** Every class, every toolset. */
  everything: string[];
  /** Each toolset on its own, every class allowed. */
  toolsets: Record<string, string[]>;
}

/** The tool names each mode offers. */
export function toolSets(tools: readonly AnyTool[]): ToolSets {
  const names = (allow: readonly (typeof CAPABILITIES)[number][], toolsets: string[]) =>
    tools.filter((tool) => toolVisible(tool, { allow, toolsets })).map((tool) => tool.name);
  const every = TOOLSETS.map((toolset) => toolset.id);
  return {
    default: names(DEFAULT_ALLOWED, defaultToolsetIds()),
    all_classes: names(CAPABILITIES, defaultToolsetIds()),
    everything: names(CAPABILITIES, every),
    toolsets: Object.fromEntries(every.map((id) => [id, names(CAPABILITIES, [id])])),
  };
}
