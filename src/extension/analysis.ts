// The analysis the side panel shows for the model in focus: every method's ranking, the
// comparison curves, heatmaps, Belsley and the variational posterior (the `analysis` job), and the
// panel following the model in the active editor when its data is known.
import * as path from 'path';
import * as vscode from 'vscode';
import type { PanelAnalysis } from '../protocol';
import { METHODS } from './args';
import { available, type Deps } from './deps';
import { settings } from './settings';
import { loadStructured } from './structuredPanel';

/** Runs the analysis of `modelPath` on `data` and shows it; false when it did not finish. */
export async function runAnalysis(d: Deps, modelPath: string, data: string): Promise<boolean> {
  if (!vscode.workspace.isTrusted || !(await available(d, 'analysis'))) return false;
  const s = settings();
  d.focus.set({ modelPath, data, analysed: false });
  d.panel.status(`Analysing ${path.basename(modelPath)} on ${path.basename(data)}...`, true);
  const r = await d.runner.run(
    'analysis',
    { modelPath, data, seed: 0, methods: [...METHODS], step: s.curveStep },
    `Analysing ${path.basename(modelPath)} (all methods)`,
  );
  if (!r) {
    d.panel.status('The analysis did not finish.', false);
    return false;
  }
  const x = r.result;
  d.focus.set({ modelPath, data, analysed: true });
  const base =
    x.summary.metric === 'accuracy'
      ? `accuracy ${(x.summary.baseline * 100).toFixed(1)}%`
      : `mse ${x.summary.baseline.toPrecision(4)}`;
  const analysis: PanelAnalysis = {
    title: path.basename(modelPath),
    subtitle: `${vscode.workspace.asRelativePath(modelPath)} on ${path.basename(data)}: ${base}`,
    data,
    methods: Object.keys(x.curves.methods),
    summary: x.summary,
    figures: x.figures,
  };
  d.panel.showAnalysis(analysis);
  await showChannels(d, modelPath, data, analysis.methods);
  return true;
}

/** The channel view of a conv model (groups, channel relevance, filters); hidden for other models. */
async function showChannels(d: Deps, modelPath: string, data: string, methods: string[]): Promise<void> {
  if (!(await available(d, 'channel-relevance'))) return;
  try {
    const s = await loadStructured(
      async (kind, params) => (await d.client.run(kind, params).done).result,
      modelPath,
      data,
      methods,
    );
    if (d.focus.current?.modelPath === modelPath) d.panel.showStructured(s ?? null);
  } catch (e) {
    d.log.warn(`channel view of ${modelPath} failed: ${e instanceof Error ? e.message : String(e)}`);
    d.panel.showStructured(null);
  }
}

/** The panel follows the model in the active editor when its data is known. */
export function followActiveEditor(d: Deps): vscode.Disposable {
  return vscode.window.onDidChangeActiveTextEditor(async (ed) => {
    const doc = ed?.document;
    if (!doc || doc.uri.scheme !== 'file' || !d.models.list().includes(doc.uri.fsPath)) return;
    const data = d.focus.dataFor(doc.uri.fsPath);
    if (!data || d.focus.current?.modelPath === doc.uri.fsPath) return;
    d.focus.set({ modelPath: doc.uri.fsPath, data, analysed: false });
    if (d.panel.visible) await runAnalysis(d, doc.uri.fsPath, data);
  });
}
