// The engine's rooms (its top-level folders, and each module at its root) must import each other
// without cycles: a cycle between folders means two concepts have grown into each other, and the
// one below can no longer be understood or replaced alone. ESLint's import-x/no-cycle sees cycles
// between modules; this sees them between rooms (type-only imports included: they couple too).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const engine = path.join(__dirname, '..', '..', '..', 'src', 'engine');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.generated.ts') ? [p] : [];
  });
}

/** The room of a path inside src/engine: its first folder, or the module's name at the root. */
function room(file: string): string {
  const rel = path.relative(engine, file).split(path.sep);
  return rel.length > 1 ? rel[0] : rel[0].replace(/\.ts$/, '');
}

/** room -> room -> the files whose imports make that edge. */
function roomGraph(): Map<string, Map<string, string[]>> {
  const g = new Map<string, Map<string, string[]>>();
  for (const f of sources(engine)) {
    const text = fs.readFileSync(f, 'utf8');
    const from = room(f);
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']*)'/g)) {
      const target = path.resolve(path.dirname(f), m[1]);
      if (!target.startsWith(engine + path.sep)) continue;
      const to = room(target.endsWith('.ts') ? target : target + '.ts');
      if (to === from) continue;
      const edges = g.get(from) ?? new Map<string, string[]>();
      g.set(from, edges);
      edges.set(to, [...(edges.get(to) ?? []), path.relative(engine, f)]);
    }
  }
  return g;
}

/** Strongly connected components with more than one room (Tarjan). */
function cycles(g: Map<string, Map<string, string[]>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let i = 0;
  const visit = (v: string) => {
    index.set(v, i);
    low.set(v, i++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

test("the engine's rooms import each other without cycles", () => {
  const g = roomGraph();
  assert.ok(g.size >= 10, `found the engine's rooms (${[...g.keys()].join(', ')})`);
  const found = cycles(g).map((c) => {
    const edges = c.flatMap((a) =>
      c.filter((b) => g.get(a)?.has(b)).map((b) => `  ${a} -> ${b} (${g.get(a)!.get(b)!.join(', ')})`),
    );
    return `${c.join(' <-> ')}\n${edges.join('\n')}`;
  });
  assert.deepEqual(found, [], `rooms in a cycle:\n${found.join('\n')}`);
});

test('the room check sees a cycle when there is one', () => {
  const g = new Map([
    ['a', new Map([['b', ['a/x.ts']]])],
    ['b', new Map([['c', ['b/y.ts']]])],
    ['c', new Map([['a', ['c/z.ts']]])],
    ['d', new Map([['a', ['d/w.ts']]])],
  ]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c']]);
});
