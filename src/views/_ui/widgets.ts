/// <reference lib="dom" />
/**
 * Building blocks every view uses: usage bars, badges, notes and the error box.
 *
 * @module
 */

import { h } from "./dom.ts";

/** How full something is, as a level for colour. */
export function level(fraction: number): "ok" | "warn" | "crit" {
  return fraction >= 0.9 ? "crit" : fraction >= 0.75 ? "warn" : "ok";
}

/**
 * A labelled usage bar: `label`, a bar filled to `fraction`, and the figures as text. A full bar
 * turns amber, then red; `relative` bars (a ranking, not a usage) keep one colour.
 */
export function usageBar(
  label: string,
  fraction: number | undefined,
  text: string,
  options: { relative?: boolean } = {},
): HTMLElement {
  const known = fraction !== undefined && Number.isFinite(fraction);
  const clamped = known ? Math.min(1, Math.max(0, fraction)) : 0;
  const fill = h("span", { class: "usage-fill" });
  fill.style.width = `${(clamped * 100).toFixed(1)}%`;
  return h(
    "div",
    { class: "usage", "data-label": label },
    h("span", { class: "usage-label" }, label),
    h(
      "span",
      {
        class: `usage-track level-${known && options.relative !== true ? level(clamped) : "none"}`,
        role: "meter",
        "aria-label": label,
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": Math.round(clamped * 100),
      },
      fill,
    ),
    h("span", { class: "usage-text" }, text),
  );
}

/** A small pill: `kind` picks the colour (`ok`, `warn`, `crit`, `info`, `muted`). */
export function badge(text: string, kind: string): HTMLElement {
  return h("span", { class: `badge badge-${kind}` }, text);
}

/** A muted line of text. */
export function note(text: string): HTMLElement {
  return h("p", { class: "note" }, text);
}

/** An error the user should read (the tool's own sentence). */
export function errorBox(text: string): HTMLElement {
  return h("div", { class: "error", role: "alert" }, text);
}
