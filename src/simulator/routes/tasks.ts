/**
 * Simulated PVE endpoints: tasks.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The tasks endpoints this simulator implements. */
export const routes: Route[] = [];
