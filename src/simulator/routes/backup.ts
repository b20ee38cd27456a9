/**
 * Simulated PVE endpoints: backup.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The backup endpoints this simulator implements. */
export const routes: Route[] = [];
