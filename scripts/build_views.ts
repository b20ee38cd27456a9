/**
 * Builds the MCP App views into `src/views/built.json`: for each view in `src/views/mod.ts`,
 * its browser entry (`src/views/<id>_view.ts`, with the extension's `App` and everything it
 * imports) is bundled and minified by `deno bundle`, and inlined with the shared and the view's
 * own styles into one self-contained HTML page — no CDN, no remote font, nothing fetched.
 * The server embeds the file through a literal import, so `deno compile` carries it;
 * `tests/views/built_test.ts` fails when it is stale.
 *
 * Run: `deno task views` (`deno run --allow-read --allow-write=src/views/built.json
 * --allow-run scripts/build_views.ts`)
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { type ViewInfo, VIEWS } from "../src/views/mod.ts";

/** The repository root. */
const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where the built views go. */
export const BUILT_VIEWS = new URL("../src/views/built.json", import.meta.url);

const decoder = new TextDecoder();

async function readIfExists(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  }
}

/** Bundles a browser entry (path relative to the root) into one minified script. */
export async function bundle(entry: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    // The views' own dependency (the MCP Apps client) is a development import (deno.dev.json).
    args: [
      "bundle",
      "--quiet",
      "--config",
      "deno.dev.json",
      "--frozen",
      "--platform",
      "browser",
      "--minify",
      entry,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`Cannot bundle "${entry}": ${decoder.decode(output.stderr).trim()}`);
  }
  return decoder.decode(output.stdout);
}

/** Makes script text safe inside an inline `<script>` element. */
export function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** One self-contained HTML page: the title, the styles and the script, inlined. */
export function page({ title, css, js }: { title: string; css: string; js: string }): string {
  if (/<\/style/i.test(css)) throw new Error(`The styles of "${title}" close their own element`);
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    `<style>${css.trim()}</style>`,
    "</head>",
    "<body>",
    '<main id="app"></main>',
    `<script type="module">${inlineScript(js.trim())}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/** Builds one view's page. */
export async function buildView(view: ViewInfo): Promise<string> {
  const css = [
    await Deno.readTextFile(`${ROOT}src/views/_ui/style.css`),
    await readIfExists(`${ROOT}src/views/${view.id}_view.css`),
  ].join("\n");
  return page({ title: view.title, css, js: await bundle(`src/views/${view.id}_view.ts`) });
}

/** The text of `built.json`: every view's page by `ui://` URI. */
export async function buildViews(): Promise<string> {
  const views: Record<string, string> = {};
  for (const view of VIEWS) views[view.uri] = await buildView(view);
  return `${
    JSON.stringify(
      {
        generated: "by `deno task views` from src/views/*_view.ts; do not edit",
        views,
      },
      null,
      1,
    )
  }\n`;
}

if (import.meta.main) {
  const text = await buildViews();
  await Deno.writeTextFile(BUILT_VIEWS, text);
  const sizes = VIEWS.map((view) =>
    `${view.id} ${(JSON.parse(text).views[view.uri].length / 1024).toFixed(0)} KiB`
  );
  Deno.stdout.writeSync(
    new TextEncoder().encode(`Wrote src/views/built.json (${sizes.join(", ")})\n`),
  );
}
