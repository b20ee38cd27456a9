/**
 * `access_check`: what the configured credential may do. It reads the credential's effective
 * permissions (`/access/permissions`), holds them against what each offered tool needs (the
 * same table `doctor` uses, `policy/privileges.ts`), and names every tool that would fail with
 * 403, the missing privilege, and the `pveum` command that grants it. For a privilege-separated
 * token it also says when the token's user lacks the privilege (the token only ever gets what
 * its user has).
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { type Permissions, privilegeGaps, TOOL_PRIVILEGES } from "../../policy/privileges.ts";
import { grantCommand, suggestedRole } from "../../policy/role_hints.ts";
import { defineTool } from "../types.ts";

/** The ACL paths the tools' needs are stated on. */
const PATHS = ["/", "/vms", "/nodes", "/storage", "/access", "/sdn"];

const outputSchema = z.object({
  principal: z.string(),
  kind: z.enum(["token", "ticket"]),
  privileges: z.record(z.string(), z.array(z.string())),
  partial_paths: z.number(),
  tools_checked: z.number(),
  tools_ok: z.array(z.string()),
  missing: z.array(z.object({
    need: z.string(),
    role: z.string(),
    tools: z.array(z.string()),
    fix: z.string(),
  })),
  limited: z.array(z.string()),
  unmapped: z.array(z.string()),
});

type Output = z.infer<typeof outputSchema>;

function holds(entry: Readonly<Record<string, unknown>> | undefined, privilege: string): boolean {
  const value = entry?.[privilege];
  return value === 1 || value === true || value === "1";
}

/** Checks the credential's privileges against the offered tools. */
export const accessCheck = defineTool({
  name: "access_check",
  title: "Check access",
  description:
    "What the configured credential may do: its effective privileges on the paths the tools use, which offered tools would fail with 403, and the exact pveum command (role and ACL path) to fix each.",
  toolset: "network",
  capability: "read",
  inputSchema: z.object({}),
  outputSchema,
  annotations: { ...annotationsFor("read"), idempotentHint: true },
  async handler(_args, ctx) {
    const identity = ctx.client.identity;
    const token = identity.kind === "token";
    const permissions = await ctx.client.get<Permissions>(
      "/access/permissions",
      token ? { userid: identity.principal } : undefined,
      { signal: ctx.signal },
    );
    const offered = ctx.offeredTools;
    const tools = [...(offered ?? Object.keys(TOOL_PRIVILEGES))];
    const gaps = privilegeGaps(tools, permissions);
    const wanted = new Set<string>();
    for (const needs of Object.values(TOOL_PRIVILEGES)) {
      for (const need of needs) for (const p of need.privileges) wanted.add(p);
    }
    const privileges: Record<string, string[]> = {};
    for (const path of PATHS) {
      const held = [...wanted].filter((p) => holds(permissions[path], p)).sort();
      if (held.length > 0) privileges[path] = held;
    }
    const partialPaths = Object.keys(permissions).filter((p) => !PATHS.includes(p)).length;

    // A privilege-separated token gets user ∩ token: find out whether the user lacks it too.
    let userPermissions: Permissions | undefined;
    const user = token ? identity.principal.split("!")[0] : undefined;
    const hard = gaps.filter((gap) => gap.coverage === "none" && !gap.optional);
    if (user !== undefined && hard.length > 0) {
      userPermissions = await ctx.client.get<Permissions>(
        "/access/permissions",
        { userid: user },
        { signal: ctx.signal },
      ).catch(() => undefined);
    }
    const byNeed = new Map<string, Output["missing"][number]>();
    for (const gap of hard) {
      const privilege = gap.privileges[0] ?? "";
      const need = `${gap.privileges.join(" or ")} on ${gap.path}`;
      let entry = byNeed.get(need);
      if (entry === undefined) {
        let fix = grantCommand(identity.principal, { path: gap.path, privilege });
        if (user !== undefined && userPermissions !== undefined) {
          const userHas = gap.privileges.some((p) => holds(userPermissions[gap.path], p));
          if (!userHas) {
            fix += `; the user ${user} lacks it too: ${
              grantCommand(user, { path: gap.path, privilege })
            }`;
          }
        }
        entry = { need, role: suggestedRole(privilege), tools: [], fix };
        byNeed.set(need, entry);
      }
      entry.tools.push(gap.tool);
    }
    const failing = new Set(hard.map((gap) => gap.tool));
    const limited = [
      ...new Set(
        gaps.filter((gap) => gap.coverage === "partial" || gap.optional)
          .map((gap) =>
            `${gap.tool}: ${gap.privileges.join(" or ")} ${
              gap.coverage === "partial"
                ? `only on some objects below ${gap.path}`
                : `missing on ${gap.path}: ${gap.limits ?? "it sees less"}`
            }`
          ),
      ),
    ].sort();
    const unmapped = tools.filter((t) =>
      TOOL_PRIVILEGES[t] === undefined || TOOL_PRIVILEGES[t]?.length === 0
    )
      .filter((t) => t.startsWith("pve_api_")).sort();
    const out: Output = {
      principal: identity.principal,
      kind: token ? "token" : "ticket",
      privileges,
      partial_paths: partialPaths,
      tools_checked: tools.length,
      tools_ok: tools.filter((t) => !failing.has(t)).sort(),
      missing: [...byNeed.values()],
      limited,
      unmapped,
    };

    // Paths holding the same privileges share one entry: `/, /vms: VM.Audit,…`.
    const byList = new Map<string, string[]>();
    for (const [path, list] of Object.entries(privileges)) {
      byList.set(list.join(","), [...(byList.get(list.join(",")) ?? []), path]);
    }
    const held = [...byList].map(([list, paths]) => `${paths.join(", ")}: ${list}`).join("; ");
    const lines = [
      `${token ? "Token" : "User"} ${identity.principal} holds ${
        held || "no privilege the tools use"
      }${partialPaths > 0 ? ` (+ ${partialPaths} narrower ACL path(s))` : ""}.`,
      out.missing.length === 0
        ? `All ${tools.length} ${offered ? "offered" : "known"} tools have what they need.`
        : `${failing.size} of ${tools.length} ${
          offered ? "offered" : "known"
        } tools would fail with 403:`,
    ];
    for (const m of out.missing) {
      lines.push(`- missing ${m.need} (for ${m.tools.join(", ")}): ${m.fix}`);
    }
    if (limited.length > 0) lines.push(`Working but limited: ${limited.join("; ")}.`);
    if (unmapped.length > 0) {
      lines.push(`${unmapped.join(", ")}: need whatever the called endpoint checks.`);
    }
    return { text: lines.join("\n"), structured: out };
  },
});
