/**
 * Simulated PVE endpoints: storage.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The storage endpoints this simulator implements. */
export const routes: Route[] = [];
