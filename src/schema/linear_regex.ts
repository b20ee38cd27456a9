/**
 * A regular-expression matcher that runs in time linear in the input, for the Perl patterns
 * of the PVE API schema.
 *
 * JavaScript's `RegExp` backtracks: a schema pattern such as the OCI reference
 * `[a-z\d]+(?:(?:[._]|__|[-]*)[a-z\d]+)*` takes time exponential in the length of a value
 * like `aaaa…a!` (24 characters already cost 0.15 s, 40 would cost hours). Values come from a
 * model through `pve_api_get`/`pve_api_call`, and from any client of the simulator, so the
 * validator matches them here instead: the pattern becomes a Thompson NFA, simulated as a
 * lazily built DFA (each input character costs one cached transition, or one step over the
 * NFA's states when the transition is new), the approach of RE2.
 *
 * The syntax is the subset the schema uses: literals and escapes (`\d \w \s \D \W \S`, `\xHH`,
 * `\0`, escaped punctuation), `.`, bracket classes with ranges and negation, groups (capturing,
 * `(?:…)`, `(?^:…)`, `(?^i:…)`, `(?i:…)`), alternation, `* + ?`, `{n}`, `{n,}`, `{n,m}` and
 * `{,m}` (lazy `?` suffixes are accepted; they do not change whether a string matches), and
 * `^`/`$`. Anything else (lookaround, backreferences, possessive quantifiers, POSIX classes)
 * makes {@linkcode compileLinear} throw {@linkcode UnsupportedPattern}.
 *
 * Semantics follow JavaScript's (the validator's previous engine): `$` matches only at the end,
 * `.` matches anything but `\n`.
 *
 * @module
 */

/** A pattern uses syntax this matcher does not implement. */
export class UnsupportedPattern extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedPattern";
  }
}

/** A compiled pattern: whether a whole string matches it. */
export interface LinearPattern {
  /** The pattern as given. */
  readonly source: string;
  /** Whether `text` matches the pattern, anchored at both ends. */
  test(text: string): boolean;
}

type Range = readonly [number, number];

/** A set of code points as sorted, disjoint, non-adjacent ranges. */
type CharSet = Range[];

const MAX_CODE = 0x10ffff;

function normalize(ranges: Range[]): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out.at(-1);
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: CharSet): CharSet {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE) out.push([next, MAX_CODE]);
  return out;
}

function foldCase(set: CharSet): CharSet {
  const extra: Range[] = [];
  for (const [lo, hi] of set) {
    for (let c = Math.max(lo, 0x41); c <= Math.min(hi, 0x5a); c++) extra.push([c + 32, c + 32]);
    for (let c = Math.max(lo, 0x61); c <= Math.min(hi, 0x7a); c++) extra.push([c - 32, c - 32]);
  }
  return normalize([...set, ...extra]);
}

function has(set: CharSet, code: number): boolean {
  let lo = 0;
  let hi = set.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const range = set[mid]!;
    if (code < range[0]) hi = mid - 1;
    else if (code > range[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = normalize([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
const SPACE: CharSet = normalize([[0x09, 0x0d], [0x20, 0x20]]);
const NOT_NEWLINE: CharSet = complement([[0x0a, 0x0a]]);

type Node =
  | { kind: "set"; set: CharSet }
  | { kind: "cat"; items: Node[] }
  | { kind: "alt"; items: Node[] }
  | { kind: "rep"; item: Node; min: number; max: number }
  | { kind: "bol" }
  | { kind: "eol" };

/** Repetition counts above this are refused (the NFA holds one copy per count). */
const MAX_COUNT = 10_000;

class Parser {
  #pos = 0;
  constructor(readonly source: string) {}

  parse(): Node {
    const node = this.#alternation(false);
    if (this.#pos < this.source.length) this.#fail(`unexpected "${this.source[this.#pos]}"`);
    return node;
  }

  #fail(why: string): never {
    throw new UnsupportedPattern(`Cannot compile pattern ${JSON.stringify(this.source)}: ${why}`);
  }

  #peek(): string | undefined {
    return this.source[this.#pos];
  }

  #alternation(fold: boolean): Node {
    const items = [this.#sequence(fold)];
    while (this.#peek() === "|") {
      this.#pos++;
      items.push(this.#sequence(fold));
    }
    return items.length === 1 ? items[0]! : { kind: "alt", items };
  }

  #sequence(fold: boolean): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.#peek();
      if (c === undefined || c === "|" || c === ")") break;
      const atom = this.#atom(fold);
      items.push(this.#quantified(atom));
    }
    return items.length === 1 ? items[0]! : { kind: "cat", items };
  }

  #quantified(atom: Node): Node {
    let node = atom;
    for (;;) {
      const c = this.#peek();
      let min: number;
      let max: number;
      if (c === "*") [min, max] = [0, Infinity];
      else if (c === "+") [min, max] = [1, Infinity];
      else if (c === "?") [min, max] = [0, 1];
      else if (c === "{") {
        const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.source.slice(this.#pos, this.#pos + 24));
        if (m === null || (m[1] === "" && m[3] === "") || (m[1] === "" && m[2] === undefined)) {
          return node; // not a quantifier: Perl reads the brace literally (the caller does)
        }
        min = m[1] === "" ? 0 : Number(m[1]);
        max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
        if (min > max) this.#fail("a repetition's minimum exceeds its maximum");
        if (min > MAX_COUNT || (max !== Infinity && max > MAX_COUNT)) {
          this.#fail("a repetition count is too large");
        }
        this.#pos += m[0].length - 1;
      } else return node;
      this.#pos++;
      if (this.#peek() === "?") this.#pos++; // lazy: same language
      else if (this.#peek() === "+") this.#fail("possessive quantifiers are not supported");
      node = { kind: "rep", item: node, min, max };
    }
  }

  #atom(fold: boolean): Node {
    const c = this.#peek()!;
    if (c === "(") return this.#group(fold);
    if (c === "[") return this.#set(this.#bracket(), fold);
    this.#pos++;
    if (c === ".") return { kind: "set", set: NOT_NEWLINE };
    if (c === "^") return { kind: "bol" };
    if (c === "$") return { kind: "eol" };
    if (c === "\\") return this.#set(this.#escape(false), fold);
    if (c === "*" || c === "+" || c === "?") this.#fail(`nothing to repeat before "${c}"`);
    const code = c.codePointAt(0)!;
    return this.#set([[code, code]], fold);
  }

  #set(set: CharSet, fold: boolean): Node {
    return { kind: "set", set: fold ? foldCase(set) : set };
  }

  #group(fold: boolean): Node {
    this.#pos++; // (
    let inner = fold;
    if (this.#peek() === "?") {
      const m = /^\?(\^?)([a-z]*):/.exec(this.source.slice(this.#pos, this.#pos + 12));
      if (m === null) this.#fail("only (?:…), (?^:…) and (?i:…) groups are supported");
      const flags = m[2] ?? "";
      if (/[^i]/.test(flags)) this.#fail(`unsupported group flags "${flags}"`);
      inner = flags.includes("i") || (m[1] === "" && fold);
      this.#pos += m[0].length;
    }
    const node = this.#alternation(inner);
    if (this.#peek() !== ")") this.#fail("missing )");
    this.#pos++;
    return node;
  }

  /** An escape after `\`; inside a class `\b` would be a backspace, which the schema never uses. */
  #escape(inClass: boolean): CharSet {
    const c = this.#peek();
    if (c === undefined) this.#fail("trailing backslash");
    this.#pos++;
    switch (c) {
      case "d":
        return DIGIT;
      case "D":
        return complement(DIGIT);
      case "w":
        return WORD;
      case "W":
        return complement(WORD);
      case "s":
        return SPACE;
      case "S":
        return complement(SPACE);
      case "n":
        return [[0x0a, 0x0a]];
      case "t":
        return [[0x09, 0x09]];
      case "r":
        return [[0x0d, 0x0d]];
      case "f":
        return [[0x0c, 0x0c]];
      case "v":
        return [[0x0b, 0x0b]];
      case "e":
        return [[0x1b, 0x1b]];
      case "0":
        return [[0, 0]];
      case "x": {
        const m = /^[0-9A-Fa-f]{2}/.exec(this.source.slice(this.#pos, this.#pos + 2));
        if (m === null) this.#fail("\\x needs two hex digits");
        this.#pos += 2;
        const code = parseInt(m[0], 16);
        return [[code, code]];
      }
    }
    if (/[A-Za-z0-9]/.test(c)) {
      this.#fail(`unsupported escape "\\${c}"${inClass ? " in a class" : ""}`);
    }
    const code = c.codePointAt(0)!;
    return [[code, code]];
  }

  #bracket(): CharSet {
    this.#pos++; // [
    let negate = false;
    if (this.#peek() === "^") {
      negate = true;
      this.#pos++;
    }
    const ranges: Range[] = [];
    let first = true;
    for (;;) {
      const c = this.#peek();
      if (c === undefined) this.#fail("missing ]");
      if (c === "]" && !first) {
        this.#pos++;
        break;
      }
      first = false;
      if (c === "[" && this.source[this.#pos + 1] === ":") this.#fail("POSIX classes");
      const low = this.#classItem();
      if (
        low.length === 1 && low[0]![0] === low[0]![1] && this.#peek() === "-" &&
        this.source[this.#pos + 1] !== "]" && this.source[this.#pos + 1] !== undefined
      ) {
        const save = this.#pos;
        this.#pos++; // -
        const high = this.#classItem();
        if (high.length === 1 && high[0]![0] === high[0]![1]) {
          if (high[0]![0] < low[0]![0]) this.#fail("a class range is reversed");
          ranges.push([low[0]![0], high[0]![0]]);
          continue;
        }
        // `\w-x`-like: the dash is literal (as Perl reads it)
        this.#pos = save;
      }
      ranges.push(...low);
    }
    const set = normalize(ranges);
    return negate ? complement(set) : set;
  }

  #classItem(): CharSet {
    const c = this.#peek()!;
    this.#pos++;
    if (c === "\\") return this.#escape(true);
    const code = c.codePointAt(0)!;
    return [[code, code]];
  }
}

// The NFA: states in an array; `out`/`out2` are state indexes.
const CHAR = 0;
const SPLIT = 1;
const BOL = 2;
const EOL = 3;
const MATCH = 4;

interface State {
  kind: number;
  set?: CharSet;
  out: number;
  out2: number;
}

class Nfa {
  readonly states: State[] = [];

  add(kind: number, set?: CharSet): number {
    this.states.push({ kind, ...(set === undefined ? {} : { set }), out: -1, out2: -1 });
    return this.states.length - 1;
  }
}

/** A fragment: its start state and the dangling exits to patch (state index, which out). */
interface Fragment {
  start: number;
  exits: Array<[number, 1 | 2]>;
}

function patch(nfa: Nfa, exits: Fragment["exits"], to: number): void {
  for (const [state, which] of exits) {
    if (which === 1) nfa.states[state]!.out = to;
    else nfa.states[state]!.out2 = to;
  }
}

function build(nfa: Nfa, node: Node): Fragment {
  switch (node.kind) {
    case "set": {
      const s = nfa.add(CHAR, node.set);
      return { start: s, exits: [[s, 1]] };
    }
    case "bol":
    case "eol": {
      const s = nfa.add(node.kind === "bol" ? BOL : EOL);
      return { start: s, exits: [[s, 1]] };
    }
    case "cat": {
      if (node.items.length === 0) return empty(nfa);
      let fragment = build(nfa, node.items[0]!);
      for (const item of node.items.slice(1)) {
        const next = build(nfa, item);
        patch(nfa, fragment.exits, next.start);
        fragment = { start: fragment.start, exits: next.exits };
      }
      return fragment;
    }
    case "alt": {
      let fragment = build(nfa, node.items[0]!);
      for (const item of node.items.slice(1)) {
        const other = build(nfa, item);
        const split = nfa.add(SPLIT);
        nfa.states[split]!.out = fragment.start;
        nfa.states[split]!.out2 = other.start;
        fragment = { start: split, exits: [...fragment.exits, ...other.exits] };
      }
      return fragment;
    }
    case "rep":
      return repeat(nfa, node.item, node.min, node.max);
  }
}

function empty(nfa: Nfa): Fragment {
  const split = nfa.add(SPLIT);
  nfa.states[split]!.out2 = -2; // never taken: a split with one exit is an epsilon step
  return { start: split, exits: [[split, 1]] };
}

function repeat(nfa: Nfa, item: Node, min: number, max: number): Fragment {
  const parts: Fragment[] = [];
  for (let i = 0; i < min; i++) parts.push(build(nfa, item));
  let tail: Fragment | undefined;
  if (max === Infinity) {
    // x*: split → x → back to split
    const split = nfa.add(SPLIT);
    const body = build(nfa, item);
    nfa.states[split]!.out = body.start;
    patch(nfa, body.exits, split);
    tail = { start: split, exits: [[split, 2]] };
  } else if (max > min) {
    // x{0,k} nested: (x(x(x)?)?)?, so after j characters only one copy is active.
    let inner: Fragment | undefined;
    for (let i = 0; i < max - min; i++) {
      const split = nfa.add(SPLIT);
      const body = build(nfa, item);
      nfa.states[split]!.out = body.start;
      const exits: Fragment["exits"] = [[split, 2]];
      if (inner === undefined) exits.push(...body.exits);
      else {
        patch(nfa, body.exits, inner.start);
        exits.push(...inner.exits);
      }
      inner = { start: split, exits };
    }
    tail = inner;
  }
  if (tail !== undefined) parts.push(tail);
  if (parts.length === 0) return empty(nfa);
  let fragment = parts[0]!;
  for (const next of parts.slice(1)) {
    patch(nfa, fragment.exits, next.start);
    fragment = { start: fragment.start, exits: next.exits };
  }
  return fragment;
}

/** A DFA state: the NFA character states reachable, and its cached transitions. */
interface DState {
  /** NFA states of kind CHAR (and EOL, resolved at the end), sorted. */
  states: number[];
  /** Whether the match state is in the closure. */
  accepting: boolean;
  /** Transitions for ASCII, then a map for the rest. */
  ascii: (DState | undefined)[];
  other: Map<number, DState>;
}

/** Cached DFA states per pattern before the cache is dropped and rebuilt (bounds memory). */
const MAX_DFA_STATES = 2_000;

class Matcher implements LinearPattern {
  readonly #nfa: Nfa;
  readonly #start: number;
  #cache = new Map<string, DState>();
  #initial: DState | undefined;

  constructor(readonly source: string, nfa: Nfa, start: number) {
    this.#nfa = nfa;
    this.#start = start;
  }

  /** The closure of `seeds`, following splits; `^` only at the start. */
  #closure(seeds: Iterable<number>, atStart: boolean): DState {
    const states = this.#nfa.states;
    const seen = new Set<number>();
    const stack = [...seeds];
    const members: number[] = [];
    let accepting = false;
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (id < 0 || seen.has(id)) continue;
      seen.add(id);
      const state = states[id]!;
      if (state.kind === SPLIT) {
        stack.push(state.out, state.out2);
      } else if (state.kind === BOL) {
        if (atStart) stack.push(state.out);
      } else if (state.kind === MATCH) {
        accepting = true;
      } else {
        members.push(id); // CHAR, or EOL (decided at the end)
      }
    }
    members.sort((a, b) => a - b);
    const key = `${atStart ? "^" : ""}${members.join(",")}${accepting ? "!" : ""}`;
    let cached = this.#cache.get(key);
    if (cached === undefined) {
      if (this.#cache.size >= MAX_DFA_STATES) {
        this.#cache = new Map();
        this.#initial = undefined;
      }
      cached = { states: members, accepting, ascii: [], other: new Map() };
      this.#cache.set(key, cached);
    }
    return cached;
  }

  #step(from: DState, code: number): DState {
    const hit = code < 128 ? from.ascii[code] : from.other.get(code);
    if (hit !== undefined) return hit;
    const states = this.#nfa.states;
    const next: number[] = [];
    for (const id of from.states) {
      const state = states[id]!;
      if (state.kind === CHAR && has(state.set!, code)) next.push(state.out);
    }
    const to = this.#closure(next, false);
    if (code < 128) from.ascii[code] = to;
    else from.other.set(code, to);
    return to;
  }

  /** Whether the end of input is reached in an accepting way from `at` (following `$`). */
  #acceptsAtEnd(at: DState, atStart: boolean): boolean {
    if (at.accepting) return true;
    const states = this.#nfa.states;
    const seen = new Set<number>();
    const stack = at.states.filter((id) => states[id]!.kind === EOL);
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (id < 0 || seen.has(id)) continue;
      seen.add(id);
      const state = states[id]!;
      if (state.kind === MATCH) return true;
      if (state.kind === SPLIT) stack.push(state.out, state.out2);
      else if (state.kind === EOL) stack.push(state.out);
      else if (state.kind === BOL && atStart) stack.push(state.out);
    }
    return false;
  }

  test(text: string): boolean {
    this.#initial ??= this.#closure([this.#start], true);
    let at = this.#initial;
    let index = 0;
    for (const char of text) {
      at = this.#step(at, char.codePointAt(0)!);
      index++;
      if (at.states.length === 0 && !at.accepting) return false;
    }
    return this.#acceptsAtEnd(at, index === 0);
  }
}

/**
 * Compiles `source` (the whole string must match, as PVE anchors `m/^$pattern$/`).
 *
 * @throws {UnsupportedPattern} for syntax outside the supported subset.
 */
export function compileLinear(source: string): LinearPattern {
  const tree = new Parser(source).parse();
  const nfa = new Nfa();
  const fragment = build(nfa, tree);
  const match = nfa.add(MATCH);
  patch(nfa, fragment.exits, match);
  return new Matcher(source, nfa, fragment.start);
}
