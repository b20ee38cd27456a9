/**
 * The baseline of `cold_start.ts`: the least a Deno program can do to answer JSON-RPC lines
 * on stdio. Every request gets an empty result, except `tools/call`, which reads and parses
 * `$BENCH_RESOURCES_URL` (the raw `/cluster/resources` dump, with `$BENCH_AUTHORIZATION`) so
 * its peak memory shows what holding the raw answer costs in Deno alone. Requests are answered
 * concurrently, as a server would (`bench/memory.ts` sends 20 at once). Exits when stdin ends.
 *
 * @module
 */

const encoder = new TextEncoder();

async function answer(message: { id?: unknown; method?: unknown }): Promise<unknown> {
  if (message.method !== "tools/call") return {};
  const url = Deno.env.get("BENCH_RESOURCES_URL") ?? "";
  const response = await fetch(url, {
    headers: { Authorization: Deno.env.get("BENCH_AUTHORIZATION") ?? "" },
  });
  const parsed = JSON.parse(await response.text()) as { data: unknown[] };
  return { entries: parsed.data.length };
}

let buffered = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffered += chunk;
  let end: number;
  while ((end = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, end);
    buffered = buffered.slice(end + 1);
    if (line.trim() === "") continue;
    const message = JSON.parse(line) as { id?: unknown; method?: unknown };
    if (message.id === undefined) continue;
    answer(message).then((result) => {
      Deno.stdout.writeSync(
        encoder.encode(`${JSON.stringify({ jsonrpc: "2.0", id: message.id, result })}\n`),
      );
    });
  }
}
