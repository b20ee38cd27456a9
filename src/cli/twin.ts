/**
 * `proxmox-mcp twin`: the rehearsal twin of a cluster.
 *
 * - `twin capture --out FILE` reads the configured cluster with GET requests only (through a
 *   GET-only view of the client) and writes its twin: a JSON file without secrets, which
 *   `simulator --twin FILE` and `serve --twin FILE` boot from.
 * - `twin diff BEFORE AFTER` says what changed between two twins, e.g. a capture and the twin
 *   after a rehearsal (`twin capture --twin FILE --url URL` saves a running twin's state).
 *
 * @module
 */

import { configureLogging } from "../log.ts";
import { PveError } from "../pve/mod.ts";
import {
  type CaptureProgress,
  captureTwin,
  diffTwins,
  formatDiff,
  formatTwin,
  parseTwin,
  readOnly,
  type TwinFile,
  TwinReadError,
} from "../twin/mod.ts";
import { CONFIG_HELP, CONFIG_OPTIONS, configFlags, parseCommandArgs, UsageError } from "./_args.ts";
import { type Output, printJson, stdio } from "./_output.ts";
import { MissingPermissionError, openRuntime, readTwinText, reportFailure } from "./_runtime.ts";

/** Usage text of `twin`. */
export const TWIN_USAGE = `Usage: proxmox-mcp twin capture --out FILE [options]
       proxmox-mcp twin diff BEFORE AFTER [--json]

The rehearsal twin: a copy of a cluster's shape that the simulator boots from, to try a plan
(a drain, a provisioning run, a config change) before running it for real.

twin capture   Read the cluster with GET requests only and write its twin to FILE: nodes,
               storages with usage and content (metadata only), network, guests with their
               configs, snapshots and firewall, pools, HA, backup and replication jobs.
               Passwords, cloud-init passwords, token values, keys and anything else the
               redaction rules know are replaced, and the file says so.
  --out FILE           where to write the twin ("-" for stdout); written with mode 0600
  --cluster NAME       which configured cluster (when there are several)
  --concurrency N      requests in flight at once (default 8, at most 64)
  --twin FILE --url URL
                       capture the twin simulator running at URL (booted from FILE), e.g.
                       the end state of a rehearsal

twin diff      What changed from BEFORE to AFTER: guests added, removed, moved, started or
               stopped, config keys, snapshots, volumes, pools and HA, in one page.
  --json               the difference as JSON

Rehearse:  twin capture --out before.json
           simulator --twin before.json --port 8007
           serve --twin before.json --url http://127.0.0.1:8007   (your MCP client's command)
           twin capture --twin before.json --url http://127.0.0.1:8007 --out after.json
           twin diff before.json after.json

${CONFIG_HELP}
`;

const CAPTURE_OPTIONS = {
  ...CONFIG_OPTIONS,
  out: { type: "string", short: "o" },
  cluster: { type: "string" },
  concurrency: { type: "string" },
} as const;

/** How often progress is printed, at most (a quick capture prints none). */
const PROGRESS_EVERY_MS = 2000;

function progressPrinter(out: Output): (progress: CaptureProgress) => void {
  let last = Date.now();
  return (progress) => {
    const now = Date.now();
    if (now - last < PROGRESS_EVERY_MS) return;
    last = now;
    out.error(`twin capture: ${progress.phase} ${progress.done}/${progress.total}`);
  };
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : `${Math.ceil(bytes / 1024)} KiB`;
}

async function writeTwin(path: string, text: string, out: Output): Promise<void> {
  if (path === "-") {
    out.line(text.trimEnd());
    return;
  }
  try {
    await Deno.writeTextFile(path, text, { mode: 0o600 });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new MissingPermissionError(`--allow-write=${path}`, { cause: error });
    }
    throw new UsageError(
      `Cannot write --out "${path}": ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function summary(twin: TwinFile, bytes: number, path: string, seconds: number): string {
  const volumes = twin.storages.reduce((sum, s) => sum + (s.volumes?.length ?? 0), 0);
  const name = twin.source.cluster === null
    ? "standalone node"
    : `cluster "${twin.source.cluster}"`;
  return `Captured ${name}: ${twin.nodes.length} node(s), ${twin.guests.length} guest(s), ` +
    `${twin.storages.length} storage(s), ${volumes} volume(s); ${twin.secrets.count} secret(s) ` +
    `replaced; ${twin.gaps.length} gap(s) -> ${path === "-" ? "stdout" : path} (${kib(bytes)}, ${
      seconds.toFixed(1)
    } s).`;
}

async function runCapture(args: string[], out: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    options: CAPTURE_OPTIONS,
    allowPositionals: true,
  });
  if (values.help) {
    out.line(TWIN_USAGE.trimEnd());
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${positionals[0]}": twin capture takes only options`,
    );
  }
  if (values.out === undefined || values.out === "") {
    throw new UsageError("Missing --out FILE: where to write the twin");
  }
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    if (!/^\d+$/.test(values.concurrency) || Number(values.concurrency) < 1) {
      throw new UsageError(`Invalid --concurrency "${values.concurrency}": expected 1 to 64`);
    }
    concurrency = Math.min(64, Number(values.concurrency));
  }
  await configureLogging({ level: values["log-level"] === undefined ? "warning" : "info" });
  const runtime = await openRuntime(configFlags(values), {
    demo: values.demo === true,
    ...(values.twin === undefined ? {} : { twin: values.twin }),
  });
  try {
    const names = [...runtime.clients.keys()];
    const name = values.cluster ?? (names.length === 1 ? names[0] : undefined);
    const client = name === undefined ? undefined : runtime.clients.get(name);
    if (client === undefined) {
      throw new UsageError(
        values.cluster === undefined
          ? `Several clusters are configured: pick one with --cluster (${names.join(", ")})`
          : `Unknown --cluster "${values.cluster}": expected one of ${names.join(", ")}`,
      );
    }
    const started = performance.now();
    let twin: TwinFile;
    try {
      twin = await captureTwin(readOnly(client), {
        ...(concurrency === undefined ? {} : { concurrency }),
        onProgress: progressPrinter(out),
      });
    } catch (error) {
      if (!(error instanceof PveError)) throw error;
      out.error(`proxmox-mcp twin capture: nothing was written: ${error.message}`);
      return 1;
    }
    const text = formatTwin(twin);
    await writeTwin(values.out, text, out);
    for (const gap of twin.gaps) out.error(`twin capture: not read: ${gap}`);
    out.error(
      summary(
        twin,
        new TextEncoder().encode(text).length,
        values.out,
        (performance.now() - started) / 1000,
      ),
    );
    return 0;
  } finally {
    await runtime.close();
  }
}

async function readTwin(path: string): Promise<TwinFile> {
  const text = await readTwinText(path, "twin");
  try {
    return parseTwin(text, path);
  } catch (error) {
    if (error instanceof TwinReadError) throw new UsageError(error.message);
    throw error;
  }
}

async function runDiff(args: string[], out: Output): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help) {
    out.line(TWIN_USAGE.trimEnd());
    return 0;
  }
  const [before, after, extra] = positionals;
  if (before === undefined || after === undefined || extra !== undefined) {
    throw new UsageError("Expected two twin files: twin diff BEFORE AFTER");
  }
  const diff = diffTwins(await readTwin(before), await readTwin(after));
  if (values.json) printJson(diff, out);
  else out.line(formatDiff(diff));
  return 0;
}

/** Runs `twin`; resolves with the exit code. */
export async function runTwinCli(args: string[], out: Output = stdio): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
      out.line(TWIN_USAGE.trimEnd());
      return sub === undefined ? 2 : 0;
    }
    if (sub === "capture") return await runCapture(rest, out);
    if (sub === "diff") return await runDiff(rest, out);
    throw new UsageError(`Unknown twin command "${sub}": expected capture or diff`);
  } catch (error) {
    return reportFailure("twin", error, out);
  }
}
