/**
 * Simulated PVE endpoints: nodes.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The nodes endpoints this simulator implements. */
export const routes: Route[] = [];
