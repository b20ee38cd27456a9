/**
 * The HTTP answers the server gives itself (before or beside the SDK): JSON-RPC error bodies
 * with the right status, and plain JSON. Bodies say what to do and never echo a credential.
 *
 * @module
 */

/** JSON-RPC error codes used at the HTTP edge. */
export const RPC_ERROR = {
  parse: -32700,
  invalidRequest: -32600,
  internal: -32603,
  /** Server-defined: the caller is over its rate limit. */
  rateLimited: -32029,
  /** Server-defined: the server cannot take the request now (draining, shared state down). */
  unavailable: -32000,
} as const;

/** A JSON-RPC error response over HTTP. */
export function rpcError(
  status: number,
  code: number,
  message: string,
  options: { id?: string | number | null; data?: unknown; headers?: HeadersInit } = {},
): Response {
  const error: Record<string, unknown> = { code, message };
  if (options.data !== undefined) error.data = options.data;
  return new Response(
    JSON.stringify({ jsonrpc: "2.0", id: options.id ?? null, error }),
    {
      status,
      headers: { "content-type": "application/json", ...headersObject(options.headers) },
    },
  );
}

/** The answer to a request that failed with a bug (logged by the caller). */
export function bugResponse(): Response {
  return rpcError(
    500,
    RPC_ERROR.internal,
    "Internal error: this is a bug in proxmox-mcp; please report it",
  );
}

/** A JSON body. */
export function json(status: number, body: unknown, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headersObject(headers) },
  });
}

function headersObject(headers: HeadersInit | undefined): Record<string, string> {
  return Object.fromEntries(new Headers(headers).entries());
}
