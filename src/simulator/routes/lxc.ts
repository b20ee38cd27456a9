/**
 * Simulated PVE endpoints: lxc.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The lxc endpoints this simulator implements. */
export const routes: Route[] = [];
