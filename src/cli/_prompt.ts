/**
 * Questions on the terminal for interactive commands (`init`): one line per answer from stdin,
 * secrets read without echo when stdin is a terminal. Piped stdin works the same way, one answer
 * per line, which is how tests drive the questions.
 *
 * @module
 */

import { writePrompt } from "./_output.ts";

/** Stdin ended (or Ctrl-D) before the question was answered. */
export class PromptClosedError extends Error {
  /** The question left unanswered. */
  readonly question: string;

  /** Stdin closed while `question` waited for its answer. */
  constructor(question: string) {
    super(`Input ended before "${question.replace(/[:?]?\s*(\[[^\]]*\])?\s*$/, "")}" was answered`);
    this.name = "PromptClosedError";
    this.question = question;
  }
}

/** The user pressed Ctrl-C at a hidden prompt (raw mode turns it into a byte). */
export class PromptInterruptedError extends Error {
  /** An interrupted question. */
  constructor() {
    super("Interrupted");
    this.name = "PromptInterruptedError";
  }
}

/** Where answers come from: `Deno.stdin` or a stand-in with the same read interface. */
export interface PromptInput {
  read(buffer: Uint8Array): Promise<number | null>;
  isTerminal(): boolean;
  setRaw?(mode: boolean): void;
}

/** Asks questions and reads their answers line by line. */
export class Prompter {
  readonly #input: PromptInput;
  readonly #write: (text: string) => void;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #ended = false;

  /** A prompter over `input` (default stdin), writing questions with `write` (default stdout). */
  constructor(input: PromptInput = Deno.stdin, write: (text: string) => void = writePrompt) {
    this.#input = input;
    this.#write = write;
  }

  /**
   * Asks `question` and resolves with the answer, trimmed; `fallback` when the answer is empty.
   *
   * @throws {PromptClosedError} when input ends first.
   */
  async ask(question: string, fallback = ""): Promise<string> {
    this.#write(fallback === "" ? `${question}: ` : `${question} [${fallback}]: `);
    const answer = (await this.#line(question)).trim();
    return answer === "" ? fallback : answer;
  }

  /**
   * Asks for a secret: on a terminal nothing is echoed; the answer is not trimmed of inner
   * spaces, only of the line end and surrounding blanks.
   *
   * @throws {PromptClosedError | PromptInterruptedError}
   */
  async secret(question: string): Promise<string> {
    this.#write(`${question} (input hidden): `);
    if (!this.#input.isTerminal() || this.#input.setRaw === undefined) {
      return (await this.#line(question)).trim();
    }
    this.#input.setRaw(true);
    try {
      return (await this.#rawLine(question)).trim();
    } finally {
      this.#input.setRaw(false);
      this.#write("\n");
    }
  }

  /**
   * Asks a yes/no question; an empty answer takes `fallback`. Anything but y/yes/n/no asks again.
   *
   * @throws {PromptClosedError}
   */
  async confirm(question: string, fallback: boolean): Promise<boolean> {
    for (;;) {
      this.#write(`${question} [${fallback ? "Y/n" : "y/N"}]: `);
      const answer = (await this.#line(question)).trim().toLowerCase();
      if (answer === "") return fallback;
      if (answer === "y" || answer === "yes") return true;
      if (answer === "n" || answer === "no") return false;
      this.#write('Please answer "y" or "n".\n');
    }
  }

  /** Reads more input into the buffer; false at the end of input. */
  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const chunk = new Uint8Array(4096);
    const count = await this.#input.read(chunk);
    if (count === null) {
      this.#ended = true;
      this.#buffer += this.#decoder.decode();
      return false;
    }
    this.#buffer += this.#decoder.decode(chunk.subarray(0, count), { stream: true });
    return true;
  }

  /** The next line of input, without its line end. */
  async #line(question: string): Promise<string> {
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(newline + 1);
        return line;
      }
      if (!await this.#fill()) {
        if (this.#buffer === "") throw new PromptClosedError(question);
        const line = this.#buffer;
        this.#buffer = "";
        return line;
      }
    }
  }

  /** A line typed in raw mode: Enter ends it, Backspace edits it, Ctrl-C/Ctrl-D stop. */
  async #rawLine(question: string): Promise<string> {
    let typed = "";
    for (;;) {
      if (this.#buffer === "" && !await this.#fill()) throw new PromptClosedError(question);
      const char = this.#buffer[0] ?? "";
      this.#buffer = this.#buffer.slice(1);
      if (char === "\r" || char === "\n") return typed;
      if (char === "\x03") throw new PromptInterruptedError();
      if (char === "\x04") throw new PromptClosedError(question);
      if (char === "\x7f" || char === "\b") typed = [...typed].slice(0, -1).join("");
      else if (char >= " ") typed += char;
    }
  }
}
