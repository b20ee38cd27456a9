/**
 * `proxmox-mcp healthcheck [URL]`: asks a running `serve --http` for `GET /healthz` and exits 0
 * when it answers 200. For container health checks in images without curl (the runtime image
 * holds only the binary).
 *
 * @module
 */

import { parseCommandArgs } from "./_args.ts";
import { type Output, stdio } from "./_output.ts";
import { reportFailure } from "./_runtime.ts";

/** Usage text of `healthcheck`. */
export const HEALTHCHECK_USAGE = `Usage: proxmox-mcp healthcheck [URL]

Exit 0 when the server at URL (default http://127.0.0.1:8080/healthz) answers 200, else 1.
Meant for container health checks: HEALTHCHECK CMD ["proxmox-mcp", "healthcheck"].`;

/** The URL checked when none is given. */
export const DEFAULT_HEALTH_URL = "http://127.0.0.1:8080/healthz";

/** Runs `healthcheck`; resolves with the exit code. */
export async function runHealthcheckCli(args: string[], out: Output = stdio): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(args, {
      options: { help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    if (values.help) {
      out.line(HEALTHCHECK_USAGE);
      return 0;
    }
    const url = positionals[0] ?? DEFAULT_HEALTH_URL;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
      await response.body?.cancel();
      if (response.status === 200) return 0;
      out.error(`Unhealthy: ${url} answered ${response.status}`);
      return 1;
    } catch (error) {
      out.error(
        `Unhealthy: ${url} did not answer (${
          error instanceof Error ? error.message : String(error)
        })`,
      );
      return 1;
    }
  } catch (error) {
    return reportFailure("healthcheck", error, out);
  }
}
