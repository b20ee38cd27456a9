/**
 * The configuration schema (zod 4): one schema for the file, the environment and the flags.
 * `config.schema.json` is generated from it (`deno run --allow-read --allow-write
 * scripts/gen_config_schema.ts`) and `config.example.json` is tested against it.
 *
 * Custom messages are written as `detail — fix`; `issues.ts` turns them into `ConfigError`s.
 *
 * @module
 */

import { z } from "zod";
import { LOG_LEVELS } from "../log_levels.ts";
import { CAPABILITIES } from "../policy/capability.ts";
import { parseVmidRanges } from "../policy/scope.ts";
import { quoteList } from "./errors.ts";
import { type ClusterAuthKey, DEFAULT_CLUSTER_NAME } from "./shape.ts";

export { CLUSTER_AUTH_KEYS, clustersBranch, DEFAULT_CLUSTER_NAME } from "./shape.ts";

/** The default Proxmox VE API port, used when the URL has none. */
export const DEFAULT_PORT = 8006;
/** The default timeout of one API request, in milliseconds. */
export const DEFAULT_REQUEST_MS = 30_000;
/** The default timeout of slow API requests (uploads, long synchronous calls), in milliseconds. */
export const DEFAULT_LONG_REQUEST_MS = 120_000;
/**
 * The default audit log path: `proxmox-mcp-audit.jsonl` in the working directory of the server
 * process. Relative `audit.path` values in a config file are resolved against the file's folder.
 */
export const DEFAULT_AUDIT_PATH = "proxmox-mcp-audit.jsonl";

const URL_EXAMPLE = 'set it like "https://pve.example.com:8006"';
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const USER_ID = /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/;
const TOKEN_ID = /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/;
const TOKEN = /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+=\S+$/;
const NODE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const POOL_ID = /^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/;
const TAG = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

/** Render a user-supplied value for a message (never used for secrets). */
export function showValue(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

/** Split a URL string into its parts, or say what is wrong (without echoing credentials). */
function urlProblem(value: string): string | undefined {
  const shown = value.includes("@") ? "a URL with credentials" : showValue(value);
  const match = /^(https?):\/\/([^/?#]*)(\/[^?#]*)?([?#].*)?$/i.exec(value);
  if (match === null) {
    return `expected an https:// or http:// URL, got ${shown} — ${URL_EXAMPLE}`;
  }
  const [, , authority = "", path = "", rest] = match;
  if (authority.includes("@")) {
    return "expected a URL without user name or password — remove them from the URL and use " +
      '"token" or "user"/"password" instead';
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return `expected an https:// or http:// URL, got ${shown} — ${URL_EXAMPLE}`;
  }
  if (parsed.hostname === "") {
    return `expected a host name in the URL, got ${shown} — ${URL_EXAMPLE}`;
  }
  const cleanPath = path.replace(/\/+$/, "").replace(/^\/api2\/json$/, "");
  if (cleanPath !== "" || rest !== undefined) {
    return `expected the server address without a path, got ${shown} — ${URL_EXAMPLE}`;
  }
  return undefined;
}

/** `https://pve:8006/` → `https://pve:8006`; adds port 8006 when the URL names none. */
export function normalizeClusterUrl(value: string): string {
  const match = /^(https?):\/\/([^/?#]*)/i.exec(value);
  if (match === null || urlProblem(value) !== undefined) return value;
  const parsed = new URL(value);
  const explicitPort = /:(\d+)$/.exec(match[2] ?? "")?.[1];
  const port = explicitPort ?? String(DEFAULT_PORT);
  return `${parsed.protocol}//${parsed.hostname}:${Number(port)}`;
}

const url = z
  .string({
    error: (issue) =>
      `expected an https:// or http:// URL, got ${showValue(issue.input)} — ${URL_EXAMPLE}`,
  })
  .superRefine((value, ctx) => {
    const problem = urlProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  })
  .transform(normalizeClusterUrl)
  .meta({
    description: "Proxmox VE API address, e.g. https://pve.example.com:8006 (port 8006 if omitted)",
  });

function text(description: string, example: string) {
  return z
    .string({ error: (issue) => `expected a string, got ${showValue(issue.input)} — ${example}` })
    .min(1, { error: `expected a non-empty string — ${example}` })
    .meta({ description });
}

/** A string holding a secret: messages never show its value. */
function secret(description: string, example: string) {
  return z
    .string({ error: `expected a string — ${example}` })
    .min(1, { error: `expected a non-empty string — ${example}` })
    .meta({ description });
}

function wholeNumber(description: string, min: number, unit: string) {
  return z
    .number({
      error: (issue) =>
        `expected a number of ${unit}, got ${showValue(issue.input)} — use a whole number`,
    })
    .int({
      error: (issue) =>
        `expected a whole number of ${unit}, got ${showValue(issue.input)} — drop the fraction`,
    })
    .min(min, {
      error: (issue) =>
        `expected at least ${min} ${unit}, got ${showValue(issue.input)} — use ${min} or more`,
    })
    .meta({ description });
}

function flag(description: string) {
  return z.boolean({
    error: (issue) =>
      `expected true or false, got ${showValue(issue.input)} — write it without quotes`,
  }).meta({ description });
}

/** A strict object whose unknown-key message lists the valid keys. */
function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const valid = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        const noun = issue.keys.length === 1 ? "key" : "keys";
        return `unknown ${noun} ${quoteList(issue.keys)} — valid keys here are ${quoteList(valid)}`;
      }
      return `expected an object, got ${showValue(issue.input)} — see config.example.json`;
    },
  });
}

/** A non-empty list of strings each matching `pattern`. */
function list(description: string, what: string, pattern: RegExp, example: string) {
  return z
    .array(
      z.string({
        error: (issue) => `expected a ${what}, got ${showValue(issue.input)} — ${example}`,
      })
        .regex(pattern, {
          error: (issue) => `invalid ${what} ${showValue(issue.input)} — write it like ${example}`,
        }),
      {
        error: (issue) =>
          `expected a list, got ${showValue(issue.input)} — write it like [${example}]`,
      },
    )
    .min(1, { error: `expected at least one ${what} — remove the key to lift this restriction` })
    .meta({ description });
}

const AUTH_FIX = 'set "token" ("user@realm!tokenid=secret"), "tokenId" with "tokenSecret", or ' +
  '"user" with "password" (each secret may also come from a file: "tokenFile", ' +
  '"tokenSecretFile", "passwordFile")';

/** Problems with a token string, without echoing it. */
export function tokenProblem(value: string): string | undefined {
  if (TOKEN.test(value)) return undefined;
  if (/^[^\s=]+![^\s=:]+:\S+$/.test(value)) {
    return 'expected "user@realm!tokenid=secret", but the token id and secret are separated by ' +
      '":" — Proxmox VE separates them with "=" (":" is the Proxmox Backup Server syntax)';
  }
  return 'expected "user@realm!tokenid=secret" — copy the full token id (like "root@pam!mcp"), ' +
    'then "=", then the secret shown once when the token was created';
}

const clusterShape = {
  url,
  token: secret(
    'API token, "user@realm!tokenid=secret"',
    'write it like "root@pam!mcp=<secret>"',
  ).optional(),
  tokenFile: text(
    'File holding the whole API token "user@realm!tokenid=secret" (trimmed)',
    'write a path like "/etc/proxmox-mcp/token"',
  ).optional(),
  tokenId: text('API token id, "user@realm!tokenid"', 'write it like "root@pam!mcp"').optional(),
  tokenSecret: secret("API token secret (a UUID)", "write the secret as a string").optional(),
  tokenSecretFile: text(
    "File holding the API token secret (trimmed)",
    'write a path like "/etc/proxmox-mcp/token-secret"',
  ).optional(),
  user: text('User for ticket login, "user@realm"', 'write it like "monitor@pve"').optional(),
  password: secret("Password for ticket login", "write the password as a string").optional(),
  passwordFile: text(
    "File holding the password (trimmed)",
    'write a path like "/etc/proxmox-mcp/password"',
  ).optional(),
  caFile: text(
    "PEM file with the CA certificate(s) that signed the cluster's TLS certificate",
    'write a path like "/etc/proxmox-mcp/pve-root-ca.pem"',
  ).optional(),
  insecure: flag("Skip TLS certificate verification (unsafe; prefer caFile)").default(false),
  timeouts: strict({
    requestMs: wholeNumber("Timeout of one API request", 1, "milliseconds").default(
      DEFAULT_REQUEST_MS,
    ),
    longRequestMs: wholeNumber("Timeout of slow API requests", 1, "milliseconds").default(
      DEFAULT_LONG_REQUEST_MS,
    ),
  }).prefault({}),
};

type ClusterFields = { [K in ClusterAuthKey]?: string | undefined };

/** Check that exactly one complete auth method is configured. */
function checkAuth(cluster: ClusterFields, ctx: z.core.$RefinementCtx<unknown>): void {
  const has = (key: ClusterAuthKey) => cluster[key] !== undefined;
  const methods: string[] = [];
  if (has("token") || has("tokenFile")) methods.push(has("token") ? '"token"' : '"tokenFile"');
  if (has("tokenId") || has("tokenSecret") || has("tokenSecretFile")) methods.push('"tokenId"');
  if (has("user") || has("password") || has("passwordFile")) methods.push('"user"');
  const issue = (path: string[], message: string) =>
    ctx.addIssue({ code: "custom", path, message });
  if (methods.length === 0) {
    issue([], `no credentials configured — ${AUTH_FIX}`);
    return;
  }
  if (methods.length > 1) {
    issue(
      [],
      `more than one auth method configured (${
        methods.join(", ")
      }) — keep exactly one: ${AUTH_FIX}`,
    );
    return;
  }
  const pair = (a: ClusterAuthKey, b: ClusterAuthKey) => {
    if (has(a) && has(b)) issue([b], `both "${a}" and "${b}" are set — keep only one of them`);
  };
  pair("token", "tokenFile");
  pair("tokenSecret", "tokenSecretFile");
  pair("password", "passwordFile");
  if (cluster.token !== undefined) {
    const problem = tokenProblem(cluster.token);
    if (problem !== undefined) issue(["token"], problem);
  }
  if (methods[0] === '"tokenId"') {
    if (!has("tokenId")) {
      issue(
        ["tokenId"],
        'missing: the token secret needs its token id — add "tokenId" like "root@pam!mcp"',
      );
    } else if (!TOKEN_ID.test(cluster.tokenId ?? "")) {
      issue(
        ["tokenId"],
        `expected "user@realm!tokenid", got ${
          showValue(cluster.tokenId)
        } — write it like "root@pam!mcp"`,
      );
    }
    if (!has("tokenSecret") && !has("tokenSecretFile")) {
      issue(
        ["tokenSecret"],
        'missing: "tokenId" needs its secret — add "tokenSecret" or "tokenSecretFile"',
      );
    }
  }
  if (methods[0] === '"user"') {
    if (!has("user")) {
      issue(["user"], 'missing: the password needs its user — add "user" like "monitor@pve"');
    } else if (!USER_ID.test(cluster.user ?? "")) {
      issue(
        ["user"],
        `expected "user@realm", got ${
          showValue(cluster.user)
        } — add the realm, like "root@pam" or "monitor@pve"`,
      );
    }
    if (!has("password") && !has("passwordFile")) {
      issue(["password"], 'missing: "user" needs a password — add "password" or "passwordFile"');
    }
  }
}

const clusterName = z
  .string({
    error: (issue) =>
      `expected a cluster name, got ${
        showValue(issue.input)
      } — give each cluster in the list a "name", like "lab"`,
  })
  .regex(CLUSTER_NAME, {
    error: (issue) =>
      `invalid cluster name ${
        showValue(issue.input)
      } — use letters, digits, ".", "_" and "-", starting with a letter or digit`,
  })
  .meta({ description: "Cluster name, used as the `cluster` argument of tools" });

/** One cluster (in the `{ name: {...} }` form). */
export const clusterSchema = strict(clusterShape).superRefine(checkAuth);

const singleClusterSchema = strict({ name: clusterName.optional(), ...clusterShape })
  .superRefine(checkAuth);
const namedClusterSchema = strict({ name: clusterName, ...clusterShape }).superRefine(checkAuth);

/** A cluster after parsing. */
export type ClusterConfig = z.output<typeof clusterSchema>;

function withoutName<T extends { name?: string | undefined }>(cluster: T): Omit<T, "name"> {
  const { name: _name, ...rest } = cluster;
  return rest;
}

const clustersSchema = z
  .union([
    singleClusterSchema,
    z.array(namedClusterSchema).min(1, {
      error: "expected at least one cluster — add one, or remove the key",
    }),
    z.record(clusterName, clusterSchema),
  ])
  .superRefine((value, ctx) => {
    if (!Array.isArray(value)) return;
    const seen = new Set<string>();
    value.forEach((cluster, index) => {
      if (seen.has(cluster.name)) {
        ctx.addIssue({
          code: "custom",
          path: [index, "name"],
          message: `duplicate cluster name ${
            showValue(cluster.name)
          } — give each cluster its own name`,
        });
      }
      seen.add(cluster.name);
    });
  })
  .transform((value): Record<string, ClusterConfig> => {
    if (Array.isArray(value)) {
      return Object.fromEntries(value.map((cluster) => [cluster.name, withoutName(cluster)]));
    }
    if ("url" in value && typeof value.url === "string") {
      const single = value as z.output<typeof singleClusterSchema>;
      return { [single.name ?? DEFAULT_CLUSTER_NAME]: withoutName(single) };
    }
    return value as Record<string, ClusterConfig>;
  })
  .meta({
    description:
      "One cluster (an object with url), a list of clusters with names, or an object of clusters by name",
  });

const capability = z.enum(CAPABILITIES, {
  error: (issue) =>
    `unknown capability class ${showValue(issue.input)} — valid classes are ${
      quoteList(CAPABILITIES)
    }`,
});

const names = (description: string, example: string) =>
  z.array(text(description, example), {
    error: (issue) => `expected a list, got ${showValue(issue.input)} — write it like [${example}]`,
  }).meta({ description });

const vmidRange = z
  .string({
    error: (issue) =>
      `expected a VMID range, got ${showValue(issue.input)} — write it like "100-199" or "105"`,
  })
  .superRefine((value, ctx) => {
    try {
      parseVmidRanges([value]);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const detail = message.replace(/^Invalid vmid range "[^"]*": /, "");
      ctx.addIssue({
        code: "custom",
        message: `invalid VMID range ${
          showValue(value)
        }: ${detail} — write it like "100-199" or "105"`,
      });
    }
  });

/** Scope rules (`policy.scope`). */
export const scopeSchema = strict({
  nodes: list("Only these nodes", "node name", NODE_NAME, '"pve1"').optional(),
  vmids: z
    .array(vmidRange, {
      error: (issue) =>
        `expected a list, got ${showValue(issue.input)} — write it like ["100-199", "250"]`,
    })
    .min(1, { error: "expected at least one VMID range — remove the key to lift this restriction" })
    .meta({ description: 'Only these VMIDs: ranges like "100-199" or single ids like "105"' })
    .optional(),
  pools: list("Only guests in these pools", "pool id", POOL_ID, '"lab"').optional(),
  tags: list("Only guests carrying at least one of these tags", "tag", TAG, '"mcp"').optional(),
}).meta({
  description: "Which guests may be acted on; every configured dimension must match",
});

/** The `policy` section. */
export const policySchema = strict({
  allow: z
    .array(capability, {
      error: (issue) =>
        `expected a list, got ${showValue(issue.input)} — write it like ["read", "lifecycle"]`,
    })
    .default(["read"])
    .meta({ description: `Allowed capability classes: ${CAPABILITIES.join(", ")}` }),
  toolsets: names("Enabled toolsets (default: those marked default in the README)", '"inventory"')
    .optional(),
  exclude: names("Tool names never offered", '"guest_delete"').default([]),
  scope: scopeSchema.prefault({}),
  confirmation: strict({
    fallback: z
      .enum(["deny", "allow"], {
        error: (issue) =>
          `expected "deny" or "allow", got ${
            showValue(issue.input)
          } — use "deny" (the safe default) or "allow"`,
      })
      .default("deny")
      .meta({ description: "What to do when the client cannot ask the user to confirm" }),
  }).prefault({}),
  wait: strict({
    defaultSeconds: wholeNumber("How long write tools wait for their task", 0, "seconds").default(
      60,
    ),
    maxSeconds: wholeNumber("The longest wait a tool call may ask for", 1, "seconds").default(900),
  })
    .prefault({})
    .superRefine((wait, ctx) => {
      if (wait.defaultSeconds > wait.maxSeconds) {
        ctx.addIssue({
          code: "custom",
          path: ["defaultSeconds"],
          message:
            `expected at most maxSeconds (${wait.maxSeconds}), got ${wait.defaultSeconds} — lower it or raise "policy.wait.maxSeconds"`,
        });
      }
    }),
});

/** The `audit` section. */
export const auditSchema = strict({
  enabled: flag("Write one JSON line per write attempt").default(true),
  path: text(
    "Audit log file (JSON Lines); relative paths in a config file are relative to that file",
    'write a path like "/var/log/proxmox-mcp/audit.jsonl"',
  ).default(DEFAULT_AUDIT_PATH),
});

/** The `logging` section. */
export const loggingSchema = strict({
  level: z
    .enum(LOG_LEVELS, {
      error: (issue) =>
        `unknown log level ${showValue(issue.input)} — use one of ${quoteList(LOG_LEVELS)}`,
    })
    .default("info")
    .meta({ description: "Lowest level written to stderr" }),
});

// ---- remote mode: HTTP transport, callers (profiles), OAuth, shared state -----------------

const HOST_NAME = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const LISTEN = /^(?:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?\d{1,5}$/;

/** An http(s) URL a server or a person can reach (checked with `URL`, no credentials shown). */
function httpUrl(description: string, example: string) {
  return z
    .string({ error: (issue) => `expected a URL, got ${showValue(issue.input)} — ${example}` })
    .superRefine((value, ctx) => {
      let parsed: URL | undefined;
      try {
        parsed = new URL(value);
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined || !/^https?:$/.test(parsed.protocol)) {
        const shown = value.includes("@") ? "a URL with credentials" : showValue(value);
        ctx.addIssue({
          code: "custom",
          message: `expected an https:// or http:// URL, got ${shown} — ${example}`,
        });
      }
    })
    .meta({ description });
}

/** `[HOST:]PORT` as given to `--http`. */
export const listenSchema = z
  .string({
    error: (issue) =>
      `expected "[HOST:]PORT", got ${showValue(issue.input)} — write it like "127.0.0.1:8080"`,
  })
  .regex(LISTEN, {
    error: (issue) =>
      `expected "[HOST:]PORT", got ${
        showValue(issue.input)
      } — write it like "127.0.0.1:8080", "[::1]:8080" or "8080"`,
  })
  .refine((value) => Number(/(\d+)$/.exec(value)?.[1]) <= 65535, {
    error: "expected a port from 0 to 65535 — pick a free port like 8080",
  })
  .meta({
    description:
      "Serve MCP over Streamable HTTP on [HOST:]PORT (host 127.0.0.1 when omitted) instead of stdio",
  });

/** A token bucket: sustained rate per minute and burst size. */
const bucketSchema = (what: string, perMinute: number, burst: number) =>
  strict({
    perMinute: wholeNumber(`${what}: tokens added per minute`, 1, "calls per minute").default(
      perMinute,
    ),
    burst: wholeNumber(`${what}: bucket size (calls allowed at once)`, 1, "calls").default(burst),
  }).prefault({});

/** Per-caller rate limits (`http.rateLimit`, `profiles.<name>.rateLimit`). */
export const rateLimitSchema = strict({
  calls: bucketSchema("All tool calls", 120, 60).meta({
    description: "Token bucket for every tool call of one caller",
  }),
  writes: bucketSchema("Write tool calls", 20, 5).meta({
    description: "Stricter token bucket for tool calls whose class is not read",
  }),
});

/** The credential part of a cluster, for a profile's own Proxmox VE credential. */
const clusterCredentialsSchema = strict({
  token: clusterShape.token,
  tokenFile: clusterShape.tokenFile,
  tokenId: clusterShape.tokenId,
  tokenSecret: clusterShape.tokenSecret,
  tokenSecretFile: clusterShape.tokenSecretFile,
  user: clusterShape.user,
  password: clusterShape.password,
  passwordFile: clusterShape.passwordFile,
}).superRefine(checkAuth);

/** The credentials a profile uses for one cluster, after parsing. */
export type ClusterCredentials = z.output<typeof clusterCredentialsSchema>;

const hostNames = (description: string) =>
  list(description, "host name", HOST_NAME, '"mcp.example.com"');

const profilePolicySchema = strict({
  allow: z
    .array(capability, {
      error: (issue) =>
        `expected a list, got ${showValue(issue.input)} — write it like ["read", "lifecycle"]`,
    })
    .meta({ description: `Allowed capability classes: ${CAPABILITIES.join(", ")}` })
    .optional(),
  toolsets: names("Enabled toolsets", '"inventory"').optional(),
  exclude: names("Tool names never offered", '"guest_delete"').optional(),
  scope: scopeSchema.optional(),
  confirmation: strict({
    fallback: z.enum(["deny", "allow"], {
      error: (issue) => `expected "deny" or "allow", got ${showValue(issue.input)} — use "deny"`,
    }).meta({ description: "What to do when the client cannot ask the user to confirm" }),
  }).optional(),
}).meta({
  description: "This caller's policy: each key given replaces the same key of the top-level policy",
});

/** One caller of the HTTP server. */
export const profileSchema = strict({
  tokenSha256: z
    .array(
      z.string({ error: "expected a SHA-256 hex digest — see the README's remote quick start" })
        .regex(SHA256_HEX, {
          error:
            'expected 64 lowercase hex digits (the SHA-256 of the token) — compute it with: printf %s "$TOKEN" | sha256sum',
        }),
      {
        error: (issue) =>
          `expected a list, got ${showValue(issue.input)} — write it like ["<hex>"]`,
      },
    )
    .default([])
    .meta({ description: "SHA-256 hex digests of this caller's bearer tokens" }),
  tokenFiles: z
    .array(
      text("File holding one bearer token (trimmed)", 'write a path like "/run/secrets/ops-token"'),
      {
        error: (issue) =>
          `expected a list, got ${
            showValue(issue.input)
          } — write it like ["/run/secrets/ops-token"]`,
      },
    )
    .default([])
    .meta({ description: "Files each holding one bearer token of this caller (hashed when read)" }),
  oauth: strict({
    scopes: names("Every one of these scopes must be in the token", '"proxmox:read"').optional(),
    claims: z.record(
      z.string(),
      z.string({ error: 'expected a string claim value — write it like "ops"' }),
      { error: 'expected an object of claim names and values — write it like {"groups": "ops"}' },
    ).optional().meta({
      description: "Every claim must equal this value (or, for a list claim, contain it)",
    }),
  }).optional().meta({
    description: "OAuth access tokens that map to this profile (first matching profile wins)",
  }),
  policy: profilePolicySchema.prefault({}),
  rateLimit: rateLimitSchema.optional().meta({
    description: "This caller's rate limits (default: http.rateLimit)",
  }),
  clusters: z
    .record(clusterName, clusterCredentialsSchema, {
      error: "expected an object of cluster names and credentials — see the README's remote mode",
    })
    .optional()
    .meta({
      description:
        "This caller's own Proxmox VE credential per configured cluster (default: the cluster's)",
    }),
}).superRefine((profile, ctx) => {
  if (profile.tokenSha256.length === 0 && profile.tokenFiles.length === 0 && !profile.oauth) {
    ctx.addIssue({
      code: "custom",
      message:
        'no way to authenticate as this profile — add "tokenSha256", "tokenFiles" or "oauth"',
    });
  }
});

/** A profile after parsing. */
export type ProfileConfig = z.output<typeof profileSchema>;

const profileName = z
  .string()
  .regex(PROFILE_NAME, {
    error: (issue) =>
      `invalid profile name ${
        showValue(issue.input)
      } — use letters, digits, ".", "_" and "-", starting with a letter or digit`,
  });

/** Callers of the HTTP server by name (`profiles`). */
export const profilesSchema = z
  .record(profileName, profileSchema, {
    error: (issue) =>
      issue.code === "invalid_type"
        ? `expected an object of profiles by name, got ${
          showValue(issue.input)
        } — write it like {"ops": {"tokenSha256": ["<hex>"]}}`
        : issue.code === "invalid_key"
        ? `invalid profile name ${
          showValue(issue.input)
        } — use letters, digits, ".", "_" and "-", starting with a letter or digit`
        : undefined,
  })
  .meta({ description: "Callers of the HTTP server by name, each with its own policy" });

/** OAuth 2.1 resource server settings (`http.oauth`). */
export const oauthSchema = strict({
  issuer: httpUrl(
    "Authorization server issuer (the JWT iss claim)",
    'write it like "https://auth.example.com"',
  ),
  jwksUrl: httpUrl(
    "The issuer's JWKS (default: <issuer>/.well-known/jwks.json)",
    'write it like "https://auth.example.com/.well-known/jwks.json"',
  ).optional(),
  audience: text(
    "Expected JWT aud claim (default: http.publicUrl)",
    'write it like "https://mcp.example.com/mcp"',
  ).optional(),
  scopesSupported: names("Scopes advertised in the protected-resource metadata", '"proxmox:read"')
    .optional(),
});

/** The `http` section (used by `serve --http`). */
export const httpSchema = strict({
  listen: listenSchema.optional(),
  publicUrl: httpUrl(
    "The URL callers use for the MCP endpoint (OAuth resource; its host is allowed)",
    'write it like "https://mcp.example.com/mcp"',
  ).optional(),
  tlsCertFile: text(
    "PEM certificate chain to serve HTTPS with",
    'write a path like "/etc/proxmox-mcp/tls.pem"',
  )
    .optional(),
  tlsKeyFile: text("PEM private key of tlsCertFile", 'write a path like "/etc/proxmox-mcp/tls.key"')
    .optional(),
  allowedHosts: hostNames("Host header names accepted besides the loopback names").optional(),
  allowedOrigins: hostNames(
    "Origin host names accepted besides the loopback names (a request without Origin passes)",
  )
    .optional(),
  maxBodyBytes: wholeNumber("Largest request body accepted", 1024, "bytes").default(1_048_576),
  maxSessions: wholeNumber("Most 2025-era sessions open at once", 1, "sessions").default(256),
  sessionIdleSeconds: wholeNumber("A 2025-era session unused this long is closed", 1, "seconds")
    .default(1800),
  shutdownSeconds: wholeNumber("On SIGTERM, how long in-flight calls may finish", 0, "seconds")
    .default(30),
  rateLimit: rateLimitSchema.prefault({}).meta({
    description: "Rate limits of each caller unless its profile sets its own",
  }),
  oauth: oauthSchema.optional(),
  redisUrl: secret(
    "Redis URL for state shared by replicas (confirmations, rate limits, sessions)",
    'write it like "redis://redis:6379"',
  ).optional(),
  redisUrlFile: text(
    "File holding the Redis URL (trimmed)",
    'write a path like "/run/secrets/redis-url"',
  )
    .optional(),
  replicaUrl: httpUrl(
    "This replica's own address, reachable by the other replicas (2025-era session forwarding)",
    'write it like "http://10.0.0.12:8080"',
  ).optional(),
}).superRefine((http, ctx) => {
  if ((http.tlsCertFile === undefined) !== (http.tlsKeyFile === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: [http.tlsCertFile === undefined ? "tlsCertFile" : "tlsKeyFile"],
      message: 'missing: TLS needs both "tlsCertFile" and "tlsKeyFile" — set both, or neither',
    });
  }
  if (http.redisUrl !== undefined && http.redisUrlFile !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["redisUrlFile"],
      message: 'both "redisUrl" and "redisUrlFile" are set — keep only one of them',
    });
  }
  if (
    http.oauth !== undefined && http.oauth.audience === undefined && http.publicUrl === undefined
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["oauth", "audience"],
      message:
        'missing: OAuth needs the audience its tokens are issued for — set "http.oauth.audience" or "http.publicUrl"',
    });
  }
});

/** The `http` section after parsing. */
export type HttpConfig = z.output<typeof httpSchema>;

/** The whole configuration. */
export const configSchema = strict({
  $schema: z.string().optional().meta({ description: "JSON Schema for editors" }),
  clusters: clustersSchema.optional().transform((value) => value ?? {}),
  policy: policySchema.prefault({}),
  audit: auditSchema.prefault({}),
  logging: loggingSchema.prefault({}),
  http: httpSchema.prefault({}),
  profiles: profilesSchema.default({}),
}).meta({ title: "proxmox-mcp configuration" });

/** The configuration after parsing (defaults applied, clusters keyed by name). */
export type Config = z.output<typeof configSchema>;
/** The configuration as written (file shape). */
export type ConfigInput = z.input<typeof configSchema>;
/** The `policy` section after parsing. */
export type PolicyConfig = Config["policy"];
/** The `policy.scope` section after parsing. */
export type ScopeConfig = PolicyConfig["scope"];
/** The `audit` section after parsing. */
export type AuditConfig = Config["audit"];
/** The `logging` section after parsing. */
export type LoggingConfig = Config["logging"];
