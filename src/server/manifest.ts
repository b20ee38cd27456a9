/**
 * The start-up manifest: every tool's `tools/list` entry (as the registry builds it for a
 * single-cluster configuration), its toolset and capability class, and the SDK's protocol
 * versions. It is generated into `tools_manifest.json` (`deno task snapshots`) so that the
 * start-up path can answer `initialize` and `tools/list` without loading the SDK, zod or the
 * tools; `tests/server/early_test.ts` proves those answers byte-for-byte equal to the full
 * server's, and `tests/tools/toolsnaps_test.ts` fails when the file is stale.
 *
 * @module
 */

import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/server";
import type { Capability } from "../policy/capability.ts";
import { allTools } from "../tools/mod.ts";
import { buildToolEntry, listedTool } from "../tools/registry.ts";
import type { AnyTool } from "../tools/types.ts";

/** The 2026-era protocol revisions the SDK serves (its `server/discover` `supportedVersions`). */
const MODERN_PROTOCOL_VERSIONS: readonly string[] = ["2026-07-28"];

/** One tool of the manifest. */
export interface ManifestTool {
  toolset: string;
  capability: Capability;
  /** The exact `tools/list` entry for a configuration with one cluster. */
  listed: Record<string, unknown>;
}

/** The manifest. */
export interface ToolManifest {
  /** Protocol versions the SDK negotiates (2025 era) and serves (2026 era). */
  protocol: { latest: string; supported: string[]; modern: string[] };
  tools: ManifestTool[];
}

/** The `tools/list` entry of a tool for a single-cluster configuration. */
export function listedForSingleCluster(tool: AnyTool): Record<string, unknown> {
  return listedTool(buildToolEntry(tool, { clusters: ["default"] }));
}

/** Builds the manifest of a tool list (default: every tool). */
export function buildManifest(tools: readonly AnyTool[] = allTools): ToolManifest {
  return {
    protocol: {
      latest: LATEST_PROTOCOL_VERSION,
      supported: [...SUPPORTED_PROTOCOL_VERSIONS],
      modern: [...MODERN_PROTOCOL_VERSIONS],
    },
    tools: tools.map((tool) => ({
      toolset: tool.toolset,
      capability: tool.capability,
      listed: listedForSingleCluster(tool),
    })),
  };
}
