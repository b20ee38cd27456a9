/**
 * The views in a real browser (Debian's chromium, headless) against the simulated demo cluster:
 * each is shown the way an MCP Apps host shows it (`host_page.ts`, built on the extension's
 * AppBridge, under the extension's default CSP), its text is asserted, its calls through the
 * host are checked, and a screenshot is written (`tests/views/screenshots/`, or `docs/views/`
 * with `UPDATE_SCREENSHOTS=1`). Nothing on the page may log an error or a warning, throw, or
 * make a request.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Frame } from "puppeteer-core";
import { browserTest, launch } from "./_browser.ts";
import { type Host, openHost } from "./_host.ts";
import { openViewSession, type ViewSession } from "./_session.ts";

/** Runs `body` with a simulator, a server, a browser and the host page; checks the page stayed clean. */
async function withHost(
  options: Parameters<typeof openViewSession>[0],
  body: (host: Host, session: ViewSession) => Promise<void>,
): Promise<void> {
  const session = await openViewSession(options);
  const running = await launch();
  try {
    const host = await openHost(running, session.client);
    await body(host, session);
    assert.deepEqual(host.problems, [], "no console error or warning, page error, or request");
    await host.close();
  } finally {
    await running.close();
    await session.close();
  }
}

function textOf(frame: Frame): Promise<string> {
  return frame.$eval("body", (body) => (body as HTMLElement).innerText);
}

async function pngWritten(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  assert.deepEqual([...bytes.slice(1, 4)], [0x50, 0x4e, 0x47], `${path} is a PNG`);
  assert.ok(bytes.length > 5_000, `${path} shows something`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const browser = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  ...browserTest(
    "the cluster view shows the demo cluster's nodes with their bars and guests, and a guest click round-trips through guest_get",
  ),
  ...browser,
  async fn() {
    await withHost({}, async (host) => {
      const view = await host.open("cluster_status");
      await view.frame.waitForSelector('[data-node="pve3"] .guest');
      await view.frame.waitForFunction(() =>
        !/Checking health|Loading/.test(document.body.innerText)
      );
      const text = await textOf(view.frame);
      assert.match(text, /^homelab\s+quorate\s+3\/3 nodes online · Proxmox VE 9\.1\.1/);
      for (const node of ["pve1", "pve2", "pve3"]) {
        const card = await view.frame.$eval(
          `[data-node="${node}"]`,
          (e) => (e as HTMLElement).innerText,
        );
        assert.match(card, new RegExp(`^${node}\\s+online`));
        assert.match(card, /CPU\s+[\d.]+% of \d+\s+Memory\s+[\d.]+ GiB \/ [\d.]+ GiB\s+Root disk/);
      }
      const pve1 = await view.frame.$$eval(
        '[data-node="pve1"] .guest',
        (buttons) => buttons.map((b) => (b as HTMLElement).dataset.vmid),
      );
      assert.deepEqual(pve1, ["100", "102", "200", "9000"]);
      assert.match(text, /GUESTS · 3 OF 4 RUNNING/i);
      assert.match(text, /Findings\s+1 warning/);
      assert.match(text, /warning\s+\d+ guest\(s\) have no backup from the last 7 day\(s\)/);
      assert.deepEqual(
        host.calls.map((call) => call.name).sort(),
        ["cluster_health", "guest_list"],
        "the view asked for the health findings and the guests, nothing else",
      );

      host.calls.length = 0;
      await (await view.frame.$('[data-vmid="100"]'))?.click();
      await view.frame.waitForSelector('section[aria-label="Guest detail"]');
      assert.deepEqual(host.calls.map((call) => [call.name, call.arguments]), [
        ["guest_get", { vmid: 100 }],
      ]);
      const detail = await view.frame.$eval(
        'section[aria-label="Guest detail"]',
        (e) => (e as HTMLElement).innerText,
      );
      assert.match(detail, /^VM 100 web01\s+running/);
      assert.match(detail, /Pool\s+prod/);
      assert.match(detail, /Addresses\s+192\.168\.1\.50/);
      await pngWritten(await host.screenshot(view, "cluster"));
    });
  },
});

Deno.test({
  ...browserTest(
    "on a bigger cluster a node card lists its first 16 guests and the rest on a click",
  ),
  ...browser,
  async fn() {
    await withHost({ sim: { seed: "scale", nodes: 2, guests: 60 } }, async (host) => {
      const view = await host.open("cluster_status");
      await view.frame.waitForSelector('[data-node="node01"] .guest');
      const guestsOf = (node: string) =>
        view.frame.$$eval(`[data-node="${node}"] .guest`, (buttons) => buttons.length);
      const heading = await view.frame.$eval(
        '[data-node="node01"] h4',
        (e) => (e as HTMLElement).innerText,
      );
      const total = Number(/of (\d+) running/i.exec(heading)?.[1]);
      assert.ok(total > 16, heading);
      assert.equal(await guestsOf("node01"), 16);
      const more = await view.frame.$('[data-node="node01"] button.more');
      assert.equal(await more?.evaluate((e) => (e as HTMLElement).innerText), `${total - 16} more`);
      await more?.click();
      await view.frame.waitForFunction(
        (n) => document.querySelectorAll('[data-node="node01"] .guest').length === n,
        {},
        total,
      );
      assert.equal(await guestsOf("node02") <= 16, true, "the other card stays short");
    });
  },
});

Deno.test({
  ...browserTest(
    "the view follows the host's theme: light, then dark when the host context changes",
  ),
  ...browser,
  async fn() {
    await withHost({}, async (host) => {
      const view = await host.open("cluster_status", {}, { theme: "light" });
      await view.frame.waitForSelector('[data-node="pve1"]');
      const look = () =>
        view.frame.evaluate(() => ({
          theme: document.documentElement.dataset.theme,
          background: getComputedStyle(document.body).backgroundColor,
          card: getComputedStyle(document.querySelector(".node") as Element).backgroundColor,
        }));
      const light = await look();
      assert.equal(light.theme, "light");
      assert.equal(light.background, "rgb(255, 255, 255)", "the host's own background variable");
      await host.setTheme("dark");
      await view.frame.waitForFunction(() => document.documentElement.dataset.theme === "dark");
      const dark = await look();
      assert.equal(dark.background, "rgb(32, 33, 36)");
      assert.notEqual(dark.card, light.card, "the view's own colours follow the theme");
    });
  },
});

Deno.test({
  ...browserTest(
    "the cluster view opened from cluster_health lists its findings with severity, and fetches the nodes itself",
  ),
  ...browser,
  async fn() {
    await withHost({}, async (host) => {
      const view = await host.open("cluster_health");
      await view.frame.waitForSelector('[data-node="pve3"] .guest');
      const findings = await view.frame.$$eval(
        ".finding",
        (items) => items.map((item) => (item as HTMLElement).innerText),
      );
      assert.ok(findings.length > 0);
      assert.ok(findings.some((f) => /^(critical|warning|info)\s/.test(f)), findings.join("\n"));
      assert.match(findings.join("\n"), /no backup/);
      assert.deepEqual(host.calls.map((call) => call.name).sort(), [
        "cluster_status",
        "guest_list",
      ]);
    });
  },
});

Deno.test({
  ...browserTest(
    "the metrics view charts a node's series with their names, avg/max/last, and another timeframe on click",
  ),
  ...browser,
  async fn() {
    await withHost({}, async (host) => {
      const view = await host.open("metrics_get", { node: "pve1" });
      await view.frame.waitForSelector('.chart[data-chart="Network"] polyline');
      assert.deepEqual(host.calls.map((call) => [call.name, call.arguments]), [
        ["metrics_get", { node: "pve1", timeframe: "hour", points: 120 }],
      ]);
      const charts = await view.frame.$$eval(
        ".chart",
        (figures) =>
          figures.map((f) => ({
            title: (f as HTMLElement).dataset.chart,
            series: [...f.querySelectorAll(".legend li[data-series]")].map((li) =>
              (li as HTMLElement).dataset.series
            ),
            lines: f.querySelectorAll("polyline").length,
          })),
      );
      const network = charts.find((c) => c.title === "Network");
      assert.deepEqual(network?.series, ["netin", "netout"]);
      assert.equal(network?.lines, 2);
      assert.deepEqual(charts.find((c) => c.title === "CPU")?.series, ["cpu", "iowait"]);
      assert.ok(charts.some((c) => c.title === "Memory"));
      const text = await textOf(view.frame);
      assert.match(text, /^node pve1\s+last hour/);
      assert.match(text, /netin_bytes_per_second\s+[\d.]+ KiB\/s\s+[\d.]+ KiB\/s\s+[\d.]+ KiB\/s/);
      await pngWritten(await host.screenshot(view, "metrics"));

      host.calls.length = 0;
      await (await view.frame.$('button[data-timeframe="day"]'))?.click();
      await view.frame.waitForSelector('button[data-timeframe="day"][aria-pressed="true"]');
      await view.frame.waitForFunction(() => document.body.innerText.includes("last day"));
      assert.deepEqual(host.calls.map((call) => call.arguments), [
        { node: "pve1", timeframe: "day", points: 120 },
      ]);
    });
  },
});

Deno.test({
  ...browserTest(
    "the task view shows a running clone's progress and log tail, and refreshes through task_get until it is done",
  ),
  ...browser,
  async fn() {
    // Task work runs only when the test moves the simulated clock.
    await withHost({ sim: { speed: 0.0001 } }, async (host, session) => {
      const upid = await session.pve.request<string>("POST", "/nodes/pve1/qemu/9000/clone", {
        params: { newid: 150, full: 1, name: "web03" },
      });
      const log = async () =>
        (await session.pve.request<{ t: string }[]>(
          "GET",
          `/nodes/pve1/tasks/${encodeURIComponent(upid)}/log`,
          { params: { limit: 500 } },
        )).map((line) => line.t).join("\n");
      /** Moves the clock one task second at a time until the log has a line with `text`. */
      const runUntil = async (text: string) => {
        for (let tries = 0; !(await log()).includes(text); tries++) {
          assert.ok(tries < 200, `the clone's log reached "${text}"`);
          session.sim.sim.clock.advance(1);
          await sleep(10);
        }
      };
      await runUntil("(40.00%)");
      const view = await host.open("task_get", { upid });
      await view.frame.waitForSelector("pre.log-lines");
      const running = await textOf(view.frame);
      assert.match(running, /^qmclone 9000\s+running\s+on pve1 · by root@pam!mcp · started /);
      assert.match(running, /Progress\s+40\.0%/);
      assert.match(running, /transferred 1\.4 GiB of 3\.5 GiB \(40\.00%\)/);
      assert.match(running, /refreshing every 2 s/);
      await pngWritten(await host.screenshot(view, "task"));

      await runUntil("TASK OK");
      await view.frame.waitForFunction(() => document.body.innerText.includes("TASK OK"), {
        timeout: 10_000,
      });
      const done = await textOf(view.frame);
      assert.match(done, /^qmclone 9000\s+OK/);
      assert.match(done, /Progress\s+done/);
      assert.doesNotMatch(done, /refreshing/);
      assert.ok(host.calls.length >= 1);
      for (const call of host.calls) {
        assert.deepEqual([call.name, call.arguments], ["task_get", { upid }]);
      }
      const calls = host.calls.length;
      await sleep(2_500);
      assert.equal(host.calls.length, calls, "no refresh once the task has finished");
    });
  },
});
