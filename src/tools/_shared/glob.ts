/**
 * Case-insensitive glob matching (`*` any run, `?` one character) in time linear in the text
 * for a given pattern: the classic two-pointer walk that only ever returns to the latest `*`.
 * A glob turned into a regular expression (`web*a*a*…` → `^web.*a.*a.*…$`) backtracks
 * polynomially in the number of stars; this never does.
 *
 * @module
 */

/** A compiled glob: whether a whole text matches it. */
export interface GlobMatcher {
  /** Whether `text` matches, ignoring case. */
  test(text: string): boolean;
}

/** Compiles a glob (`*`, `?`; every other character literal), matched ignoring case. */
export function globMatcher(glob: string): GlobMatcher {
  // Runs of stars are one star; lower-casing once keeps the walk to comparisons.
  const pattern = [...glob.toLowerCase().replace(/\*{2,}/g, "*")];
  return {
    test(value: string): boolean {
      const text = [...value.toLowerCase()];
      let p = 0;
      let t = 0;
      let star = -1;
      let resume = 0;
      while (t < text.length) {
        const c = pattern[p];
        if (c === "*") {
          star = p++;
          resume = t;
        } else if (c !== undefined && (c === "?" || c === text[t])) {
          p++;
          t++;
        } else if (star >= 0) {
          p = star + 1;
          t = ++resume;
        } else {
          return false;
        }
      }
      while (pattern[p] === "*") p++;
      return p === pattern.length;
    },
  };
}
