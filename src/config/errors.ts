/**
 * `ConfigError`: the configuration is unusable. Messages name the key and the fix, e.g.
 * `Invalid config "clusters.lab.url": expected an https:// or http:// URL, got "pve:8006" — set
 * it like "https://pve.example.com:8006"`. Messages never echo a secret.
 *
 * @module
 */

/** Options for {@link ConfigError}. */
export interface ConfigErrorOptions extends ErrorOptions {
  /** The dotted key path (`"clusters.lab.url"`), or `""` for the whole file. */
  key?: string;
  /** What to do about it, in one sentence. */
  fix?: string;
}

/** The configuration is unusable; `key` names where and `fix` says what to do. */
export class ConfigError extends Error {
  /** The dotted key path (`"clusters.lab.url"`), or `""` when it concerns the whole config. */
  readonly key: string;
  /** What to do about it, in one sentence. */
  readonly fix: string;

  /** A config error with a full message; prefer {@link ConfigError.invalid} for bad keys. */
  constructor(message: string, options: ConfigErrorOptions = {}) {
    const { key, fix, ...rest } = options;
    super(message, rest);
    this.name = "ConfigError";
    this.key = key ?? "";
    this.fix = fix ?? "";
  }

  /**
   * The standard message for a bad key: `Invalid config "<key>": <detail> — <fix>`.
   * `source` names where the value came from when it is not the file (`PROXMOX_URL`, `--url`).
   */
  static invalid(
    key: string,
    detail: string,
    options: { fix: string; source?: string | undefined },
  ): ConfigError {
    const where = key === "" ? "" : ` "${key}"`;
    const from = options.source === undefined ? "" : ` (from ${options.source})`;
    return new ConfigError(`Invalid config${where}${from}: ${detail} — ${options.fix}`, {
      key,
      fix: options.fix,
    });
  }
}

/** `"a", "b" and "c"` style list of quoted names. */
export function quoteList(names: readonly string[]): string {
  const quoted = names.map((name) => `"${name}"`);
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)}`;
}
