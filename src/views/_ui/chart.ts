/// <reference lib="dom" />
/**
 * A line chart in plain SVG: one polyline per series over shared timestamps (shown in the
 * viewer's local time), a zero-based y axis in the series' unit, a legend naming each series, and a readout of the values under the
 * pointer. A sample without a value for a series breaks that series' line (PVE leaves a value
 * out when it has none; nothing is invented).
 *
 * @module
 */

import { h, s } from "./dom.ts";
import { formatValue, type Unit } from "./units.ts";

/** One series: its label, and one value (or none) per timestamp. */
export interface ChartSeries {
  label: string;
  values: (number | undefined)[];
}

/** What a chart draws. */
export interface ChartData {
  title: string;
  unit: Unit;
  /** Timestamps (ISO strings), one per sample. */
  times: string[];
  series: ChartSeries[];
  /** A capacity line (e.g. total memory), drawn dashed. */
  capacity?: { label: string; value: number };
}

// Drawn at about the size two charts side by side get, so the text keeps its size.
const WIDTH = 430;
const HEIGHT = 150;
const PAD = { left: 70, right: 8, top: 8, bottom: 20 };

/** The colour of the n-th series (CSS variables, so the theme can adjust them). */
export function seriesColor(index: number): string {
  return `var(--series-${index % 6})`;
}

function niceMax(max: number, unit: Unit): number {
  if (unit === "fraction") return max <= 0.25 ? 0.25 : max <= 0.5 ? 0.5 : Math.max(1, max);
  if (unit === "percent") return max <= 25 ? 25 : max <= 50 ? 50 : 100;
  if (max <= 0) return unit === "bytes" || unit === "bytes_per_second" ? 1024 : 1;
  const base = unit === "bytes" || unit === "bytes_per_second" ? 1024 : 10;
  const magnitude = base ** Math.floor(Math.log(max) / Math.log(base));
  for (const step of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]) {
    if (magnitude * step >= max) return magnitude * step;
  }
  return max;
}

function timeLabel(iso: string | undefined, spanSeconds: number): string {
  if (iso === undefined) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return spanSeconds > 2 * 86400
    ? `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    : hm;
}

/** Draws a chart as a figure: title, legend, SVG and a readout line. */
export function lineChart(data: ChartData): HTMLElement {
  const n = data.times.length;
  const all = data.series.flatMap((series) =>
    series.values.filter((v): v is number => v !== undefined)
  );
  const top = niceMax(Math.max(0, ...all, data.capacity?.value ?? 0), data.unit);
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (n <= 1 ? innerW / 2 : (i / (n - 1)) * innerW);
  const y = (v: number) => PAD.top + innerH - (Math.min(v, top) / top) * innerH;
  const first = data.times[0];
  const last = data.times[n - 1];
  const span = first !== undefined && last !== undefined
    ? (Date.parse(last) - Date.parse(first)) / 1000
    : 0;

  const svg = s("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: "chart-svg",
    role: "img",
    "aria-label": `${data.title}: ${data.series.map((series) => series.label).join(", ")}`,
  });
  for (const fraction of [0, 0.5, 1]) {
    const yy = y(top * fraction);
    svg.append(
      s("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: yy, y2: yy, class: "grid" }),
      s(
        "text",
        { x: PAD.left - 6, y: yy + 4, class: "axis", "text-anchor": "end" },
        formatValue(top * fraction, data.unit),
      ),
    );
  }
  for (
    const [i, anchor] of [[0, "start"], [Math.floor((n - 1) / 2), "middle"], [
      n - 1,
      "end",
    ]] as const
  ) {
    if (n === 0 || (i === Math.floor((n - 1) / 2) && n < 3)) continue;
    svg.append(
      s(
        "text",
        { x: x(i), y: HEIGHT - 6, class: "axis", "text-anchor": anchor },
        timeLabel(data.times[i], span),
      ),
    );
  }
  if (data.capacity !== undefined) {
    const yy = y(data.capacity.value);
    svg.append(
      s("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: yy, y2: yy, class: "capacity" }),
    );
  }
  data.series.forEach((series, index) => {
    const runs: string[] = [];
    let run: string[] = [];
    series.values.forEach((value, i) => {
      if (value === undefined) {
        if (run.length > 0) runs.push(run.join(" "));
        run = [];
      } else {
        run.push(`${x(i).toFixed(1)},${y(value).toFixed(1)}`);
      }
    });
    if (run.length > 0) runs.push(run.join(" "));
    for (const points of runs) {
      const single = !points.includes(" ");
      if (single) {
        const [cx, cy] = points.split(",");
        const dot = s("circle", { cx, cy, r: 2.5 });
        dot.style.fill = seriesColor(index);
        svg.append(dot);
      } else {
        const line = s("polyline", { points, class: "line", "data-series": series.label });
        line.style.stroke = seriesColor(index);
        svg.append(line);
      }
    }
  });
  const cursor = s("line", {
    x1: 0,
    x2: 0,
    y1: PAD.top,
    y2: PAD.top + innerH,
    class: "cursor",
    visibility: "hidden",
  });
  svg.append(cursor);

  const readout = h("div", { class: "readout" }, "\u00a0");
  svg.addEventListener("pointermove", (event) => {
    const box = svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * WIDTH;
    const i = Math.round(((px - PAD.left) / innerW) * (n - 1));
    if (n === 0 || i < 0 || i >= n) return;
    cursor.setAttribute("x1", String(x(i)));
    cursor.setAttribute("x2", String(x(i)));
    cursor.setAttribute("visibility", "visible");
    readout.textContent = `${timeLabel(data.times[i], Math.min(span, 86400))} — ${
      data.series.map((series) => `${series.label} ${formatValue(series.values[i], data.unit)}`)
        .join(", ")
    }`;
  });
  svg.addEventListener("pointerleave", () => {
    cursor.setAttribute("visibility", "hidden");
    readout.textContent = "\u00a0";
  });

  const legend = h(
    "ul",
    { class: "legend" },
    ...data.series.map((series, index) => {
      const swatch = h("span", { class: "swatch" });
      swatch.style.background = seriesColor(index);
      return h("li", { "data-series": series.label }, swatch, series.label);
    }),
    data.capacity === undefined ? undefined : h(
      "li",
      { class: "legend-capacity" },
      h("span", { class: "swatch swatch-capacity" }),
      `${data.capacity.label} ${formatValue(data.capacity.value, data.unit)}`,
    ),
  );
  return h(
    "figure",
    { class: "chart", "data-chart": data.title },
    h("figcaption", {}, h("span", { class: "chart-title" }, data.title), legend),
    svg,
    readout,
  );
}
