/**
 * Runs the command line as a subprocess with the permissions a user would give it, and an
 * environment without any `PROXMOX_*` variable of the machine running the tests.
 *
 * @module
 */

/** The entry point under test. */
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The permissions of `deno task demo`. */
export const DEMO_FLAGS = ["--allow-net=127.0.0.1,localhost", "--allow-read"];

/** What a finished run printed. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of the test process without `PROXMOX_*` variables, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("PROXMOX_")),
  );
  return { ...env, ...extra };
}

/** Runs `deno run <permissions> main.ts <args>` and collects its output. */
export async function runCli(
  permissions: readonly string[],
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliRun> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", ...permissions, MAIN, ...args],
    env: cleanEnv(options.env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const output = await command.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
