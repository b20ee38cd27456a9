/**
 * Probes for orchestrators, answered without authentication and without detail: `GET /healthz`
 * says the process serves; `GET /readyz` says every configured cluster answers `GET /version`
 * (and the shared store, when there is one), checked at most every few seconds.
 *
 * @module
 */

import type { PveClient } from "../../pve/mod.ts";
import { json } from "./responses.ts";

const READY_CACHE_MS = 5000;
const PROBE_TIMEOUT_MS = 3000;

/** Answers `/healthz` and `/readyz`. */
export class Health {
  readonly #clients: ReadonlyMap<string, PveClient>;
  readonly #sharedPing: () => Promise<boolean>;
  #last: { atMs: number; ready: boolean } | undefined;
  #pending: Promise<boolean> | undefined;

  /** Probes over the server's own clients and shared store. */
  constructor(clients: ReadonlyMap<string, PveClient>, sharedPing: () => Promise<boolean>) {
    this.#clients = clients;
    this.#sharedPing = sharedPing;
  }

  /** `GET /healthz`. */
  live(): Response {
    return json(200, { status: "ok" }, { "cache-control": "no-store" });
  }

  /** `GET /readyz`. */
  async ready(): Promise<Response> {
    const ready = await this.#check();
    return json(ready ? 200 : 503, { status: ready ? "ready" : "not ready" }, {
      "cache-control": "no-store",
    });
  }

  #check(): Promise<boolean> {
    const now = Date.now();
    if (this.#last !== undefined && now - this.#last.atMs < READY_CACHE_MS) {
      return Promise.resolve(this.#last.ready);
    }
    this.#pending ??= this.#probe().then((ready) => {
      this.#last = { atMs: Date.now(), ready };
      this.#pending = undefined;
      return ready;
    });
    return this.#pending;
  }

  async #probe(): Promise<boolean> {
    const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    const clusters = [...this.#clients.values()].map((client) =>
      client.get("/version", undefined, { signal }).then(() => true, () => false)
    );
    const results = await Promise.all([...clusters, this.#sharedPing()]);
    return results.every(Boolean);
  }
}
