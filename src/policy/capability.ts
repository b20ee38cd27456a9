/**
 * Capability classes: how dangerous a tool is, from harmless to dangerous. A tool belongs to
 * exactly one class; the policy allows classes (default: `read` only), and the class decides the
 * tool's MCP annotations and whether a call needs confirmation (a tool may ask for confirmation
 * beyond its class, see {@linkcode needsConfirmation}).
 *
 * | class       | what it covers                                                          |
 * | ----------- | ----------------------------------------------------------------------- |
 * | `read`      | reads only                                                              |
 * | `lifecycle` | start, shutdown, reboot, suspend, resume                                |
 * | `change`    | create, clone, config, resize, migrate, snapshot/backup create, download |
 * | `destroy`   | delete guest/snapshot/volume, rollback, hard stop, reset, restore over  |
 * | `exec`      | guest agent command execution, file write                               |
 * | `raw`       | the escape-hatch API tool for non-GET methods                           |
 *
 * @module
 */

/** Every capability class, from harmless to dangerous. */
export const CAPABILITIES = ["read", "lifecycle", "change", "destroy", "exec", "raw"] as const;

/** One of {@link CAPABILITIES}. */
export type Capability = typeof CAPABILITIES[number];

/** The capability classes allowed when nothing is configured. */
export const DEFAULT_ALLOWED: readonly Capability[] = ["read"];

/** The annotations a capability class fixes; `idempotentHint` is chosen per tool. */
export interface CapabilityAnnotations {
  /** The tool does not change anything. */
  readOnlyHint: boolean;
  /** The tool may destroy data or interrupt service. */
  destructiveHint: boolean;
  /** The tool talks to an outside system (always true here). */
  openWorldHint: boolean;
}

const ANNOTATIONS: Readonly<Record<Capability, CapabilityAnnotations>> = {
  read: { readOnlyHint: true, destructiveHint: false, openWorldHint: true },
  lifecycle: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  change: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  destroy: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  exec: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  raw: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
};

/**
 * The MCP annotations a tool of this class must carry. Every tool talks to a real cluster, so
 * `openWorldHint` is always true.
 *
 * @example
 * ```ts
 * const tool = { ...annotationsFor("lifecycle"), idempotentHint: true };
 * ```
 */
export function annotationsFor(capability: Capability): CapabilityAnnotations {
  return { ...ANNOTATIONS[capability] };
}

/**
 * What decides whether a call needs confirmation: a capability class, or a tool (its class, and
 * its own `confirm` flag when it asks for confirmation beyond its class).
 */
export type ConfirmationSubject = Capability | { capability: Capability; confirm?: boolean };

/**
 * Whether calls need confirmation (elicitation or the configured fallback): every call of a
 * `destroy`, `exec` or `raw` tool, and every call of a tool that sets `confirm: true` although
 * its class would not (a `change` tool that touches many guests at once, such as a node drain).
 * The flag only adds confirmation; it never changes the class or the annotations.
 *
 * @example
 * ```ts
 * needsConfirmation("destroy"); // true
 * needsConfirmation({ capability: "change", confirm: true }); // true
 * ```
 */
export function needsConfirmation(subject: ConfirmationSubject): boolean {
  const capability = typeof subject === "string" ? subject : subject.capability;
  if (typeof subject !== "string" && subject.confirm === true) return true;
  return capability === "destroy" || capability === "exec" || capability === "raw";
}

/** Whether `value` is one of {@link CAPABILITIES}. */
export function isCapability(value: string): value is Capability {
  return (CAPABILITIES as readonly string[]).includes(value);
}
