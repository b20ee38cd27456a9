/**
 * `proxmox-mcp tools`: the tools the current configuration would expose, with capability
 * class, toolset and annotations; `--all` adds the hidden ones and why they are hidden.
 *
 * @module
 */

import { checkToolConfig } from "../server/mod.ts";
import { allTools } from "../tools/mod.ts";
import { toolInventory, type ToolInventoryEntry } from "../tools/registry.ts";
import { CONFIG_HELP, CONFIG_OPTIONS, configFlags, parseCommandArgs } from "./_args.ts";
import { formatTable, type Output, printJson, stdio } from "./_output.ts";
import { openRuntime, reportFailure } from "./_runtime.ts";

/** Usage text of `tools`. */
export const TOOLS_USAGE = `Usage: proxmox-mcp tools [--json] [--all] [configuration flags]

List the tools the configuration exposes: name, capability class, toolset, annotations
(ro = read-only, destructive, idempotent) and title. No cluster is contacted.

Options:
  --json                    print JSON (an array of tools) instead of a table
  --all                     include hidden tools and say why each is hidden
${CONFIG_HELP}
`;

/** The short annotation flags of a tool: `ro`, `destructive`, `idempotent`. */
export function annotationFlags(entry: Pick<ToolInventoryEntry, "annotations">): string {
  const flags: string[] = [];
  if (entry.annotations.readOnlyHint) flags.push("ro");
  if (entry.annotations.destructiveHint) flags.push("destructive");
  if (entry.annotations.idempotentHint) flags.push("idempotent");
  return flags.join(",") || "-";
}

/** Runs `tools`; resolves with the exit code. */
export async function runToolsCli(args: string[], out: Output = stdio): Promise<number> {
  try {
    const { values } = parseCommandArgs(args, {
      options: { ...CONFIG_OPTIONS, json: { type: "boolean" }, all: { type: "boolean" } },
    });
    if (values.help) {
      out.line(TOOLS_USAGE.trimEnd());
      return 0;
    }
    const runtime = await openRuntime(configFlags(values), { needCluster: false });
    try {
      const { config } = runtime;
      checkToolConfig(allTools, config);
      const clusters = values.demo
        ? ["demo"]
        : values.twin !== undefined
        ? ["twin"]
        : Object.keys(config.clusters);
      const inventory = toolInventory(allTools, { policy: config.policy, clusters });
      const shown = values.all ? inventory : inventory.filter((entry) => entry.visible);
      if (values.json) {
        printJson(shown, out);
        return 0;
      }
      const rows = shown.map((entry) => {
        const row = [
          entry.name,
          entry.capability,
          entry.toolset,
          annotationFlags(entry),
          entry.title,
        ];
        if (values.all) row.push(entry.visible ? "yes" : `no: ${entry.hiddenBecause ?? ""}`);
        return row;
      });
      const headers = ["tool", "class", "toolset", "annotations", "title"];
      if (values.all) headers.push("offered");
      for (const line of formatTable(headers, rows)) out.line(line);
      const hidden = inventory.length - inventory.filter((entry) => entry.visible).length;
      out.line();
      out.line(
        `${inventory.length - hidden} of ${inventory.length} tools offered ` +
          `(allowed classes: ${config.policy.allow.join(", ")})` +
          (hidden > 0 && !values.all ? `; --all shows the ${hidden} hidden ones and why` : ""),
      );
      return 0;
    } finally {
      await runtime.close();
    }
  } catch (error) {
    return reportFailure("tools", error, out);
  }
}
