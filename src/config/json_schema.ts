/**
 * The JSON Schema of the config file, generated from the zod schema, for editors
 * (`"$schema": "./config.schema.json"`). `config.schema.json` at the repository root is this
 * output; regenerate it with `deno run --allow-read --allow-write scripts/gen_config_schema.ts`.
 *
 * @module
 */

import { z } from "zod";
import { configSchema } from "./schema.ts";

/** The JSON Schema (draft 2020-12) describing the config file as written. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
}

/** {@link configJsonSchema} as the text of `config.schema.json`. */
export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
