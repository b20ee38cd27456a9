/**
 * What the whole-process benchmarks share: a child process speaking JSON-RPC lines on
 * stdin/stdout (the server or the baseline script), its memory as the kernel reports it, and
 * the variants of how `serve` is started.
 *
 * @module
 */

const RESPONSE_TIMEOUT_MS = 120_000;
const root = new URL("../", import.meta.url);

/** `main.ts` of this checkout. */
export const MAIN_TS = new URL("main.ts", root).pathname;
/** The zero-dependency baseline server. */
export const BASELINE_TS = new URL("bench/_baseline_server.ts", root).pathname;
/** Whether `/proc/<pid>/status` exists (memory is measured on Linux only). */
export const ON_LINUX = Deno.build.os === "linux";

/** A child process speaking JSON-RPC lines on stdin/stdout. */
export class LineProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiting = new Map<unknown, (message: unknown) => void>();
  readonly #done: Promise<void>;
  #nextId = 1;

  /** Spawns `command args` (default command: this Deno). */
  constructor(args: string[], env: Record<string, string>, command = Deno.execPath()) {
    this.#child = new Deno.Command(command, {
      args,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#done = this.#read();
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  async #read(): Promise<void> {
    let buffered = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf("\n")) >= 0) {
        const message = JSON.parse(buffered.slice(0, end)) as { id?: unknown };
        buffered = buffered.slice(end + 1);
        this.#waiting.get(message.id)?.(message);
        this.#waiting.delete(message.id);
      }
    }
  }

  async #write(message: Record<string, unknown>): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(`${JSON.stringify(message)}\n`));
  }

  /** Sends a notification. */
  notify(method: string): Promise<void> {
    return this.#write({ jsonrpc: "2.0", method });
  }

  /** Sends a request and resolves with its result (rejects on an error or a timeout). */
  async request(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.#waiting.set(id, resolve);
    const timer = setTimeout(
      () => reject(new Error(`No answer to "${method}" within ${RESPONSE_TIMEOUT_MS} ms`)),
      RESPONSE_TIMEOUT_MS,
    );
    try {
      await this.#write({ jsonrpc: "2.0", id, method, params });
      const message = await promise as { error?: unknown; result?: { isError?: boolean } };
      if (message.error !== undefined || message.result?.isError) {
        throw new Error(`Request "${method}" failed: ${JSON.stringify(message).slice(0, 300)}`);
      }
      return message.result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `initialize`, `notifications/initialized`, `tools/list`, as an MCP client opens. */
  async handshake(): Promise<void> {
    await this.request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "bench", version: "1.0.0" },
    });
    await this.notify("notifications/initialized");
    await this.request("tools/list");
  }

  /** Ends stdin and waits for the process to exit (killing it after 10 s). */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    try {
      await this.#child.status;
      await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Resident and peak memory of a process in bytes (`undefined` off Linux). */
export interface Memory {
  /** VmRSS: resident now. */
  rss: number;
  /** VmHWM: the peak so far. */
  hwm: number;
}

/**
 * The memory of a process, read with `cat` (Deno wants `--allow-all` to read another process's
 * `/proc` entry directly).
 */
export async function memoryOf(pid: number): Promise<Memory | undefined> {
  if (!ON_LINUX) return undefined;
  const output = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stderr: "null" })
    .output();
  const status = new TextDecoder().decode(output.stdout);
  const kib = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB$`, "m").exec(status)?.[1]);
  const rss = kib("VmRSS");
  const hwm = kib("VmHWM");
  return Number.isNaN(rss) || Number.isNaN(hwm) ? undefined : { rss: rss * 1024, hwm: hwm * 1024 };
}

/**
 * A Deno cache directory for one variant of a benchmark: the shared caches of modules, npm
 * packages and emitted code linked in (nothing is fetched again), and databases of its own.
 * Deno keeps V8's compiled code in one database keyed by the V8 flags, so variants run
 * alternately with different flags would otherwise throw each other's compiled code away on
 * every run and time the recompilation. Removed by `dispose`.
 */
export async function ownDenoDir(): Promise<{ path: string; dispose(): Promise<void> }> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" })
    .output();
  const shared = (JSON.parse(new TextDecoder().decode(info.stdout)) as { denoDir: string })
    .denoDir;
  const path = await Deno.makeTempDir({ prefix: "proxmox-mcp-bench-deno-" });
  for await (const entry of Deno.readDir(shared)) {
    if (entry.isDirectory) await Deno.symlink(`${shared}/${entry.name}`, `${path}/${entry.name}`);
  }
  return { path, dispose: () => Deno.remove(path, { recursive: true }) };
}

/** The V8 flags the tasks, the printed client configurations and the binary carry. */
export { V8_FLAGS } from "../src/cli/_run_flags.ts";

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The `p`th percentile of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[rank] ?? NaN;
}

/** Bytes as MiB with one decimal, or "—". */
export function mib(bytes: number | undefined): string {
  return bytes === undefined || Number.isNaN(bytes) ? "—" : (bytes / 2 ** 20).toFixed(1);
}
