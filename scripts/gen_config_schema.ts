/**
 * Regenerate `config.schema.json` from the zod config schema.
 *
 * Run: `deno run --allow-read --allow-write scripts/gen_config_schema.ts`
 *
 * @module
 */

import { renderConfigJsonSchema } from "../src/config/json_schema.ts";

if (import.meta.main) {
  const target = new URL("../config.schema.json", import.meta.url);
  await Deno.writeTextFile(target, renderConfigJsonSchema());
}
