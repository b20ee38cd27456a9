/**
 * The configuration flags every command takes, as data (no parser loaded): their
 * `parseArgs` options, the help text, their conversion to `ConfigFlags`, and a recognizer of
 * the plain forms `serve` is started with by MCP clients.
 *
 * `parseArgs` (`_args.ts`) stays the authority on command lines. The recognizer exists only so
 * that `serve`'s first answers do not wait for `node:util` to load: it accepts nothing but
 * `--name value` / `--name=value` for the string flags and bare `--demo` / `--insecure`, each at
 * most once (the list flags may repeat), and answers `undefined` for anything else — a help
 * flag, a short flag, a positional, a value that starts with `-` — so that `parseArgs` handles
 * it. `tests/cli/config_flags_test.ts` checks that wherever it answers, `parseArgs` agrees.
 *
 * @module
 */

import type { ConfigFlags } from "../config/env.ts";

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
  twin: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Help text of {@link CONFIG_OPTIONS}. */
export const CONFIG_HELP = `Configuration (file < environment < flags):
  --config FILE             JSON config file (also PROXMOX_MCP_CONFIG)
  --url URL                 cluster URL, e.g. https://pve.example.com:8006 (also PROXMOX_URL)
  --allow CLASSES           allowed capability classes, comma list: read,lifecycle,change,
                            destroy,exec,raw (default read)
  --toolsets NAMES          enabled toolsets, comma list (default: those marked default)
  --exclude NAMES           tools never offered, comma list
  --ca-file FILE            PEM CA of the cluster (its /etc/pve/pve-root-ca.pem)
  --insecure                skip TLS verification (unsafe; prefer --ca-file)
  --confirm-fallback deny|allow
                            when the client cannot confirm destroy/exec/raw calls (default deny)
  --wait-seconds N          how long write tools wait for their task (default 60)
  --audit-path FILE|off     audit log (default proxmox-mcp-audit.jsonl)
  --log-level LEVEL         trace, debug, info, warning, error, fatal (logs go to stderr)
  --demo                    use an in-process simulated cluster named "demo" instead
  --twin FILE               use a rehearsal twin named "twin" booted from FILE (twin capture)
                            instead; with --url, the twin simulator already running there
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
  twin?: string | undefined;
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

type OptionName = keyof typeof CONFIG_OPTIONS;

/**
 * The {@link ConfigValues} of a command line in the plain forms only (see the module
 * documentation), or `undefined` when `parseArgs` must decide.
 */
export function recognizeConfigArgs(args: readonly string[]): ConfigValues | undefined {
  const values: Record<string, string | string[] | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--") || arg === "--") return undefined;
    const eq = arg.indexOf("=");
    const name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)) as OptionName;
    const option = Object.hasOwn(CONFIG_OPTIONS, name) ? CONFIG_OPTIONS[name] : undefined;
    if (option === undefined || name === "help") return undefined;
    if (option.type === "boolean") {
      if (eq >= 0 || name in values) return undefined;
      values[name] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = args[i + 1];
      if (next === undefined || next.startsWith("-")) return undefined;
      value = next;
      i++;
    }
    if ("multiple" in option) {
      const list = (values[name] as string[] | undefined) ?? [];
      list.push(value);
      values[name] = list;
    } else {
      if (name in values) return undefined;
      values[name] = value;
    }
  }
  return values as ConfigValues;
}
