/**
 * The transport for a cluster whose certificate is not verified (`insecure: true`): `node:http`
 * requests over `node:tls` sockets opened with `rejectUnauthorized: false`, since Deno 2.9's
 * `Deno.createHttpClient` has no option to skip verification (see `transport.ts`). Loaded only
 * when such a cluster sends its first request.
 *
 * @module
 */

import http from "node:http";
import { isIP } from "node:net";
import tls from "node:tls";
import type { Transport } from "./transport.ts";

/**
 * A keep-alive agent whose connections are TLS sockets that skip certificate verification.
 * It opens them with `tls.connect` itself because `node:https`'s agent reads the system CA
 * store first, which under Deno needs `--allow-sys=ca` even when nothing is verified.
 */
class InsecureTlsAgent extends http.Agent {
  override createConnection(
    options: { host?: string | null; port?: number | string | null; servername?: string },
  ): tls.TLSSocket {
    const host = options.host ?? "localhost";
    const servername = options.servername ?? (isIP(host) === 0 ? host : undefined);
    return tls.connect({
      host,
      port: Number(options.port ?? 443),
      ...(servername === undefined ? {} : { servername }),
      rejectUnauthorized: false,
    });
  }
}

/** A transport that skips certificate verification (keep-alive, one agent). */
export function insecureTransport(): Transport {
  const agent = new InsecureTlsAgent({ keepAlive: true });
  const fetchInsecure = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    return new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((value, key) => {
        headers[key] = value;
      });
      const body = init?.body;
      if (body !== undefined && body !== null && typeof body !== "string") {
        reject(new TypeError("The insecure transport only sends string bodies"));
        return;
      }
      if (typeof body === "string") {
        headers["content-length"] = String(new TextEncoder().encode(body).byteLength);
      }
      const onAbort = () => {
        req.destroy();
        reject(signal?.reason);
      };
      if (url.protocol !== "https:") {
        reject(new TypeError(`The insecure transport only speaks https, not ${url.protocol}`));
        return;
      }
      const req = http.request(
        {
          host: url.hostname.replace(/^\[|\]$/g, ""),
          port: url.port === "" ? 443 : Number(url.port),
          path: url.pathname + url.search,
          method: init?.method ?? "GET",
          headers: { host: url.host, ...headers },
          agent,
        },
        (res) => {
          const chunks: Uint8Array[] = [];
          res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
          res.on("error", (error: Error) => {
            signal?.removeEventListener("abort", onAbort);
            reject(error);
          });
          res.on("end", () => {
            signal?.removeEventListener("abort", onAbort);
            const status = res.statusCode ?? 502;
            const responseHeaders = new Headers();
            for (const [key, value] of Object.entries(res.headers)) {
              if (value === undefined) continue;
              for (const v of Array.isArray(value) ? value : [value]) {
                responseHeaders.append(key, v);
              }
            }
            const nullBody = status === 204 || status === 304 || (status >= 100 && status < 200);
            const total = chunks.reduce((n, c) => n + c.byteLength, 0);
            const bytes = new Uint8Array(total);
            let offset = 0;
            for (const c of chunks) {
              bytes.set(c, offset);
              offset += c.byteLength;
            }
            const body = nullBody ? null : bytes;
            // Keep PVE's own reason phrase (it carries the error text on PVE < 8.3).
            let response: Response;
            try {
              response = new Response(body, {
                status,
                statusText: res.statusMessage ?? "",
                headers: responseHeaders,
              });
            } catch {
              response = new Response(body, { status, headers: responseHeaders });
            }
            resolve(response);
          });
        },
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (error: Error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(new TypeError(`fetch failed: ${error.message}`, { cause: error }));
      });
      if (typeof body === "string") req.write(body);
      req.end();
    });
  };
  let closed = false;
  return {
    fetch: fetchInsecure,
    close() {
      if (closed) return;
      closed = true;
      agent.destroy();
    },
  };
}
