/**
 * Shared command-line parsing (`node:util` `parseArgs`): the configuration flags every command
 * takes (turned into `ConfigFlags` for `loadConfig`), the usage error, and the help text of
 * those flags.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import type { ConfigFlags } from "../config/mod.ts";

/** A command-line mistake: one line on stderr and exit code 2. */
export class UsageError extends Error {
  /** A usage error with a message saying what to do. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The flags that override the configuration, shared by `serve`, `call`, `tools` and `doctor`. */
export const CONFIG_OPTIONS = {
  config: { type: "string" },
  url: { type: "string" },
  allow: { type: "string", multiple: true },
  toolsets: { type: "string", multiple: true },
  exclude: { type: "string", multiple: true },
  "log-level": { type: "string" },
  "audit-path": { type: "string" },
  insecure: { type: "boolean" },
  "ca-file": { type: "string" },
  "confirm-fallback": { type: "string" },
  "wait-seconds": { type: "string" },
  demo: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/** Help text of {@link CONFIG_OPTIONS}. */
export const CONFIG_HELP = `Configuration (file < environment < flags):
  --config FILE             JSON config file (also PROXMOX_MCP_CONFIG)
  --url URL                 cluster URL, e.g. https://pve.example.com:8006 (also PROXMOX_URL)
  --allow CLASSES           allowed capability classes, comma list: read,lifecycle,change,
                            destroy,exec,raw (default read)
  --toolsets NAMES          enabled toolsets, comma list (default all)
  --exclude NAMES           tools never offered, comma list
  --ca-file FILE            PEM CA of the cluster (its /etc/pve/pve-root-ca.pem)
  --insecure                skip TLS verification (unsafe; prefer --ca-file)
  --confirm-fallback deny|allow
                            when the client cannot confirm destroy/exec/raw calls (default deny)
  --wait-seconds N          how long write tools wait for their task (default 60)
  --audit-path FILE|off     audit log (default proxmox-mcp-audit.jsonl)
  --log-level LEVEL         trace, debug, info, warning, error, fatal (logs go to stderr)
  --demo                    use an in-process simulated cluster named "demo" instead
  Credentials come from the config file or the environment (PROXMOX_TOKEN=user@realm!id=secret,
  or PROXMOX_TOKEN_ID + PROXMOX_TOKEN_SECRET, or PROXMOX_USER + PROXMOX_PASSWORD), never flags.`;

/** The values `parseArgs` returns for {@link CONFIG_OPTIONS}. */
export interface ConfigValues {
  config?: string | undefined;
  url?: string | undefined;
  allow?: string[] | undefined;
  toolsets?: string[] | undefined;
  exclude?: string[] | undefined;
  "log-level"?: string | undefined;
  "audit-path"?: string | undefined;
  insecure?: boolean | undefined;
  "ca-file"?: string | undefined;
  "confirm-fallback"?: string | undefined;
  "wait-seconds"?: string | undefined;
  demo?: boolean | undefined;
  help?: boolean | undefined;
}

/** The `ConfigFlags` for `loadConfig`: only the flags that were given. */
export function configFlags(values: ConfigValues): ConfigFlags {
  const flags: ConfigFlags = {};
  if (values.config !== undefined) flags.config = values.config;
  if (values.url !== undefined) flags.url = values.url;
  if (values.allow !== undefined) flags.allow = values.allow;
  if (values.toolsets !== undefined) flags.toolsets = values.toolsets;
  if (values.exclude !== undefined) flags.exclude = values.exclude;
  if (values["log-level"] !== undefined) flags.logLevel = values["log-level"];
  if (values["audit-path"] !== undefined) flags.auditPath = values["audit-path"];
  if (values.insecure !== undefined) flags.insecure = values.insecure;
  if (values["ca-file"] !== undefined) flags.caFile = values["ca-file"];
  if (values["confirm-fallback"] !== undefined) {
    flags.confirmFallback = values["confirm-fallback"];
  }
  if (values["wait-seconds"] !== undefined) flags.waitSeconds = values["wait-seconds"];
  return flags;
}

/**
 * `parseArgs` in strict mode with the given options; parse failures become a
 * {@link UsageError} (exit code 2).
 */
export function parseCommandArgs<O extends Options>(
  args: readonly string[],
  options: { options: O; allowPositionals?: boolean },
): ReturnType<typeof parseArgs<{ options: O; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({
      args: [...args],
      options: options.options,
      allowPositionals: options.allowPositionals ?? false,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
