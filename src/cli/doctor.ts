/**
 * `proxmox-mcp doctor`: check each configured cluster step by step — reach (DNS, TCP), TLS,
 * HTTP, authentication, PVE version, and the credential's effective permissions against what
 * the enabled tools need — and print a table of check, result, detail and fix. Exits 1 when a
 * check fails. `--demo` checks the in-process simulated cluster.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import { configureLogging } from "../log.ts";
import {
  PveAuthError,
  PveClient,
  PveConnectionError,
  PvePermissionError,
  PveTimeoutError,
  PveTlsError,
  type PveVersion,
} from "../pve/mod.ts";
import { allTools } from "../tools/mod.ts";
import { visibleTools } from "../tools/registry.ts";
import { CONFIG_HELP, CONFIG_OPTIONS, configFlags, parseCommandArgs } from "./_args.ts";
import { formatTable, type Output, stdio } from "./_output.ts";
import { type Permissions, privilegeGaps, TOOL_PRIVILEGES } from "../policy/privileges.ts";
import { grantCommand } from "../policy/role_hints.ts";
import { clientOptions, hostPort, openRuntime, reportFailure } from "./_runtime.ts";

/** Usage text of `doctor`. */
export const DOCTOR_USAGE = `Usage: proxmox-mcp doctor [configuration flags]

Check each configured cluster: DNS, TCP, TLS, HTTP, authentication, PVE version, and the
credential's effective permissions against what the enabled tools need. Prints a table
(check, result, detail, fix) and exits 1 when a check fails.

${CONFIG_HELP}
`;

/** The result of one check. */
export type CheckResult = "pass" | "warn" | "fail" | "skip";

/** One row of the report. */
export interface CheckRow {
  check: string;
  result: CheckResult;
  detail: string;
  fix?: string;
}

const CONNECT_TIMEOUT_MS = 5_000;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":") || host.startsWith("[");
}

/** Opens (and closes) a TCP connection, with a timeout. */
async function tcpProbe(hostname: string, port: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Deno.connect({ hostname, port });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Deno.errors.TimedOut(`no answer within ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    );
  });
  try {
    const conn = await Promise.race([connecting, timeout]);
    conn.close();
  } finally {
    clearTimeout(timer);
    connecting.then((conn) => conn.close(), () => {}).catch(() => {});
  }
}

/** DNS and TCP rows (stops at the first failure). */
async function reachRows(url: string): Promise<{ rows: CheckRow[]; ok: boolean }> {
  const parsed = new URL(url);
  const hostname = parsed.hostname.replace(/^\[|\]$/g, "");
  const port = Number(parsed.port || (parsed.protocol === "http:" ? 80 : 443));
  const where = `${hostname}:${port}`;
  try {
    await tcpProbe(hostname, port);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      return {
        ok: false,
        rows: [{
          check: "tcp",
          result: "fail",
          detail: `no permission to connect to ${where}`,
          fix: `run with --allow-net=${hostPort(url)}`,
        }],
      };
    }
    const text = message(error);
    if (/lookup|resolve|not known|nodename|no address|dns/i.test(text)) {
      return {
        ok: false,
        rows: [{
          check: "dns",
          result: "fail",
          detail: `cannot resolve "${hostname}": ${text}`,
          fix: "check the host name in the URL, or use the node's IP address",
        }],
      };
    }
    const dns: CheckRow = isIpAddress(hostname)
      ? { check: "dns", result: "skip", detail: "IP address, no lookup needed" }
      : { check: "dns", result: "pass", detail: `"${hostname}" resolves` };
    const refused = error instanceof Deno.errors.ConnectionRefused;
    return {
      ok: false,
      rows: [dns, {
        check: "tcp",
        result: "fail",
        detail: `${refused ? "connection refused" : "cannot connect"} to ${where}: ${text}`,
        fix: "check the port (8006), that pveproxy runs (systemctl status pveproxy) and that " +
          "no firewall blocks it",
      }],
    };
  }
  return {
    ok: true,
    rows: [
      isIpAddress(hostname)
        ? { check: "dns", result: "skip", detail: "IP address, no lookup needed" }
        : { check: "dns", result: "pass", detail: `"${hostname}" resolves` },
      { check: "tcp", result: "pass", detail: `${where} accepts connections` },
    ],
  };
}

function tlsPassRow(url: string, insecure: boolean, demo: boolean): CheckRow {
  if (url.startsWith("http://")) {
    return demo
      ? { check: "tls", result: "skip", detail: "the simulated cluster speaks plain http" }
      : {
        check: "tls",
        result: "warn",
        detail: "plain http://: credentials travel unencrypted",
        fix: "use https://host:8006",
      };
  }
  if (insecure) {
    return {
      check: "tls",
      result: "warn",
      detail: "certificate verification is off (insecure)",
      fix: "set caFile to the cluster's /etc/pve/pve-root-ca.pem and drop insecure",
    };
  }
  return { check: "tls", result: "pass", detail: "certificate verified" };
}

/** The fix for a rejected credential. */
function authFix(kind: "token" | "password"): string {
  if (kind === "password") {
    return "check user (user@realm, e.g. monitor@pve), realm and password, and that the user " +
      "is enabled and not expired";
  }
  return "check the token: PROXMOX_TOKEN / token is user@realm!tokenid=secret — '=' between " +
    "id and secret, not ':' — the token exists (pveum user token list <user>), is not expired, " +
    "and the secret is the one shown when it was created";
}

/** Version, auth, TLS and HTTP rows from one authenticated `GET /version`. */
async function apiRows(
  client: PveClient,
  options: { url: string; insecure: boolean; demo: boolean; kind: "token" | "password" },
): Promise<{ rows: CheckRow[]; version?: PveVersion }> {
  try {
    const version = await client.version();
    return {
      version,
      rows: [
        tlsPassRow(options.url, options.insecure, options.demo),
        { check: "http", result: "pass", detail: "the Proxmox VE API answers" },
        {
          check: "auth",
          result: "pass",
          detail: `accepted ${client.identity.kind} of ${client.identity.principal}`,
        },
        { check: "version", result: "pass", detail: `Proxmox VE ${version.version}` },
      ],
    };
  } catch (error) {
    if (error instanceof PveTlsError) {
      return {
        rows: [{
          check: "tls",
          result: "fail",
          detail: message(error).replace(/\. To fix:.*$/, ""),
          fix: "set caFile (PROXMOX_CA_FILE, --ca-file) to the cluster's " +
            "/etc/pve/pve-root-ca.pem, or knowingly set insecure (PROXMOX_INSECURE_TLS=true)",
        }],
      };
    }
    const tls = tlsPassRow(options.url, options.insecure, options.demo);
    if (error instanceof PveAuthError || (error as { status?: number }).status === 401) {
      return {
        rows: [tls, { check: "http", result: "pass", detail: "the Proxmox VE API answers" }, {
          check: "auth",
          result: "fail",
          detail: `401: ${client.identity.principal} was rejected`,
          fix: authFix(options.kind),
        }],
      };
    }
    if (error instanceof PvePermissionError) {
      return {
        rows: [tls, { check: "http", result: "pass", detail: "the Proxmox VE API answers" }, {
          check: "auth",
          result: "pass",
          detail: `accepted ${client.identity.principal}`,
        }, { check: "version", result: "warn", detail: message(error) }],
      };
    }
    const timeout = error instanceof PveTimeoutError;
    return {
      rows: [tls, {
        check: "http",
        result: "fail",
        detail: message(error),
        fix: error instanceof PveConnectionError || timeout
          ? "check that the URL points at the PVE API (https://host:8006) and pveproxy runs"
          : "check that the URL points at the Proxmox VE API (https://host:8006)",
      }],
    };
  }
}

/** The permissions row: the credential's effective privileges against the enabled tools. */
async function permissionRows(
  client: PveClient,
  tools: readonly string[],
): Promise<CheckRow[]> {
  const identity = client.identity;
  const params = identity.kind === "token" ? { userid: identity.principal } : undefined;
  let permissions: Permissions;
  try {
    permissions = await client.get<Permissions>("/access/permissions", params);
  } catch (error) {
    return [{
      check: "permissions",
      result: "warn",
      detail: `cannot read the effective permissions: ${message(error)}`,
    }];
  }
  const rows: CheckRow[] = [];
  const gaps = privilegeGaps(tools, permissions);
  const failing = gaps.filter((gap) => gap.coverage === "none" && !gap.optional);
  const partial = gaps.filter((gap) => gap.coverage === "partial" || gap.optional);
  const unmapped = tools.filter((tool) => TOOL_PRIVILEGES[tool] === undefined);
  if (failing.length === 0) {
    rows.push({
      check: "permissions",
      result: "pass",
      detail: `${identity.principal} holds what the ${tools.length} enabled tools need`,
    });
  } else {
    const byNeed = new Map<string, string[]>();
    for (const gap of failing) {
      const key = `${gap.privileges.join(" or ")} on ${gap.path}`;
      byNeed.set(key, [...(byNeed.get(key) ?? []), gap.tool]);
    }
    for (const [need, needing] of byNeed) {
      const [privileges = "", path = "/"] = need.split(" on ");
      rows.push({
        check: "permissions",
        result: "fail",
        detail: `missing ${need} (for ${needing.join(", ")})`,
        fix: `${
          grantCommand(identity.principal, {
            path,
            privilege: privileges.split(" or ")[0] ?? "",
          })
        }, or disable those tools (policy.allow/exclude)`,
      });
    }
  }
  const warned = new Map<string, string[]>();
  for (const gap of partial) {
    const key = gap.optional
      ? `without ${gap.privileges.join(" or ")} on ${gap.path} ${
        gap.limits ?? "the tool sees less"
      }`
      : `${gap.privileges.join(" or ")} only on some objects below ${gap.path}`;
    warned.set(key, [...new Set([...(warned.get(key) ?? []), gap.tool])]);
  }
  for (const [detail, needing] of warned) {
    rows.push({
      check: "permissions",
      result: "warn",
      detail: `${detail} (${needing.join(", ")})`,
    });
  }
  if (unmapped.length > 0) {
    rows.push({
      check: "permissions",
      result: "skip",
      detail: `${unmapped.join(", ")}: need what the called endpoint checks`,
    });
  }
  return rows;
}

/**
 * All checks of one cluster: reach, TLS, HTTP, auth, version, and the credential's permissions
 * against the tools `config.policy` enables (also run live by `init`).
 */
export async function checkCluster(
  name: string,
  config: Config,
  options: { demo: boolean },
): Promise<CheckRow[]> {
  const cluster = config.clusters[name];
  if (cluster === undefined) return [];
  const reach = await reachRows(cluster.url);
  const rows = [...reach.rows];
  if (!reach.ok) return rows;
  const client = new PveClient({ ...await clientOptions(name, cluster), retry: { attempts: 0 } });
  try {
    const kind = client.identity.kind === "token" ? "token" : "password";
    const api = await apiRows(client, {
      url: cluster.url,
      insecure: cluster.insecure,
      demo: options.demo,
      kind,
    });
    rows.push(...api.rows);
    if (api.version === undefined) return rows;
    const tools = visibleTools(allTools, {
      policy: config.policy,
      clusters: Object.keys(config.clusters),
    }).map((tool) => tool.name);
    rows.push(...await permissionRows(client, tools));
    return rows;
  } finally {
    client.close();
  }
}

/** Runs `doctor`; resolves with the exit code (1 when a check fails). */
export async function runDoctorCli(args: string[], out: Output = stdio): Promise<number> {
  try {
    const { values } = parseCommandArgs(args, { options: CONFIG_OPTIONS });
    if (values.help) {
      out.line(DOCTOR_USAGE.trimEnd());
      return 0;
    }
    await configureLogging({ level: "error" });
    const runtime = await openRuntime(configFlags(values), {
      demo: values.demo === true,
      ...(values.twin === undefined ? {} : { twin: values.twin }),
    });
    let failed = false;
    try {
      const { config } = runtime;
      const configRows: CheckRow[] = [{
        check: "config",
        result: "pass",
        detail: values.demo
          ? 'simulated cluster "demo" (--demo)'
          : runtime.twin !== undefined
          ? `rehearsal twin of ${
            runtime.twin.cluster ?? "a standalone node"
          } captured ${runtime.twin.captured_at} (--twin ${values.twin})`
          : `from ${
            [
              runtime.sources.file === undefined ? "" : `file ${runtime.sources.file}`,
              runtime.sources.env.length > 0 ? `env ${runtime.sources.env.join(", ")}` : "",
              runtime.sources.flags.length > 0 ? `flags ${runtime.sources.flags.join(", ")}` : "",
            ].filter((part) => part !== "").join("; ") || "defaults"
          }`,
      }];
      for (const warning of runtime.warnings) {
        const [detail = warning, fix] = warning.split(/ — |: run /);
        configRows.push({
          check: "config",
          result: "warn",
          detail,
          ...(fix === undefined ? {} : { fix }),
        });
      }
      configRows.push({
        check: "policy",
        result: "pass",
        detail: `allowed classes: ${config.policy.allow.join(", ")}; confirmation fallback: ` +
          `${config.policy.confirmation.fallback}; audit: ${
            runtime.audit.enabled || config.audit.enabled ? config.audit.path : "off"
          }`,
      });
      printRows(out, "configuration", configRows);
      for (const name of Object.keys(config.clusters)) {
        const rows = await checkCluster(name, config, {
          demo: values.demo === true || runtime.twin !== undefined,
        });
        out.line();
        printRows(out, `cluster "${name}" (${config.clusters[name]?.url ?? ""})`, rows);
        if (rows.some((row) => row.result === "fail")) failed = true;
      }
      out.line();
      out.line(failed ? "Some checks failed: see the fix column." : "All checks passed.");
      return failed ? 1 : 0;
    } finally {
      await runtime.close();
    }
  } catch (error) {
    return reportFailure("doctor", error, out);
  }
}

/** Prints `rows` under `title` as an indented table (check, result, detail, fix). */
export function printRows(out: Output, title: string, rows: readonly CheckRow[]): void {
  out.line(title);
  const table = formatTable(
    ["check", "result", "detail", "fix"],
    rows.map((row) => [row.check, row.result, row.detail, row.fix ?? ""]),
  );
  for (const line of table) out.line(`  ${line}`);
}
