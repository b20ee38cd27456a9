/**
 * A JSON-RPC client at the byte level: it writes lines exactly as given (malformed ones
 * included) and matches each reply to the request that carried its id, so the fuzz run can
 * count requests that got no answer, or more than one, and time each call.
 *
 * @module
 */

const encoder = new TextEncoder();

/** A reply as received. */
export interface Reply {
  /** The parsed line. */
  message: Record<string, unknown>;
  /** Its length in characters. */
  length: number;
}

/** What one exchange gave. */
export interface Exchange {
  reply?: Reply;
  /** Milliseconds from writing the line to reading its reply (or to giving up). */
  ms: number;
}

/** What a session saw that no exchange asked for. */
export interface SessionOddities {
  /** Output lines that are not JSON. */
  garbage: string[];
  /** Replies to ids never sent, or a second reply to one id. */
  unexpected: string[];
  /** Requests the server sent to the client (it declared no capabilities). */
  serverRequests: string[];
}

interface Waiter {
  resolve: (reply: Reply | undefined) => void;
}

/** A JSON-RPC session over a line-oriented duplex. */
export class RpcSession {
  readonly #write: (bytes: Uint8Array) => Promise<void>;
  readonly #waiters = new Map<string, Waiter>();
  readonly #nullWaiters: Waiter[] = [];
  readonly #answered = new Set<string>();
  readonly oddities: SessionOddities = { garbage: [], unexpected: [], serverRequests: [] };
  /** Notifications received (progress, log messages), by method. */
  readonly notifications = new Map<string, number>();
  #nextId = 1;
  #reading: Promise<void>;
  #ended = false;

  /** A session writing with `write` and reading replies from `lines`. */
  constructor(write: (bytes: Uint8Array) => Promise<void>, lines: AsyncIterable<string>) {
    this.#write = write;
    this.#reading = this.#read(lines);
  }

  async #read(lines: AsyncIterable<string>): Promise<void> {
    try {
      for await (const line of lines) this.#receive(line);
    } finally {
      this.#ended = true;
      for (const waiter of this.#waiters.values()) waiter.resolve(undefined);
      this.#waiters.clear();
      for (const waiter of this.#nullWaiters.splice(0)) waiter.resolve(undefined);
    }
  }

  #receive(line: string): void {
    if (line.trim() === "") return;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line);
    } catch {
      this.oddities.garbage.push(line.slice(0, 200));
      return;
    }
    if (typeof message.method === "string") {
      if ("id" in message) this.oddities.serverRequests.push(line.slice(0, 200));
      else {
        this.notifications.set(message.method, (this.notifications.get(message.method) ?? 0) + 1);
      }
      return;
    }
    const reply: Reply = { message, length: line.length };
    if (message.id === null) {
      const waiter = this.#nullWaiters.shift();
      if (waiter === undefined) this.oddities.unexpected.push(line.slice(0, 200));
      else waiter.resolve(reply);
      return;
    }
    const key = JSON.stringify(message.id);
    const waiter = this.#waiters.get(key);
    if (waiter === undefined || this.#answered.has(key)) {
      this.oddities.unexpected.push(line.slice(0, 200));
      return;
    }
    this.#answered.add(key);
    this.#waiters.delete(key);
    waiter.resolve(reply);
  }

  /** A fresh request id. */
  nextId(): number {
    return this.#nextId++;
  }

  /**
   * Writes `line` and waits for the reply with `expect` as its id (`null`: a reply whose id is
   * null, for lines whose id cannot be read; `undefined`: no reply is due).
   */
  async exchange(
    line: string | Uint8Array,
    expect: string | number | null | undefined,
    timeoutMs: number,
  ): Promise<Exchange> {
    const bytes = typeof line === "string" ? encoder.encode(`${line}\n`) : line;
    if (expect === undefined) {
      await this.#write(bytes);
      return { ms: 0 };
    }
    const { promise, resolve } = Promise.withResolvers<Reply | undefined>();
    const waiter: Waiter = { resolve };
    if (expect === null) this.#nullWaiters.push(waiter);
    else this.#waiters.set(JSON.stringify(expect), waiter);
    if (this.#ended) resolve(undefined);
    const start = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((done) => {
      timer = setTimeout(() => done(undefined), timeoutMs);
    });
    try {
      await this.#write(bytes);
    } catch {
      resolve(undefined);
    }
    const reply = await Promise.race([promise, timeout]);
    clearTimeout(timer);
    const ms = performance.now() - start;
    if (reply === undefined) {
      if (expect === null) {
        const index = this.#nullWaiters.indexOf(waiter);
        if (index >= 0) this.#nullWaiters.splice(index, 1);
      } else {
        this.#waiters.delete(JSON.stringify(expect));
        // A late reply is still a reply to a known id, not an unexpected one.
        this.#waiters.set(JSON.stringify(expect), { resolve: () => {} });
      }
      return { ms };
    }
    return { reply, ms };
  }

  /** Sends a request built from `method` and `params` (JSON text) and waits for its reply. */
  request(method: string, paramsJson: string, timeoutMs: number): Promise<Exchange> {
    const id = this.nextId();
    return this.exchange(
      `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${paramsJson}}`,
      id,
      timeoutMs,
    );
  }

  /** The 2025-era handshake: `initialize`, then `notifications/initialized`. */
  async initialize(timeoutMs: number): Promise<Exchange> {
    const exchange = await this.request(
      "initialize",
      JSON.stringify({
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "fuzz", version: "1.0.0" },
      }),
      timeoutMs,
    );
    await this.exchange('{"jsonrpc":"2.0","method":"notifications/initialized"}', undefined, 0);
    return exchange;
  }

  /** Resolves when the server's output has ended. */
  get ended(): Promise<void> {
    return this.#reading;
  }
}

/** Splits a byte stream into lines of text. */
export async function* textLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  // Parts of the current line, so a long line costs linear time however it is chunked.
  let parts: string[] = [];
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    const chunk = decoder.decode(bytes, { stream: true });
    let start = 0;
    let index = chunk.indexOf("\n");
    while (index >= 0) {
      parts.push(chunk.slice(start, index));
      yield parts.join("");
      parts = [];
      start = index + 1;
      index = chunk.indexOf("\n", start);
    }
    if (start < chunk.length) parts.push(chunk.slice(start));
  }
  const last = decoder.decode();
  if (last !== "") parts.push(last);
  if (parts.length > 0) yield parts.join("");
}
