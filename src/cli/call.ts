/**
 * `proxmox-mcp call <tool>`: run one tool through a real MCP client connected to the server in
 * this process (same policy, dry run, confirmation and audit as `serve`), print its structured
 * result as JSON on stdout and progress on stderr. Exit code 0 ok, 1 tool error (`isError`) or
 * configuration problem, 2 usage.
 *
 * @module
 */

import { configureLogging, getLog } from "../log.ts";
import { createServer } from "../server/mod.ts";
import { allTools } from "../tools/mod.ts";
import { CONFIG_HELP, CONFIG_OPTIONS, configFlags, parseCommandArgs, UsageError } from "./_args.ts";
import { type Output, printJson, stdio } from "./_output.ts";
import { connectInProcess } from "./_in_process.ts";
import { openRuntime, reportFailure } from "./_runtime.ts";

/** Usage text of `call`. */
export const CALL_USAGE = `Usage: proxmox-mcp call <tool> [key=value ...] [--args JSON] [options]

Run one tool and print its structured result as JSON on stdout; progress goes to stderr.
Exit code: 0 ok, 1 the tool reported an error (or a configuration problem), 2 usage.

Arguments: key=value pairs (numbers and booleans are converted where the tool's input
schema expects them; lists are comma-separated), or --args '{"vmid":100}' (JSON object;
key=value pairs override its keys).

Options:
  --args JSON               the tool arguments as a JSON object
  --yes                     answer "yes" to the confirmation a destroy/exec/raw tool asks for
${CONFIG_HELP}
`;

const log = getLog("cli.call");

/** A JSON Schema property, as far as argument coercion needs it. */
interface PropertySchema {
  type?: string | string[];
  anyOf?: PropertySchema[];
  oneOf?: PropertySchema[];
  items?: PropertySchema;
}

function typesOf(schema: PropertySchema | undefined): string[] {
  if (schema === undefined) return [];
  const own = schema.type === undefined ? [] : [schema.type].flat();
  const nested = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap(typesOf);
  return [...own, ...nested];
}

/**
 * Converts the text of a `key=value` pair to what the property's schema expects: integers and
 * numbers, `true`/`false`, comma lists for arrays, JSON for objects; otherwise the text.
 */
export function coerceArgument(text: string, schema: PropertySchema | undefined): unknown {
  const types = typesOf(schema);
  if ((types.includes("integer") || types.includes("number")) && /^-?\d+(\.\d+)?$/.test(text)) {
    return Number(text);
  }
  if (types.includes("boolean") && (text === "true" || text === "false")) return text === "true";
  if (types.includes("array")) {
    const items = text === "" ? [] : text.split(",").map((item) => item.trim());
    return items.map((item) => coerceArgument(item, schema?.items));
  }
  if (types.includes("object") && text.startsWith("{")) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (types.includes("null") && text === "null") return null;
  return text;
}

/** Builds the arguments object from `--args` and `key=value` pairs. */
export function buildArguments(
  json: string | undefined,
  pairs: readonly string[],
  properties: Readonly<Record<string, PropertySchema>>,
): Record<string, unknown> {
  let args: Record<string, unknown> = {};
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new UsageError(
        `Invalid --args: not JSON (${error instanceof Error ? error.message : String(error)}): ` +
          `write it like --args '{"vmid":100}'`,
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new UsageError(`Invalid --args: expected a JSON object like '{"vmid":100}'`);
    }
    args = { ...parsed as Record<string, unknown> };
  }
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0) {
      throw new UsageError(`Invalid argument "${pair}": expected key=value, like vmid=100`);
    }
    const key = pair.slice(0, equals);
    args[key] = coerceArgument(pair.slice(equals + 1), properties[key]);
  }
  return args;
}

/** Runs `call`; resolves with the exit code. */
export async function runCallCli(args: string[], out: Output = stdio): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(args, {
      options: { ...CONFIG_OPTIONS, args: { type: "string" }, yes: { type: "boolean" } },
      allowPositionals: true,
    });
    if (values.help) {
      out.line(CALL_USAGE.trimEnd());
      return 0;
    }
    const [name, ...pairs] = positionals;
    if (name === undefined) throw new UsageError("Missing the tool name: proxmox-mcp call <tool>");
    const known = allTools.find((tool) => tool.name === name);
    if (known === undefined) {
      const names = allTools.map((tool) => tool.name).join(", ");
      throw new UsageError(`Unknown tool "${name}": expected one of ${names}`);
    }
    const runtime = await openRuntime(configFlags(values), {
      demo: values.demo === true,
      ...(values.twin === undefined ? {} : { twin: values.twin }),
      audit: true,
    });
    try {
      const logLevelGiven = values["log-level"] !== undefined ||
        runtime.sources.env.includes("PROXMOX_MCP_LOG_LEVEL");
      await configureLogging({ level: logLevelGiven ? runtime.config.logging.level : "warning" });
      for (const warning of runtime.warnings) log.warning(warning);
      const { config, clients, audit, notice } = runtime;
      const session = await connectInProcess(
        () => createServer({ config, clients, audit, ...(notice ? { notice } : {}) }),
        values.yes
          ? {
            onElicit: (message) => {
              out.error(`Confirmation: ${message} → yes (--yes)`);
              return true;
            },
          }
          : {},
      );
      try {
        const listed = (await session.client.listTools()).tools.find((tool) => tool.name === name);
        const properties = (listed?.inputSchema.properties ?? {}) as Record<
          string,
          PropertySchema
        >;
        const toolArgs = buildArguments(values.args, pairs, properties);
        const result = await session.client.callTool({ name, arguments: toolArgs }, {
          onprogress: (progress) => {
            const percent = progress.total === 100 && progress.progress >= 1
              ? ` (${Math.round(progress.progress)}%)`
              : "";
            out.error(`progress: ${progress.message ?? ""}${percent}`);
          },
        });
        const text = (result.content as Array<{ type: string; text?: string }>)
          .filter((block) => block.type === "text")
          .map((block) => block.text ?? "")
          .join("\n");
        if (result.isError) {
          out.error(text);
          if (result.structuredContent !== undefined) printJson(result.structuredContent, out);
          return 1;
        }
        if (text !== "") out.error(text);
        printJson(result.structuredContent ?? { text }, out);
        return 0;
      } finally {
        await session.close();
      }
    } finally {
      await runtime.close();
    }
  } catch (error) {
    return reportFailure("call", error, out);
  }
}
