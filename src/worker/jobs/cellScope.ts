// Kernel state of a notebook: the variables its cells define, kept in the worker between cells
// (as in Jupyter) until "Restart Notebook Kernel" or the notebook closes. A cell still runs as the
// body of an async function (top-level await); its body runs inside `with (scope)`, where `scope`
// is a Proxy that claims every name that is not a global, so top-level `var` and plain assignments
// land in the notebook's state. Top-level `let`/`const` become `var` and top-level
// function/class declarations are copied in, so the usual `const x = await ...` carries over too.

/** Names the cell function receives as parameters: the scope must not shadow them. */
export const CELL_PARAMS = ['prunescope', 'plot', 'display', 'print', 'console'] as const;

export type CellState = Record<string, unknown>;

const stateKey = (notebook: string) => `cell-state|${notebook}`;

export function cellState(cache: Map<string, unknown>, notebook: string): CellState {
  let s = cache.get(stateKey(notebook)) as CellState | undefined;
  if (!s) {
    s = Object.create(null) as CellState;
    cache.set(stateKey(notebook), s);
  }
  return s;
}

/** Forgets a notebook's variables; true when it had any state. */
export function resetCellState(cache: Map<string, unknown>, notebook: string): boolean {
  return cache.delete(stateKey(notebook));
}

/** Names that mean "the global object" in a cell: they resolve to the notebook's own scope. */
const GLOBAL_NAMES = new Set(['globalThis', 'global']);

/**
 * The `with` object: every name that is not a global (nor a cell parameter) resolves here, so
 * writes stay in `state`. A name never set reads as undefined (as a declared `var x;` must).
 * `globalThis` / `global` in a cell are this scope too (reads fall back to the real globals), so
 * `globalThis.x = 1` is notebook state that a restart clears, not a worker-wide leak.
 */
export function scopeProxy(state: CellState): object {
  const real = globalThis as unknown as Record<string, unknown>;
  const own = (k: string | symbol): k is string => typeof k === 'string';
  const reserved = new Set<string>([...CELL_PARAMS, 'arguments', '__cellScope']);
  const proxy: object = new Proxy(state, {
    has: (t, k) => own(k) && !reserved.has(k) && (k in t || GLOBAL_NAMES.has(k) || !(k in real)),
    get: (t, k) => {
      if (!own(k)) return undefined;
      if (k in t) return t[k];
      return GLOBAL_NAMES.has(k) ? proxy : real[k];
    },
    set: (t, k, v) => {
      if (own(k)) t[k] = v;
      return true;
    },
  });
  return proxy;
}

interface TopLevel {
  source: string;
  functions: string[];
}

const WORD = /[A-Za-z0-9_$]/;
// After these a `/` starts a regular expression, not a division.
const REGEX_AFTER = new Set([
  '(',
  ',',
  '=',
  ':',
  '[',
  '!',
  '&',
  '|',
  '?',
  '{',
  '}',
  ';',
  '+',
  '-',
  '*',
  '%',
  '<',
  '>',
  '~',
  '^',
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
  '',
]);

/**
 * Rewrites the top level of a cell (brace/paren depth 0, outside strings, templates, comments and
 * regular expressions): `let`/`const` -> `var`; `class X` -> `var X = class X` (+ `;` after its
 * body); and lists top-level function declarations. A lexical scan, not a parser: anything it
 * does not recognise is left as written (and then stays local to the cell).
 */
export function rewriteTopLevel(src: string): TopLevel {
  let out = '';
  let depth = 0;
  let prev = ''; // previous significant token
  let nl = false; // a line break since `prev` (automatic semicolon insertion may end a statement there)
  const functions: string[] = [];
  const closeClassAt: number[] = []; // depths at which a rewritten class body ends
  const templateDepth: number[] = []; // brace depth of each open `${`
  let i = 0;
  const n = src.length;
  const skipString = (q: string) => {
    let j = i + 1;
    while (j < n && src[j] !== q) {
      if (src[j] === '\\') j++;
      else if (src[j] === '\n') break;
      j++;
    }
    return j + 1;
  };
  // Template literal from i (at ` or just after a closing `}` of ${...}) to its end or next ${.
  const scanTemplate = (from: number): { end: number; open: boolean } => {
    let j = from;
    while (j < n) {
      if (src[j] === '\\') {
        j += 2;
        continue;
      }
      if (src[j] === '`') return { end: j + 1, open: false };
      if (src[j] === '$' && src[j + 1] === '{') return { end: j + 2, open: true };
      j++;
    }
    return { end: n, open: false };
  };
  while (i < n) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      const j = src.indexOf('\n', i);
      const e = j < 0 ? n : j;
      out += src.slice(i, e);
      i = e;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const j = src.indexOf('*/', i + 2);
      const e = j < 0 ? n : j + 2;
      nl ||= src.slice(i, e).includes('\n');
      out += src.slice(i, e);
      i = e;
      continue;
    }
    if (/\s/.test(c)) {
      nl ||= c === '\n';
      out += c;
      i++;
      continue;
    }
    const afterBreak =
      nl && (WORD.test(prev.slice(-1)) || prev === ')' || prev === ']' || prev === 'str' || prev === 'regex');
    nl = false;
    if (c === '"' || c === "'") {
      const e = skipString(c);
      out += src.slice(i, e);
      i = e;
      prev = 'str';
      continue;
    }
    if (c === '`') {
      const t = scanTemplate(i + 1);
      out += src.slice(i, t.end);
      i = t.end;
      prev = 'str';
      if (t.open) {
        templateDepth.push(depth);
        depth++;
        prev = '{';
      }
      continue;
    }
    if (c === '/' && REGEX_AFTER.has(prev)) {
      let j = i + 1,
        cls = false;
      while (j < n && src[j] !== '\n') {
        if (src[j] === '\\') {
          j += 2;
          continue;
        }
        if (src[j] === '[') cls = true;
        else if (src[j] === ']') cls = false;
        else if (src[j] === '/' && !cls) break;
        j++;
      }
      j++;
      while (j < n && WORD.test(src[j])) j++;
      out += src.slice(i, j);
      i = j;
      prev = 'regex';
      continue;
    }
    if (WORD.test(c)) {
      let j = i;
      while (j < n && WORD.test(src[j])) j++;
      const w = src.slice(i, j);
      const statementStart =
        afterBreak || prev === '' || prev === ';' || prev === '}' || prev === ')' || prev === 'else';
      if (depth === 0 && (w === 'let' || w === 'const') && statementStart && /^\s*[A-Za-z_$[{]/.test(src.slice(j))) {
        out += 'var';
        i = j;
        prev = 'var';
        continue;
      }
      if (depth === 0 && w === 'function' && (statementStart || prev === 'async')) {
        const m = /^\s*\*?\s*([A-Za-z_$][A-Za-z0-9_$]*)/.exec(src.slice(j));
        if (m) functions.push(m[1]);
      }
      if (depth === 0 && w === 'class' && statementStart) {
        const m = /^\s*([A-Za-z_$][A-Za-z0-9_$]*)/.exec(src.slice(j));
        if (m) {
          out += `var ${m[1]} = class`;
          i = j;
          prev = 'class';
          closeClassAt.push(0);
          continue;
        }
      }
      out += w;
      i = j;
      prev = w;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') {
      depth++;
      out += c;
      i++;
      prev = c;
      continue;
    }
    if (c === '}' && templateDepth.length && templateDepth[templateDepth.length - 1] === depth - 1) {
      depth = templateDepth.pop()!;
      const t = scanTemplate(i + 1);
      out += src.slice(i, t.end);
      i = t.end;
      prev = 'str';
      if (t.open) {
        templateDepth.push(depth);
        depth++;
        prev = '{';
      }
      continue;
    }
    if (c === '}' || c === ')' || c === ']') {
      depth = Math.max(0, depth - 1);
      out += c;
      i++;
      prev = c;
      if (c === '}' && depth === 0 && closeClassAt.length) {
        closeClassAt.pop();
        out += ';';
        prev = ';';
      }
      continue;
    }
    out += c;
    i++;
    prev = c;
  }
  return { source: out, functions };
}

/** The body of the cell's async function: the rewritten source run against the notebook's scope. */
export function scopedBody(source: string): string {
  const t = rewriteTopLevel(source);
  // Function declarations are initialised when the block is entered: copy them in first.
  const keep = t.functions.map((f) => `__cellScope.${f} = ${f};`).join(' ');
  return `with (__cellScope) { ${keep}\n${t.source}\n}`;
}
