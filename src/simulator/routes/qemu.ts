/**
 * Simulated PVE endpoints: qemu.
 *
 * @module
 */

import type { Route } from "../router.ts";

/** The qemu endpoints this simulator implements. */
export const routes: Route[] = [];
