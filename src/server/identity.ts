/**
 * What the server says about itself in every session: its name and version, the instructions
 * for the model, and its capabilities. Kept apart from `mod.ts` (and free of SDK imports) so the
 * start-up path can answer a client's first requests without loading the SDK.
 *
 * @module
 */

import { SERVER_NAME, VERSION } from "../version.ts";

/** `serverInfo` of `initialize` and of 2026-era results. */
export const SERVER_INFO: Readonly<{ name: string; version: string }> = {
  name: SERVER_NAME,
  version: VERSION,
};

/** The instructions sent to the model with `initialize` / `server/discover`. */
export const INSTRUCTIONS = "Operate Proxmox VE clusters. Guests are addressed by vmid or name; " +
  "the node is found for you. Write tools take dry_run (returns the exact API calls, makes " +
  "none). Long tasks report progress; a timeout returns the UPID for task_wait.";

/**
 * The server's capabilities, as registered with the SDK and announced to clients: tools;
 * prompts for the admin procedures (`prompts.ts`); resources — the policy, the cluster summary,
 * guest configs, task logs and the MCP App views (`resources.ts`); completions of prompt and
 * template arguments (`completions.ts`); logging. Every list is fixed for a session's lifetime.
 */
export function serverCapabilities(): Record<string, Record<string, unknown>> {
  return {
    tools: { listChanged: false },
    prompts: { listChanged: false },
    resources: { listChanged: false },
    completions: {},
    logging: {},
  };
}
