/**
 * Reading a POST body once at the edge: the media type must be JSON (415), the size within
 * `http.maxBodyBytes` (413), and the text valid JSON (400 with a JSON-RPC parse error). The
 * parsed messages let the server rate-limit tool calls before any server instance runs; the
 * request handed on to the SDK is rebuilt with the same text, so the SDK still validates the
 * messages itself.
 *
 * @module
 */

import { isJsonContentType, readRequestBody } from "@modelcontextprotocol/server";
import { RPC_ERROR, rpcError } from "./responses.ts";

/** A JSON-RPC message as far as the edge looks at it. */
export interface EdgeMessage {
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
}

/** A POST body that passed the edge checks. */
export interface ReadBody {
  /** The request again, with the body still to be read (by the SDK). */
  request: Request;
  /** The body as received. */
  text: string;
  /** The parsed body. */
  parsed: unknown;
  /** The messages of the body (one, or a batch). */
  messages: EdgeMessage[];
}

/** Reads and checks a POST body; a `Response` when it is refused. */
export async function readBody(
  request: Request,
  maxBytes: number,
): Promise<ReadBody | Response> {
  const type = request.headers.get("content-type");
  if (!isJsonContentType(type)) {
    return rpcError(
      415,
      RPC_ERROR.invalidRequest,
      'Unsupported Media Type: send the JSON-RPC message with "Content-Type: application/json"',
    );
  }
  let body: Awaited<ReturnType<typeof readRequestBody>>;
  try {
    body = await readRequestBody(request, maxBytes);
  } catch {
    return rpcError(400, RPC_ERROR.parse, "Parse error: the request body could not be read");
  }
  if (body.tooLarge) {
    return rpcError(
      413,
      RPC_ERROR.invalidRequest,
      `Payload Too Large: request bodies are limited to ${maxBytes} bytes (http.maxBodyBytes)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.text);
  } catch {
    return rpcError(400, RPC_ERROR.parse, "Parse error: the request body is not valid JSON");
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const messages = list.filter((item): item is EdgeMessage =>
    typeof item === "object" && item !== null && !Array.isArray(item)
  );
  if (messages.length !== list.length || messages.length === 0) {
    return rpcError(
      400,
      RPC_ERROR.invalidRequest,
      "Invalid Request: the body must be a JSON-RPC message object",
    );
  }
  const rebuilt = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: body.text,
    signal: request.signal,
  });
  return { request: rebuilt, text: body.text, parsed, messages };
}
