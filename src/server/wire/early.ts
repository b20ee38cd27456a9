/**
 * The start-up answers: `initialize`, `tools/list`, `prompts/list`, `resources/list`,
 * `resources/templates/list` and `ping` (2025 era), and `server/discover` and the same lists
 * (2026 era), written from the generated manifest and the catalog (`../catalog.ts`) before the
 * SDK, zod or any tool is loaded. They must be byte-for-byte what the full server answers for the same
 * configuration (`tests/server/early_test.ts` proves it in both eras, and the gate compares
 * every early answer with the full server's at run time).
 *
 * Only requests in their plain, common form are answered here; anything else (an unusual
 * `_meta`, a cursor, a client capability we do not know) is left to the full server, which
 * knows every rule.
 *
 * @module
 */

import type { ToolListFacts } from "../../config/facts.ts";
import { toolVisible } from "../../policy/policy.ts";
import { defaultToolsetIds } from "../../tools/toolsets.ts";
import { catalogOf } from "../catalog.ts";
import { INSTRUCTIONS, SERVER_INFO, serverCapabilities } from "../identity.ts";
import type { ToolManifest } from "../manifest.ts";
import { isObject, type Message, type RequestId } from "./jsonrpc.ts";

const META_VERSION = "io.modelcontextprotocol/protocolVersion";
const META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo";
const META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
const META_SERVER_INFO = "io.modelcontextprotocol/serverInfo";
const MODERN_META_KEYS = new Set([META_VERSION, META_CLIENT_INFO, META_CAPABILITIES]);
const CLIENT_INFO_KEYS = new Set(["name", "version", "title", "description", "websiteUrl"]);
const CLIENT_CAPABILITY_KEYS = new Set([
  "roots",
  "sampling",
  "elicitation",
  "experimental",
  "extensions",
]);

/** A client's `clientInfo` in the plain form: known keys, string values. */
function plainClientInfo(value: unknown): boolean {
  return isObject(value) && typeof value.name === "string" && typeof value.version === "string" &&
    Object.entries(value).every(([key, item]) =>
      CLIENT_INFO_KEYS.has(key) && typeof item === "string"
    );
}

/** Client capabilities in the plain form: known keys, plain nested objects. */
function plainCapabilities(value: unknown): boolean {
  return isObject(value) &&
    Object.entries(value).every(([key, item]) =>
      CLIENT_CAPABILITY_KEYS.has(key) && plainFlags(item)
    );
}

/** Nested objects whose leaves are booleans or lists of strings (MCP Apps' `mimeTypes`). */
function plainFlags(value: unknown, depth = 0): boolean {
  if (!isObject(value) || depth > 2) return false;
  return Object.values(value).every((item) =>
    typeof item === "boolean" ||
    (Array.isArray(item) && item.length <= 16 &&
      item.every((entry) => typeof entry === "string")) ||
    plainFlags(item, depth + 1)
  );
}

/** Answers a client's first requests from the manifest; `undefined` means "not here". */
export class EarlyResponder {
  /** The facts the listed tools were chosen by. */
  readonly facts: ToolListFacts;
  readonly #manifest: ToolManifest;
  readonly #tools: string;
  readonly #toolNames: string[];
  #lists: Record<string, string> | undefined;
  readonly #capabilities: string;
  readonly #info: string;
  #era: "legacy" | "modern" | "declined" | undefined;
  #initialized = false;

  /** A responder for the tools `facts` make visible (one cluster only). */
  constructor(manifest: ToolManifest, facts: ToolListFacts) {
    this.facts = facts;
    this.#manifest = manifest;
    const policy = {
      allow: facts.allow,
      toolsets: facts.toolsets ?? defaultToolsetIds(),
      exclude: facts.exclude,
    };
    const visible = manifest.tools.filter((tool) =>
      toolVisible({ name: String(tool.listed.name), ...tool }, policy)
    );
    this.#tools = JSON.stringify(visible.map((tool) => tool.listed));
    this.#toolNames = visible.map((tool) => String(tool.listed.name));
    this.#capabilities = JSON.stringify(serverCapabilities());
    this.#info = JSON.stringify(SERVER_INFO);
  }

  /** The list a method answers with, as `"key":[…]`, or `undefined` for other methods. */
  #list(method: string): string | undefined {
    if (method === "tools/list") return `"tools":${this.#tools}`;
    if (this.#lists === undefined) {
      const catalog = catalogOf({ tools: this.#toolNames, clusters: this.facts.clusters });
      this.#lists = {
        "prompts/list": `"prompts":${JSON.stringify(catalog.prompts)}`,
        "resources/list": `"resources":${JSON.stringify(catalog.resources)}`,
        "resources/templates/list": `"resourceTemplates":${
          JSON.stringify(catalog.resourceTemplates)
        }`,
      };
    }
    return Object.hasOwn(this.#lists, method) ? this.#lists[method] : undefined;
  }

  /** Whether the responder has given up on this connection (an opening it does not serve). */
  get declined(): boolean {
    return this.#era === "declined";
  }

  /** The reply to a request, as a JSON line without its newline, or `undefined`. */
  answer(id: RequestId, method: string, message: Message): string | undefined {
    const params = isObject(message.params) ? message.params : undefined;
    const meta = params?._meta;
    if (this.#era === undefined) {
      if (method === "initialize" && meta === undefined) this.#era = "legacy";
      else if (isObject(meta) && META_VERSION in meta) this.#era = "modern";
      else this.#era = "declined";
    }
    if (this.#era === "legacy") return this.#legacy(id, method, params);
    if (this.#era === "modern") return this.#modern(id, method, params);
    return undefined;
  }

  #legacy(
    id: RequestId,
    method: string,
    params: Record<string, unknown> | undefined,
  ): string | undefined {
    const keys = params === undefined ? [] : Object.keys(params);
    const tail = `,"jsonrpc":"2.0","id":${JSON.stringify(id)}}`;
    if (method === "initialize" && !this.#initialized) {
      if (
        params === undefined || keys.length !== 3 || typeof params.protocolVersion !== "string" ||
        !plainCapabilities(params.capabilities) || !plainClientInfo(params.clientInfo)
      ) {
        this.#era = "declined";
        return undefined;
      }
      this.#initialized = true;
      const { supported, latest } = this.#manifest.protocol;
      const version = supported.includes(params.protocolVersion) ? params.protocolVersion : latest;
      return `{"result":{"protocolVersion":${
        JSON.stringify(version)
      },"capabilities":${this.#capabilities},` +
        `"serverInfo":${this.#info},"instructions":${JSON.stringify(INSTRUCTIONS)}}${tail}`;
    }
    if (!this.#initialized || keys.length !== 0) return undefined;
    const list = this.#list(method);
    if (list !== undefined) return `{"result":{${list}}${tail}`;
    if (method === "ping") return `{"result":{}${tail}`;
    return undefined;
  }

  #modern(
    id: RequestId,
    method: string,
    params: Record<string, unknown> | undefined,
  ): string | undefined {
    const meta = params?._meta;
    if (
      params === undefined || Object.keys(params).length !== 1 || !isObject(meta) ||
      Object.keys(meta).length !== MODERN_META_KEYS.size ||
      !Object.keys(meta).every((key) => MODERN_META_KEYS.has(key)) ||
      !this.#manifest.protocol.modern.includes(String(meta[META_VERSION])) ||
      typeof meta[META_VERSION] !== "string" || !plainClientInfo(meta[META_CLIENT_INFO]) ||
      !plainCapabilities(meta[META_CAPABILITIES])
    ) {
      return undefined;
    }
    const tail = `,"jsonrpc":"2.0","id":${JSON.stringify(id)}}`;
    const cache = `"resultType":"complete","ttlMs":0,"cacheScope":"private"`;
    const serverMeta = `"_meta":{${JSON.stringify(META_SERVER_INFO)}:${this.#info}}`;
    if (method === "server/discover") {
      return `{"result":{"supportedVersions":${JSON.stringify(this.#manifest.protocol.modern)},` +
        `"capabilities":${this.#capabilities},"instructions":${
          JSON.stringify(INSTRUCTIONS)
        },${cache},${serverMeta}}${tail}`;
    }
    const list = this.#list(method);
    return list === undefined ? undefined : `{"result":{${list},${cache},${serverMeta}}${tail}`;
  }
}
