/**
 * Simulated PVE endpoints: ha.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The ha endpoints this simulator implements. */
export const routes: Route[] = [];
