/**
 * `guest_config_update`: sets and deletes config keys of a VM or container with one
 * `PUT …/config` that carries the `digest` read while planning, so an edit made by someone else
 * in between fails instead of being overwritten. The plan (and `dry_run`) shows a before/after
 * diff per key; the result says which changes wait for the next reboot (PVE's pending
 * changes). Disks are not edited here: detaching, deleting, replacing or resizing one is
 * refused with the tool or call to use; adding a new disk or a cloud-init drive is allowed
 * after the storage is checked. Keys and values are checked against PVE's schema before
 * sending; `cipassword` is never shown.
 *
 * @module
 */

import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError, PveValidationError } from "../../pve/errors.ts";
import { type ConfigDiffEntry, defineTool, type Plan } from "../types.ts";
import {
  driveVolid,
  isCdrom,
  isCloudinitDrive,
  isDiskKey,
  readConfig,
  sizeBytes,
} from "../_shared/disks.ts";
import { splitTags } from "../_shared/format.ts";
import {
  guestIdentity,
  guestPath,
  guestSelector,
  guestTitle,
  identityOf,
  resolveGuestArg,
} from "../_shared/guest.ts";
import { checkDnsName, checkTags, nodeStorages, requireStorage } from "../_shared/placement.ts";
import { boundedRecord } from "../_shared/params.ts";
import { addSecret, REDACTED } from "../_shared/secrets.ts";
import { checkPlannedCalls } from "../_shared/schema_check.ts";
import { runSteps } from "../_shared/steps.ts";
import type { GuestRef } from "../../pve/mod.ts";

/** Keys that are not config: PVE's request options, or what other tools do. */
const NOT_CONFIG: Record<string, string> = {
  digest: "the tool sends the digest it read itself",
  delete: "use the delete argument",
  revert: "pending changes are reverted with pve_api_call PUT …/config revert=<key>",
  skiplock: "locks are not bypassed here",
  force: "disks are not deleted here",
  node: "move a guest with guest_migrate",
  vmid: "a guest keeps its id; clone it with guest_clone",
  background_delay: "the tool waits itself",
  template: "convert to a template with guest_template",
  lock: "locks are set by PVE's tasks, not edited",
};

const SECRET_KEYS = new Set(["cipassword"]);
const MASKED = "**********";

type Value = string | number | boolean;

interface UpdateState {
  guest: GuestRef;
  changes: ConfigDiffEntry[];
}

const states = new WeakMap<Plan, UpdateState>();

const changeSchema = z.object({
  key: z.string(),
  before: z.union([z.string(), z.number()]).optional(),
  after: z.union([z.string(), z.number()]).optional(),
});

const outputSchema = z.object({
  ...guestIdentity,
  result: z.enum(["ok"]),
  changes: z.array(changeSchema),
  pending: z.array(z.string()),
});

function wire(value: Value): string | number {
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

function shown(key: string, value: unknown): string | number | undefined {
  if (value === undefined || value === null) return undefined;
  if (SECRET_KEYS.has(key)) return value === MASKED ? MASKED : REDACTED;
  return typeof value === "number" ? value : String(value);
}

/** Refusal for disk edits, naming what to use instead. */
function diskRefusal(guest: GuestRef, key: string, what: string): PveValidationError {
  const path = `${guestPath(guest)}/config`;
  return new PveValidationError(
    `${what} ${key} of ${
      guestTitle(guest)
    } is not a config edit here: detach it with pve_api_call PUT ${path} delete=${key} (it becomes an unusedN volume), resize it with guest_disk_resize, or remove the whole guest with guest_delete.`,
    { errors: { [key]: "disk edits are not allowed here" } },
  );
}

/** Updates a guest's config. */
export const guestConfigUpdate = defineTool({
  name: "guest_config_update",
  title: "Update guest config",
  description:
    "Set and delete config keys of a VM or container (memory, cores, sockets, name, description, tags, onboot, protection, netN, cloud-init keys, …), guarded by the config digest so concurrent edits fail. Shows a before/after diff; says which changes wait for a reboot. Not for disks.",
  toolset: "provisioning",
  capability: "change",
  inputSchema: z.object({
    ...guestSelector,
    set: boundedRecord(
      z.string().min(2).max(32).regex(/^[a-z][a-z0-9_-]*$/),
      z.union([z.string().max(8192), z.number().min(-1e15).max(1e15), z.boolean()]),
      32,
    ).optional().describe(
      'Keys to set, PVE names and values: {memory: 4096, net1: "virtio,bridge=vmbr0"}',
    ),
    delete: z.array(z.string().min(2).max(32)).max(32).optional().describe("Keys to remove"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: true },
  async plan(args, ctx) {
    const set = { ...args.set };
    const remove = [...new Set(args.delete ?? [])];
    if (Object.keys(set).length === 0 && remove.length === 0) {
      throw new PveValidationError("Nothing to change: give set and/or delete.", {
        errors: { set: "no options specified" },
      });
    }
    const guest = await resolveGuestArg(args, ctx);
    for (const key of [...Object.keys(set), ...remove]) {
      const why = NOT_CONFIG[key];
      if (why !== undefined) {
        throw new PveValidationError(`"${key}" is not changed by guest_config_update: ${why}.`, {
          errors: { [key]: "not a config key here" },
        });
      }
    }
    const both = remove.find((key) => key in set);
    if (both !== undefined) {
      throw new PveValidationError(
        `"${both}" is both set and deleted: keep it in one of set or delete.`,
        { errors: { delete: `you can't use '-${both}' and -delete ${both}' at the same time` } },
      );
    }
    const config = await readConfig(ctx, guest);
    const digest = typeof config.digest === "string" ? config.digest : undefined;

    for (const key of remove) {
      if (isDiskKey(guest.type, key) || /^unused\d+$/.test(key)) {
        const value = config[key];
        if (typeof value !== "string" || !(isCdrom(value) && !isCloudinitDrive(value))) {
          throw diskRefusal(
            guest,
            key,
            /^unused/.test(key) ? "Deleting the unused volume" : "Detaching disk",
          );
        }
      }
    }
    const newDisks: { key: string; storage: string; bytes: number }[] = [];
    for (const [key, raw] of Object.entries(set)) {
      if (key === "name" || key === "hostname") checkDnsName(String(raw), key);
      if (key === "tags") {
        const tags = splitTags(String(raw));
        checkTags(tags);
        set.tags = tags.join(";");
      }
      if (key === "sshkeys" && typeof raw === "string" && !/^[-%a-zA-Z0-9_.!~*'()]*$/.test(raw)) {
        set.sshkeys = encodeURIComponent(raw.trim());
      }
      if (!isDiskKey(guest.type, key)) continue;
      const value = String(raw);
      const existing = config[key];
      if (/(^|,)size=/.test(value)) {
        throw new PveValidationError(
          `Disk sizes are not changed through the config: grow ${key} with guest_disk_resize.`,
          { errors: { [key]: "size is changed with resize" } },
        );
      }
      const cdrom = isCdrom(value) && !isCloudinitDrive(value);
      if (existing !== undefined) {
        const wasCdrom = typeof existing === "string" && isCdrom(existing) &&
          !isCloudinitDrive(existing);
        if (!(cdrom && wasCdrom)) throw diskRefusal(guest, key, "Replacing disk");
        continue;
      }
      if (cdrom) continue;
      const volid = driveVolid(value);
      const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(cloudinit|\d+(?:\.\d+)?)$/i.exec(volid);
      if (m === null) {
        throw new PveValidationError(
          `${key}: new disks are given as <storage>:<GiB> (or <storage>:cloudinit for a cloud-init drive); attaching existing volumes is done with pve_api_call.`,
          { errors: { [key]: "not a new disk" } },
        );
      }
      newDisks.push({
        key,
        storage: m[1] ?? "",
        bytes: m[2] === "cloudinit" ? 4 * 1024 ** 2 : (sizeBytes(`${m[2]}G`) ?? 0),
      });
    }
    if (newDisks.length > 0) {
      const storages = await nodeStorages(ctx, guest.node);
      for (const disk of newDisks) {
        requireStorage(storages, {
          storage: disk.storage,
          node: guest.node,
          content: guest.type === "qemu" ? "images" : "rootdir",
          bytes: disk.bytes,
          argument: disk.key,
        });
      }
    }

    const params: Record<string, string | number> = {};
    const changes: ConfigDiffEntry[] = [];
    const unchanged: string[] = [];
    for (const [key, raw] of Object.entries(set)) {
      const value = wire(raw);
      const before = config[key];
      if (
        !SECRET_KEYS.has(key) && before !== undefined && String(before) === String(value)
      ) {
        unchanged.push(key);
        continue;
      }
      params[key] = value;
      const entry: ConfigDiffEntry = { key };
      const b = shown(key, before);
      if (b !== undefined) entry.before = b;
      const a = shown(key, value);
      if (a !== undefined) entry.after = a;
      changes.push(entry);
    }
    const deleting = remove.filter((key) => config[key] !== undefined);
    for (const key of remove) if (config[key] === undefined) unchanged.push(key);
    for (const key of deleting) {
      const entry: ConfigDiffEntry = { key };
      const b = shown(key, config[key]);
      if (b !== undefined) entry.before = b;
      changes.push(entry);
    }
    if (changes.length === 0) {
      throw new PveValidationError(
        `Nothing would change on ${guestTitle(guest)}: ${unchanged.join(", ")} already ${
          unchanged.length === 1 ? "has" : "have"
        } that value (or ${unchanged.length === 1 ? "is" : "are"} not set).`,
      );
    }
    if (deleting.length > 0) params.delete = deleting.join(",");
    if (digest !== undefined) params.digest = digest;

    const plan: Plan = {
      target: guest,
      summary: `Change ${changes.map((c) => c.key).join(", ")} of ${
        guestTitle(guest)
      } on ${guest.node}${
        digest === undefined ? "" : " (only if its config is unchanged since it was read)"
      }${unchanged.length > 0 ? `; unchanged: ${unchanged.join(", ")}` : ""}.`,
      calls: [{ method: "PUT", path: `${guestPath(guest)}/config`, params }],
      diff: changes,
    };
    const password = set.cipassword;
    if (password !== undefined) addSecret(plan, 0, "cipassword", String(password));
    states.set(plan, { guest, changes });
    return checkPlannedCalls(plan);
  },
  async handler(_args, ctx, plan) {
    const state = plan === undefined ? undefined : states.get(plan);
    if (plan === undefined || state === undefined) {
      throw new Error("guest_config_update handler called without its plan");
    }
    const { guest, changes } = state;
    const title = guestTitle(guest);
    try {
      await runSteps(plan, ctx, { check: `the config of ${title} (guest_get)` });
    } catch (error) {
      const text = error instanceof PveError ? `${error.pveMessage ?? ""} ${error.message}` : "";
      if (/checksum mismatch|file changed by other user/i.test(text)) {
        throw new PveError(
          `The config of ${title} changed after it was read (digest mismatch), so nothing was changed: look at the new config (guest_get) and call guest_config_update again if your change still applies.`,
          { cause: error },
        );
      }
      throw error;
    }
    const pendingList = await ctx.client.get(`${guestPath(guest)}/pending`, undefined, {
      signal: ctx.signal,
    }) as Record<string, unknown>[];
    const changed = new Set(changes.map((c) => c.key));
    const pending = (Array.isArray(pendingList) ? pendingList : [])
      .filter((p) =>
        changed.has(String(p.key)) && (p.pending !== undefined || Number(p.delete ?? 0) > 0)
      )
      .map((p) => String(p.key)).sort();
    const applied = changes.map((c) => c.key).filter((k) => !pending.includes(k));
    let text = `Updated ${title}: ${changes.map((c) => c.key).join(", ")}.`;
    if (pending.length > 0) {
      text += ` Pending until the next reboot (guest_reboot): ${pending.join(", ")}; applied now: ${
        applied.join(", ") || "none"
      }.`;
    }
    return {
      text,
      structured: { ...identityOf(guest), result: "ok" as const, changes, pending },
    };
  },
});
