// The standard analysis as notebook cells, with no vscode import (unit-tested). Each cell is
// self-contained (cells run as separate functions in the worker: no shared variables), names the
// model and data at its top so a user can change them. Every `prunescope.X(` a cell calls is in
// the worker's cell API (src/worker/jobs/cellApi.ts; test/extension/steps.test.ts checks it).
import type { Nb, NbCell } from './ipynb';
import { METHODS, type Settings } from '../args';

export interface AnalysisNotebookOptions {
  /** Absolute path of model.json. */
  modelPath: string;
  /** Built-in data set name or absolute CSV path. */
  data: string;
  settings: Settings;
  /** NEW folders the prune and export cells write into (never the model's own; chosen free by the caller). */
  pruneOut: string;
  studentOut: string;
  /** Share the prune and export cells use. */
  share?: number;
  /** Cells that create the model first (New Analysis Notebook trains one on Wine). */
  trainFirst?: { layers: number[]; epochs: number; standardize: boolean };
}

const code = (source: string): NbCell => ({ kind: 'code', source, outputs: [] });
const md = (source: string): NbCell => ({ kind: 'markdown', source, outputs: [] });
const j = (v: unknown) => JSON.stringify(v);

export function analysisCells(o: AnalysisNotebookOptions): Nb {
  const s = o.settings;
  const share = o.share ?? 0.5;
  const head = `const MODEL = ${j(o.modelPath)};\nconst DATA = ${j(o.data)};\n`;
  const cells: NbCell[] = [
    md(
      `# PruneScope analysis\nModel \`${o.modelPath}\` on data \`${o.data}\`.\n\nCells are JavaScript run by the PruneScope engine with \`prunescope\` in scope; \`await\` works at top level; \`plot(figure)\` draws a plotly figure, \`display(...)\` prints. Each cell names its model and data at the top: change them and re-run.`,
    ),
  ];
  if (o.trainFirst) {
    const t = o.trainFirst;
    cells.push(
      md(
        '## 0. Train a small model\nA dense network on the built-in data set, saved as a new model folder, so the analysis below has a model to work on. (Re-running needs a new folder: PruneScope never overwrites a model.)',
      ),
      code(
        `${head}` +
          `// Same as: prunescope train --data ${o.data} --layers ${t.layers.join(',')} --epochs ${t.epochs}${t.standardize ? ' --standardize' : ''} --out <folder>\n` +
          `const r = await prunescope.train({ data: DATA, layers: ${j(t.layers)}, epochs: ${t.epochs}, standardize: ${t.standardize}, out: MODEL });\n` +
          `display(\`trained \${r.layers.join('-')} in \${r.seconds.toFixed(1)} s: \${r.modelJson}\`);`,
      ),
    );
  }
  cells.push(
    md('## 1. Load the model'),
    code(
      `${head}const info = await prunescope.info(MODEL);\ndisplay(\`\${info.layers.length} layers, \${info.totalParams} parameters\`);\ninfo.layers`,
    ),
    md(
      `## 2. Relevance of every parameter (${s.defaultMethod})\nScores of the first layer's kernel as a heatmap: which connections matter.`,
    ),
    code(
      `${head}const r = await prunescope.relevance({ model: MODEL, data: DATA, method: ${j(s.defaultMethod)}, seed: 0 });\nplot(r.figure);`,
    ),
    md(
      `## 3. Quality against pruned share, every method\nEach method ranks the weights; the curve is the test metric after removing the lowest-ranked share (step ${s.curveStep}).`,
    ),
    code(
      `${head}const a = await prunescope.analysis({ model: MODEL, data: DATA, seed: 0, methods: ${j([...METHODS])}, step: ${s.curveStep} });\nplot(a.figures.curves);\na.summary`,
    ),
    md(
      '## 4. Belsley: collinearity of the parameters\nCondition indices of the parameter covariance and the variance-decomposition proportions: weights in a near-dependence can go together.',
    ),
    code(
      `${head}const r = await prunescope.relevance({ model: MODEL, data: DATA, method: 'belsley', seed: 0 });\nplot(r.figure);\n` +
        `const a = await prunescope.analysis({ model: MODEL, data: DATA, seed: 0, methods: ['belsley'], step: ${s.curveStep} });\nif (a.figures.belsleyCondition) plot(a.figures.belsleyCondition);\nif (a.figures.belsleyProportions) plot(a.figures.belsleyProportions);`,
    ),
    md(
      '## 5. Order the parameters by gradient variance\nParameters whose gradients vary least settle first: the order in which they can be frozen.',
    ),
    code(
      `${head}const g = await prunescope.gradientVariance({ model: MODEL, data: DATA, seed: 0, estimator: 'essay', mode: 'diag', steps: 200 });\nplot(g.figures.variances);`,
    ),
    md(
      `## 6. Prune ${Math.round(share * 100)}% of the weights (${s.defaultMethod})\nWrites a NEW model folder; the original is never changed.`,
    ),
    code(
      `${head}const p = await prunescope.prune({ model: MODEL, data: DATA, seed: 0, method: ${j(s.defaultMethod)}, fraction: ${share}, out: ${j(o.pruneOut)} });\np`,
    ),
    md(
      '## 7. Export a physically smaller student\nRows and columns of pruned units removed: a narrower network with its Keras config.',
    ),
    code(
      `${head}const e = await prunescope.exportStudent({ model: MODEL, data: DATA, seed: 0, method: ${j(s.defaultMethod)}, fraction: ${share}, out: ${j(o.studentOut)} });\ne`,
    ),
  );
  return { metadata: { prunescope: { model: o.modelPath, data: o.data } }, cells };
}
