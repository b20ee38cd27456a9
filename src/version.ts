/**
 * The program's name and version, read from `deno.json` so there is one place to bump it.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };

/** The name the MCP server announces to clients. */
export const SERVER_NAME = "proxmox-mcp";

/** The program version (from `deno.json`). */
export const VERSION: string = denoJson.version;
