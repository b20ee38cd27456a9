/**
 * Simulated PVE endpoints: agent.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The agent endpoints this simulator implements. */
export const routes: Route[] = [];
