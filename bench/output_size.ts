/**
 * How many tokens one answer costs a model: bytes of what reaches it, for a 50-node ×
 * 10,000-guest cluster. Compares the raw `/cluster/resources` JSON (what a thin API wrapper
 * returns) with our `guest_list` (default and filtered), `cluster_status`, and `tools/list`
 * (the read-only default set and every tool). No timing.
 *
 * Tokens are approximated as bytes / 4 (a common rule of thumb for English text and JSON;
 * real tokenizers vary by ±30 %, the ratios hold). A tool result counts as the model sees it:
 * `content` (the text) plus `structuredContent`, serialized as JSON.
 *
 * Run: `deno run --allow-net=127.0.0.1,localhost --allow-read --allow-env bench/output_size.ts`
 *
 * @module
 */

import {
  ALL_CAPABILITIES,
  byteLength,
  connectScale,
  printLine,
  SCALE_GUESTS,
  SCALE_NODES,
  startScaleCluster,
  table,
  tokenHeader,
} from "./_scale.ts";

interface Measured {
  what: string;
  bytes: number;
  detail: string;
  /** Whether the row answers the inventory question (and so has a ratio to the raw dump). */
  answer: boolean;
}

const sim = await startScaleCluster();
const session = await connectScale(sim);
const everything = await connectScale(sim, { allow: ALL_CAPABILITIES });
const measured: Measured[] = [];

try {
  for (const query of ["", "?type=vm"]) {
    const response = await fetch(`${sim.api}/cluster/resources${query}`, {
      headers: { Authorization: tokenHeader(sim) },
    });
    const body = await response.text();
    const entries = (JSON.parse(body) as { data: unknown[] }).data.length;
    measured.push({
      what: `raw GET /cluster/resources${query}`,
      bytes: byteLength(body),
      detail: `${entries} entries`,
      answer: true,
    });
  }

  const calls: Array<[string, string, Record<string, unknown>]> = [
    ["guest_list (defaults)", "guest_list", {}],
    ["guest_list tag=db status=running", "guest_list", { tag: "db", status: "running" }],
    ["guest_list node=node07", "guest_list", { node: "node07" }],
    ["guest_list sort=mem desc limit=10", "guest_list", { sort: "mem", order: "desc", limit: 10 }],
    ["guest_list limit=500 (largest page)", "guest_list", { limit: 500 }],
    ["cluster_status", "cluster_status", {}],
  ];
  for (const [what, name, args] of calls) {
    const result = await session.client.callTool({ name, arguments: args });
    if (result.isError) throw new Error(`Tool "${name}" failed: ${JSON.stringify(result.content)}`);
    const text = JSON.stringify(result.content);
    const structured = JSON.stringify(result.structuredContent ?? null);
    const answer = result.structuredContent as { returned?: number; total_matching?: number };
    measured.push({
      what,
      bytes: byteLength(JSON.stringify(result)),
      detail: `text ${byteLength(text)} B + structured ${byteLength(structured)} B` +
        (answer.returned === undefined
          ? ""
          : `; ${answer.returned} of ${answer.total_matching} guests`),
      answer: true,
    });
  }

  for (
    const [what, target] of [["tools/list (default: read)", session], [
      "tools/list (all classes allowed)",
      everything,
    ]] as const
  ) {
    const { tools } = await target.client.listTools();
    measured.push({
      what,
      bytes: byteLength(JSON.stringify({ tools })),
      detail: `${tools.length} tools (paid once per session)`,
      answer: false,
    });
  }
} finally {
  await everything.close();
  await session.close();
  await sim.close();
}

const raw = measured[0]?.bytes ?? 1;
const kib = (bytes: number) => (bytes / 1024).toFixed(1);
printLine(
  `Output size for ${SCALE_NODES} nodes × ${SCALE_GUESTS} guests (tokens ≈ bytes / 4; ` +
    `raw ÷ this = bytes of the raw /cluster/resources dump ÷ bytes of this answer)`,
);
printLine();
printLine(table(
  ["answer", "bytes", "KiB", "≈ tokens", "raw ÷ this", "detail"],
  measured.map((m) => [
    m.what,
    String(m.bytes),
    kib(m.bytes),
    String(Math.round(m.bytes / 4)),
    m.answer ? `${(raw / m.bytes).toFixed(m.bytes === raw ? 0 : 1)}×` : "n/a",
    m.detail,
  ]),
  "lrrrrl",
));
