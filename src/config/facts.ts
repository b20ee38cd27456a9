/**
 * The facts of a raw (unvalidated) configuration that decide which tools a session lists: the
 * cluster names and the policy's classes, toolsets and exclusions. Read without zod, so the
 * start-up path can answer `tools/list` before the schema is loaded. When the raw values are
 * not in their plain, valid form the answer is `undefined` and the caller takes the full path,
 * where the schema explains the mistake; the server later checks these facts against the
 * validated configuration ({@link factsOfConfig}).
 *
 * @module
 */

import { CAPABILITIES, type Capability, DEFAULT_ALLOWED } from "../policy/capability.ts";
import { isObject, type Json } from "./merge.ts";
import { clustersBranch, DEFAULT_CLUSTER_NAME } from "./shape.ts";

/** What the tool list depends on. */
export interface ToolListFacts {
  /** The configured cluster names, in order. */
  clusters: string[];
  /** Allowed capability classes. */
  allow: Capability[];
  /** Enabled toolsets, when configured (unset: the default toolsets). */
  toolsets?: string[];
  /** Tools never offered. */
  exclude: string[];
}

function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) return undefined;
  return value as string[];
}

function clusterNamesOf(clusters: unknown): string[] | undefined {
  if (clusters === undefined) return [];
  switch (clustersBranch(clusters)) {
    case 0: {
      const name = (clusters as Json).name;
      if (name === undefined) return [DEFAULT_CLUSTER_NAME];
      return typeof name === "string" ? [name] : undefined;
    }
    case 1: {
      const names = (clusters as unknown[]).map((cluster) =>
        isObject(cluster) && typeof cluster.name === "string" ? cluster.name : undefined
      );
      return names.every((name) => name !== undefined) ? names as string[] : undefined;
    }
    default:
      return isObject(clusters) ? Object.keys(clusters) : undefined;
  }
}

/**
 * The tool-list facts of a merged raw configuration, or `undefined` when they cannot be read
 * plainly (let the schema speak).
 */
export function toolListFacts(raw: Json): ToolListFacts | undefined {
  const clusters = clusterNamesOf(raw.clusters);
  if (clusters === undefined) return undefined;
  const policy = raw.policy ?? {};
  if (!isObject(policy)) return undefined;
  const allow = policy.allow === undefined ? [...DEFAULT_ALLOWED] : stringList(policy.allow);
  if (allow === undefined) return undefined;
  if (!allow.every((item) => (CAPABILITIES as readonly string[]).includes(item))) return undefined;
  const exclude = policy.exclude === undefined ? [] : stringList(policy.exclude);
  if (exclude === undefined) return undefined;
  const facts: ToolListFacts = { clusters, allow: allow as Capability[], exclude };
  if (policy.toolsets !== undefined) {
    const toolsets = stringList(policy.toolsets);
    if (toolsets === undefined) return undefined;
    facts.toolsets = toolsets;
  }
  return facts;
}

/** The same facts from a validated configuration (to check the raw reading against). */
export function factsOfConfig(
  config: {
    clusters: Record<string, unknown>;
    policy: {
      allow: readonly Capability[];
      toolsets?: readonly string[] | undefined;
      exclude: readonly string[];
    };
  },
): ToolListFacts {
  const facts: ToolListFacts = {
    clusters: Object.keys(config.clusters),
    allow: [...config.policy.allow],
    exclude: [...config.policy.exclude],
  };
  if (config.policy.toolsets !== undefined) facts.toolsets = [...config.policy.toolsets];
  return facts;
}
