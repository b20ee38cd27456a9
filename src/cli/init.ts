/**
 * `proxmox-mcp init`: the first run in one command. Asks for the cluster URL and a token (or
 * user and password), runs `doctor`'s checks live (reach, TLS, auth, version, the credential's
 * privileges against the tools the policy enables — each failure with its fix), offers a CA
 * file or insecure TLS when the certificate is not trusted, writes the config file with mode
 * 0600 (the secret inline, or in a file of its own), and prints the client configuration for
 * Claude Desktop, Claude Code, Cursor, VS Code and Gemini CLI for the way this program runs.
 * Nothing is written while a check fails unless the user confirms. With `--yes` nothing is
 * asked: every answer comes from flags, and secrets from files.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import {
  clusterSchema,
  type Config,
  ConfigError,
  configSchema,
  DEFAULT_CLUSTER_NAME,
  loadConfig,
  normalizeClusterUrl,
  splitList,
} from "../config/mod.ts";
import { configureLogging } from "../log.ts";
import { CAPABILITIES, type Capability } from "../policy/capability.ts";
import { parseCommandArgs, UsageError } from "./_args.ts";
import { clientSnippets, commandLine, launchFor, type ServeNeeds } from "./_clients.ts";
import { type Output, stdio } from "./_output.ts";
import { PromptClosedError, Prompter, PromptInterruptedError } from "./_prompt.ts";
import { hostPort, reportFailure } from "./_runtime.ts";
import { checkCluster, type CheckRow, printRows } from "./doctor.ts";

/** Usage text of `init`. */
export const INIT_USAGE = `Usage: proxmox-mcp init [options]

Connect a Proxmox VE cluster in one go: asks for the cluster URL and credentials, checks them
live (reach, TLS, auth, version, and the credential's privileges against the tools the policy
enables, each failure with its fix), writes the config file with mode 0600, and prints the
client configuration for Claude Desktop, Claude Code, Cursor, VS Code and Gemini CLI. Nothing
is written while a check fails unless you confirm.

Options (each one answers its question; with --yes nothing is asked):
  --config FILE             config file to write (default ~/.config/proxmox-mcp/config.json)
  --url URL                 cluster URL, e.g. https://pve.example.com:8006
  --token-id ID             API token id, user@realm!tokenid
  --token-secret-file FILE  file holding the token secret (the config refers to it)
  --user USER               user@realm, to log in with a password instead of a token
  --password-file FILE      file holding the password (the config refers to it)
  --ca-file FILE            PEM CA of the cluster (a copy of its /etc/pve/pve-root-ca.pem)
  --insecure                skip TLS verification (unsafe; prefer --ca-file)
  --allow CLASSES           allowed capability classes, comma list (default read)
  --audit-path FILE|off     audit log (default audit.jsonl beside the config file)
  --name NAME               cluster name (default "${DEFAULT_CLUSTER_NAME}")
  --yes                     ask nothing: take the answers from the flags, write only when
                            every check passes
  --force                   with --yes: replace an existing config file and write even when
                            a check fails
Secrets are typed at a hidden prompt or read from the files above, never given as flags.`;

const INIT_OPTIONS = {
  config: { type: "string" },
  url: { type: "string" },
  "token-id": { type: "string" },
  "token-secret-file": { type: "string" },
  user: { type: "string" },
  "password-file": { type: "string" },
  "ca-file": { type: "string" },
  insecure: { type: "boolean" },
  allow: { type: "string", multiple: true },
  "audit-path": { type: "string" },
  name: { type: "string" },
  yes: { type: "boolean", short: "y" },
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The credential being set up; `secretFile` when the secret lives in a file of its own. */
type Credential =
  | { kind: "token"; tokenId: string; secret: string; secretFile?: string }
  | { kind: "password"; user: string; secret: string; secretFile?: string };

/** Everything the config file will say. */
interface Answers {
  path: string;
  name: string;
  url: string;
  credential: Credential;
  caFile?: string;
  insecure: boolean;
  allow: Capability[];
  /** The audit log, or `undefined` when it is off. */
  audit?: string;
}

/** Where the config goes by default: the user's configuration folder. */
export function defaultConfigPath(
  get: (name: string) => string | undefined = readEnv,
  os: string = Deno.build.os,
): string | undefined {
  if (os === "windows") {
    const appData = get("APPDATA");
    return appData === undefined ? undefined : `${appData}\\proxmox-mcp\\config.json`;
  }
  const base = get("XDG_CONFIG_HOME") ??
    (get("HOME") === undefined ? undefined : `${get("HOME")}/.config`);
  return base === undefined ? undefined : `${base}/proxmox-mcp/config.json`;
}

/** An environment variable, unset when empty or not permitted. */
function readEnv(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/** The schema's message for `value` as the cluster's `field`, or `undefined` when it is fine. */
function fieldProblem(
  field: "url" | "tokenId" | "user" | "name",
  value: string,
): string | undefined {
  const url = "https://pve.example.com:8006";
  const candidate = field === "url"
    ? { url: value, token: "root@pam!mcp=secret" }
    : field === "tokenId"
    ? { url, tokenId: value, tokenSecret: "x" }
    : field === "user"
    ? { url, user: value, password: "x" }
    : undefined;
  if (candidate === undefined) {
    const parsed = configSchema.safeParse({
      clusters: [{ name: value, url, token: "root@pam!mcp=secret" }],
    });
    return parsed.success ? undefined : parsed.error.issues[0]?.message;
  }
  const parsed = clusterSchema.safeParse(candidate);
  if (parsed.success) return undefined;
  return parsed.error.issues.find((issue) => issue.path[0] === field)?.message ??
    parsed.error.issues[0]?.message;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Reads a secret file given by a flag (trimmed; must not be empty). */
async function readSecretFile(path: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    const detail = error instanceof Deno.errors.NotFound
      ? `file "${path}" does not exist`
      : `cannot read "${path}": ${error instanceof Error ? error.message : String(error)}`;
    throw new ConfigError(`${flag}: ${detail} — write the secret into it (one line), mode 0600`);
  }
  const secret = text.trim();
  if (secret === "") {
    throw new ConfigError(`${flag}: file "${path}" is empty — write the secret into it (one line)`);
  }
  return secret;
}

/**
 * Writes `text` to `path` with mode 0600, atomically: a new file beside it, renamed over it, so
 * a replaced file never keeps wider permissions.
 */
async function writePrivate(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(temporary, text, { mode: 0o600, createNew: true });
  try {
    if (Deno.build.os !== "windows") await Deno.chmod(temporary, 0o600);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** The configuration the checks run against (secrets inline, nothing written). */
function checkedConfig(answers: Answers): Config {
  const { credential } = answers;
  return configSchema.parse({
    clusters: {
      [answers.name]: {
        url: answers.url,
        ...(credential.kind === "token"
          ? { tokenId: credential.tokenId, tokenSecret: credential.secret }
          : { user: credential.user, password: credential.secret }),
        ...(answers.caFile === undefined ? {} : { caFile: answers.caFile }),
        ...(answers.insecure ? { insecure: true } : {}),
      },
    },
    policy: { allow: answers.allow },
    audit: { enabled: false },
  });
}

/** The config file as written: the secret inline or by file, absolute paths. */
function fileContent(answers: Answers): Record<string, unknown> {
  const { credential } = answers;
  const auth = credential.kind === "token"
    ? {
      tokenId: credential.tokenId,
      ...(credential.secretFile === undefined
        ? { tokenSecret: credential.secret }
        : { tokenSecretFile: credential.secretFile }),
    }
    : {
      user: credential.user,
      ...(credential.secretFile === undefined
        ? { password: credential.secret }
        : { passwordFile: credential.secretFile }),
    };
  return {
    clusters: {
      [answers.name]: {
        url: answers.url,
        ...auth,
        ...(answers.caFile === undefined ? {} : { caFile: answers.caFile }),
        ...(answers.insecure ? { insecure: true } : {}),
      },
    },
    policy: { allow: answers.allow },
    audit: answers.audit === undefined ? { enabled: false } : { path: answers.audit },
  };
}

function failed(rows: readonly CheckRow[], check?: string): boolean {
  return rows.some((row) => row.result === "fail" && (check === undefined || row.check === check));
}

/** One run of `init`: the answers so far, the prompter (absent with --yes), and the output. */
class Setup {
  readonly #out: Output;
  readonly #ask: Prompter | undefined;

  constructor(out: Output, ask: Prompter | undefined) {
    this.#out = out;
    this.#ask = ask;
  }

  /** Asks until `problem` finds nothing wrong with the answer. */
  async #until(
    question: string,
    problem: (answer: string) => string | undefined,
    fallback = "",
  ): Promise<string> {
    const ask = this.#ask;
    if (ask === undefined) throw new Error(`Bug: "${question}" asked with --yes`);
    for (;;) {
      const answer = await ask.ask(question, fallback);
      const wrong = answer === "" ? "an answer is needed" : problem(answer);
      if (wrong === undefined) return answer;
      this.#out.line(`  ${wrong}`);
    }
  }

  async configPath(flag: string | undefined, force: boolean): Promise<string | undefined> {
    const fallback = defaultConfigPath();
    let path: string;
    if (flag !== undefined) path = resolve(flag);
    else if (this.#ask === undefined) {
      if (fallback === undefined) {
        throw new UsageError("pass --config FILE: there is no HOME to put the config file in");
      }
      path = fallback;
    } else path = resolve(await this.#until("Config file to write", () => undefined, fallback));
    if (!await exists(path)) return path;
    if (this.#ask === undefined) {
      if (force) return path;
      throw new ConfigError(
        `"${path}" already exists: nothing written — add --force to replace it, or pass --config with another path`,
      );
    }
    if (await this.#ask.confirm(`"${path}" already exists. Replace it?`, false)) return path;
    return undefined;
  }

  async url(flag: string | undefined): Promise<string> {
    if (flag !== undefined) {
      const problem = fieldProblem("url", flag);
      if (problem !== undefined) throw new UsageError(`--url: ${problem}`);
      return normalizeClusterUrl(flag);
    }
    if (this.#ask === undefined) throw new UsageError("pass --url with the cluster's address");
    return normalizeClusterUrl(
      await this.#until(
        "Proxmox VE URL (e.g. https://pve.example.com:8006)",
        (answer) => fieldProblem("url", answer),
      ),
    );
  }

  async credential(values: {
    tokenId?: string | undefined;
    tokenSecretFile?: string | undefined;
    user?: string | undefined;
    passwordFile?: string | undefined;
  }): Promise<Credential> {
    if (values.tokenId !== undefined && values.user !== undefined) {
      throw new UsageError("pass --token-id or --user, not both");
    }
    if (values.tokenSecretFile !== undefined && values.tokenId === undefined) {
      throw new UsageError("--token-secret-file needs --token-id");
    }
    if (values.passwordFile !== undefined && values.user === undefined) {
      throw new UsageError("--password-file needs --user");
    }
    if (values.tokenId !== undefined) {
      const problem = fieldProblem("tokenId", values.tokenId);
      if (problem !== undefined) throw new UsageError(`--token-id: ${problem}`);
      return await this.#withSecret(
        { kind: "token", tokenId: values.tokenId, secret: "" },
        values.tokenSecretFile,
      );
    }
    if (values.user !== undefined) {
      const problem = fieldProblem("user", values.user);
      if (problem !== undefined) throw new UsageError(`--user: ${problem}`);
      return await this.#withSecret(
        { kind: "password", user: values.user, secret: "" },
        values.passwordFile,
      );
    }
    if (this.#ask === undefined) {
      throw new UsageError(
        "pass --token-id with --token-secret-file, or --user with --password-file",
      );
    }
    const kind = await this.#until(
      "Log in with an API token or a password? (token/password)",
      (answer) =>
        /^(t|token|p|password)$/i.test(answer) ? undefined : 'answer "token" or "password"',
      "token",
    );
    return await this.askCredential(/^t/i.test(kind) ? "token" : "password");
  }

  /** Asks for a credential of `kind` (again, after a rejected one, with the old id offered). */
  async askCredential(kind: "token" | "password", previous?: Credential): Promise<Credential> {
    if (kind === "token") {
      const fallback = previous?.kind === "token" ? previous.tokenId : "";
      const answer = await this.#until(
        "API token id (user@realm!tokenid)",
        (value) => /^[^=]+![^=]+=.+$/.test(value) ? undefined : fieldProblem("tokenId", value),
        fallback,
      );
      const pasted = /^([^=]+![^=]+)=(.+)$/.exec(answer);
      if (pasted !== null) {
        const [, tokenId = "", secret = ""] = pasted;
        const problem = fieldProblem("tokenId", tokenId);
        if (problem === undefined) {
          this.#out.line('  That is the whole token: the secret after "=" is taken from it.');
          return { kind, tokenId, secret: secret.trim() };
        }
        this.#out.line(`  ${problem}`);
        return await this.askCredential(kind, previous);
      }
      return { kind, tokenId: answer, secret: await this.#secret("API token secret") };
    }
    const fallback = previous?.kind === "password" ? previous.user : "";
    const user = await this.#until(
      "User (user@realm, e.g. monitor@pve)",
      (value) => fieldProblem("user", value),
      fallback,
    );
    return { kind, user, secret: await this.#secret("Password") };
  }

  async #secret(question: string): Promise<string> {
    const ask = this.#ask;
    if (ask === undefined) throw new Error(`Bug: "${question}" asked with --yes`);
    for (;;) {
      const secret = await ask.secret(question);
      if (secret !== "") return secret;
      this.#out.line("  an answer is needed");
    }
  }

  async #withSecret(credential: Credential, file: string | undefined): Promise<Credential> {
    const flag = credential.kind === "token" ? "--token-secret-file" : "--password-file";
    if (file !== undefined) {
      const path = resolve(file);
      return { ...credential, secret: await readSecretFile(path, flag), secretFile: path };
    }
    if (this.#ask === undefined) {
      throw new UsageError(
        `${
          credential.kind === "token" ? "--token-id" : "--user"
        } needs ${flag} (secrets are not taken as flags)`,
      );
    }
    return {
      ...credential,
      secret: await this.#secret(credential.kind === "token" ? "API token secret" : "Password"),
    };
  }

  async tls(caFile: string | undefined, insecure: boolean): Promise<{
    caFile?: string;
    insecure: boolean;
  }> {
    if (caFile !== undefined && insecure) {
      throw new UsageError("pass --ca-file or --insecure, not both");
    }
    if (caFile === undefined) return { insecure };
    const path = resolve(caFile);
    if (!await exists(path)) {
      throw new ConfigError(
        `--ca-file: file "${path}" does not exist — copy the cluster's /etc/pve/pve-root-ca.pem there`,
      );
    }
    return { caFile: path, insecure: false };
  }

  /**
   * After a TLS failure: a CA file, insecure, or nothing (stop asking). Returns `undefined`
   * when the user gives up.
   */
  async offerTls(): Promise<{ caFile?: string; insecure: boolean } | undefined> {
    const ask = this.#ask;
    if (ask === undefined) return undefined;
    for (;;) {
      const answer = await ask.ask(
        'The certificate is not trusted. CA file of the cluster (a copy of /etc/pve/pve-root-ca.pem from a node), "insecure" to skip verification (unsafe), or empty to go on',
      );
      if (answer === "") return undefined;
      if (answer.toLowerCase() === "insecure") return { insecure: true };
      const path = resolve(answer);
      if (await exists(path)) return { caFile: path, insecure: false };
      this.#out.line(`  file "${path}" does not exist`);
    }
  }

  /** Whether to retype a rejected credential. */
  async retryCredential(): Promise<boolean> {
    return this.#ask !== undefined &&
      await this.#ask.confirm("The credential was rejected. Enter it again?", true);
  }

  /** Whether to write although checks failed. */
  async writeAnyway(force: boolean): Promise<boolean> {
    if (this.#ask === undefined) return force;
    return await this.#ask.confirm(
      "Some checks failed (see the fix column). Write the configuration anyway?",
      false,
    );
  }

  /** Where the typed secret goes: a file of its own (returned), or the config (`undefined`). */
  async secretFile(answers: Answers): Promise<string | undefined> {
    const ask = this.#ask;
    if (ask === undefined || answers.credential.secretFile !== undefined) {
      return answers.credential.secretFile;
    }
    const what = answers.credential.kind === "token" ? "token secret" : "password";
    const key = answers.credential.kind === "token" ? "tokenSecretFile" : "passwordFile";
    if (!await ask.confirm(`Keep the ${what} in a file of its own (${key})?`, false)) {
      return undefined;
    }
    const fallback = `${dirname(answers.path)}/${answers.name}-${
      answers.credential.kind === "token" ? "token-secret" : "password"
    }`;
    for (;;) {
      const path = resolve(await this.#until(`File for the ${what}`, () => undefined, fallback));
      if (
        !await exists(path) || await ask.confirm(`"${path}" already exists. Replace it?`, false)
      ) {
        return path;
      }
    }
  }
}

/** Runs the checks until they pass or the user stops fixing; returns the last rows. */
async function checkLoop(setup: Setup, answers: Answers, out: Output): Promise<CheckRow[]> {
  for (;;) {
    out.line();
    const rows = await checkCluster(answers.name, checkedConfig(answers), { demo: false });
    printRows(out, `Checking cluster "${answers.name}" (${answers.url})`, rows);
    out.line();
    if (failed(rows, "tls")) {
      const tls = await setup.offerTls();
      if (tls === undefined) return rows;
      delete answers.caFile;
      if (tls.caFile !== undefined) answers.caFile = tls.caFile;
      answers.insecure = tls.insecure;
      continue;
    }
    if (failed(rows, "auth") && await setup.retryCredential()) {
      answers.credential = await setup.askCredential(answers.credential.kind, answers.credential);
      continue;
    }
    return rows;
  }
}

function parseAllow(values: string[] | undefined): Capability[] {
  if (values === undefined) return ["read"];
  const allow = splitList(values);
  for (const name of allow) {
    if (!(CAPABILITIES as readonly string[]).includes(name)) {
      throw new UsageError(
        `--allow: unknown capability class "${name}": use ${CAPABILITIES.join(", ")}`,
      );
    }
  }
  return allow as Capability[];
}

/** Prints what was written and how each client starts the server. */
function printNext(out: Output, answers: Answers): void {
  const secretFile = answers.credential.secretFile;
  const reads = [answers.caFile, secretFile].filter((path) => path !== undefined);
  const needs: ServeNeeds = {
    config: answers.path,
    host: hostPort(answers.url),
    reads,
    ...(answers.audit === undefined ? {} : { audit: answers.audit }),
  };
  const what = answers.credential.kind === "token" ? "token secret" : "password";
  out.line(
    `Wrote ${answers.path} (mode 0600; the ${what} is ${
      secretFile === undefined ? "in it" : `in ${secretFile}, mode 0600`
    }).`,
  );
  out.line(
    `Policy: ${answers.allow.join(", ")} (policy.allow); audit log: ${answers.audit ?? "off"}.`,
  );
  out.line();
  out.line("Connect your assistant: each of these starts the server with this config file.");
  const serve = launchFor("serve", needs);
  if (/[\\/]_npx[\\/]/.test(serve.command)) {
    out.line(
      `(Deno runs from npx's cache here, ${serve.command}; once Deno is installed, "deno" will do as the command.)`,
    );
  }
  out.line();
  for (const line of clientSnippets(serve)) out.line(line);
  out.line();
  out.line("Check the setup again any time:");
  out.line(commandLine(launchFor("doctor", needs)));
  out.line(
    "To let the assistant do more than read, add classes to policy.allow in the config file " +
      "(see the README's safety model) and run the check again.",
  );
}

/** Runs `init`; resolves with the exit code (0 written, 1 nothing written, 2 usage). */
export async function runInitCli(args: string[], out: Output = stdio): Promise<number> {
  try {
    const { values } = parseCommandArgs(args, { options: INIT_OPTIONS });
    if (values.help) {
      out.line(INIT_USAGE);
      return 0;
    }
    await configureLogging({ level: "error" });
    const interactive = values.yes !== true;
    if (values.force === true && interactive) {
      throw new UsageError("--force goes with --yes; without --yes, init asks instead");
    }
    const setup = new Setup(out, interactive ? new Prompter() : undefined);
    const allow = parseAllow(values.allow);
    const name = values.name ?? DEFAULT_CLUSTER_NAME;
    const nameProblem = fieldProblem("name", name);
    if (nameProblem !== undefined) throw new UsageError(`--name: ${nameProblem}`);
    const tls = await setup.tls(values["ca-file"], values.insecure === true);
    if (interactive) {
      out.line("Connect proxmox-mcp to a Proxmox VE cluster. A value in [brackets] is the");
      out.line("default (press Enter); secrets are not shown as you type them.");
      out.line();
    }
    const path = await setup.configPath(values.config, values.force === true);
    if (path === undefined) {
      out.line("Nothing written.");
      return 1;
    }
    const url = await setup.url(values.url);
    const credential = await setup.credential({
      tokenId: values["token-id"],
      tokenSecretFile: values["token-secret-file"],
      user: values.user,
      passwordFile: values["password-file"],
    });
    const auditFlag = values["audit-path"];
    const audit = auditFlag === "off"
      ? undefined
      : resolve(auditFlag ?? `${dirname(path)}/audit.jsonl`);
    const answers: Answers = {
      path,
      name,
      url,
      credential,
      ...(tls.caFile === undefined ? {} : { caFile: tls.caFile }),
      insecure: tls.insecure,
      allow,
      ...(audit === undefined ? {} : { audit }),
    };

    const rows = await checkLoop(setup, answers, out);
    if (failed(rows)) {
      if (!await setup.writeAnyway(values.force === true)) {
        out.line(
          interactive
            ? "Nothing written."
            : "Nothing written: a check failed (see the fix column); fix it and run init again, or add --force to write anyway.",
        );
        return 1;
      }
    } else {
      out.line("All checks passed.");
    }

    const secretFile = await setup.secretFile(answers);
    if (secretFile !== undefined && answers.credential.secretFile === undefined) {
      await writePrivate(secretFile, `${answers.credential.secret}\n`);
      answers.credential = { ...answers.credential, secretFile };
    }
    await writePrivate(answers.path, `${JSON.stringify(fileContent(answers), null, 2)}\n`);
    // What serve will read: the file as written must load.
    await loadConfig({ args: { config: answers.path }, env: {} });
    out.line();
    printNext(out, answers);
    return 0;
  } catch (error) {
    if (error instanceof PromptClosedError) {
      out.error(
        `proxmox-mcp init: ${error.message}: nothing written (answer in a terminal, or pass --yes with the flags; see proxmox-mcp init --help)`,
      );
      return 1;
    }
    if (error instanceof PromptInterruptedError) {
      out.error("proxmox-mcp init: interrupted: nothing written");
      return 130;
    }
    return reportFailure("init", error, out);
  }
}
