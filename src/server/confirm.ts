/**
 * Asking the user to confirm a `destroy`/`exec`/`raw` call, in both protocol eras.
 *
 * - 2025-11-25 era (initialize handshake): a form elicitation (`elicitation/create`) sent to
 *   the client while the call waits.
 * - 2026-07-28 era (`server/discover`): the call answers with an `input_required` result
 *   carrying the same form; the client asks the user and retries the call with the answer
 *   in `inputResponses` and our `requestState` echoed. The state is HMAC-signed and bound to
 *   the tool, the cluster, the arguments and the plan, so an answer only confirms the exact
 *   plan the user was shown, and a client cannot confirm a call it was never asked about.
 *   Each state is good for one answer: a replayed retry is asked again, so one "yes" runs
 *   one call.
 *
 * In remote mode the HTTP server binds each server instance to its caller's profile and to a
 * {@link ConfirmationStore} ({@link bindConfirmation}): a state minted for one caller does not
 * confirm another's call, and replicas sharing a store (Redis) sign with one key and redeem each
 * state once across all of them.
 *
 * Only an explicit `accept` with the box ticked confirms. Clients that cannot elicit get the
 * configured fallback: `deny` (default) or `allow` (logged loudly). A tool argument never
 * counts as confirmation.
 *
 * @module
 */

import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  type ElicitRequestFormParams,
  inputRequired,
  type InputRequiredResult,
  type Server,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { Capability } from "../policy/capability.ts";
import type { Plan } from "../tools/types.ts";

/** What to do when the client cannot ask the user. */
export type ConfirmationFallback = "deny" | "allow";

/** What came of asking. */
export type ConfirmOutcome =
  /** The user accepted (or the fallback allowed it). */
  | { kind: "confirmed"; via: "elicitation" | "fallback" }
  /** The user declined or cancelled, or the question could not be completed. */
  | { kind: "declined"; reason: string }
  /** The client cannot elicit and the fallback is `deny`. */
  | { kind: "unsupported" }
  /** 2026-07-28 era: answer the call with this and wait for the client's retry. */
  | { kind: "input_required"; result: InputRequiredResult };

/** What the confirmation is about. */
export interface ConfirmRequest {
  tool: string;
  capability: Capability;
  cluster: string;
  /** The validated arguments (bound into the signed state). */
  args: unknown;
  plan: Plan;
  fallback: ConfirmationFallback;
}

/** The key under which the confirmation form travels in `inputRequests`/`inputResponses`. */
export const CONFIRM_KEY = "confirm";

/** The message shown when the user did not confirm. */
export const NOT_CONFIRMED = "Not confirmed by the user: nothing was changed.";

const STATE_TTL_MS = 10 * 60 * 1000;
/** A human has this long to answer a 2025-era elicitation. */
const ELICIT_TIMEOUT_MS = 10 * 60 * 1000;

const CONFIRM_SCHEMA: ElicitRequestFormParams["requestedSchema"] = {
  type: "object",
  properties: {
    confirm: {
      type: "boolean",
      title: "Run it",
      description: "Tick to let this action run on the Proxmox VE cluster.",
      default: false,
    },
  },
  required: ["confirm"],
};

/** Whether the server instance speaks the 2026-07-28 era (negotiated via `server/discover`). */
function isModernEra(server: Server): boolean {
  const version = server.getNegotiatedProtocolVersion();
  return version !== undefined && version >= "2026-07-28";
}

/** Whether the client can answer a form elicitation, per the capabilities of its era. */
function clientCanElicit(server: Server, ctx: ServerContext): boolean {
  const caps = isModernEra(server)
    ? (ctx.mcpReq.envelope as Record<string, unknown> | undefined)
      ?.[CLIENT_CAPABILITIES_META_KEY] as
        | ClientCapabilities
        | undefined
    : server.getClientCapabilities();
  const elicitation = caps?.elicitation as Record<string, unknown> | undefined;
  if (elicitation === undefined || elicitation === null || typeof elicitation !== "object") {
    return false;
  }
  // An empty capability object means form support (the pre-mode rule).
  return Object.keys(elicitation).length === 0 || "form" in elicitation;
}

/** The question put to the user. */
function confirmationMessage(request: ConfirmRequest): string {
  const calls = request.plan.calls.map((call) => `${call.method} ${call.path}`).join(", ");
  return `Allow ${request.tool} (${request.capability}) on cluster "${request.cluster}"? ` +
    `${request.plan.summary}${calls === "" ? "" : ` [${calls}]`}`;
}

/** Asks for confirmation in the client's era, or applies the fallback. */
export async function confirm(
  server: Server,
  ctx: ServerContext,
  request: ConfirmRequest,
): Promise<ConfirmOutcome> {
  if (!clientCanElicit(server, ctx)) {
    return request.fallback === "allow" ? { kind: "confirmed", via: "fallback" } : {
      kind: "unsupported",
    };
  }
  const params: ElicitRequestFormParams = {
    mode: "form",
    message: confirmationMessage(request),
    requestedSchema: CONFIRM_SCHEMA,
  };
  if (isModernEra(server)) return await confirmModern(server, ctx, request, params);
  try {
    const answer = await ctx.mcpReq.elicitInput(params, {
      signal: ctx.mcpReq.signal,
      timeout: ELICIT_TIMEOUT_MS,
    });
    return accepted(answer)
      ? { kind: "confirmed", via: "elicitation" }
      : { kind: "declined", reason: NOT_CONFIRMED };
  } catch (error) {
    if (ctx.mcpReq.signal.aborted) return { kind: "declined", reason: NOT_CONFIRMED };
    const detail = error instanceof Error ? error.message : String(error);
    return {
      kind: "declined",
      reason:
        `The confirmation question failed: ${detail}. Nothing was changed; call again to be asked again.`,
    };
  }
}

async function confirmModern(
  server: Server,
  ctx: ServerContext,
  request: ConfirmRequest,
  params: ElicitRequestFormParams,
): Promise<ConfirmOutcome> {
  const binding = bindings.get(server) ?? { store: processStore };
  const digest = await bindingDigest(request, binding.subject);
  const answer = ctx.mcpReq.inputResponses?.[CONFIRM_KEY];
  const state = ctx.mcpReq.requestState();
  if (
    answer !== undefined && typeof state === "string" &&
    await redeemState(binding.store, state, digest, binding.now ?? Date.now)
  ) {
    return accepted(answer)
      ? { kind: "confirmed", via: "elicitation" }
      : { kind: "declined", reason: NOT_CONFIRMED };
  }
  // First round, or an answer that does not belong to this exact plan: ask (again).
  return {
    kind: "input_required",
    result: inputRequired({
      inputRequests: { [CONFIRM_KEY]: inputRequired.elicit(params) },
      requestState: await mintState(binding.store, digest, binding.now ?? Date.now),
    }),
  };
}

function accepted(answer: unknown): boolean {
  if (typeof answer !== "object" || answer === null) return false;
  const { action, content } = answer as { action?: unknown; content?: unknown };
  if (action !== "accept") return false;
  return typeof content === "object" && content !== null &&
    (content as Record<string, unknown>).confirm === true;
}

// ---- signed request state -------------------------------------------------------------

/** Where 2026-era confirmation states are signed and redeemed. */
export interface ConfirmationStore {
  /** The HMAC-SHA-256 key states are signed with (replicas sharing a store share it). */
  key(): Promise<CryptoKey>;
  /**
   * Marks `nonce` as answered until `expiresAtMs`, atomically; `true` when it was not answered
   * before (so one state confirms one call, whichever replica sees it).
   */
  redeem(nonce: string, expiresAtMs: number): Promise<boolean>;
}

/** Who a server instance confirms for, and where its states live. */
export interface ConfirmationBinding {
  store: ConfirmationStore;
  /** The caller (profile name): a state minted for one caller does not confirm another's. */
  subject?: string;
  /** The clock states expire by, in epoch milliseconds (default `Date.now`; tests inject one). */
  now?: () => number;
}

const bindings = new WeakMap<Server, ConfirmationBinding>();

/** Makes `server` sign and redeem its confirmation states in `binding` (remote mode). */
export function bindConfirmation(server: Server, binding: ConfirmationBinding): void {
  bindings.set(server, binding);
}

/**
 * A store of this process only: a random key, and the answered nonces with their expiry. The
 * default store of every server instance, and the HTTP server's without Redis.
 */
export function memoryConfirmationStore(): ConfirmationStore {
  let key: Promise<CryptoKey> | undefined;
  /** Nonces of states already answered, with their expiry (kept until the state expires). */
  const redeemed = new Map<string, number>();
  return {
    key() {
      key ??= crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
        "verify",
      ]) as Promise<CryptoKey>;
      return key;
    },
    redeem(nonce, expiresAtMs) {
      // No await here: checking and marking the nonce is one step, so two concurrent retries
      // with the same state cannot both pass. Entries are kept until their state's expiry on
      // the wall clock, which is never earlier than an injected test clock needs.
      const now = Date.now();
      for (const [used, until] of redeemed) if (until <= now) redeemed.delete(used);
      if (redeemed.has(nonce)) return Promise.resolve(false);
      redeemed.set(nonce, expiresAtMs);
      return Promise.resolve(true);
    },
  };
}

/** The default store: the key and the answered nonces of this process. */
export const processStore: ConfirmationStore = memoryConfirmationStore();

const encoder = new TextEncoder();

async function bindingDigest(
  request: ConfirmRequest,
  subject: string | undefined,
): Promise<string> {
  const material = stableJson({
    ...(subject === undefined ? {} : { subject }),
    tool: request.tool,
    cluster: request.cluster,
    args: request.args,
    summary: request.plan.summary,
    calls: request.plan.calls,
  });
  const hash = await crypto.subtle.digest("SHA-256", encoder.encode(material));
  return toBase64Url(new Uint8Array(hash));
}

async function mintState(
  store: ConfirmationStore,
  digest: string,
  now: () => number,
): Promise<string> {
  const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  const payload = toBase64Url(
    encoder.encode(JSON.stringify({ d: digest, n: nonce, exp: now() + STATE_TTL_MS })),
  );
  const mac = await crypto.subtle.sign("HMAC", await store.key(), encoder.encode(payload));
  return `${payload}.${toBase64Url(new Uint8Array(mac))}`;
}

/**
 * Whether `state` is ours, unexpired, bound to `digest` and not answered before; a state that
 * passes is used up, so replaying the same retry cannot confirm a second run.
 */
async function redeemState(
  store: ConfirmationStore,
  state: string,
  digest: string,
  clock: () => number,
): Promise<boolean> {
  const [payload, mac, extra] = state.split(".");
  if (payload === undefined || mac === undefined || extra !== undefined) return false;
  let macBytes: Uint8Array<ArrayBuffer>;
  let decoded: unknown;
  try {
    macBytes = fromBase64Url(mac);
    const ok = await crypto.subtle.verify(
      "HMAC",
      await store.key(),
      macBytes,
      encoder.encode(payload),
    );
    if (!ok) return false;
    decoded = JSON.parse(new TextDecoder().decode(fromBase64Url(payload)));
  } catch {
    return false;
  }
  const { d, n, exp } = decoded as { d?: unknown; n?: unknown; exp?: unknown };
  const now = clock();
  if (d !== digest || typeof n !== "string" || typeof exp !== "number" || exp <= now) {
    return false;
  }
  return await store.redeem(n, exp);
}

/** JSON with object keys sorted, so equal values give equal text. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) return item;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort()) {
      sorted[key] = (item as Record<string, unknown>)[key];
    }
    return sorted;
  });
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") +
    "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
