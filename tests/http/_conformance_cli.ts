/**
 * The official MCP conformance suite's command line (`@modelcontextprotocol/conformance`, pinned
 * in deno.json), run under Deno by `conformance_test.ts`. Test-only: nothing of the server
 * imports it.
 *
 * @module
 */

import "@modelcontextprotocol/conformance/dist/index.js";
