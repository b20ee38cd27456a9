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

/** What a usage bar shows. */
export interface Usage {
  /** How full, 0…1 (`undefined`: unknown, an empty bar). */
  fraction: number | undefined;
  /** The figures, as text beside the bar. */
  text: string;
  /** A ranking rather than a usage: one colour, whatever the fill. */
  relative?: boolean;
}

/**
 * A labelled usage bar: `label`, a bar filled to the fraction, and the figures as text. A
 * fuller bar turns amber, then red, unless it is `relative`.
 */
export function usageBar(label: string, usage: Usage): HTMLElement {
  const { fraction, text } = usage;
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
        class: `usage-track level-${known && usage.relative !== true ? level(clamped) : "none"}`,
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
