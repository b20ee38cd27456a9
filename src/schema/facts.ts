/**
 * The PVE API schema facts (`pve_schema.json`, derived from the official `apidata.js`) and
 * their types.
 *
 * The JSON is imported with an import attribute so that `deno compile` embeds it.
 *
 * @module
 */

import schemaJson from "./pve_schema.json" with { type: "json" };

/** An HTTP method of the PVE API. */
export type ApiMethod = "GET" | "POST" | "PUT" | "DELETE";

/** One parameter (or property-string key) in PVE's JSON-schema dialect. */
export interface ParamSchema {
  type?: string;
  optional?: number;
  default?: unknown;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  /** A named format (`pve-vmid`, `pve-configid-list`…) or a property-string sub-schema. */
  format?: string | Record<string, ParamSchema>;
  requires?: string;
  items?: ParamSchema;
  default_key?: number;
  alias?: string;
  keyAlias?: string;
  "type-property"?: string;
  "instance-types"?: string[];
  oneOf?: ParamSchema[];
}

/** A `permissions` object of an endpoint. */
export interface PermissionSchema {
  /** `all` (any authenticated user), `world` (anyone), or `root@pam`. */
  user?: string;
  /** A check expression: `["perm", path, privs, …options]`, `["and", …]`, `["or", …]`, … */
  check?: unknown[];
}

/** The schema facts of one method on one path. */
export interface EndpointSchema {
  name: string;
  allowtoken: number;
  parameters: {
    additionalProperties?: number;
    properties?: Record<string, ParamSchema>;
  };
  permissions?: PermissionSchema;
  proxyto?: string;
  protected?: number;
  returns?: unknown;
}

/** All endpoints, keyed `"<METHOD> <template>"`. */
export const pveSchema: Readonly<Record<string, EndpointSchema>> = schemaJson as unknown as Record<
  string,
  EndpointSchema
>;

/** The schema of `"<METHOD> <template>"`, if the API has that endpoint. */
export function endpointSchema(method: string, template: string): EndpointSchema | undefined {
  return pveSchema[`${method} ${template}`];
}
