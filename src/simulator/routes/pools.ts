/**
 * Simulated PVE endpoints: pools.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The pools endpoints this simulator implements. */
export const routes: Route[] = [];
