/**
 * `proxmox-mcp simulator`: start the simulated Proxmox VE cluster on 127.0.0.1 and print
 * one JSON line saying how to reach it; serve until SIGINT/SIGTERM. Logs go to stderr.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { configureLogging, getLog } from "../log.ts";
import type { Speed } from "../simulator/clock.ts";
import { type SimulatorOptions, startSimulator, TwinFileError } from "../simulator/mod.ts";
import { type Output, stdio } from "./_output.ts";
import { onStopSignal } from "./_signals.ts";
import { MissingPermissionError, readTwinDocument } from "./_runtime.ts";
import { UsageError } from "./_usage_error.ts";

/** Usage text of the `simulator` subcommand. */
export const SIMULATOR_USAGE = `Usage: proxmox-mcp simulator [options]

Start a simulated Proxmox VE cluster on 127.0.0.1 and print one JSON line
{"url","api","user","password","token_id","token_secret"} to stdout (with --twin, also
"twin": {"id","cluster","captured_at"}).

Options:
  --port N            TCP port (0 = a free port; default 8006)
  --seed demo|scale   scenario (default demo)
  --nodes N           scale seed: number of nodes
  --guests M          scale seed: number of guests
  --random N          scale seed: PRNG seed
  --twin FILE         boot from a twin file (proxmox-mcp twin capture) instead of a seed
  --speed F|instant   task speed factor (default 1)
  --cert FILE         TLS certificate (PEM); serve HTTPS (needs --key)
  --key FILE          TLS private key (PEM)
  --password P        password of root@pam
  --token-secret S    secret of the root@pam!mcp API token
  --help              show this help
`;

function integerFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`Invalid --${name} "${value}": expected an integer >= ${min}`);
  }
  return Number(value);
}

function speedFlag(value: string | undefined): Speed | undefined {
  if (value === undefined) return undefined;
  if (value === "instant") return "instant";
  const speed = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(speed > 0)) {
    throw new UsageError(`Invalid --speed "${value}": expected a positive number or "instant"`);
  }
  return speed;
}

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(
      `Cannot read --${flag} "${path}": ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Turns the arguments into simulator options (throws `UsageError`), or `"help"`. */
async function parseOptions(args: string[]): Promise<SimulatorOptions | "help"> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        seed: { type: "string" },
        nodes: { type: "string" },
        guests: { type: "string" },
        random: { type: "string" },
        twin: { type: "string" },
        speed: { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        password: { type: "string" },
        "token-secret": { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return "help";
  const options: SimulatorOptions = { port: integerFlag("port", values.port, 0) ?? 8006 };
  if (options.port !== undefined && options.port > 65535) {
    throw new UsageError(`Invalid --port "${values.port}": expected 0..65535`);
  }
  if (values.seed !== undefined) {
    if (values.seed !== "demo" && values.seed !== "scale") {
      throw new UsageError(`Invalid --seed "${values.seed}": expected demo or scale`);
    }
    options.seed = values.seed;
  }
  const nodes = integerFlag("nodes", values.nodes, 1);
  const guests = integerFlag("guests", values.guests, 0);
  const random = integerFlag("random", values.random, 0);
  if ((nodes !== undefined || guests !== undefined) && options.seed === undefined) {
    options.seed = "scale";
  }
  if (values.twin !== undefined) {
    if (options.seed !== undefined || random !== undefined) {
      throw new UsageError("Give --twin or a seed (--seed, --nodes, --guests, --random), not both");
    }
    options.twin = await readTwinDocument(values.twin);
  }
  if (nodes !== undefined) options.nodes = nodes;
  if (guests !== undefined) options.guests = guests;
  if (random !== undefined) options.random = random;
  const speed = speedFlag(values.speed);
  if (speed !== undefined) options.speed = speed;
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new UsageError("Give --cert and --key together to serve HTTPS");
  }
  if (values.cert !== undefined && values.key !== undefined) {
    options.cert = await readPem("cert", values.cert);
    options.key = await readPem("key", values.key);
  }
  if (values.password !== undefined) {
    if (values.password === "") throw new UsageError("Invalid --password: must not be empty");
    options.rootPassword = values.password;
  }
  if (values["token-secret"] !== undefined) {
    if (values["token-secret"] === "") {
      throw new UsageError("Invalid --token-secret: must not be empty");
    }
    options.tokenSecret = values["token-secret"];
  }
  return options;
}

/** Runs `simulator` with its arguments; resolves with the exit code once it stops. */
export async function runSimulatorCli(args: string[], out: Output = stdio): Promise<number> {
  let options: SimulatorOptions | "help";
  try {
    options = await parseOptions(args);
  } catch (error) {
    if (error instanceof UsageError) {
      out.error(`simulator: ${error.message} (see --help)`);
      return 2;
    }
    if (error instanceof MissingPermissionError) {
      out.error(`simulator: ${error.message}`);
      return 1;
    }
    throw error;
  }
  if (options === "help") {
    out.line(SIMULATOR_USAGE.trimEnd());
    return 0;
  }
  await configureLogging();
  const logger = getLog("simulator");
  options.log = (message) => logger.error(message);
  let handle;
  try {
    handle = await startSimulator(options);
  } catch (error) {
    if (error instanceof TwinFileError) {
      out.error(`simulator: cannot boot --twin: ${error.message}`);
      return 2;
    }
    out.error(
      `simulator: cannot start on 127.0.0.1:${options.port}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    return 1;
  }
  out.line(JSON.stringify({
    url: handle.url,
    api: handle.api,
    user: handle.credentials.user,
    password: handle.credentials.password,
    token_id: handle.credentials.tokenId,
    token_secret: handle.credentials.tokenSecret,
    ...(handle.twin === undefined ? {} : { twin: handle.twin }),
  }));
  logger.info("Simulated Proxmox VE cluster listening on {url}", { url: handle.url });
  const stop = onStopSignal();
  await stop.stopped.finally(() => stop.dispose());
  logger.info("Stopping the simulator");
  await handle.close();
  return 0;
}
