import assert from "node:assert/strict";
import { summarizeRrd } from "./_rrd.ts";

const rows = [
  { time: 60, maxmem: 1000 },
  { time: 120, maxmem: 1000, cpu: 0.1, mem: 400 },
  { time: 180, maxmem: 1000, cpu: 0.3, mem: 600 },
  { time: 240, maxmem: 1000, cpu: 0.2, mem: 500 },
];

Deno.test("summarizeRrd counts only rows that carry a value and keys stats by series and unit", () => {
  const out = summarizeRrd(rows, {
    kind: "guest",
    series: ["cpu", "mem"],
    points: 0,
    cf: "AVERAGE",
  });
  assert.equal(out.points_total, 4);
  assert.equal(out.points_with_data, 3);
  assert.equal(out.step_seconds, 60);
  assert.deepEqual(out.stats, {
    cpu_fraction: { avg: 0.2, max: 0.3, last: 0.2 },
    mem_bytes: { avg: 500, max: 600, last: 500 },
  });
  assert.deepEqual(out.capacity, { maxmem_bytes: 1000 });
  assert.equal(out.samples, undefined);
});

Deno.test("summarizeRrd downsamples into at most N buckets, averaging or taking the maximum", () => {
  const avg = summarizeRrd(rows, { kind: "guest", series: ["cpu"], points: 2, cf: "AVERAGE" });
  assert.deepEqual(avg.samples?.map((s) => s.cpu_fraction), [0.1, 0.25]);
  const max = summarizeRrd(rows, { kind: "guest", series: ["cpu"], points: 2, cf: "MAX" });
  assert.deepEqual(max.samples?.map((s) => s.cpu_fraction), [0.1, 0.3]);
});

Deno.test("summarizeRrd of rows without live values has no stats and no samples", () => {
  const out = summarizeRrd([{ time: 60, maxcpu: 2 }, { time: 120, maxcpu: 2 }], {
    kind: "guest",
    series: ["cpu"],
    points: 10,
    cf: "AVERAGE",
  });
  assert.deepEqual(out.stats, {});
  assert.equal(out.samples, undefined);
  assert.deepEqual(out.capacity, { maxcpu: 2 });
});
