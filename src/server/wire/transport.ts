/**
 * MCP's stdio transport, ours rather than the SDK's so that the wire holds under hostile input
 * and scripted use:
 *
 * - framing is linear and bounded (`lines.ts`): a line over `maxMessageBytes` is skipped, not
 *   buffered, and answered;
 * - every line is checked (`jsonrpc.ts`) before the server sees it: a malformed request that
 *   can be answered gets its JSON-RPC error, a malformed notification is reported for the log;
 * - when stdin ends, requests already received are finished (bounded by `drainMs`) before the
 *   transport closes, and any it had to abandon are reported by id and method — so
 *   `printf '<initialize>\n<tools/call>\n' | serve` gets every reply.
 *
 * It implements the SDK's `Transport` interface (types only: loading this module loads no SDK
 * code), so it can carry the SDK's stdio entry and the start-up answers alike.
 *
 * @module
 */

import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/server";
import {
  classify,
  type ErrorReply,
  isObject,
  type Message,
  oneLineError,
  type RequestId,
  tooLongReply,
} from "./jsonrpc.ts";
import { readLines } from "./lines.ts";

/** Where the transport reports what it could not answer (the log, once it is loaded). */
export type Report = (level: "warning" | "error", message: string) => void;

/** Options of {@linkcode StdioTransport}. */
export interface StdioTransportOptions {
  /** Input bytes (default: the process's stdin, read directly). */
  input?: ReadableStream<Uint8Array>;
  /** Output bytes (default: the process's stdout, written directly). */
  output?: WritableStream<Uint8Array>;
  /** The longest line accepted, in bytes (default 4 MiB). */
  maxMessageBytes?: number;
  /** How long requests in flight may take to finish once stdin has ended (default 60 s). */
  drainMs?: number;
  /** Receives problems no reply can carry (default: stderr). */
  report?: Report;
}

/** The default longest accepted line: 4 MiB (the largest tool argument is far smaller). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();

function stderrReport(level: "warning" | "error", message: string): void {
  Deno.stderr.writeSync(encoder.encode(`${level.toUpperCase()} stdio: ${message}\n`));
}

/** The size of one read from stdin. */
const READ_BYTES = 64 * 1024;

/**
 * The process's stdin as chunks, read with `Deno.stdin.read` into a fresh buffer each time
 * (the line reader keeps slices of them). No web stream is built: that saves a few
 * milliseconds before the first answer of every session. A read still pending when the
 * transport closes ends with the process.
 */
async function* stdinChunks(): AsyncGenerator<Uint8Array> {
  while (true) {
    const buffer = new Uint8Array(READ_BYTES);
    const read = await Deno.stdin.read(buffer);
    if (read === null) return;
    if (read > 0) yield buffer.subarray(0, read);
  }
}

/** Writes all of `bytes` to the process's stdout. */
async function writeStdout(bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await Deno.stdout.write(bytes.subarray(offset));
}

/** MCP over newline-delimited JSON-RPC on a pair of byte streams. */
export class StdioTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;

  /** Requests received and not yet answered, by id (with their method, for reports). */
  readonly pending = new Map<RequestId, string>();

  readonly #input: ReadableStream<Uint8Array> | undefined;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #maxMessageBytes: number;
  readonly #report: Report;
  #drainMs: number;
  #started = false;
  #closed = false;
  #inputEnded = false;
  #writes: Promise<void> = Promise.resolve();
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #reading: Promise<void> | undefined;
  readonly #abort = new AbortController();

  /** A transport over the given streams (default: stdin/stdout). */
  constructor(options: StdioTransportOptions = {}) {
    this.#input = options.input;
    this.#writer = options.output?.getWriter();
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#drainMs = options.drainMs ?? 60_000;
    this.#report = options.report ?? stderrReport;
  }

  /** How long requests in flight may take once stdin has ended. */
  set drainMs(ms: number) {
    this.#drainMs = ms;
  }

  /** Whether stdin has ended. */
  get inputEnded(): boolean {
    return this.#inputEnded;
  }

  /** Starts reading; messages go to `onmessage`. */
  start(): Promise<void> {
    if (this.#started) throw new Error("StdioTransport already started");
    this.#started = true;
    this.#reading = this.#read();
    return Promise.resolve();
  }

  async #read(): Promise<void> {
    const input = this.#input === undefined
      ? stdinChunks()
      : this.#input.pipeThrough(new TransformStream(), { signal: this.#abort.signal });
    try {
      for await (const line of readLines(input, this.#maxMessageBytes)) {
        if (this.#closed) break;
        if (line.kind === "too_long") {
          await this.#write(tooLongReply(line.bytes, this.#maxMessageBytes, line.head));
          continue;
        }
        if (line.text.trim() === "") continue;
        this.#receive(line.text);
      }
    } catch (error) {
      if (!this.#closed) this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
    this.#inputEnded = true;
    this.#maybeFinish();
  }

  #receive(text: string): void {
    const inbound = classify(text);
    switch (inbound.kind) {
      case "invalid":
        if (inbound.reply !== undefined) {
          this.#write(inbound.reply).catch(() => {});
        } else {
          this.#report("warning", `Ignored a message that cannot be answered: ${inbound.problem}`);
        }
        return;
      case "request":
        this.pending.set(inbound.id, inbound.method);
        break;
      case "notification":
        if (inbound.method === "notifications/cancelled") {
          const params = inbound.message.params as Message | undefined;
          const id = params?.requestId;
          // The protocol sends no reply to a cancelled request: nothing to wait for.
          if (typeof id === "string" || typeof id === "number") this.#settle(id);
        }
        break;
      case "response":
        break;
    }
    this.onmessage?.(inbound.message as unknown as JSONRPCMessage);
  }

  /** Sends one message (a line of JSON). */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("StdioTransport is closed"));
    const reply = message as Message;
    // Every error goes out as one bounded line, whatever the SDK put into it.
    const sent = this.#write(
      isObject(reply.error) && typeof reply.error.message === "string"
        ? oneLineError(reply as unknown as ErrorReply)
        : message,
    );
    if (("result" in reply || "error" in reply) && "id" in reply) {
      const id = reply.id;
      if (typeof id === "string" || typeof id === "number") {
        sent.finally(() => this.#settle(id)).catch(() => {});
      }
    }
    return sent;
  }

  /** Writes an already serialized line (the start-up answers), settling its request. */
  sendRaw(id: RequestId, json: string): Promise<void> {
    const sent = this.#enqueue(encoder.encode(`${json}\n`));
    sent.finally(() => this.#settle(id)).catch(() => {});
    return sent;
  }

  #write(message: unknown): Promise<void> {
    return this.#enqueue(encoder.encode(`${JSON.stringify(message)}\n`));
  }

  #enqueue(bytes: Uint8Array): Promise<void> {
    const writer = this.#writer;
    const next = this.#writes.then(() =>
      writer === undefined ? writeStdout(bytes) : writer.write(bytes)
    );
    this.#writes = next.catch(() => {});
    return next;
  }

  #settle(id: RequestId): void {
    if (!this.pending.delete(id)) return;
    this.#maybeFinish();
  }

  /** Once stdin has ended: close when nothing is in flight, or when the drain time is up. */
  #maybeFinish(): void {
    if (!this.#inputEnded || this.#closed) return;
    if (this.pending.size === 0) {
      this.#writes.then(() => this.close());
      return;
    }
    if (this.#drainTimer !== undefined) return;
    this.#drainTimer = setTimeout(() => {
      const abandoned = [...this.pending].map(([id, method]) =>
        `${method} (id ${JSON.stringify(id)})`
      );
      this.#report(
        "error",
        `stdin ended and ${abandoned.length} request(s) did not finish within ${this.#drainMs} ms; ` +
          `abandoned without a reply: ${abandoned.join(", ")}`,
      );
      this.close();
    }, this.#drainMs);
  }

  /** Stops reading, flushes what was written, and fires `onclose` once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.#abort.abort();
    await this.#writes;
    try {
      this.#writer?.releaseLock();
    } catch {
      // Already released.
    }
    this.onclose?.();
  }

  /** Resolves when the reading loop has stopped. */
  get finished(): Promise<void> {
    return this.#reading ?? Promise.resolve();
  }
}
