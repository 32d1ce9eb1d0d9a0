// Where a writer may put a model: never over the model it was read from, never over an existing
// output unless asked, and only with finite weights and names every format can store.
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError } from '../errors';
import type { GraphSpec } from '../graphSpec';
import { inferShapes, nodeField, shapeText, weightSlots } from '../model/graphShapes';
import type { WriteOptions } from './types';

const real = (p: string): string => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/**
 * Refuses an output that is (or, for a folder, contains) the input model, or that exists and is
 * not to be replaced. `kind` says whether the output is a folder (TF.js) or one file.
 */
export function checkOutput(out: string, kind: 'folder' | 'file', opts: WriteOptions): void {
  const target = path.resolve(out);
  if (opts.input) {
    const input = real(opts.input);
    const t = real(target);
    const clash = kind === 'folder' ? input === t || input.startsWith(t + path.sep) : input === t;
    if (clash)
      throw new PruneScopeError('bad-input', `would overwrite the input model ${input}`, {
        file: target,
        expected: 'an output path other than the model it was read from',
      });
  }
  if (!fs.existsSync(target) || opts.replace) return;
  const st = fs.statSync(target);
  if (kind === 'folder' && st.isDirectory() && fs.readdirSync(target).length === 0) return;
  throw new PruneScopeError(
    'bad-input',
    kind === 'folder' ? 'output folder exists and is not empty' : 'output file exists',
    {
      file: target,
      expected: kind === 'folder' ? 'a new or empty folder (or replace: true)' : 'a new file (or replace: true)',
    },
  );
}

/** Layer names become weight paths in every format: unique, non-empty, without '/'. */
export function checkNames(spec: GraphSpec, file: string): void {
  const seen = new Set<string>();
  for (const name of [...spec.inputs.map((i) => i.name), ...spec.nodes.map((n) => n.name)]) {
    if (!name || name.includes('/') || seen.has(name))
      throw new PruneScopeError('bad-input', `layer name ${JSON.stringify(name)} is empty, repeated or contains "/"`, {
        file,
        field: 'spec.nodes.name',
        expected: 'unique names without "/"',
      });
    seen.add(name);
  }
}

/** Never write a model full of NaN: refuse before anything touches the disk. */
export function checkFinite(spec: GraphSpec, file: string): void {
  let flat = 0;
  for (const n of spec.nodes)
    for (const w of n.weights) {
      const bad = w.values.findIndex((v) => !Number.isFinite(v));
      // Parameters are also named by their place in the flat index every method reports.
      const at = w.trainable ? ` (flat ${flat + bad})` : '';
      if (w.trainable) flat += w.values.length;
      if (bad >= 0)
        throw new PruneScopeError(
          'numerical',
          `weight ${w.name} has ${w.values[bad]} at entry ${bad}${at}; nothing was written`,
          {
            file,
            field: `${nodeField(n)}.${w.name}`,
            expected: 'finite values',
          },
        );
      const n2 = w.shape.reduce((a, b) => a * b, 1);
      if (n2 !== w.values.length)
        throw new PruneScopeError(
          'bad-input',
          `weight ${w.name} has ${w.values.length} values for shape [${w.shape.join(', ')}]`,
          {
            file,
            field: `${nodeField(n)}.${w.name}`,
            expected: `${n2} values`,
          },
        );
    }
}

/** Every node carries exactly the weights its class and input shape call for (names and shapes). */
export function checkWeightShapes(spec: GraphSpec, file: string): void {
  const shapes = inferShapes(spec, file);
  for (const n of spec.nodes) {
    const inShape = shapes.get(n.inputs[0])!;
    const mean = n.weights.find((w) => w.name === 'mean');
    const want = weightSlots(n, inShape, mean?.shape);
    const got = n.weights.map((w) => `${w.name} ${shapeText(w.shape)}`).join(', ');
    const expected = want.map((w) => `${w.name} ${shapeText(w.shape)}`).join(', ');
    if (got !== expected)
      throw new PruneScopeError('bad-input', `has weights ${got || '(none)'}`, {
        file,
        field: nodeField(n),
        expected: expected || 'no weights',
      });
  }
}
