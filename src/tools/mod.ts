/**
 * The one list of all tools. The registry (`registry.ts`) filters it by policy and builds the
 * server from it; nothing else registers tools. Add a tool by importing it here and appending
 * it to `allTools`.
 *
 * @module
 */

import { clusterStatus } from "./inventory/cluster_status.ts";
import { guestGet } from "./inventory/guest_get.ts";
import { guestList } from "./inventory/guest_list.ts";
import type { AnyTool } from "./types.ts";

/** Every tool, in the order `tools/list` shows them. */
export const allTools: readonly AnyTool[] = [
  clusterStatus,
  guestList,
  guestGet,
];
