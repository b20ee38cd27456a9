/**
 * Simulated PVE endpoints: cluster.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The cluster endpoints this simulator implements. */
export const routes: Route[] = [];
