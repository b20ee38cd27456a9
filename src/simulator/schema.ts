/**
 * The PVE API schema facts (`src/schema/pve_schema.json`, derived from the official
 * `apidata.js`), and matching a concrete request path to its schema template.
 *
 * The JSON is imported with an import attribute so that `deno compile` embeds it.
 *
 * @module
 */

import schemaJson from "../schema/pve_schema.json" with { type: "json" };
import type { Method } from "./router.ts";

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

/** A concrete path resolved to its template. */
export interface PathMatch {
  /** The schema template, e.g. `/nodes/{node}/qemu/{vmid}`. */
  template: string;
  /** Values of the `{param}` segments (decoded). */
  pathParams: Record<string, string>;
  /** Methods the template has in the schema. */
  methods: Method[];
}

/** Trailing parameters that take the rest of the path (volume ids contain `/`). */
const GREEDY_PARAMS: ReadonlySet<string> = new Set(["volume"]);

interface TemplateNode {
  literal: Map<string, TemplateNode>;
  param?: { name: string; node: TemplateNode };
  template?: string;
}

function newNode(): TemplateNode {
  return { literal: new Map() };
}

/**
 * A path matcher over a set of templates. Literal segments win over `{param}` segments,
 * as PVE's router resolves `/nodes/{node}/qemu` before a parameter would.
 */
export class TemplateIndex {
  #root = newNode();
  #methods = new Map<string, Set<Method>>();

  /** Adds a template for a method. */
  add(method: Method, template: string): void {
    let node = this.#root;
    for (const segment of splitPath(template)) {
      const param = /^\{(.+)\}$/.exec(segment);
      if (param) {
        const name = param[1] ?? "";
        if (node.param === undefined) node.param = { name, node: newNode() };
        node = node.param.node;
      } else {
        let next = node.literal.get(segment);
        if (next === undefined) {
          next = newNode();
          node.literal.set(segment, next);
        }
        node = next;
      }
    }
    node.template = template;
    const methods = this.#methods.get(template) ?? new Set<Method>();
    methods.add(method);
    this.#methods.set(template, methods);
  }

  /** Matches a decoded-segment path such as `["nodes", "pve", "qemu"]`. */
  match(segments: readonly string[]): PathMatch | undefined {
    const params: Record<string, string> = {};
    const found = this.#walk(this.#root, segments, 0, params);
    if (found === undefined) return undefined;
    return {
      template: found,
      pathParams: params,
      methods: [...(this.#methods.get(found) ?? [])],
    };
  }

  #walk(
    node: TemplateNode,
    segments: readonly string[],
    index: number,
    params: Record<string, string>,
  ): string | undefined {
    if (index === segments.length) return node.template;
    const segment = segments[index] ?? "";
    const literal = node.literal.get(segment);
    if (literal !== undefined) {
      const found = this.#walk(literal, segments, index + 1, params);
      if (found !== undefined) return found;
    }
    if (node.param !== undefined && segment !== "") {
      const rest = node.param.node;
      if (
        GREEDY_PARAMS.has(node.param.name) && rest.template !== undefined &&
        rest.literal.size === 0 &&
        rest.param === undefined
      ) {
        // PVE registers `{volume}` without a fragment delimiter: the parameter takes the rest
        // of the path, so `local:iso/x.iso` matches whether or not its `/` was encoded.
        params[node.param.name] = segments.slice(index).join("/");
        return rest.template;
      }
      const found = this.#walk(node.param.node, segments, index + 1, params);
      if (found !== undefined) {
        params[node.param.name] = segment;
        return found;
      }
    }
    return undefined;
  }
}

/** Splits a path into its non-empty segments (`//` collapses, as PVE normalizes). */
export function splitPath(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}

let schemaIndex: TemplateIndex | undefined;

/** The index of every template of the schema. */
export function schemaTemplates(): TemplateIndex {
  if (schemaIndex === undefined) {
    schemaIndex = new TemplateIndex();
    for (const key of Object.keys(pveSchema)) {
      const space = key.indexOf(" ");
      schemaIndex.add(key.slice(0, space) as Method, key.slice(space + 1));
    }
  }
  return schemaIndex;
}
