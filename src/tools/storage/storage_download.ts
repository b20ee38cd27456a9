/**
 * `storage_download`: the node fetches an ISO image or container template from a URL onto a
 * file storage (PVE's `download-url`), optionally checking a checksum and decompressing, and
 * the tool waits with the download's progress. The URL's host is named in the plan and the
 * result, since the node (not this server) connects to it. Everything PVE would refuse is
 * refused before sending: a malformed URL, a storage that keeps no files or not that content,
 * a file name with the wrong extension, a checksum that cannot match its algorithm, an
 * existing file without a checksum to compare.
 *
 * @module
 */

import { sendWrite } from "../_shared/write.ts";
import { z } from "zod";
import { annotationsFor } from "../../policy/capability.ts";
import { PveError, PveValidationError } from "../../pve/errors.ts";
import { defineTool, type Plan, type ToolResult } from "../types.ts";
import { formatBytes, num } from "../_shared/format.ts";
import { nodeParam, storageParam } from "../_shared/params.ts";
import {
  checkNodeName,
  checkStorageId,
  checkUrl,
  findStorage,
  readStorages,
  storageNode,
  storagePath,
} from "../_shared/storage.ts";
import { describeOutcome, taskFields, taskFieldsOf } from "../_shared/task.ts";

const ALGORITHMS = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"] as const;
type Algorithm = typeof ALGORITHMS[number];
const HEX_LENGTH: Record<Algorithm, number> = {
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
};
/** Storage types that keep files under a path (the only ones `download-url` accepts). */
const FILE_TYPES = new Set(["dir", "nfs", "cifs", "cephfs", "glusterfs", "btrfs"]);
const ISO_EXT = /\.(?:iso|img)$/i;
const VZTMPL_EXT = /\.(?:tar|tar\.(?:gz|xz|zst|bz2))$/i;

const outputSchema = z.object({
  volid: z.string(),
  node: z.string(),
  host: z.string(),
  result: z.enum(["ok", "warnings", "failed", "timeout", "cancelled"]),
  size_bytes: z.number().optional(),
  ...taskFields,
});

type Output = z.infer<typeof outputSchema>;

/** What planning found, for the handler. */
interface DownloadState {
  volid: string;
  node: string;
  storage: string;
  host: string;
  content: "iso" | "vztmpl";
}

const states = new WeakMap<Plan, DownloadState>();

/** `PVE::Storage::normalize_content_filename`. */
function normalize(filename: string): string {
  return filename.replace(/^.*[/\\]/, "").replace(/[^a-zA-Z0-9_.-]/g, "_");
}

function checksumAlgorithm(
  checksum: string | undefined,
  algorithm: Algorithm | undefined,
): Algorithm | undefined {
  if (checksum === undefined) {
    if (algorithm !== undefined) {
      throw new PveValidationError(
        `checksum_algorithm "${algorithm}" needs a checksum: pass checksum too, or neither.`,
        { errors: { checksum: "missing property - 'checksum-algorithm' requires this property" } },
      );
    }
    return undefined;
  }
  if (!/^[0-9a-f]+$/i.test(checksum)) {
    throw new PveValidationError(
      "checksum must be hexadecimal digits (as in a SHA256SUMS file): copy it without the file name.",
      { errors: { checksum: "not hexadecimal" } },
    );
  }
  const inferred = ALGORITHMS.find((a) => HEX_LENGTH[a] === checksum.length);
  const chosen = algorithm ?? inferred;
  if (chosen === undefined || HEX_LENGTH[chosen] !== checksum.length) {
    throw new PveValidationError(
      `A ${algorithm ?? "checksum"} of ${checksum.length} hex digits cannot match: ${
        algorithm === undefined
          ? "pass checksum_algorithm"
          : `a ${algorithm} has ${HEX_LENGTH[algorithm]} digits; check the value or the algorithm`
      }.`,
      { errors: { checksum: "length does not fit the algorithm" } },
    );
  }
  return chosen;
}

/** Downloads an ISO image or container template onto a storage. */
export const storageDownload = defineTool({
  name: "storage_download",
  title: "Download ISO or template",
  description:
    "The node downloads an ISO image or container template from an http(s) URL onto a file storage, checking checksum when given, and waits with progress. filename defaults to the URL's last segment.",
  toolset: "storage",
  capability: "change",
  inputSchema: z.object({
    url: z.string().min(8).max(2048).describe("http(s) URL the node fetches"),
    storage: storageParam("Target storage (dir/nfs with iso or vztmpl content)"),
    node: nodeParam("Node that downloads (needed for per-node storage)").optional(),
    content: z.enum(["iso", "vztmpl"]).optional().describe("Default: from the file extension"),
    filename: z.string().min(1).max(255).optional(),
    checksum: z.string().min(32).max(128).optional().describe("Hex digest"),
    checksum_algorithm: z.enum(ALGORITHMS).optional().describe("Default: from checksum length"),
    decompress: z.enum(["gz", "lzo", "zst", "bz2"]).optional().describe("ISO only"),
    verify_certificates: z.boolean().optional().describe("Default true"),
  }),
  outputSchema,
  annotations: { ...annotationsFor("change"), idempotentHint: false },
  async plan(args, ctx) {
    const url = checkUrl(args.url);
    checkStorageId(args.storage);
    if (args.node !== undefined) checkNodeName(args.node);
    const algorithm = checksumAlgorithm(args.checksum, args.checksum_algorithm);
    const given = args.filename ?? url.file;
    if (given === "") {
      throw new PveValidationError(
        `The URL names no file (host ${url.host}): pass filename, e.g. "debian-13.1.0-amd64-netinst.iso".`,
        { errors: { filename: "property is missing and it is not optional" } },
      );
    }
    let filename = normalize(given);
    const decompressed = args.decompress !== undefined
      ? filename.replace(new RegExp(`\\.${args.decompress}$`, "i"), "")
      : filename;
    if (args.filename === undefined) filename = decompressed;
    const content = args.content ??
      (ISO_EXT.test(filename) ? "iso" : VZTMPL_EXT.test(filename) ? "vztmpl" : undefined);
    if (content === undefined) {
      throw new PveValidationError(
        `Cannot tell from "${filename}" whether it is an ISO image or a container template: pass content ("iso" or "vztmpl"), and a filename with its extension.`,
        { errors: { content: "property is missing and it is not optional" } },
      );
    }
    if (content === "iso" && !ISO_EXT.test(filename)) {
      throw new PveValidationError(
        `File name "${filename}" has the wrong extension for an ISO image: PVE accepts only .iso or .img, so pass filename ending in .iso.`,
        { errors: { filename: "wrong file extension" } },
      );
    }
    if (content === "vztmpl" && !VZTMPL_EXT.test(filename)) {
      throw new PveValidationError(
        `File name "${filename}" has the wrong extension for a container template: PVE accepts .tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2.`,
        { errors: { filename: "wrong file extension" } },
      );
    }
    if (args.decompress !== undefined && content !== "iso") {
      throw new PveValidationError(
        "PVE decompresses only ISO images: omit decompress for a container template (templates stay compressed).",
        { errors: { compression: "decompression not supported for vztmpl" } },
      );
    }
    const storages = await readStorages(ctx);
    const info = findStorage(storages, args.storage);
    const holders = storages.filter((s) => FILE_TYPES.has(s.type) && s.content.includes(content))
      .map((s) => s.storage);
    if (!FILE_TYPES.has(info.type)) {
      throw new PveValidationError(
        `Storage "${info.storage}" (${info.type}) keeps no files, so PVE cannot download to it: use ${
          holders.length > 0 ? holders.join(" or ") : "a dir or nfs storage with content " + content
        }.`,
        { errors: { storage: `can't upload to storage type '${info.type}'` } },
      );
    }
    if (!info.content.includes(content)) {
      throw new PveValidationError(
        `Storage "${info.storage}" is not configured for ${content} content: use ${
          holders.length > 0
            ? holders.join(" or ")
            : `a storage with ${content} in its content types (storage_list content=${content})`
        }.`,
        { errors: { content: `storage is not configured for content-type '${content}'` } },
      );
    }
    const where = storageNode(info, args.node);
    if (!where.available) {
      throw new PveError(
        `Storage "${info.storage}" does not answer on ${where.node} (inactive, disabled or unreachable): check it with storage_list before downloading.`,
        { node: where.node },
      );
    }
    const dir = content === "iso" ? "iso" : "vztmpl";
    const volid = `${info.storage}:${dir}/${filename}`;
    const existing = await ctx.client.get(`${storagePath(where.node, info.storage)}/content`, {
      content,
    }, { signal: ctx.signal }) as { volid?: unknown }[];
    const exists = Array.isArray(existing) && existing.some((v) => v.volid === volid);
    if (exists && args.checksum === undefined) {
      throw new PveValidationError(
        `${volid} already exists on ${where.node}: PVE refuses to overwrite it; pass its checksum to keep it if it matches, choose another filename, or delete it with volume_delete.`,
        { errors: { filename: "file exists" } },
      );
    }
    const params: Record<string, string | number> = { url: args.url, content, filename };
    if (args.checksum !== undefined && algorithm !== undefined) {
      params.checksum = args.checksum.toLowerCase();
      params["checksum-algorithm"] = algorithm;
    }
    if (args.decompress !== undefined) params.compression = args.decompress;
    if (args.verify_certificates === false) params["verify-certificates"] = 0;
    const notes = [
      normalize(given) !== given ? `saved as "${filename}"` : "",
      algorithm !== undefined ? `${algorithm} checked` : "no checksum check",
      exists ? "the file exists: PVE keeps it if the checksum matches, else fails" : "",
      args.verify_certificates === false ? "TLS certificate NOT verified" : "",
    ].filter((n) => n !== "");
    const plan: Plan = {
      summary: `Node ${where.node} downloads ${filename} from host ${url.host} to ${volid} (${
        notes.join("; ")
      }).`,
      scopeTargets: [{ node: where.node }],
      calls: [{
        method: "POST",
        path: `${storagePath(where.node, info.storage)}/download-url`,
        params,
      }],
    };
    states.set(plan, { volid, node: where.node, storage: info.storage, host: url.host, content });
    return plan;
  },
  async handler(_args, ctx, plan): Promise<ToolResult<Output>> {
    const state = plan === undefined ? undefined : states.get(plan);
    const call = plan?.calls[0];
    if (state === undefined || call === undefined) {
      throw new Error("storage_download handler called without its plan");
    }
    ctx.progress(`Downloading from ${state.host} to ${state.volid}`);
    const upid = String(await sendWrite(ctx, call));
    const outcome = await ctx.waitTask(upid);
    const fields = taskFieldsOf(outcome);
    const structured: Output = {
      volid: state.volid,
      node: state.node,
      host: state.host,
      result: fields.task_state ?? "failed",
      ...fields,
    };
    if (outcome.state === "ok" || outcome.state === "warnings") {
      // Only the size: a listing that fails now must not turn a finished download into an error.
      const list = await ctx.client.get(
        `${storagePath(state.node, state.storage)}/content`,
        { content: state.content },
        { signal: ctx.signal },
      ).catch((error) => {
        if (error instanceof PveError) return [];
        throw error;
      }) as Record<string, unknown>[];
      const size = num(
        (Array.isArray(list) ? list : []).find((v) => v.volid === state.volid)?.size,
      );
      if (size !== undefined) structured.size_bytes = size;
    }
    const done = `Downloaded ${state.volid} (${
      formatBytes(structured.size_bytes)
    }) from host ${state.host} on ${state.node}`;
    let text = describeOutcome(outcome, done);
    if (outcome.state === "failed" && /checksum mismatch/.test(outcome.exitstatus)) {
      text =
        `The file from host ${state.host} does not match the checksum (${outcome.exitstatus}); nothing was kept: check the URL and the checksum (same release and algorithm), then retry.`;
    }
    return outcome.state === "failed" ? { text, structured, isError: true } : { text, structured };
  },
});
