/**
 * `proxmox-mcp serve --http` as a subprocess: started with the permissions a user would give it,
 * ready once its log names the MCP URL, stopped with a signal.
 *
 * @module
 */

import { cleanEnv, MAIN } from "../cli/_cli.ts";

/** A running server process. */
export interface ServerProcess {
  /** The MCP endpoint from the server's log. */
  url: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends `signal` and waits for the exit; resolves with the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** Permissions for a server on loopback reading its config and writing its audit log. */
export const SERVE_FLAGS = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];

/**
 * Starts `main.ts serve <args>`; resolves once it serves, or rejects with its stderr when it
 * exits first.
 */
export async function startServeProcess(
  args: readonly string[],
  options: { env?: Record<string, string>; permissions?: readonly string[] } = {},
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      ...(options.permissions ?? SERVE_FLAGS),
      MAIN,
      "serve",
      ...args,
    ],
    env: cleanEnv(options.env),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const { promise: ready, resolve, reject } = Promise.withResolvers<string>();
  const pump = (async () => {
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      const url = /Serving MCP on (\S+\/mcp)/.exec(text)?.[1];
      if (url !== undefined) resolve(url);
    }
  })();
  const status = child.status;
  status.then((exit) =>
    reject(new Error(`serve exited with ${exit.code} before serving:\n${text}`))
  );
  const timer = setTimeout(
    () => reject(new Error(`serve did not start in 60 s:\n${text}`)),
    60_000,
  );
  let url: string;
  try {
    url = await ready;
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await status;
    await pump;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    url,
    stderr: () => text,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
      const exit = await status;
      await pump;
      return exit.code;
    },
  };
}
