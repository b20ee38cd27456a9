import assert from "node:assert/strict";
import { buildViews, BUILT_VIEWS, inlineScript, page } from "../../scripts/build_views.ts";

Deno.test("src/views/built.json is what `deno task views` builds from the view sources", async () => {
  const current = await Deno.readTextFile(BUILT_VIEWS);
  const fresh = await buildViews();
  assert.ok(
    current === fresh,
    "src/views/built.json is stale: run `deno task views` and commit the result",
  );
});

Deno.test("an inlined script cannot close its element or open an HTML comment", () => {
  const js = 'const a = "</script><script>alert(1)</script>"; const b = "<!-- x";';
  const html = page({ title: "T", css: "body{}", js });
  assert.equal((html.match(/<\/script>/g) ?? []).length, 1);
  assert.ok(html.includes(inlineScript(js)));
  assert.doesNotMatch(inlineScript(js), /<\/script|<!--/i);
  assert.throws(
    () => page({ title: "T", css: "a{}</style><script>", js: "" }),
    /close their own element/,
  );
});
