/**
 * Regenerates what is derived from the tool list and must be committed:
 *
 * - `src/tools/__toolsnaps__/<tool>.json`: each tool's `tools/list` entry (single cluster), so
 *   a schema or description change shows in review as a diff;
 * - `src/tools/__toolsnaps__/_sets.json`: the tool names offered per mode (the default
 *   configuration, every class, each toolset with every class);
 * - `src/server/tools_manifest.json`: the start-up manifest the first answers come from.
 *
 * Run: `deno task snapshots` (`tests/tools/toolsnaps_test.ts` fails when any of them is stale).
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { buildManifest, listedForSingleCluster } from "../src/server/manifest.ts";
import { allTools } from "../src/tools/mod.ts";
import { toolSets } from "../src/tools/sets.ts";

const root = new URL("../", import.meta.url);

/** The snapshot folder. */
export const SNAPSHOT_DIR = new URL("src/tools/__toolsnaps__/", root);
/** The manifest file. */
export const MANIFEST_FILE = new URL("src/server/tools_manifest.json", root);

/** The text of a pretty JSON file as `deno fmt` leaves it. */
export function prettyJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Every file this script writes, by path, with its content. */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const tool of allTools) {
    files.set(
      fromFileUrl(new URL(`${tool.name}.json`, SNAPSHOT_DIR)),
      prettyJson(listedForSingleCluster(tool)),
    );
  }
  files.set(fromFileUrl(new URL("_sets.json", SNAPSHOT_DIR)), prettyJson(toolSets(allTools)));
  files.set(fromFileUrl(MANIFEST_FILE), `${JSON.stringify(buildManifest(allTools))}\n`);
  return files;
}

if (import.meta.main) {
  for (const entry of Deno.readDirSync(SNAPSHOT_DIR)) {
    if (entry.isFile && entry.name.endsWith(".json")) {
      Deno.removeSync(new URL(entry.name, SNAPSHOT_DIR));
    }
  }
  for (const [path, text] of generatedFiles()) Deno.writeTextFileSync(path, text);
}
