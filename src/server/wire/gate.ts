/**
 * The start-up gate between the wire and the full server. Until the full server (SDK, tools,
 * clients) is loaded, requests the start-up answers cover are answered at once
 * (`early.ts`); every message is also kept, in order. The first message those answers do not
 * cover starts loading the full server, which then receives the kept messages — the answered
 * ones included, so it learns the client's protocol version and capabilities exactly as if it
 * had served them — and everything after. Its own replies to requests already answered are
 * compared with the early answers and dropped; a difference is reported as the bug it is.
 *
 * @module
 */

import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/server";
import type { EarlyResponder } from "./early.ts";
import type { Message, RequestId } from "./jsonrpc.ts";
import type { Report, StdioTransport } from "./transport.ts";

/** Connects the full server to a transport; resolves when it is serving. */
export type StartFullServer = (channel: Transport) => Promise<void>;

/** Options of {@linkcode StartupGate}. */
export interface StartupGateOptions {
  /** The wire to the client. */
  wire: StdioTransport;
  /** The start-up answers, when the configuration allows them. */
  early?: EarlyResponder | undefined;
  /** Loads the full server and connects it to the given transport. */
  load: () => Promise<StartFullServer>;
  /** Where differences and load failures are reported. */
  report: Report;
  /** Called after the first early answer was written (to start background work). */
  onFirstAnswer?: () => void;
  /**
   * Turns a failure to load the full server (a configuration mistake) into the sentence every
   * request is then answered with; without it, requests stay unanswered.
   */
  describeFailure?: (error: unknown) => string;
}

/** Holds messages until the full server is loaded; answers what it can meanwhile. */
export class StartupGate {
  readonly #wire: StdioTransport;
  readonly #early: EarlyResponder | undefined;
  readonly #load: () => Promise<StartFullServer>;
  readonly #report: Report;
  readonly #onFirstAnswer: (() => void) | undefined;
  readonly #describeFailure: ((error: unknown) => string) | undefined;
  #failure: string | undefined;
  readonly #kept: JSONRPCMessage[] = [];
  readonly #answered = new Map<RequestId, string>();
  #channel: GateChannel | undefined;
  #loading: Promise<void> | undefined;

  /** A gate on `options.wire`; call {@linkcode start} to begin. */
  constructor(options: StartupGateOptions) {
    this.#wire = options.wire;
    this.#early = options.early;
    this.#load = options.load;
    this.#report = options.report;
    this.#onFirstAnswer = options.onFirstAnswer;
    this.#describeFailure = options.describeFailure;
  }

  /** Starts reading the wire. */
  async start(): Promise<void> {
    this.#wire.onmessage = (message) => this.#inbound(message);
    await this.#wire.start();
  }

  /** Loads the full server now (idempotent); resolves when it serves. */
  loadFullServer(): Promise<void> {
    if (this.#loading === undefined) {
      const channel = new GateChannel(this.#wire, this.#answered, this.#report);
      this.#loading = this.#load().then(async (startFull) => {
        channel.pending = this.#kept.splice(0);
        this.#channel = channel;
        await startFull(channel);
      }, (error: unknown) => {
        if (this.#describeFailure !== undefined) {
          // Every request kept and every later one is answered with what is wrong.
          this.#failure = this.#describeFailure(error);
          for (const message of this.#kept.splice(0)) this.#answerFailure(message);
        }
        throw error;
      });
    }
    return this.#loading;
  }

  /** Whether the full server was asked for. */
  get loading(): boolean {
    return this.#loading !== undefined;
  }

  /** Answers a request with the load failure (a tool call as a tool error the model reads). */
  #answerFailure(message: JSONRPCMessage): void {
    const m = message as unknown as Message;
    if (typeof m.method !== "string" || !("id" in m)) return;
    const id = m.id as RequestId;
    if (this.#answered.has(id)) return;
    const text = this.#failure ?? "The server could not start.";
    const params = m.params as { _meta?: Record<string, unknown> } | undefined;
    const modern = params?._meta?.["io.modelcontextprotocol/protocolVersion"] !== undefined;
    const reply = m.method === "tools/call" && !modern
      ? { jsonrpc: "2.0", id, result: { content: [{ type: "text", text }], isError: true } }
      : { jsonrpc: "2.0", id, error: { code: -32603, message: text } };
    this.#wire.send(reply as unknown as JSONRPCMessage).catch(() => {});
  }

  #inbound(message: JSONRPCMessage): void {
    if (this.#failure !== undefined) {
      this.#answerFailure(message);
      return;
    }
    if (this.#channel !== undefined) {
      this.#channel.deliver(message);
      return;
    }
    this.#kept.push(message);
    if (this.#loading !== undefined) return;
    const m = message as unknown as Message;
    if (typeof m.method === "string" && "id" in m) {
      const id = m.id as RequestId;
      const text = this.#early?.answer(id, m.method, m);
      if (text !== undefined) {
        const first = this.#answered.size === 0;
        this.#answered.set(id, text);
        this.#wire.sendRaw(id, text).catch(() => {});
        if (first) this.#onFirstAnswer?.();
        return;
      }
    } else if (m.method === "notifications/initialized") {
      return;
    }
    this.loadFullServer().catch((error) => {
      // With describeFailure the owner reports it (once); the requests get the answer.
      if (this.#describeFailure === undefined) {
        this.#report("error", `Could not start the server: ${error?.message ?? error}`);
      }
    });
  }
}

/** The transport the full server is connected to: kept messages first, then the wire. */
class GateChannel implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  /** Messages kept before the full server was loaded, delivered on start. */
  pending: JSONRPCMessage[] = [];
  #started = false;

  constructor(
    private readonly wire: StdioTransport,
    private readonly answered: Map<RequestId, string>,
    private readonly report: Report,
  ) {}

  start(): Promise<void> {
    this.#started = true;
    const kept = this.pending.splice(0);
    for (const message of kept) this.onmessage?.(message);
    return Promise.resolve();
  }

  deliver(message: JSONRPCMessage): void {
    if (this.#started) this.onmessage?.(message);
    else this.pending.push(message);
  }

  send(message: JSONRPCMessage): Promise<void> {
    const m = message as unknown as Message;
    if (("result" in m || "error" in m) && "id" in m) {
      const id = m.id as RequestId;
      const early = this.answered.get(id);
      if (early !== undefined) {
        this.answered.delete(id);
        const full = JSON.stringify(message);
        if (full !== early) {
          this.report(
            "error",
            `The start-up answer to request ${JSON.stringify(id)} differed from the full ` +
              `server's (a bug in proxmox-mcp; please report it): early ${early.slice(0, 200)}… ` +
              `full ${full.slice(0, 200)}…`,
          );
        }
        return Promise.resolve();
      }
    }
    return this.wire.send(message);
  }

  async close(): Promise<void> {
    await this.wire.close();
    this.onclose?.();
  }
}
