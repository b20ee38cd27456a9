/**
 * MCP progress notifications for one request: sent with the request's progress token,
 * a no-op when the client gave none.
 *
 * @module
 */

import type { ServerContext } from "@modelcontextprotocol/server";
import { getLog } from "../log.ts";

/** Sends one progress update: a message and, when known, the fraction done (0..1). */
export type ProgressReporter = (message: string, fraction?: number) => void;

const log = getLog("server.progress");

/**
 * Builds the progress reporter of one request. Progress values are percentages when a
 * fraction is given (`total: 100`); every notification's `progress` is strictly greater than
 * the previous one, as the protocol requires, even when the fraction stands still.
 */
export function progressReporter(ctx: ServerContext): ProgressReporter {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return () => {};
  let last = 0;
  return (message, fraction) => {
    if (ctx.mcpReq.signal.aborted) return;
    let value = fraction === undefined ? last : Math.round(clamp(fraction) * 1000) / 10;
    if (value <= last) value = Math.round((last + 0.1) * 10) / 10;
    last = value;
    const params: {
      progressToken: typeof token;
      progress: number;
      total?: number;
      message: string;
    } = {
      progressToken: token,
      progress: value,
      message,
    };
    if (value <= 100) params.total = 100;
    ctx.mcpReq.notify({ method: "notifications/progress", params }).catch((error: unknown) => {
      log.debug("Could not send a progress notification: {error}", { error });
    });
  };
}

function clamp(fraction: number): number {
  if (!Number.isFinite(fraction)) return 0;
  return Math.min(1, Math.max(0, fraction));
}
