/**
 * Simulated PVE endpoints: access.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The access endpoints this simulator implements. */
export const routes: Route[] = [];
