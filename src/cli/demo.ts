/**
 * `proxmox-mcp demo`: a guided session for newcomers, with no Proxmox and no MCP client needed.
 * It starts the simulated `demo` cluster and the MCP server in this process, connects a real MCP
 * client to it, and prints each step: reads, a start with live progress, a snapshot, a
 * destructive call refused by the default read-only policy, a dry run, and how to connect an
 * assistant to `serve --demo`.
 *
 * Runs with `deno run --allow-net=127.0.0.1,localhost --allow-read main.ts demo`; the audit log
 * is off, so nothing is written to disk.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { type Config, configSchema } from "../config/mod.ts";
import { configureLogging } from "../log.ts";
import { AuditLog } from "../policy/audit.ts";
import type { Capability } from "../policy/capability.ts";
import type { PveClient } from "../pve/mod.ts";
import { createServer } from "../server/mod.ts";
import type { SimulatorHandle, Speed } from "../simulator/mod.ts";
import { parseCommandArgs, UsageError } from "./_args.ts";
import { type Output, stdio } from "./_output.ts";
import { LAZY_IMPORTS, programDir, V8_FLAGS } from "./_run_flags.ts";
import { connectInProcess, type InProcessSession } from "./_in_process.ts";
import {
  clientsFromConfig,
  DEMO_CLUSTER,
  reportFailure,
  simulatorCluster,
  startDemoCluster,
} from "./_runtime.ts";

/** Usage text of `demo`. */
export const DEMO_USAGE = `Usage: proxmox-mcp demo [--fast | --speed F]

Walk through a short session against a simulated Proxmox VE cluster: no Proxmox and no
MCP client needed. Starts the simulator and the MCP server in this process, connects a real
MCP client and prints each call and its result. Nothing is written to disk.

Options:
  --speed F     simulated task speed, a factor of real time (default 1: a start takes a few seconds)
  --fast        run tasks instantly (same as --speed instant)
  --help        show this help`;

/** The guest the demo starts and snapshots (stopped in the `demo` seed). */
const DEMO_GUEST = "win11-desk";
/** The guest the demo tries to hard-stop (running in the `demo` seed). */
const STOP_GUEST = "web01";
const SNAPSHOT = "before_updates";
const TOTAL_STEPS = 6;

function parseSpeed(values: { fast?: boolean | undefined; speed?: string | undefined }): Speed {
  if (values.fast) return "instant";
  if (values.speed === undefined) return 1;
  if (values.speed === "instant") return "instant";
  const speed = Number(values.speed);
  if (!/^\d+(\.\d+)?$/.test(values.speed) || !(speed > 0)) {
    throw new UsageError(
      `Invalid --speed "${values.speed}": expected a positive number or "instant"`,
    );
  }
  return speed;
}

/** A tool result as the client sees it. */
interface CallResult {
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

function textOf(result: CallResult): string {
  return result.content.filter((block) => block.type === "text").map((block) => block.text ?? "")
    .join("\n");
}

function indent(text: string, prefix = "  "): string {
  return text.split("\n").map((line) => `${prefix}${line}`).join("\n");
}

/** How to start `serve --demo` from this installation (deno run, or the compiled binary). */
export function serveDemoCommand(): { command: string; args: string[] } {
  const exec = Deno.execPath();
  const isDeno = /(^|[\\/])deno(\.exe)?$/.test(exec);
  if (!isDeno) return { command: exec, args: ["serve", "--demo"] };
  const mainUrl = new URL("../../main.ts", import.meta.url);
  const main = mainUrl.protocol === "file:" ? fileURLToPath(mainUrl) : mainUrl.href;
  const program = programDir(main);
  return {
    command: "deno",
    args: [
      "run",
      ...(program === undefined ? [] : [LAZY_IMPORTS]),
      V8_FLAGS,
      "--allow-net=127.0.0.1",
      ...(program === undefined ? [] : [`--allow-read=${program}`]),
      main,
      "serve",
      "--demo",
    ],
  };
}

/** The configuration of one demo server: the simulated cluster, `allow`, no audit. */
export function demoConfig(sim: SimulatorHandle, allow: readonly Capability[]): Config {
  const cluster = simulatorCluster(sim);
  return configSchema.parse({
    clusters: {
      [DEMO_CLUSTER]: { url: sim.url, tokenId: cluster.tokenId, tokenSecret: cluster.tokenSecret },
    },
    policy: { allow: [...allow] },
    audit: { enabled: false },
  });
}

/** The demo: one session per policy, against one simulated cluster. */
class Walkthrough {
  readonly #out: Output;
  readonly #sim: SimulatorHandle;
  readonly #clients: Map<string, PveClient>;
  readonly #sessions: InProcessSession[] = [];
  #step = 0;

  constructor(out: Output, sim: SimulatorHandle, clients: Map<string, PveClient>) {
    this.#out = out;
    this.#sim = sim;
    this.#clients = clients;
  }

  async session(allow: readonly Capability[]): Promise<InProcessSession> {
    const config = demoConfig(this.#sim, allow);
    const clients = this.#clients;
    const session = await connectInProcess(() =>
      createServer({ config, clients, audit: AuditLog.disabled() })
    );
    this.#sessions.push(session);
    return session;
  }

  heading(title: string, note?: string): void {
    this.#step++;
    this.#out.line();
    this.#out.line(`== Step ${this.#step}/${TOTAL_STEPS}: ${title}`);
    if (note !== undefined) this.#out.line(indent(note, "   "));
  }

  async call(
    session: InProcessSession,
    name: string,
    args: Record<string, unknown>,
    options: { live?: boolean } = {},
  ): Promise<CallResult> {
    this.#out.line(`-> tools/call ${name} ${JSON.stringify(args)}`);
    const started = performance.now();
    const result = await session.client.callTool({ name, arguments: args }, {
      ...(options.live
        ? {
          onprogress: (progress: { progress: number; message?: string | undefined }) => {
            const seconds = ((performance.now() - started) / 1000).toFixed(1);
            this.#out.line(`   progress ${seconds.padStart(4)} s  ${progress.message ?? ""}`);
          },
        }
        : {}),
    }) as CallResult;
    this.#out.line(`<- ${result.isError ? "isError: true" : "result"}:`);
    this.#out.line(indent(textOf(result), "   "));
    return result;
  }

  async close(): Promise<void> {
    for (const session of this.#sessions) await session.close();
  }
}

async function walk(demo: Walkthrough, out: Output): Promise<void> {
  const readOnly = await demo.session(["read"]);
  demo.heading(
    "cluster_status",
    "policy.allow = [read] — the default: only read tools are offered.",
  );
  await demo.call(readOnly, "cluster_status", {});

  demo.heading("guest_list (inventory)", "Every VM and container, with node, status and usage.");
  await demo.call(readOnly, "guest_list", {});

  const writer = await demo.session(["read", "lifecycle", "change"]);
  demo.heading(
    `guest_start ${DEMO_GUEST}, with live progress`,
    "This step runs with policy.allow = [read, lifecycle, change] (a second server).\n" +
      "The tool waits for the Proxmox task and reports progress as it goes.",
  );
  await demo.call(writer, "guest_start", { name: DEMO_GUEST }, { live: true });

  demo.heading(
    `snapshot_create on ${DEMO_GUEST}`,
    "Same server: snapshots are class change.",
  );
  await demo.call(writer, "snapshot_create", { name: DEMO_GUEST, snapshot: SNAPSHOT }, {
    live: true,
  });

  demo.heading(
    `guest_stop ${STOP_GUEST} under the default read-only policy`,
    "guest_stop is a hard power-off (class destroy). The read-only server does not even list\n" +
      "it, and refuses the call:",
  );
  const refused = await demo.call(readOnly, "guest_stop", { name: STOP_GUEST });
  if (!refused.isError) throw new Error("The read-only server ran guest_stop: the demo is broken");

  const destroyer = await demo.session(["read", "lifecycle", "change", "destroy"]);
  demo.heading(
    `guest_stop ${STOP_GUEST} as a dry run, with destroy allowed`,
    "This step runs with policy.allow = [read, lifecycle, change, destroy]. dry_run: true\n" +
      "returns the exact Proxmox VE calls the tool would make, and makes none.\n" +
      "(Without dry_run, a destroy call also needs the user's confirmation.)",
  );
  await demo.call(destroyer, "guest_stop", { name: STOP_GUEST, dry_run: true });

  const serve = serveDemoCommand();
  out.line();
  out.line("== Next: connect your assistant to the same simulated cluster");
  out.line("   Claude Desktop (claude_desktop_config.json), Cursor (.cursor/mcp.json) and");
  out.line("   Gemini CLI (settings.json) take:");
  out.line(indent(
    JSON.stringify(
      { mcpServers: { "proxmox-demo": { command: serve.command, args: serve.args } } },
      null,
      2,
    ),
    "   ",
  ));
  out.line("   Claude Code:");
  out.line(`   claude mcp add proxmox-demo -- ${[serve.command, ...serve.args].join(" ")}`);
  out.line('   Then ask: "Which guests are stopped on the demo cluster?"');
  out.line("   For a real cluster, see the README: least-privilege flags, API token, policy.");
}

/** Runs `demo`; resolves with the exit code. */
export async function runDemoCli(args: string[], out: Output = stdio): Promise<number> {
  let sim: SimulatorHandle | undefined;
  let demo: Walkthrough | undefined;
  let clients = new Map<string, PveClient>();
  try {
    const { values } = parseCommandArgs(args, {
      options: {
        fast: { type: "boolean" },
        speed: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      out.line(DEMO_USAGE);
      return 0;
    }
    const speed = parseSpeed(values);
    await configureLogging({ level: "warning" });
    sim = await startDemoCluster({ speed });
    const guests = [...sim.sim.state.guests.values()].length;
    out.line("proxmox-mcp demo: a short MCP session against a simulated Proxmox VE cluster");
    out.line();
    out.line(`Started a simulated PVE 9.1 cluster (${guests} guests) at ${sim.url}`);
    out.line("and the proxmox-mcp server in this process; a real MCP client talks to it.");
    out.line("No Proxmox needed. Audit log: disabled in the demo, so nothing is written to disk.");
    clients = await clientsFromConfig(demoConfig(sim, ["read"]));
    demo = new Walkthrough(out, sim, clients);
    await walk(demo, out);
    return 0;
  } catch (error) {
    return reportFailure("demo", error, out);
  } finally {
    await demo?.close();
    for (const client of clients.values()) client.close();
    await sim?.close();
  }
}
