/**
 * What capturing a large cluster's twin costs: `captureTwin` on the 50-node × 10,000-guest
 * simulated cluster, against a bare replay of the very same GET requests (`fetch` +
 * `JSON.parse`, same concurrency) — the ratio is what the client, the redaction and the
 * assembly add. Also the file's size against the raw `/cluster/resources` dump, its gzip size,
 * and booting a simulator from the twin against building the scale seed.
 *
 * Run: `deno run --allow-net=127.0.0.1,localhost --allow-read --allow-env bench/twin_capture.ts
 * [--concurrency N]` (default 8, what `twin capture` uses).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { PveClient } from "../src/pve/mod.ts";
import { startSimulator } from "../src/simulator/mod.ts";
import { captureTwin, formatTwin, readOnly } from "../src/twin/mod.ts";
import {
  byteLength,
  printLine,
  SCALE_GUESTS,
  SCALE_NODES,
  startScaleCluster,
  table,
  tokenHeader,
} from "./_scale.ts";

const { values } = parseArgs({ options: { concurrency: { type: "string" } } });
const concurrency = Number(values.concurrency ?? 8);

async function gzipBytes(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

const sim = await startScaleCluster();
try {
  // The capture, through the real client, recording what it asked for.
  const paths: string[] = [];
  const client = new PveClient({
    url: sim.url,
    tokenId: sim.credentials.tokenId,
    tokenSecret: sim.credentials.tokenSecret,
    fetch: (input, init) => {
      paths.push(new URL(input instanceof Request ? input.url : String(input)).toString());
      return fetch(input, init);
    },
  });
  let started = performance.now();
  const twin = await captureTwin(readOnly(client), { concurrency });
  const captureMs = performance.now() - started;
  client.close();
  const text = formatTwin(twin);

  // The same requests, bare.
  const headers = { Authorization: tokenHeader(sim) };
  let next = 0;
  started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < paths.length) {
        const url = paths[next++]!;
        JSON.parse(await (await fetch(url, { headers })).text());
      }
    }),
  );
  const bareMs = performance.now() - started;

  const raw = await (await fetch(`${sim.api}/cluster/resources`, { headers })).text();
  const gzip = await gzipBytes(text);

  const parsed = JSON.parse(text);
  started = performance.now();
  const fromTwin = await startSimulator({ twin: parsed, speed: "instant" });
  const bootTwinMs = performance.now() - started;
  await fromTwin.close();
  started = performance.now();
  const fromSeed = await startScaleCluster();
  const bootSeedMs = performance.now() - started;
  await fromSeed.close();

  printLine(
    `Twin capture of ${SCALE_NODES} nodes × ${SCALE_GUESTS} guests, ${concurrency} requests in flight, ${paths.length} GET requests`,
  );
  printLine();
  printLine(table(["what", "time s", "÷ baseline"], [
    ["bare fetch + JSON.parse of the same GETs (baseline)", seconds(bareMs), "1.00×"],
    [
      "captureTwin (client, redaction, assembly)",
      seconds(captureMs),
      `${(captureMs / bareMs).toFixed(2)}×`,
    ],
    ["per guest", `${(captureMs / SCALE_GUESTS).toFixed(2)} ms`, ""],
  ]));
  printLine();
  printLine(table(["file", "MiB", "÷ raw /cluster/resources"], [
    ["raw GET /cluster/resources", mib(byteLength(raw)), "1.0×"],
    ["twin file", mib(byteLength(text)), `${(byteLength(text) / byteLength(raw)).toFixed(1)}×`],
    ["twin file, gzip", mib(gzip), `${(gzip / byteLength(raw)).toFixed(2)}×`],
  ]));
  printLine();
  printLine(table(["boot", "ms", "÷ scale seed"], [
    ['startSimulator({ seed: "scale" }) (baseline)', bootSeedMs.toFixed(0), "1.00×"],
    [
      "startSimulator({ twin }) (JSON.parse excluded)",
      bootTwinMs.toFixed(0),
      `${(bootTwinMs / bootSeedMs).toFixed(2)}×`,
    ],
  ]));
  printLine();
  printLine(`gaps: ${twin.gaps.length}, secrets replaced: ${twin.secrets.count}`);
} finally {
  await sim.close();
}
