/**
 * The rehearsal twin: capture a cluster's shape with GET requests only and no secrets
 * (`captureTwin` through `readOnly`), write and read twin files, and compare two twins
 * (`diffTwins`, `formatDiff`). The simulator boots from a twin file
 * (`src/simulator/seeds/twin.ts`); neither side imports the other. See `README.md`.
 *
 * @module
 */

export { type CaptureOptions, type CaptureProgress, captureTwin } from "./capture.ts";
export { diffTwins, formatDiff, type TwinDiff } from "./diff.ts";
export { formatTwin, parseTwin, TwinReadError } from "./file.ts";
export {
  TWIN_FORMAT,
  TWIN_REDACTED,
  TWIN_VERSION,
  type TwinFile,
  type TwinGuest,
  type TwinNode,
  twinProblem,
  type TwinStorage,
} from "./format.ts";
export { readOnly, type ReadOnlyPve } from "./read_only.ts";
export { isTwinSecretKey, Redactor, scrubText, SECRETS_NOTICE } from "./redact.ts";
