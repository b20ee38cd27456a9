/**
 * The PVE API schema, HTTP-free: the facts (`pve_schema.json`), matching a path to its
 * template, and checking parameters with PVE's exact messages (named formats, `-list`
 * formats, property strings, Perl patterns). Shared by the simulator (which answers with
 * PVE's 400) and the `pve_api_*` tools (which check before sending), so the two cannot
 * drift.
 *
 * A leaf: imports nothing of ours but the JSON.
 *
 * @module
 */

export {
  type ApiMethod,
  type EndpointSchema,
  endpointSchema,
  type ParamSchema,
  type PermissionSchema,
  pveSchema,
} from "./facts.ts";
export {
  checkNamedFormat,
  type FormatVerifier,
  formatVerifiers,
  isIpv4,
  isIpv6,
  parseBoolean,
  parsePropertyString,
  parseSize,
  PropertyStringError,
  splitList,
} from "./formats.ts";
export { type PathMatch, schemaTemplates, splitPath, TemplateIndex } from "./templates.ts";
export { addError, checkParams, type ParamCheck, perlPattern } from "./validate.ts";
export { compileLinear, type LinearPattern, UnsupportedPattern } from "./linear_regex.ts";
