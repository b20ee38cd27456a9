/**
 * Matching a concrete request path to its PVE API schema template.
 *
 * @module
 */

import { type ApiMethod, pveSchema } from "./facts.ts";

/** A concrete path resolved to its template. */
export interface PathMatch {
  /** The schema template, e.g. `/nodes/{node}/qemu/{vmid}`. */
  template: string;
  /** Values of the `{param}` segments (decoded). */
  pathParams: Record<string, string>;
  /** Methods the template has in the schema. */
  methods: ApiMethod[];
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
  #methods = new Map<string, Set<ApiMethod>>();

  /** Adds a template for a method. */
  add(method: ApiMethod, template: string): void {
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
    const methods = this.#methods.get(template) ?? new Set<ApiMethod>();
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

  /**
   * How far a path that does not match gets: the longest template prefix it follows
   * (`/nodes/{node}`) and the segments that could come next there (literals sorted, then
   * the `{param}`), for a helpful "no such path" message.
   */
  continuations(segments: readonly string[]): { prefix: string; next: string[] } {
    let node = this.#root;
    const matched: string[] = [];
    for (const segment of segments) {
      const literal = node.literal.get(segment);
      if (literal !== undefined) {
        node = literal;
        matched.push(segment);
      } else if (node.param !== undefined) {
        matched.push(`{${node.param.name}}`);
        node = node.param.node;
      } else {
        break;
      }
    }
    const next = [...node.literal.keys()].sort();
    if (node.param !== undefined) next.push(`{${node.param.name}}`);
    return { prefix: "/" + matched.join("/"), next };
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
      schemaIndex.add(key.slice(0, space) as ApiMethod, key.slice(space + 1));
    }
  }
  return schemaIndex;
}
