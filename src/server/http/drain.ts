/**
 * Graceful shutdown: calls in flight are counted from the moment they are taken until their
 * response (JSON or SSE stream) has been delivered; on SIGTERM the server stops taking new calls
 * and waits for these up to `http.shutdownSeconds`. A call answered as one JSON body has no
 * response until it is done, so it is counted while its response is still to come, not only
 * once it streams.
 *
 * @module
 */

/** Counts calls in flight and says when none is left. */
export class Drain {
  #inflight = 0;
  #draining = false;
  #idle: Array<() => void> = [];

  /** Calls whose response is not yet delivered. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Whether shutdown has begun (new calls are refused). */
  get draining(): boolean {
    return this.#draining;
  }

  /** Stops taking new calls. */
  begin(): void {
    this.#draining = true;
  }

  /**
   * Counts a call as in flight from now until its response's body is delivered or abandoned
   * (or the response fails to come).
   */
  async track(pending: Promise<Response>): Promise<Response> {
    this.#inflight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.#inflight--;
      if (this.#inflight === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
    };
    let response: Response;
    try {
      response = await pending;
    } catch (error) {
      finish();
      throw error;
    }
    if (response.body === null) {
      finish();
      return response;
    }
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done: end, value } = await reader.read();
          if (end) {
            controller.close();
            finish();
          } else {
            controller.enqueue(value);
          }
        } catch (error) {
          finish();
          controller.error(error);
        }
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  /** Resolves when no call is in flight, or after `ms`; resolves with the calls left. */
  async settle(ms: number): Promise<number> {
    if (this.#inflight === 0) return 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#idle.push(resolve)),
      new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
    ]);
    clearTimeout(timer);
    return this.#inflight;
  }
}
