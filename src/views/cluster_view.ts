/// <reference lib="dom" />
/**
 * The cluster view, for `cluster_status` and `cluster_health`: the nodes as cards (online or
 * offline, CPU, memory and root disk as bars), the guests on each node, the findings of
 * `cluster_health` by severity, and a guest's detail on click.
 *
 * It starts from the result it is opened with and asks the server, through the host, for the
 * rest: `cluster_health` or `cluster_status` (whichever it was not opened with), `guest_list`
 * for the guests per node, and `guest_get` when a guest is clicked. A part whose tool is not
 * offered, or refused, says so in one line; the rest still shows.
 *
 * @module
 */

import { h, replace } from "./_ui/dom.ts";
import { resultText, startView, type ToolResultLike } from "./_ui/app.ts";
import { formatBytes, formatDuration, formatPercent } from "./_ui/units.ts";
import { badge, errorBox, note, usageBar } from "./_ui/widgets.ts";

interface NodeRow {
  node: string;
  online: boolean;
  status: string;
  ip?: string;
  cpu_fraction?: number;
  maxcpu?: number;
  mem_bytes?: number;
  maxmem_bytes?: number;
  rootfs_used_bytes?: number;
  rootfs_total_bytes?: number;
  uptime_seconds?: number;
  pve_version?: string;
}

interface ClusterStatus {
  cluster_name?: string;
  clustered: boolean;
  quorate: boolean;
  nodes_online: number;
  nodes_total: number;
  versions: string[];
  nodes: NodeRow[];
}

interface Finding {
  severity: "critical" | "warning" | "info";
  check: string;
  /** Earlier builds of cluster_health named it apart; now the detail sentence does. */
  subject?: string;
  detail: string;
  next_step: string;
  count?: number;
  examples?: string[];
}

interface ClusterHealth {
  healthy: boolean;
  counts: { critical: number; warning: number; info: number };
  findings: Finding[];
  findings_total?: number;
  checked?: { nodes?: number; guests?: number; storages?: number };
  skipped?: string[];
}

interface GuestRow {
  vmid: number;
  name?: string;
  type?: "qemu" | "lxc";
  node?: string;
  status?: string;
  template?: boolean;
  lock?: string;
}

interface GuestList {
  guests: GuestRow[];
  total_matching: number;
  returned: number;
}

interface GuestDetail {
  vmid: number;
  name?: string;
  node: string;
  type: "qemu" | "lxc";
  status: string;
  lock?: string;
  template: boolean;
  tags: string[];
  pool?: string;
  ha?: { state?: string };
  uptime_seconds?: number;
  cpu_fraction?: number;
  maxcpu?: number;
  mem_bytes?: number;
  maxmem_bytes?: number;
  disk_bytes?: number;
  maxdisk_bytes?: number;
  config: Record<string, string | number>;
  pending: unknown[];
  snapshot_count: number;
  agent?: { enabled: boolean; ips?: { interface: string; address: string }[]; note?: string };
}

/** A part of the view: not asked yet, loading, there, or failed with the tool's sentence. */
type Part<T> = { state: "idle" } | { state: "loading" } | { state: "ok"; value: T } | {
  state: "error";
  message: string;
};

/** Guests asked for in one `guest_list` call (its maximum page). */
const GUEST_LIMIT = 500;
/** Guests shown per node card until "more" is clicked. */
const GUESTS_PER_CARD = 16;
const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;
const SEVERITY_KIND = { critical: "crit", warning: "warn", info: "info" } as const;

const root = document.getElementById("app") as HTMLElement;
let status: Part<ClusterStatus> = { state: "idle" };
let health: Part<ClusterHealth> = { state: "idle" };
let guests: Part<GuestList> = { state: "idle" };
let selected: number | undefined;
let detail: Part<GuestDetail> = { state: "idle" };
let failure: string | undefined;
/** Nodes whose card shows all its guests. */
const expanded = new Set<string>();

const view = startView("cluster view", {
  onResult(result: ToolResultLike) {
    const data = result.structuredContent;
    if (result.isError === true || data === undefined) {
      failure = resultText(result) || "The tool returned no data.";
      render();
      return;
    }
    failure = undefined;
    if (Array.isArray(data.nodes)) {
      status = { state: "ok", value: data as unknown as ClusterStatus };
      if (health.state === "idle") {
        load<ClusterHealth>("cluster_health", {}, (part) => health = part);
      }
    } else if (Array.isArray(data.findings)) {
      health = { state: "ok", value: data as unknown as ClusterHealth };
      if (status.state === "idle") {
        load<ClusterStatus>("cluster_status", {}, (part) => status = part);
      }
    }
    if (guests.state === "idle") {
      load<GuestList>("guest_list", {
        limit: GUEST_LIMIT,
        sort: "vmid",
        fields: ["vmid", "name", "type", "node", "status", "template", "lock"],
      }, (part) => guests = part);
    }
    render();
  },
});

function load<T>(tool: string, args: Record<string, unknown>, set: (part: Part<T>) => void) {
  set({ state: "loading" });
  view.call<T>(tool, args).then(
    (value) => set({ state: "ok", value }),
    (error) =>
      set({ state: "error", message: error instanceof Error ? error.message : String(error) }),
  ).finally(render);
}

function selectGuest(vmid: number): void {
  if (selected === vmid) {
    selected = undefined;
    detail = { state: "idle" };
    render();
    return;
  }
  selected = vmid;
  load<GuestDetail>("guest_get", { vmid }, (part) => {
    if (selected === vmid) detail = part;
  });
}

function render(): void {
  if (failure !== undefined) {
    replace(root, errorBox(failure));
    return;
  }
  replace(root, header(), findingsSection(), nodesSection(), detailSection());
}

function header(): HTMLElement {
  if (status.state !== "ok") {
    return h(
      "header",
      { class: "top" },
      h("h1", {}, "Cluster"),
      status.state === "error" ? note(`Nodes unavailable: ${status.message}`) : note("Loading…"),
    );
  }
  const s = status.value;
  return h(
    "header",
    { class: "top" },
    h("h1", {}, s.clustered ? (s.cluster_name ?? "Cluster") : "Standalone node"),
    s.clustered ? badge(s.quorate ? "quorate" : "no quorum", s.quorate ? "ok" : "crit") : undefined,
    h(
      "span",
      { class: "sub" },
      `${s.nodes_online}/${s.nodes_total} nodes online · Proxmox VE ${
        s.versions.length > 0 ? s.versions.join(" / ") : "version unknown"
      }`,
    ),
  );
}

function findingsSection(): HTMLElement | undefined {
  if (health.state === "idle") return undefined;
  if (health.state === "loading") return note("Checking health…");
  if (health.state === "error") return note(`Health findings unavailable: ${health.message}`);
  const value = health.value;
  const counts = h(
    "span",
    { class: "counts" },
    value.counts.critical > 0 ? badge(`${value.counts.critical} critical`, "crit") : undefined,
    value.counts.warning > 0 ? badge(`${value.counts.warning} warning`, "warn") : undefined,
    value.counts.info > 0 ? badge(`${value.counts.info} info`, "info") : undefined,
    value.healthy && value.findings.length === 0 ? badge("healthy", "ok") : undefined,
  );
  const findings = [...value.findings].sort((a, b) =>
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]
  );
  return h(
    "section",
    { class: "panel findings", "aria-label": "Findings" },
    h("div", { class: "top" }, h("h2", {}, "Findings"), counts),
    findings.length === 0 ? note("Nothing needs attention.") : h(
      "ul",
      { class: "finding-list" },
      ...findings.map((f) =>
        h(
          "li",
          { class: `finding finding-${f.severity}`, "data-check": f.check },
          h(
            "div",
            { class: "finding-head" },
            badge(f.severity, SEVERITY_KIND[f.severity]),
            f.subject === undefined ? h("span", {}, f.detail) : h("strong", {}, f.subject),
            f.count !== undefined && f.count > 1
              ? h("span", { class: "sub" }, `×${f.count}`)
              : undefined,
          ),
          f.subject === undefined ? undefined : h("div", {}, f.detail),
          f.examples !== undefined && f.examples.length > 0
            ? h("div", { class: "sub" }, f.examples.join(", "))
            : undefined,
          h("div", { class: "next-step" }, f.next_step),
        )
      ),
    ),
    value.findings_total !== undefined && value.findings_total > value.findings.length
      ? note(`${value.findings_total - value.findings.length} more finding(s) not listed.`)
      : undefined,
    checkedLine(value),
  );
}

function checkedLine(value: ClusterHealth): HTMLElement | undefined {
  const c = value.checked;
  const parts = c === undefined ? [] : [
    c.nodes !== undefined ? `${c.nodes} node(s)` : undefined,
    c.guests !== undefined ? `${c.guests} guest(s)` : undefined,
    c.storages !== undefined ? `${c.storages} storage(s)` : undefined,
  ].filter((part) => part !== undefined);
  const skipped = value.skipped ?? [];
  if (parts.length === 0 && skipped.length === 0) return undefined;
  return note(
    [
      parts.length > 0 ? `Checked ${parts.join(", ")}.` : "",
      skipped.length > 0 ? `Not checked: ${skipped.join("; ")}.` : "",
    ].filter(Boolean).join(" "),
  );
}

function guestsByNode(): Map<string, GuestRow[]> {
  const map = new Map<string, GuestRow[]>();
  if (guests.state !== "ok") return map;
  for (const guest of guests.value.guests) {
    const node = guest.node ?? "?";
    map.set(node, [...(map.get(node) ?? []), guest]);
  }
  return map;
}

function nodesSection(): HTMLElement | undefined {
  if (status.state !== "ok") return undefined;
  const byNode = guestsByNode();
  const truncated = guests.state === "ok" && guests.value.total_matching > guests.value.returned
    ? note(`Showing ${guests.value.returned} of ${guests.value.total_matching} guests.`)
    : undefined;
  return h(
    "section",
    { "aria-label": "Nodes" },
    h("div", { class: "nodes" }, ...status.value.nodes.map((n) => nodeCard(n, byNode.get(n.node)))),
    guests.state === "error" ? note(`Guests unavailable: ${guests.message}`) : truncated,
  );
}

function nodeCard(n: NodeRow, rows: GuestRow[] | undefined): HTMLElement {
  const meta = [
    n.ip,
    n.uptime_seconds !== undefined ? `up ${formatDuration(n.uptime_seconds)}` : undefined,
    n.pve_version !== undefined ? `PVE ${n.pve_version}` : undefined,
  ].filter((part) => part !== undefined).join(" · ");
  const bars = n.online
    ? [
      usageBar("CPU", {
        fraction: n.cpu_fraction,
        text: `${formatPercent(n.cpu_fraction)}${n.maxcpu !== undefined ? ` of ${n.maxcpu}` : ""}`,
      }),
      usageBar("Memory", {
        fraction: share(n.mem_bytes, n.maxmem_bytes),
        text: `${formatBytes(n.mem_bytes)} / ${formatBytes(n.maxmem_bytes)}`,
      }),
      usageBar("Root disk", {
        fraction: share(n.rootfs_used_bytes, n.rootfs_total_bytes),
        text: `${formatBytes(n.rootfs_used_bytes)} / ${formatBytes(n.rootfs_total_bytes)}`,
      }),
    ]
    : [note("Offline: its guests cannot be managed until it is back.")];
  return h(
    "article",
    { class: `panel node ${n.online ? "online" : "offline"}`, "data-node": n.node },
    h(
      "header",
      { class: "node-head" },
      h("h3", {}, n.node),
      badge(n.online ? "online" : n.status, n.online ? "ok" : "crit"),
    ),
    meta === "" ? undefined : h("div", { class: "sub" }, meta),
    h("div", { class: "bars" }, ...bars),
    guestList(n.node, rows),
  );
}

function share(used: number | undefined, total: number | undefined): number | undefined {
  return used !== undefined && total !== undefined && total > 0 ? used / total : undefined;
}

function guestList(node: string, rows: GuestRow[] | undefined): HTMLElement | undefined {
  if (guests.state === "loading") return note("Loading guests…");
  if (guests.state !== "ok") return undefined;
  const list = rows ?? [];
  const running = list.filter((g) => g.status === "running").length;
  const shown = expanded.has(node) ? list : list.slice(0, GUESTS_PER_CARD);
  let more: HTMLElement | undefined;
  if (shown.length < list.length) {
    more = h("button", { type: "button", class: "more" }, `${list.length - shown.length} more`);
    more.addEventListener("click", () => {
      expanded.add(node);
      render();
    });
  }
  return h(
    "div",
    { class: "guests" },
    h("h4", {}, `Guests · ${running} of ${list.length} running`),
    list.length === 0
      ? note("No guests.")
      : h("ul", { class: "guest-list" }, ...shown.map((g) => h("li", {}, guestButton(g)))),
    more,
  );
}

function guestButton(g: GuestRow): HTMLElement {
  const state = g.template === true ? "template" : (g.status ?? "unknown");
  const button = h(
    "button",
    {
      type: "button",
      class: `guest guest-${state}`,
      "data-vmid": g.vmid,
      "aria-pressed": selected === g.vmid ? "true" : "false",
      title: `${g.type === "lxc" ? "Container" : "VM"} ${g.vmid}: ${state}${
        g.lock !== undefined ? `, locked (${g.lock})` : ""
      }`,
    },
    h("span", { class: "dot" }),
    h("span", { class: "vmid" }, String(g.vmid)),
    h("span", { class: "name" }, g.name ?? ""),
    h("span", { class: "kind" }, g.type === "lxc" ? "CT" : "VM"),
    g.lock !== undefined ? h("span", { class: "lock" }, g.lock) : undefined,
  );
  button.addEventListener("click", () => selectGuest(g.vmid));
  return button;
}

function detailSection(): HTMLElement | undefined {
  if (selected === undefined || detail.state === "idle") return undefined;
  if (detail.state === "loading") return note(`Loading guest ${selected}…`);
  if (detail.state === "error") return errorBox(detail.message);
  const g = detail.value;
  const facts: [string, string | undefined][] = [
    ["Node", g.node],
    ["Uptime", g.uptime_seconds !== undefined ? formatDuration(g.uptime_seconds) : undefined],
    ["Pool", g.pool],
    ["Tags", g.tags.length > 0 ? g.tags.join(", ") : undefined],
    ["HA", g.ha !== undefined ? (g.ha.state ?? "managed") : undefined],
    ["Lock", g.lock],
    ["Snapshots", String(g.snapshot_count)],
    ["Pending changes", g.pending.length > 0 ? String(g.pending.length) : undefined],
    [
      "Addresses",
      g.agent?.ips !== undefined && g.agent.ips.length > 0
        ? g.agent.ips.map((ip) => ip.address).join(", ")
        : g.agent?.note,
    ],
  ];
  const running = g.status === "running";
  return h(
    "section",
    { class: "panel detail", "aria-label": "Guest detail", "data-vmid": g.vmid },
    h(
      "header",
      { class: "top" },
      h("h2", {}, `${g.type === "lxc" ? "CT" : "VM"} ${g.vmid}${g.name ? ` ${g.name}` : ""}`),
      badge(g.template ? "template" : g.status, running ? "ok" : "muted"),
    ),
    running
      ? h(
        "div",
        { class: "bars" },
        usageBar("CPU", {
          fraction: g.cpu_fraction,
          text: `${formatPercent(g.cpu_fraction)}${
            g.maxcpu !== undefined ? ` of ${g.maxcpu}` : ""
          }`,
        }),
        usageBar("Memory", {
          fraction: share(g.mem_bytes, g.maxmem_bytes),
          text: `${formatBytes(g.mem_bytes)} / ${formatBytes(g.maxmem_bytes)}`,
        }),
      )
      : undefined,
    h(
      "dl",
      { class: "facts" },
      ...facts.filter(([, value]) => value !== undefined && value !== "").flatMap((
        [key, value],
      ) => [h("dt", {}, key), h("dd", {}, value)]),
    ),
    h(
      "details",
      {},
      h("summary", {}, `Configuration (${Object.keys(g.config).length} keys)`),
      h(
        "table",
        { class: "config" },
        h(
          "tbody",
          {},
          ...Object.entries(g.config).map(([key, value]) =>
            h("tr", {}, h("th", {}, key), h("td", { class: "mono" }, String(value)))
          ),
        ),
      ),
    ),
  );
}

render();
