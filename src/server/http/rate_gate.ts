/**
 * Rate limits at the HTTP edge: each `tools/call` in a POST body takes a token from its caller's
 * buckets before any server instance runs (a write tool also from the write bucket). Over the
 * limit, the request gets HTTP 429 with `Retry-After` and a JSON-RPC error carrying the retry
 * time; a refused write tool call is audited as denied.
 *
 * @module
 */

import type { AuditLog } from "../../policy/audit.ts";
import type { Profile } from "../../policy/profile.ts";
import type { RateLimiter } from "../../policy/rate_limit.ts";
import type { AnyTool } from "../../tools/types.ts";
import type { EdgeMessage } from "./body.ts";
import { RPC_ERROR, rpcError } from "./responses.ts";

/** What the gate needs. */
export interface RateGateOptions {
  limiter: RateLimiter;
  /** Every tool by name (the class decides the bucket). */
  tools: ReadonlyMap<string, AnyTool>;
  audit: AuditLog;
}

/** The 429 answer when one of the messages' tool calls is over the caller's limit. */
export async function rateGate(
  options: RateGateOptions,
  profile: Profile,
  messages: readonly EdgeMessage[],
): Promise<Response | undefined> {
  for (const message of messages) {
    if (message.method !== "tools/call") continue;
    const name = typeof message.params?.name === "string" ? message.params.name : "";
    const tool = options.tools.get(name);
    const write = tool !== undefined && tool.capability !== "read";
    let refused;
    try {
      refused = await options.limiter.check(profile.name, profile.rateLimit, write);
    } catch {
      return rpcError(
        503,
        RPC_ERROR.unavailable,
        "The rate-limit store is unreachable, so nothing was run: try again shortly",
        { id: message.id ?? null, headers: { "retry-after": "5" } },
      );
    }
    if (refused === undefined) continue;
    if (write && tool !== undefined) {
      await auditRefusal(options.audit, profile, tool, message, refused.message);
    }
    const seconds = Math.max(1, Math.ceil(refused.retryAfterMs / 1000));
    return rpcError(429, RPC_ERROR.rateLimited, refused.message, {
      id: message.id ?? null,
      data: { retry_after_seconds: seconds, bucket: refused.bucket },
      headers: { "retry-after": String(seconds) },
    });
  }
  return undefined;
}

async function auditRefusal(
  audit: AuditLog,
  profile: Profile,
  tool: AnyTool,
  message: EdgeMessage,
  error: string,
): Promise<void> {
  const raw = message.params?.arguments;
  const given = typeof raw === "object" && raw !== null && !Array.isArray(raw)
    ? raw as Record<string, unknown>
    : {};
  const { cluster: clusterArg, dry_run: dryRun, ...args } = given;
  const cluster = typeof clusterArg === "string"
    ? clusterArg
    : Object.keys(profile.config.clusters)[0] ?? "default";
  try {
    await audit.forProfile(profile.name).record({
      cluster,
      tool: tool.name,
      arguments: args,
      dry_run: dryRun === true,
      outcome: "denied",
      error,
    });
  } catch {
    // The call is refused either way; the audit log's own check reports a broken file.
  }
}
