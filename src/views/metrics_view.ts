/// <reference lib="dom" />
/**
 * The metrics view, for `metrics_get`: line charts of a node's, guest's or storage's series
 * over the chosen timeframe (CPU, memory, network, disk I/O… grouped by what they measure),
 * with the avg / max / last the tool computed, and buttons for another timeframe. For the
 * cluster-wide `top` ranking it shows the ranked guests as bars.
 *
 * Charts need the tool's downsampled series (`points`); when the result it was opened with has
 * none, the view asks `metrics_get` again through the host, with the same arguments plus
 * `points` — as it does for another timeframe.
 *
 * @module
 */

import { h, replace } from "./_ui/dom.ts";
import { resultText, startView, type ToolResultLike } from "./_ui/app.ts";
import { type ChartData, lineChart } from "./_ui/chart.ts";
import { formatValue, seriesName, unitOf } from "./_ui/units.ts";
import { badge, errorBox, note, usageBar } from "./_ui/widgets.ts";

interface Stats {
  avg: number;
  max: number;
  last: number;
}

interface Metrics {
  target: string;
  /** Older builds of the tool echoed these; the view also knows them from the call. */
  timeframe?: string;
  cf?: string;
  points_total?: number;
  points_with_data?: number;
  step_seconds?: number;
  stats?: Record<string, Stats>;
  capacity?: Record<string, number>;
  samples?: Record<string, number | string>[];
  top_by?: string;
  guests_considered?: number;
  top?: (Record<string, unknown> & { vmid: number; node: string; type: string; name?: string })[];
}

/** Points asked for when the view needs a series to draw. */
const POINTS = 120;
const TIMEFRAMES = ["hour", "day", "week", "month", "year"] as const;

/** Charts by what their series measure; series not named here get a chart of their own. */
const GROUPS: readonly { title: string; series: readonly string[]; capacity?: string }[] = [
  { title: "CPU", series: ["cpu", "iowait"] },
  { title: "Load", series: ["loadavg"] },
  {
    title: "Memory",
    series: ["mem", "memused", "memhost", "memavailable", "memtotal", "arcsize"],
    capacity: "maxmem_bytes",
  },
  { title: "Swap", series: ["swapused", "swaptotal"] },
  { title: "Network", series: ["netin", "netout"] },
  { title: "Disk I/O", series: ["diskread", "diskwrite"] },
  { title: "Root disk", series: ["rootused", "roottotal"] },
  { title: "Disk", series: ["disk"], capacity: "maxdisk_bytes" },
  { title: "Storage", series: ["used", "total"] },
];

const TOP_FIGURES: Record<
  string,
  { key: string; unit: "fraction" | "bytes" | "bytes_per_second" }
> = {
  cpu: { key: "cpu_fraction", unit: "fraction" },
  mem: { key: "mem_bytes", unit: "bytes" },
  disk_io: { key: "disk_io_bytes_per_second", unit: "bytes_per_second" },
  net: { key: "net_bytes_per_second", unit: "bytes_per_second" },
};

const root = document.getElementById("app") as HTMLElement;
let input: Record<string, unknown> | undefined;
let metrics: Metrics | undefined;
/** The timeframe and consolidation of what is shown (the result's, else the call's). */
let timeframe = "hour";
let cf = "AVERAGE";
let text = "";
let failure: string | undefined;
let loading: string | undefined;
let loadError: string | undefined;

const view = startView("metrics view", {
  onInput(args) {
    input = args;
    if (typeof args.timeframe === "string") timeframe = args.timeframe;
    if (typeof args.cf === "string") cf = args.cf;
  },
  onResult(result: ToolResultLike) {
    const data = result.structuredContent;
    if (result.isError === true || data === undefined || typeof data.target !== "string") {
      failure = resultText(result) || "The tool returned no metrics.";
      render();
      return;
    }
    failure = undefined;
    metrics = data as unknown as Metrics;
    timeframe = metrics.timeframe ?? timeframe;
    cf = metrics.cf ?? cf;
    text = resultText(result);
    render();
    const hasStats = Object.keys(metrics.stats ?? {}).length > 0;
    if (metrics.top === undefined && metrics.samples === undefined && hasStats) {
      fetchSeries(timeframe);
    }
  },
});

/** The arguments naming what is measured (the call's own, minus what the view chooses). */
function targetArgs(): Record<string, unknown> | undefined {
  if (input === undefined) return undefined;
  const { points: _points, timeframe: _timeframe, ...rest } = input;
  return rest;
}

function fetchSeries(wanted: string): void {
  const args = targetArgs();
  if (args === undefined) return;
  loading = wanted;
  loadError = undefined;
  render();
  view.call<Metrics>("metrics_get", { ...args, timeframe: wanted, points: POINTS }).then(
    (value) => {
      metrics = value;
      timeframe = value.timeframe ?? wanted;
      text = "";
    },
    (error) => {
      loadError = error instanceof Error ? error.message : String(error);
    },
  ).finally(() => {
    loading = undefined;
    render();
  });
}

function render(): void {
  if (failure !== undefined) {
    replace(root, errorBox(failure));
    return;
  }
  if (metrics === undefined) {
    replace(root, note("Waiting for metrics…"));
    return;
  }
  replace(root, ...(metrics.top !== undefined ? topParts(metrics) : seriesParts(metrics)));
}

function heading(m: Metrics): HTMLElement {
  const facts = [
    cf,
    m.points_with_data !== undefined && m.points_total !== undefined
      ? `${m.points_with_data} of ${m.points_total} slots with data`
      : undefined,
    m.step_seconds !== undefined && m.step_seconds > 0 ? `step ${m.step_seconds}s` : undefined,
  ].filter(Boolean).join(" · ");
  const current = loading ?? timeframe;
  const tabs = targetArgs() === undefined ? undefined : h(
    "div",
    { class: "tabs", role: "group", "aria-label": "Timeframe" },
    ...TIMEFRAMES.map((tf) => {
      const button = h("button", {
        type: "button",
        "aria-pressed": tf === current ? "true" : "false",
        "data-timeframe": tf,
      }, tf);
      button.addEventListener("click", () => {
        if (loading === undefined) fetchSeries(tf);
      });
      return button;
    }),
  );
  return h(
    "header",
    { class: "top" },
    h("h1", {}, m.target),
    h("span", { class: "sub" }, `last ${timeframe}${facts ? ` · ${facts}` : ""}`),
    tabs,
  );
}

function seriesParts(m: Metrics): (HTMLElement | undefined)[] {
  const stats = m.stats ?? {};
  const keys = Object.keys(stats);
  return [
    heading(m),
    loading !== undefined ? note(`Loading the last ${loading}…`) : undefined,
    loadError !== undefined ? errorBox(loadError) : undefined,
    keys.length === 0 ? note(text || "No samples in this timeframe.") : undefined,
    charts(m),
    keys.length === 0 ? undefined : statsTable(stats),
  ];
}

function charts(m: Metrics): HTMLElement | undefined {
  const samples = m.samples ?? [];
  if (samples.length === 0) return undefined;
  const keys = [...new Set(samples.flatMap((sample) => Object.keys(sample)))].filter((key) =>
    key !== "time"
  );
  const times = samples.map((sample) => String(sample.time ?? ""));
  const used = new Set<string>();
  const figures: HTMLElement[] = [];
  const chart = (title: string, members: string[], capacityKey?: string) => {
    const first = members[0];
    if (first === undefined) return;
    for (const key of members) used.add(key);
    const capacity = capacityKey === undefined ? undefined : m.capacity?.[capacityKey];
    const data: ChartData = {
      title,
      unit: unitOf(first),
      times,
      series: members.map((key) => ({
        label: seriesName(key),
        values: samples.map((sample) => typeof sample[key] === "number" ? sample[key] : undefined),
      })),
    };
    if (capacity !== undefined) data.capacity = { label: "capacity", value: capacity };
    figures.push(lineChart(data));
  };
  for (const group of GROUPS) {
    chart(
      group.title,
      keys.filter((key) => group.series.includes(seriesName(key))),
      group.capacity,
    );
  }
  const pressure = keys.filter((key) => seriesName(key).startsWith("pressure"));
  chart("Pressure", pressure);
  for (const key of keys) if (!used.has(key)) chart(seriesName(key), [key]);
  return h("section", { class: "charts", "aria-label": "Charts" }, ...figures);
}

function statsTable(stats: Record<string, Stats>): HTMLElement {
  return h(
    "table",
    { class: "stats", "aria-label": "Summary" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", {}, "series"),
        h("th", { class: "num" }, "avg"),
        h("th", { class: "num" }, "max"),
        h("th", { class: "num" }, "last"),
      ),
    ),
    h(
      "tbody",
      {},
      ...Object.entries(stats).map(([key, s]) => {
        const unit = unitOf(key);
        return h(
          "tr",
          { "data-series": seriesName(key) },
          h("td", { class: "mono" }, key),
          h("td", { class: "num" }, formatValue(s.avg, unit)),
          h("td", { class: "num" }, formatValue(s.max, unit)),
          h("td", { class: "num" }, formatValue(s.last, unit)),
        );
      }),
    ),
  );
}

function topParts(m: Metrics): HTMLElement[] {
  const figure = TOP_FIGURES[m.top_by ?? ""];
  const rows = m.top ?? [];
  const values = rows.map((row) => {
    const v = figure === undefined ? undefined : row[figure.key];
    return typeof v === "number" ? v : undefined;
  });
  const max = Math.max(0, ...values.filter((v): v is number => v !== undefined));
  return [
    h(
      "header",
      { class: "top" },
      h("h1", {}, `Busiest guests by ${m.top_by ?? "?"}`),
      badge(`${rows.length} of ${m.guests_considered ?? rows.length} running`, "muted"),
    ),
    h(
      "section",
      { class: "panel bars top-list", "aria-label": "Ranking" },
      ...rows.map((row, i) => {
        const value = values[i];
        const label = `${row.type === "lxc" ? "CT" : "VM"} ${row.vmid}${
          row.name ? ` ${row.name}` : ""
        }`;
        const fraction = value === undefined || max === 0 ? undefined : value / max;
        const shown = m.top_by === "cpu"
          ? `${formatValue(value, "value")} cores (${
            formatValue(row.cpu_fraction as number | undefined, "fraction")
          } of its vCPUs)`
          : formatValue(value, figure?.unit ?? "value");
        return usageBar(label, { fraction, text: `${shown} · ${row.node}`, relative: true });
      }),
    ),
  ];
}

render();
