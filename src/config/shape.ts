/**
 * The shapes of the configuration that loading needs before (and without) validation: the
 * default cluster name, the credential keys, and which form `clusters` is written in. Nothing
 * here imports zod, so the start-up path can read raw configuration cheaply.
 *
 * @module
 */

/** The cluster name used when the config gives a single unnamed cluster (or only env/flags). */
export const DEFAULT_CLUSTER_NAME = "default";

/** Which union branch an input belongs to: 0 single object, 1 array, 2 record by name. */
export function clustersBranch(input: unknown): 0 | 1 | 2 {
  if (Array.isArray(input)) return 1;
  if (typeof input !== "object" || input === null) return 2;
  // A record holds only objects; a single cluster has "url" or some plain value.
  if ("url" in input) return 0;
  const values = Object.values(input);
  return values.some((value) => typeof value !== "object" || value === null) ? 0 : 2;
}

/** The credential keys of a cluster (a higher source replaces them as a unit). */
export const CLUSTER_AUTH_KEYS = [
  "token",
  "tokenFile",
  "tokenId",
  "tokenSecret",
  "tokenSecretFile",
  "user",
  "password",
  "passwordFile",
] as const;

/** One of {@linkcode CLUSTER_AUTH_KEYS}. */
export type ClusterAuthKey = typeof CLUSTER_AUTH_KEYS[number];
