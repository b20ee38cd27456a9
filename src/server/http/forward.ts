/**
 * 2025-era session affinity without sticky load balancing: a session lives in the replica that
 * opened it, and Redis records which one (at its `http.replicaUrl`). A request for a session
 * held elsewhere is passed to that replica as is (its own guard and authentication run again),
 * and the answer — JSON or an SSE stream — is passed back.
 *
 * @module
 */

import type { ReadBody } from "./body.ts";
import { RPC_ERROR, rpcError } from "./responses.ts";

/** Marks a forwarded request, so it is never forwarded again. */
export const FORWARDED_HEADER = "x-proxmox-mcp-forwarded";

const HOP_BY_HOP = new Set([
  "connection",
  "content-length",
  "host",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
]);

/** Passes `request` (with its POST `body` as read at the edge) to the replica at `owner`. */
export async function forwardToReplica(
  owner: string,
  request: Request,
  read: ReadBody | undefined,
): Promise<Response> {
  const body = read?.text;
  const incoming = new URL(request.url);
  const target = new URL(incoming.pathname + incoming.search, owner);
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers.set(name, value);
  }
  headers.set(FORWARDED_HEADER, "1");
  try {
    const answer = await fetch(target, {
      method: request.method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: request.signal,
      redirect: "manual",
    });
    const out = new Headers();
    for (const [name, value] of answer.headers) {
      if (!HOP_BY_HOP.has(name.toLowerCase())) out.set(name, value);
    }
    return new Response(answer.body, { status: answer.status, headers: out });
  } catch {
    // The request may have reached the replica before the connection failed: a tool call in
    // it may have run there.
    const call = read?.messages.find((message) => message.method === "tools/call");
    const unreachable =
      "The replica holding this session cannot be reached: start a new session (initialize again)";
    if (call === undefined) return rpcError(502, RPC_ERROR.unavailable, unreachable);
    return rpcError(
      502,
      RPC_ERROR.unavailable,
      `${unreachable}. Whether the tool call in this request ran there is unknown: before ` +
        "repeating a change, check whether it happened (the guest's state, task_list)",
      { id: call.id ?? null },
    );
  }
}
